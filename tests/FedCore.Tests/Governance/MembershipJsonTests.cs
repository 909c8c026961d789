using System.Text;
using System.Text.Json.Nodes;
using FedCore.Governance;
using FedCore.Governance.Membership;
using static FedCore.Tests.Governance.GovernanceFixture;

namespace FedCore.Tests.Governance;

public sealed class MembershipJsonTests
{
    private static readonly byte[] File = MembershipJson.Write(Chain());

    private static GovernanceFormatException Refused(string json) =>
        Assert.Throws<GovernanceFormatException>(() => MembershipJson.Parse(Encoding.UTF8.GetBytes(json), "membership.json"));

    /// <summary>The written file with one edit applied to its parsed tree.</summary>
    private static string Edited(Action<JsonNode> edit)
    {
        var root = JsonNode.Parse(File)!;
        edit(root);
        return root.ToJsonString();
    }

    [Fact]
    public void A_written_chain_reads_back_to_the_same_bytes_and_verifies()
    {
        var records = MembershipJson.Parse(File, "membership.json");
        Assert.Equal(File, MembershipJson.Write(records));
        Assert.Equal(2, MembershipChain.Verify(Operator.PublicKey, records).Serial);
    }

    [Fact]
    public void Reformatting_and_reordering_the_file_breaks_no_signature()
    {
        string reordered = Edited(root =>
        {
            foreach (var record in root["records"]!.AsArray())
            {
                var organisations = record!["organisations"]!.AsArray();
                var reversed = organisations.Reverse().Select(o => o!.DeepClone()).ToList();
                organisations.Clear();
                reversed.ForEach(organisations.Add);
                var members = organisations[0]!["entry"]!["members"]!.AsArray();
                var first = members[0]!.DeepClone();
                members.RemoveAt(0);
                members.Add(first);
            }
        });
        var records = MembershipJson.Parse(Encoding.UTF8.GetBytes(reordered), "compact.json");
        Assert.Equal(File, MembershipJson.Write(records));
        MembershipChain.Verify(Operator.PublicKey, records);
    }

    [Fact]
    public void Errors_name_the_JSON_path_and_the_problem()
    {
        var key = Refused(Edited(root => root["records"]![1]!["organisations"]![0]!["entry"]!["signingKey"] = "not base64!"));
        Assert.Equal("$.records[1].organisations[0].entry.signingKey", key.JsonPath);
        Assert.Contains("base64", key.Problem);
        Assert.StartsWith("membership.json: $.records[1]", key.Message);

        var notP256 = Refused(Edited(root => root["records"]![0]!["organisations"]![0]!["entry"]!["signingKey"] = "AAAA"));
        Assert.Equal("$.records[0].organisations[0].entry.signingKey", notP256.JsonPath);
        Assert.Contains("P-256", notP256.Problem);

        var country = Refused(Edited(root => root["records"]![0]!["organisations"]![0]!["entry"]!["country"] = "AT"));
        Assert.Equal("$.records[0].organisations[0].entry.country", country.JsonPath);

        var unknown = Refused(Edited(root => root["records"]![0]!["organisations"]![0]!["entry"]!["colour"] = "blue"));
        Assert.Equal("$.records[0].organisations[0].entry.colour", unknown.JsonPath);
        Assert.Contains("not a known field", unknown.Problem);

        var type = Refused(Edited(root => root["records"]![0]!["serial"] = "1"));
        Assert.Equal("$.records[0].serial", type.JsonPath);
        Assert.Contains("whole number", type.Problem);

        var role = Refused(Edited(root => root["records"]![0]!["organisations"]![0]!["entry"]!["members"]![0]!["role"] = "boss"));
        Assert.Equal("$.records[0].organisations[0].entry.members[0].role", role.JsonPath);
        Assert.Contains("organisation-admin, data-steward, data-scientist, auditor", role.Problem);

        var time = Refused(Edited(root => root["records"]![0]!["issuedAt"] = "2025-03-01T10:00:00+01:00"));
        Assert.Equal("$.records[0].issuedAt", time.JsonPath);

        var missing = Refused(Edited(root => root["records"]![0]!.AsObject().Remove("operatorSignature")));
        Assert.Equal("$.records[0].operatorSignature", missing.JsonPath);
        Assert.Contains("required", missing.Problem);
    }

    [Fact]
    public void Duplicated_fields_invalid_JSON_and_empty_chains_are_refused()
    {
        Assert.Contains("more than once", Refused("{\"records\":[],\"records\":[]}").Problem);
        Assert.Contains("not valid JSON (line 2", Refused("{\n\"records\": [,]}").Problem);
        Assert.Contains("at least record 1", Refused("{\"records\":[]}").Problem);
        Assert.Equal("$", Refused("[]").JsonPath);
        Assert.Contains("not valid JSON", Refused(new string('[', 100) + new string(']', 100)).Problem);
    }

    [Fact]
    public void Bytes_that_are_not_UTF8_and_lone_surrogates_in_names_are_refused_as_format_errors()
    {
        // Inside a string, where the parser itself would look only when the string is read: {"records":["é then C3 28.
        byte[] input = [.. "{\"records\":[\"\u00e9"u8, 0xC3, 0x28, .. "\"]}"u8];
        var bad = Assert.Throws<GovernanceFormatException>(() => MembershipJson.Parse(input, "m.json"));
        Assert.Contains("is not UTF-8: byte 16 does not begin a valid sequence", bad.Problem);
        Assert.Contains("lone surrogate", Refused("{\"\\ud800\":1}").Problem);
        Assert.Contains("lone surrogate", Refused("{\"records\":[{\"federation\":\"\\udc00\"}]}").Problem);
    }

    [Fact]
    public void A_signing_key_with_another_curve_is_refused_by_shape_before_any_parser_sees_it()
    {
        // One flipped byte in prime256v1's OID names a curve the platform does not know (its importer throws PlatformNotSupportedException).
        var e = Refused(Edited(root =>
        {
            var key = Convert.FromBase64String(root["records"]![0]!["organisations"]![0]!["entry"]!["signingKey"]!.GetValue<string>());
            key[24] ^= 0x01;
            root["records"]![0]!["organisations"]![0]!["entry"]!["signingKey"] = Convert.ToBase64String(key);
        }));
        Assert.Equal("$.records[0].organisations[0].entry.signingKey", e.JsonPath);
        Assert.Contains("P-256", e.Problem);
    }
}
