using System.Text;
using FedCore.Audit;
using FedCore.Audit.Export;
using static FedCore.Tests.Audit.Export.AuditExportFixture;

namespace FedCore.Tests.Audit.Export;

/// <summary>What <see cref="AuditExport.Write"/> puts in the directory, and an honest export verifying.</summary>
public class AuditExportTests
{
    [Fact]
    public void An_honest_export_verifies_with_the_keys_the_auditor_trusts()
    {
        using var export = Honest();
        var result = export.Verify(Trust);
        Assert.True(result.Ok, result.Problem);
        Assert.Null(result.Problem);
        Assert.Equal(6, result.EntryCount);
        Assert.Equal(3, result.HeadCount);
        Assert.Equal(2, result.CountryCount);
        Assert.Equal(["CH", "HU"], result.Countries);
        Assert.False(result.KeysFromExport);
        Assert.True(result.HasMembership);
        Assert.Equal(6, result.LastHead!.Size);
        // CH joined after the first head: listed, not refused.
        var missing = Assert.Single(result.HeadsMissingCosignatures);
        Assert.Equal(("heads/000000000002.json", 2L, "CH"), (missing.File, missing.Size, Assert.Single(missing.Countries)));
    }

    [Fact]
    public void Without_trusted_keys_an_honest_export_verifies_and_says_its_keys_came_from_the_export()
    {
        using var export = Honest();
        var result = export.Verify();
        Assert.True(result.Ok, result.Problem);
        Assert.True(result.KeysFromExport);
        Assert.Contains("keys taken from the export itself", result.ToString());
    }

    [Fact]
    public void An_export_without_a_membership_chain_verifies()
    {
        using var export = Honest(membership: false);
        var result = export.Verify(Trust);
        Assert.True(result.Ok, result.Problem);
        Assert.False(result.HasMembership);
    }

    [Fact]
    public void The_export_holds_exactly_the_documented_files_in_their_documented_bytes()
    {
        using var export = Honest();
        Assert.Equal(
            ["entries.jsonl", "heads/000000000002.json", "heads/000000000004.json", "heads/000000000006.json",
             "keys/CH.pub", "keys/HU.pub", "keys/operator.pub", "membership.json"],
            export.Files());
        var content = Content();
        Assert.Equal(content.Entries.SelectMany(e => e.Append((byte)'\n')).ToArray(), export.Read("entries.jsonl"));
        for (int h = 0; h < 3; h++)
            Assert.Equal(content.Heads[h].Write(), export.Read($"heads/{AuditExport.HeadFileName(HeadSizes[h])}"));
        Assert.Equal(Operator.PublicKey, export.Read("keys/operator.pub"));
        Assert.Equal(CountryKeys["CH"], export.Read("keys/CH.pub"));
        Assert.Equal(content.Membership, export.Read("membership.json"));
        Assert.Equal("000000000009.json", AuditExport.HeadFileName(9));
        Assert.Equal("999999999999.json", AuditExport.HeadFileName(999_999_999_999));
    }

    [Fact]
    public void Entries_appended_after_the_last_head_are_left_out_so_the_export_ends_on_a_signed_head()
    {
        using var export = new TempExport();
        AuditExport.Write(export.Path, Content(entries: LogEntries(9)));
        Assert.Equal(6, export.Lines().Count);
        Assert.True(export.Verify(Trust).Ok);
    }

    [Fact]
    public void Of_two_heads_of_one_size_the_later_one_is_kept_whatever_order_they_come_in()
    {
        var entries = LogEntries(6);
        var heads = Heads(entries);
        var tree = MerkleTree.FromEntries(entries);
        // The same tree of 4 published again a little later, signed by the operator only.
        var again = SignedTreeHead.Sign(TreeHead.Create(4, tree.RootAt(4), heads[1].Head.Time.AddMilliseconds(500)), Operator);
        using var export = new TempExport();
        AuditExport.Write(export.Path, Content(entries, [heads[2], again, heads[0], heads[1]]));
        Assert.Equal(again.Write(), export.Read("heads/000000000004.json"));
        Assert.Equal(3, export.Files().Count(f => f.StartsWith("heads/", StringComparison.Ordinal)));
        var result = export.Verify(Trust);
        Assert.True(result.Ok, result.Problem);
        Assert.Contains(result.HeadsMissingCosignatures, m => m.Size == 4 && m.Countries.SequenceEqual(["CH", "HU"]));
    }

    [Fact]
    public void Write_refuses_a_directory_that_is_not_empty()
    {
        using var export = new TempExport();
        Directory.CreateDirectory(export.Path);
        File.WriteAllText(export.File("notes.txt"), "mine");
        Assert.Throws<IOException>(() => AuditExport.Write(export.Path, Content()));
        Assert.Equal(["notes.txt"], export.Files());
    }

    [Fact]
    public void Write_refuses_content_it_cannot_write_as_a_verifiable_export()
    {
        var entries = LogEntries(6);
        var heads = Heads(entries);
        var forked = SignedTreeHead.Sign(TreeHead.Create(4, MerkleTree.FromEntries(LogEntries(3).Append(Entry(9))).Root, heads[1].Head.Time), Operator);
        (AuditExportContent Content, string Because)[] cases =
        [
            (Content(heads: []), "at least one signed tree head"),
            (Content(entries: LogEntries(5)), "covers 6 entries, but 5 were given"),
            (Content(heads: [heads[0], heads[1], forked]), "the log forked"),
            (Content(entries: [.. LogEntries(5), Encoding.UTF8.GetBytes("{\"a\":\n1}")]), "Entry 5 holds a newline"),
            (Content(entries: [.. LogEntries(5), []]), "Entry 5 is empty"),
            (Content() with { OperatorKey = new byte[91] }, "operator key is not a P-256"),
            (Content() with { CountryKeys = new Dictionary<string, byte[]> { ["ch"] = CountryKeys["CH"] } }, "'ch' is not a country code"),
        ];
        foreach (var (content, because) in cases)
        {
            using var export = new TempExport();
            var e = Assert.Throws<ArgumentException>(() => AuditExport.Write(export.Path, content));
            Assert.Contains(because, e.Message);
            Assert.False(Directory.Exists(export.Path));
        }
    }

    [Fact]
    public void A_log_with_no_entries_and_its_empty_head_verifies()
    {
        var heads = Heads([], sizes: [0], joins: new Dictionary<string, int>());
        using var export = new TempExport();
        AuditExport.Write(export.Path, Content(entries: [], heads: heads));
        Assert.Empty(export.Read("entries.jsonl"));
        var result = export.Verify(Trust);
        Assert.True(result.Ok, result.Problem);
        Assert.Equal(0, result.EntryCount);
    }

    [Fact]
    public void The_default_entry_check_accepts_canonical_json_only()
    {
        Assert.Null(AuditExportVerifier.CanonicalJsonEntry(Entry(0)));
        Assert.Null(AuditExportVerifier.CanonicalJsonEntry("""{"a":[1,"x",null,true],"b":0.5}"""u8.ToArray()));
        foreach (string bad in new[] { """{"b":1,"a":2}""", """{"a": 1}""", """{"a":1.0}""", """{"a":1e2}""", """{"a":"\u0041"}""", """{"a":1,"a":1}""", "{", "{\"a\":1} x", "" })
            Assert.NotNull(AuditExportVerifier.CanonicalJsonEntry(Encoding.UTF8.GetBytes(bad)));
    }
}
