using System.Text;
using System.Text.Json.Nodes;
using FedCore.Governance.Canonical;

namespace FedCore.Tests.Governance;

public sealed class CanonicalJsonTests
{
    private static string Canonical(string json) => Encoding.UTF8.GetString(CanonicalJson.Write(JsonNode.Parse(json)));

    [Theory]
    [InlineData("{\"b\":1,\"a\":[true,false,null,{\"z\":\"x\",\"y\":{}}],\"A\":[]}")]
    [InlineData("[1.50, 1e2, -0, 0.000010, \"\\u00e9\\n\\\"\\\\\", {\"\":0}]")]
    [InlineData("\"plain\"")]
    public void Parse_write_parse_write_is_stable(string json)
    {
        string once = Canonical(json);
        Assert.Equal(once, Canonical(once));
        Assert.Equal(once, Encoding.UTF8.GetString(CanonicalJson.Write(JsonNode.Parse(CanonicalJson.WriteIndented(JsonNode.Parse(json))))));
    }

    [Fact]
    public void Key_order_and_whitespace_do_not_change_the_bytes()
    {
        const string a = "{\"id\":\"x\",\"n\":2,\"inner\":{\"b\":[1,2],\"a\":null}}";
        const string b = "{\n  \"inner\" : { \"a\" : null , \"b\" : [ 1 , 2 ] },\n\t\"n\": 2, \"id\": \"x\" }";
        Assert.Equal(Canonical(a), Canonical(b));
        Assert.Equal("{\"id\":\"x\",\"inner\":{\"a\":null,\"b\":[1,2]},\"n\":2}", Canonical(a));
    }

    [Fact]
    public void Keys_sort_by_UTF16_code_units()
    {
        // 'B' (0x42) < 'a' (0x61) < 'é' (0xE9) < '😀' (surrogates 0xD83D…) < 'ｚ' (0xFF5A).
        Assert.Equal("{\"B\":1,\"a\":1,\"é\":1,\"😀\":1,\"ｚ\":1}", Canonical("{\"ｚ\":1,\"😀\":1,\"é\":1,\"a\":1,\"B\":1}"));
    }

    [Fact]
    public void Strings_escape_only_quote_backslash_and_control_characters()
    {
        Assert.Equal("\"\\\"\\\\\\b\\t\\n\\f\\r\\u0000\\u001f/\u007f\u2028é😀\"",
            Canonical("\"\\\"\\\\\\b\\t\\n\\f\\r\\u0000\\u001F\\/\\u007f\\u2028\\u00E9\\ud83d\\ude00\""));
    }

    [Theory]
    [InlineData("1.50", "1.5")]
    [InlineData("1e2", "100")]
    [InlineData("1E+2", "100")]
    [InlineData("1e-5", "0.00001")]
    [InlineData("-0", "0")]
    [InlineData("-0.0e7", "0")]
    [InlineData("0e999999999999", "0")]
    [InlineData("100.000", "100")]
    [InlineData("-12.3400e1", "-123.4")]
    [InlineData("0.0000000000000000000000000001", "0.0000000000000000000000000001")]
    [InlineData("9999999999999999999999999999", "9999999999999999999999999999")]
    public void Numbers_are_exact_plain_decimals(string json, string canonical) => Assert.Equal(canonical, Canonical(json));

    [Theory]
    [InlineData("1e28")]
    [InlineData("0.00000000000000000000000000001")]
    [InlineData("1.0000000000000000000000000001")]
    [InlineData("1e999999999999")]
    public void Numbers_without_an_exact_decimal_form_are_refused(string json) =>
        Assert.Throws<ArgumentException>(() => CanonicalJson.Write(JsonNode.Parse(json)));

    [Theory]
    [InlineData("01")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("+1")]
    [InlineData("1e")]
    [InlineData("--1")]
    [InlineData("1x")]
    [InlineData("")]
    public void Text_outside_the_JSON_number_grammar_is_not_a_number(string text) => Assert.False(CanonicalNumber.TryParse(text, out _));

    [Fact]
    public void Values_built_in_code_write_like_parsed_ones()
    {
        var built = new JsonObject { ["b"] = 1.50m, ["a"] = 7L, ["c"] = "t", ["d"] = null, ["e"] = true };
        Assert.Equal(Canonical("{\"e\":true,\"d\":null,\"c\":\"t\",\"b\":1.5,\"a\":7}"), Encoding.UTF8.GetString(CanonicalJson.Write(built)));
    }

    [Fact]
    public void A_lone_surrogate_has_no_canonical_form() =>
        Assert.Throws<ArgumentException>(() => CanonicalJson.Write(JsonValue.Create("a\ud800b")));

    [Fact]
    public void The_indented_form_is_laid_out_for_people()
    {
        Assert.Equal("{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}\n",
            Encoding.UTF8.GetString(CanonicalJson.WriteIndented(JsonNode.Parse("{\"b\":[],\"a\":[1,{}]}"))));
    }
}
