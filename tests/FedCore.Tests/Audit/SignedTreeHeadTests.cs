using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using FedCore.Aggregation.Integrity;
using FedCore.Audit;
using static FedCore.Tests.Audit.TreeHeadCosignerAttackTests;

namespace FedCore.Tests.Audit;

/// <summary>
/// The tree head's encoding, what is signed, and the JSON form: one written form, read closed-world, every error naming
/// its field, and every changed byte of a signed head failing to read or to verify.
/// </summary>
public class SignedTreeHeadTests
{
    private static readonly byte[] Root = Convert.FromHexString("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"); // RFC 6962 size-8 root

    private static SignedTreeHead CosignedByAll(TreeHead head)
    {
        var signed = SignedTreeHead.Sign(head, Operator);
        foreach (var (country, key) in Silos)
            signed = signed.WithCosignature(new TreeHeadCosigner(country, key, Operator.PublicKey, null).Cosign(signed, [], head.Time).Cosignature!);
        return signed;
    }

    // ---- Encoding ------------------------------------------------------------------------------------------------

    [Fact]
    public void The_head_is_encoded_as_big_endian_size_root_and_big_endian_unix_milliseconds()
    {
        var head = TreeHead.Create(8, Root, new DateTimeOffset(2025, 3, 1, 9, 0, 0, 250, TimeSpan.Zero));
        Assert.Equal("0000000000000008" + Convert.ToHexStringLower(Root) + "0000019550ef137a", // 1740819600250 ms
            Convert.ToHexStringLower(head.Encode()));
        Assert.Equal(head, TreeHead.Decode(head.Encode()));
        Assert.Equal("size 8, root 5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328, time 2025-03-01T09:00:00.250Z", head.ToString());
    }

    [Fact]
    public void The_operator_signs_SHA256_of_the_length_prefixed_tag_and_head_and_a_country_signs_the_head_with_its_code()
    {
        var head = TreeHead.Create(8, Root, new DateTimeOffset(2025, 3, 1, 9, 0, 0, TimeSpan.Zero));
        static byte[] Framed(string tag, byte[] body) =>
            SHA256.HashData([.. Length(Encoding.UTF8.GetBytes(tag).Length), .. Encoding.UTF8.GetBytes(tag), .. Length(body.Length), .. body]);
        static byte[] Length(int n)
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(bytes, n);
            return bytes;
        }

        var signed = SignedTreeHead.Sign(head, Operator);
        Assert.True(ParticipantSigningKey.Verify(Operator.PublicKey, Framed("federation/audit/tree-head/v1", head.Encode()), signed.Signature.AsSpan()));
        var cosignature = new TreeHeadCosigner("HU", Silos["HU"], Operator.PublicKey, null).Cosign(signed, [], head.Time).Cosignature!;
        Assert.True(ParticipantSigningKey.Verify(Silos["HU"].PublicKey,
            Framed("federation/audit/tree-head/cosignature/v1", [.. head.Encode(), .. "HU"u8]), cosignature.Signature.AsSpan()));
    }

    [Fact]
    public void A_head_is_refused_when_a_field_has_no_one_meaning()
    {
        var time = new DateTimeOffset(2025, 3, 1, 9, 0, 0, TimeSpan.Zero);
        Assert.Contains("size", Assert.Throws<ArgumentException>(() => TreeHead.Create(-1, Root, time)).Message);
        Assert.Contains("root", Assert.Throws<ArgumentException>(() => TreeHead.Create(8, Root[..31], time)).Message);
        Assert.Contains("empty tree", Assert.Throws<ArgumentException>(() => TreeHead.Create(0, Root, time)).Message);
        Assert.Equal(MerkleTree.EmptyRoot(), TreeHead.Create(0, MerkleTree.EmptyRoot(), time).Root.ToArray());
        Assert.Contains("not UTC", Assert.Throws<ArgumentException>(() => TreeHead.Create(8, Root, time.ToOffset(TimeSpan.FromHours(1)))).Message);
        Assert.Contains("whole millisecond", Assert.Throws<ArgumentException>(() => TreeHead.Create(8, Root, time.AddTicks(1))).Message);
        Assert.Contains("before 1970", Assert.Throws<ArgumentException>(() => TreeHead.Create(8, Root, DateTimeOffset.UnixEpoch.AddMilliseconds(-1))).Message);
        Assert.Throws<ArgumentException>(() => TreeHead.Decode(new byte[47]));
        Assert.Contains("time", Assert.Throws<ArgumentException>(() => TreeHead.Decode([.. new byte[8], .. MerkleTree.EmptyRoot(), .. Enumerable.Repeat((byte)0xff, 8)])).Message);
        // Of truncates a clock reading to the millisecond and takes it to UTC.
        Assert.Equal(time, TreeHead.Of(new MerkleTree(), time.ToOffset(TimeSpan.FromHours(2)).AddTicks(9999)).Time);
    }

    // ---- JSON form ---------------------------------------------------------------------------------------------

    [Fact]
    public void A_signed_head_is_written_in_one_form_and_read_back_exactly()
    {
        var head = CosignedByAll(TreeHead.Create(8, Root, new DateTimeOffset(2025, 3, 1, 9, 0, 0, 250, TimeSpan.Zero)));
        byte[] written = head.Write();
        string text = Encoding.UTF8.GetString(written);
        Assert.StartsWith("{\n  \"cosignatures\": [\n    {\n      \"country\": \"CH\",", text);
        Assert.Contains("\"head\": {\n    \"root\": \"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328\",\n    \"size\": 8,\n    \"time\": \"2025-03-01T09:00:00.250Z\"\n  }", text);
        var read = SignedTreeHead.Read(written);
        Assert.Equal(head.Head, read.Head);
        Assert.Equal(written, read.Write());
        Assert.True(read.Verify(Operator.PublicKey, CountryKeys).IsValid);
        byte[] bare = SignedTreeHead.Sign(head.Head, Operator).Write();
        Assert.Equal(bare, SignedTreeHead.Read(bare).Write());
        Assert.Empty(SignedTreeHead.Read(bare).Cosignatures);
    }

    [Theory]
    [InlineData("\"size\": 8", "\"size\": -8", "$.head.size", "whole number")]
    [InlineData("\"size\": 8", "\"size\": 8.5", "$.head.size", "whole number")]
    [InlineData("\"size\": 8", "\"size\": \"8\"", "$.head.size", "whole number")]
    [InlineData("\"size\": 8,", "", "$.head.size", "required")]
    [InlineData("\"root\": \"5dc9", "\"root\": \"5DC9", "$.head.root", "64 lower-case hex")]
    [InlineData("\"time\": \"2025-03-01T09:00:00.250Z\"", "\"time\": \"2025-03-01T09:00:00Z\"", "$.head.time", "three fractional digits")]
    [InlineData("\"time\": \"2025-03-01T09:00:00.250Z\"", "\"time\": \"2025-03-01T10:00:00.250+01:00\"", "$.head.time", "three fractional digits")]
    [InlineData("\"size\": 8,", "\"size\": 8, \"log\": \"x\",", "$.head.log", "not a known field")]
    [InlineData("\"size\": 8,", "\"size\": 8, \"size\": 9,", "$.head.size", "more than once")]
    [InlineData("\"country\": \"CH\"", "\"country\": \"ch\"", "$.cosignatures[0].country", "country code")]
    [InlineData("\"country\": \"HU\"", "\"country\": \"US\"", "$.cosignatures[2].country", "co-signs twice")]
    [InlineData("\"country\": \"CH\"", "\"country\": \"ZZ\"", "$.cosignatures[1].country", "country order")]
    [InlineData("\"country\": \"CH\",", "\"country\": \"CH\", \"key\": \"x\",", "$.cosignatures[0].key", "not a known field")]
    public void The_reader_names_the_field_at_fault(string find, string replace, string path, string problem)
    {
        string text = Encoding.UTF8.GetString(CosignedByAll(TreeHead.Create(8, Root, new DateTimeOffset(2025, 3, 1, 9, 0, 0, 250, TimeSpan.Zero))).Write());
        Assert.Contains(find, text);
        var error = Assert.Throws<AuditFormatException>(() => SignedTreeHead.Read(Encoding.UTF8.GetBytes(ReplaceFirst(text, find, replace))));
        Assert.Equal(path, error.JsonPath);
        Assert.Contains(problem, error.Problem);
    }

    [Fact]
    public void The_reader_names_a_signature_of_the_wrong_length_an_empty_tree_with_a_root_and_any_other_layout()
    {
        var signed = SignedTreeHead.Sign(TreeHead.Create(8, Root, new DateTimeOffset(2025, 3, 1, 9, 0, 0, TimeSpan.Zero)), Operator);
        string text = Encoding.UTF8.GetString(signed.Write());
        string signature = Convert.ToBase64String(signed.Signature.AsSpan());
        AssertError(text.Replace(signature, Convert.ToBase64String(signed.Signature.AsSpan()[..63])), "$.signature", "is 63 bytes");
        AssertError(text.Replace(signature, signature.TrimEnd('=')), "$.signature", "canonical base64");
        AssertError(text.Replace("\"size\": 8", "\"size\": 0"), "$.head.root", "empty tree");
        AssertError(text.Replace("\"cosignatures\": [],", ""), "$.cosignatures", "required");
        AssertError(text.Replace("\"signature\"", "\"Signature\""), "$.Signature", "not a known field");
        AssertError(text.Replace("\n", "\r\n"), "$", "one written form");
        AssertError(text.Replace("\"size\": 8", "\"size\": 8.0"), "$", "one written form");
        AssertError(text.Replace("\"head\"", "\"\\u0068ead\""), "$", "one written form");
        AssertError(text + " ", "$", "one written form");
        AssertError("[]", "$", "must be an object");
        AssertError("{", "$", "not valid JSON");

        static void AssertError(string text, string path, string problem)
        {
            var error = Assert.Throws<AuditFormatException>(() => SignedTreeHead.Read(Encoding.UTF8.GetBytes(text)));
            Assert.Equal(path, error.JsonPath);
            Assert.Contains(problem, error.Problem);
        }
    }

    [Fact]
    public void Every_change_to_any_byte_of_a_signed_head_fails_to_read_or_to_verify()
    {
        // One small head, co-signed by HU, CH and US; every byte replaced by each of the 255 other values.
        var head = CosignedByAll(TreeHead.Of(MerkleTree.FromEntries([[0], [1], [2]]), new DateTimeOffset(2025, 3, 1, 9, 0, 0, 250, TimeSpan.Zero)));
        byte[] written = head.Write();
        Assert.True(SignedTreeHead.Read(written).Verify(Operator.PublicKey, CountryKeys).IsValid);
        int unreadable = 0, unverifiable = 0;
        var changed = (byte[])written.Clone();
        for (int i = 0; i < written.Length; i++)
        {
            for (int delta = 1; delta < 256; delta++)
            {
                changed[i] = (byte)(written[i] ^ delta);
                SignedTreeHead read;
                try
                {
                    read = SignedTreeHead.Read(changed);
                }
                catch (AuditFormatException)
                {
                    unreadable++;
                    continue;
                }
                var verdict = read.Verify(Operator.PublicKey, CountryKeys);
                Assert.False(verdict.IsValid, $"byte {i} ^ {delta:x2} reads and verifies");
                unverifiable++;
            }
            changed[i] = written[i];
        }
        Assert.Equal(255 * written.Length, unreadable + unverifiable);
        Assert.True(unverifiable > 0); // the changes inside signatures, digits and letters of the head do read
    }

    private static string ReplaceFirst(string text, string find, string replace)
    {
        int at = text.IndexOf(find, StringComparison.Ordinal);
        return text[..at] + replace + text[(at + find.Length)..];
    }
}
