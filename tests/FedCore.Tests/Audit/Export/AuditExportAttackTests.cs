using System.Text;
using FedCore.Aggregation.Integrity;
using FedCore.Audit;
using FedCore.Audit.Export;
using FedCore.Governance.Membership;
using static FedCore.Tests.Audit.Export.AuditExportFixture;

namespace FedCore.Tests.Audit.Export;

/// <summary>
/// Someone between the log and the auditor — or the operator itself — changes an export. Each test makes one change
/// (most of them internally consistent: re-signed where the attacker holds the key) and asserts that verification
/// fails and what the failure names.
/// </summary>
public class AuditExportAttackTests
{
    private static void AssertRefused(TempExport export, string because, AuditTrust? trust = null, Func<ReadOnlyMemory<byte>, string?>? entryCheck = null)
    {
        var result = export.Verify(trust, entryCheck);
        Assert.False(result.Ok, "the changed export verified");
        Assert.NotNull(result.Problem);
        Assert.Contains(because, result.Problem);
        Assert.Null(result.LastHead);
        Assert.StartsWith("refused: ", result.ToString());
    }

    private static void Both(TempExport export, string because)
    {
        AssertRefused(export, because);
        AssertRefused(export, because, Trust);
    }

    // ---- Entries -------------------------------------------------------------------------------------------

    [Fact]
    public void Removing_an_entry_line_fails_at_the_first_head_that_covers_it_naming_the_range()
    {
        using var export = Honest();
        var lines = export.Lines();
        lines.RemoveAt(3);
        export.WriteLines(lines);
        Both(export, "head heads/000000000004.json: its root");
        AssertRefused(export, "the first 2 entries match heads/000000000002.json, so among entries 2 to 3 (lines 3 to 4)");
    }

    [Fact]
    public void Swapping_two_entry_lines_fails()
    {
        using var export = Honest();
        var lines = export.Lines();
        (lines[4], lines[5]) = (lines[5], lines[4]);
        export.WriteLines(lines);
        Both(export, "head heads/000000000006.json: its root");
    }

    [Fact]
    public void Duplicating_an_entry_line_fails()
    {
        using var export = Honest();
        var lines = export.Lines();
        lines.Insert(1, lines[0]);
        export.WriteLines(lines);
        Both(export, "head heads/000000000002.json: its root");
    }

    [Fact]
    public void Changing_one_entry_to_other_canonical_json_fails_at_the_first_head_covering_it()
    {
        using var export = Honest();
        var lines = export.Lines();
        lines[0] = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(lines[0]).Replace("\"serial\":1", "\"serial\":7"));
        export.WriteLines(lines);
        Both(export, "head heads/000000000002.json: its root");
        AssertRefused(export, "among entries 0 to 1 one was changed");
    }

    [Fact]
    public void Entries_appended_after_the_last_head_fail_as_not_covered_by_a_signed_head()
    {
        using var export = Honest();
        export.WriteLines([.. export.Lines(), Entry(6), Entry(7)]);
        Both(export, "entries.jsonl: holds 8 entries, but the last head, heads/000000000006.json, covers 6: entries 6 to 7 are not covered");
    }

    [Fact]
    public void An_entries_file_cut_after_a_line_fails_as_missing_entries()
    {
        using var export = Honest();
        export.WriteLines(export.Lines()[..5]);
        Both(export, "head heads/000000000006.json: covers 6 entries, but entries.jsonl holds only 5");
    }

    [Fact]
    public void Malformed_lines_are_named_by_entry_and_line()
    {
        (Func<List<byte[]>, byte[]> Bytes, string Because)[] cases =
        [
            (l => [.. l.Take(2).SelectMany(x => x.Append((byte)'\n')), (byte)'\n', .. l.Skip(2).SelectMany(x => x.Append((byte)'\n'))], "entry 2 (entries.jsonl line 3): is an empty line"),
            (l => [.. l.SelectMany(x => x.Append((byte)'\n')).SkipLast(1)], "entry 5 (entries.jsonl line 6): does not end with a newline"),
            (l => [.. l[0], (byte)'\r', (byte)'\n', .. l.Skip(1).SelectMany(x => x.Append((byte)'\n'))], "entry 0 (entries.jsonl line 1): holds the control byte 0x0d"),
            (l => [.. l[0], (byte)'\n', .. l[1][..10], 0xC3, 0x28, .. l[1][10..], (byte)'\n', .. l.Skip(2).SelectMany(x => x.Append((byte)'\n'))], "entry 1 (entries.jsonl line 2): is not valid UTF-8"),
            (l => [.. Encoding.UTF8.GetBytes("{\"b\":1,\"a\":2}\n"), .. l.Skip(1).SelectMany(x => x.Append((byte)'\n'))], "entry 0 (entries.jsonl line 1): is not canonical JSON"),
        ];
        foreach (var (bytes, because) in cases)
        {
            using var export = Honest();
            export.Write(AuditExport.EntriesFile, bytes(export.Lines()));
            Both(export, because);
        }
    }

    [Fact]
    public void Non_canonical_entries_fail_the_default_check_even_when_the_operator_signed_heads_over_them()
    {
        var entries = LogEntries(6);
        entries[3] = Encoding.UTF8.GetBytes("{\"kind\": \"dataset.registered\", \"actor\": \"CH/zurich\"}");
        using var export = new TempExport();
        AuditExport.Write(export.Path, Content(entries, Heads(entries)));
        Both(export, "entry 3 (entries.jsonl line 4): is not canonical JSON");
        // The same export with a check that accepts it verifies: the tree and heads are sound.
        Assert.True(export.Verify(Trust, _ => null).Ok);
    }

    [Fact]
    public void A_given_entry_check_names_the_entry_it_refuses()
    {
        using var export = Honest();
        Assert.True(export.Verify(Trust).Ok);
        string? NoRounds(ReadOnlyMemory<byte> entry) => Encoding.UTF8.GetString(entry.Span).Contains("round.ended") ? "rounds are not allowed here" : null;
        AssertRefused(export, "entry 5 (entries.jsonl line 6): rounds are not allowed here", Trust, NoRounds);
        AssertRefused(export, "entry 0 (entries.jsonl line 1): the entry check failed on it (InvalidOperationException: boom)", Trust, _ => throw new InvalidOperationException("boom"));
    }

    // ---- Heads ---------------------------------------------------------------------------------------------

    [Fact]
    public void Removing_the_last_head_leaves_entries_uncovered_and_fails()
    {
        using var export = Honest();
        File.Delete(export.File("heads/000000000006.json"));
        Both(export, "entries 4 to 5 are not covered by any signed head");
    }

    [Fact]
    public void Removing_an_earlier_head_is_not_detected_because_the_last_head_still_binds_every_entry()
    {
        // By design: an export proves its entries through its last, fully co-signed head; earlier heads add nothing it
        // needs. Which heads the log published is not itself signed (see the README's limits).
        using var export = Honest();
        File.Delete(export.File("heads/000000000004.json"));
        var result = export.Verify(Trust);
        Assert.True(result.Ok, result.Problem);
        Assert.Equal(2, result.HeadCount);
    }

    [Fact]
    public void Removing_every_head_fails()
    {
        using var export = Honest();
        foreach (string file in Directory.GetFiles(export.File("heads")))
            File.Delete(file);
        Both(export, "heads/: holds no signed tree head");
    }

    [Fact]
    public void A_head_renamed_to_another_size_fails()
    {
        using var export = Honest();
        File.Move(export.File("heads/000000000004.json"), export.File("heads/000000000005.json"));
        Both(export, "head heads/000000000005.json: holds a head of size 4, but its name says 5");
    }

    [Fact]
    public void A_head_whose_time_goes_backwards_fails_even_when_everyone_signed_it()
    {
        var entries = LogEntries(6);
        var heads = Heads(entries);
        var tree = MerkleTree.FromEntries(entries);
        var early = Sign(TreeHead.Create(4, tree.RootAt(4), heads[0].Head.Time.AddMilliseconds(-1)), Operator, Silos);
        using var export = new TempExport();
        AuditExport.Write(export.Path, Content(entries, [heads[0], early, heads[2]]));
        Both(export, "head heads/000000000004.json: its time 2025-03-01T09:00:00.999Z is earlier than 2025-03-01T09:00:01.000Z, the time of heads/000000000002.json");
    }

    [Fact]
    public void A_head_signed_by_another_operator_fails()
    {
        using var export = Honest();
        var entries = LogEntries(6);
        var forged = Heads(entries, operatorKey: Intruder);
        export.Write("heads/000000000004.json", forged[1].Write());
        Both(export, "head heads/000000000004.json: the operator's signature over the head");
    }

    [Fact]
    public void A_co_signature_moved_from_another_head_fails_naming_the_country()
    {
        using var export = Honest();
        var heads = Content().Heads;
        var moved = SignedTreeHead.Create(heads[2].Head, heads[2].Signature,
            [new("CH", heads[1].Cosignatures["CH"]), new("HU", heads[2].Cosignatures["HU"])]);
        export.Write("heads/000000000006.json", moved.Write());
        Both(export, "head heads/000000000006.json: CH's co-signature does not verify with CH's key");
    }

    [Fact]
    public void The_operator_rewriting_history_and_re_signing_every_head_fails_on_the_countries_co_signatures()
    {
        // The operator changes entry 1 and signs new heads over the new history with its real key.
        var rewritten = LogEntries(6);
        rewritten[1] = Encoding.UTF8.GetBytes("""{"actor":"HU/budapest","country":"HU","dataset":"other","kind":"dataset.registered","time":"2025-03-01T09:00:01Z"}""");
        var tree = MerkleTree.FromEntries(rewritten);
        var honest = Content().Heads;
        var resigned = honest.Select(h => SignedTreeHead.Sign(TreeHead.Create(h.Head.Size, tree.RootAt(h.Head.Size), h.Head.Time), Operator)).ToList();

        // Keeping the countries' old co-signatures: they are over the old roots.
        using (var export = new TempExport())
        {
            var kept = resigned.Select((h, i) => SignedTreeHead.Create(h.Head, h.Signature, honest[i].Cosignatures)).ToList();
            AuditExport.Write(export.Path, Content(rewritten, kept));
            Both(export, "head heads/000000000002.json: HU's co-signature does not verify with HU's key");
        }
        // Dropping them: the last head lacks every country.
        using (var export = new TempExport())
        {
            AuditExport.Write(export.Path, Content(rewritten, resigned));
            Both(export, "head heads/000000000006.json: CH has not co-signed the head");
            AssertRefused(export, "the last head must be co-signed by every country that has a key");
        }
        // Dropping the countries' keys as well: without trusted keys the export is the operator's word alone and
        // verifies, with no co-signing country, which the result shows; with the keys the auditor trusts it fails.
        using (var export = new TempExport())
        {
            AuditExport.Write(export.Path, Content(rewritten, resigned) with { CountryKeys = new Dictionary<string, byte[]>() });
            var result = export.Verify();
            Assert.True(result.Ok, result.Problem);
            Assert.True(result.KeysFromExport);
            Assert.Equal(0, result.CountryCount);
            AssertRefused(export, "keys/CH.pub: missing, but you trust a key for CH", Trust);
        }
        // Replacing the countries' keys with its own and co-signing as them: the same.
        using (var export = new TempExport())
        {
            var puppets = new SortedDictionary<string, ParticipantSigningKey>(StringComparer.Ordinal)
            {
                ["CH"] = ParticipantSigningKey.Generate(),
                ["HU"] = ParticipantSigningKey.Generate(),
            };
            AuditExport.Write(export.Path, Content(rewritten, Heads(rewritten, silos: puppets)) with
            {
                CountryKeys = puppets.ToDictionary(p => p.Key, p => p.Value.PublicKey),
            });
            Assert.True(export.Verify().Ok);
            AssertRefused(export, "keys/CH.pub: differs from the key you trust for CH", Trust);
        }
    }

    [Fact]
    public void A_head_for_other_entries_signed_and_co_signed_by_everyone_still_fails_on_the_root()
    {
        // Every signature verifies; only the root says the head is not of these entries.
        var other = LogEntries(6);
        other[5] = Entry(9);
        var heads = Content().Heads.ToList();
        heads[2] = Heads(other)[2];
        using var export = new TempExport();
        AuditExport.Write(export.Path, Content(LogEntries(6), heads));
        Both(export, "head heads/000000000006.json: its root");
        AssertRefused(export, "among entries 4 to 5 (lines 5 to 6)");
    }

    [Fact]
    public void A_co_signature_from_a_country_without_a_key_fails()
    {
        using var export = Honest();
        File.Delete(export.File("keys/CH.pub"));
        AssertRefused(export, "head heads/000000000004.json: CH co-signed, but no key is known for CH (keys/CH.pub is not in the export)");
        AssertRefused(export, "keys/CH.pub: missing, but you trust a key for CH", Trust);
    }

    // ---- Keys ----------------------------------------------------------------------------------------------

    [Fact]
    public void Swapped_country_key_files_fail_naming_the_country()
    {
        using var export = Honest();
        byte[] ch = export.Read("keys/CH.pub");
        export.Write("keys/CH.pub", export.Read("keys/HU.pub"));
        export.Write("keys/HU.pub", ch);
        AssertRefused(export, "head heads/000000000002.json: HU's co-signature does not verify with HU's key");
        AssertRefused(export, "keys/CH.pub: differs from the key you trust for CH", Trust);
    }

    [Fact]
    public void The_operator_key_swapped_with_a_country_key_fails()
    {
        using var export = Honest();
        byte[] op = export.Read("keys/operator.pub");
        export.Write("keys/operator.pub", export.Read("keys/HU.pub"));
        export.Write("keys/HU.pub", op);
        AssertRefused(export, "head heads/000000000002.json: the operator's signature");
        AssertRefused(export, "keys/operator.pub: differs from the operator key you trust", Trust);
    }

    [Fact]
    public void Trusted_keys_that_differ_from_the_export_fail_naming_the_key_file()
    {
        using var export = Honest();
        var other = ParticipantSigningKey.Generate().PublicKey;
        AssertRefused(export, "keys/operator.pub: differs from the operator key you trust", Trust with { OperatorKey = other });
        AssertRefused(export, "keys/HU.pub: differs from the key you trust for HU",
            new AuditTrust(Operator.PublicKey, new Dictionary<string, byte[]>(CountryKeys) { ["HU"] = other }));
        AssertRefused(export, "keys/HU.pub: the export has a key for HU, but you trust no key for HU",
            new AuditTrust(Operator.PublicKey, new Dictionary<string, byte[]> { ["CH"] = CountryKeys["CH"] }));
        AssertRefused(export, "keys/US.pub: missing, but you trust a key for US",
            new AuditTrust(Operator.PublicKey, new Dictionary<string, byte[]>(CountryKeys) { ["US"] = other }));
        Assert.Throws<ArgumentException>(() => export.Verify(Trust with { OperatorKey = new byte[5] }));
    }

    [Fact]
    public void A_key_for_a_country_that_never_co_signed_fails_on_the_last_head()
    {
        using var export = Honest();
        export.Write("keys/US.pub", ParticipantSigningKey.Generate().PublicKey);
        AssertRefused(export, "head heads/000000000006.json: US has not co-signed the head");
    }

    [Fact]
    public void A_key_file_that_is_not_a_P256_key_fails_naming_it()
    {
        using var export = Honest();
        byte[] key = export.Read("keys/CH.pub");
        export.Write("keys/CH.pub", [.. key[..^1], (byte)(key[^1] ^ 1)]);
        Both(export, "keys/CH.pub: is not CH's public key: the point is not on the P-256 curve");
        export.Write("keys/CH.pub", key[..90]);
        Both(export, "keys/CH.pub: is not CH's public key: a key file holds a P-256 SubjectPublicKeyInfo");
    }

    // ---- Files ---------------------------------------------------------------------------------------------

    [Fact]
    public void An_unexpected_file_or_folder_anywhere_fails_naming_it()
    {
        (string Path, bool Folder, string Because)[] cases =
        [
            ("notes.txt", false, "notes.txt: an unexpected file"),
            (".DS_Store", false, ".DS_Store: an unexpected file"),
            ("old", true, "old/: an unexpected folder"),
            ("heads/notes.txt", false, "heads/notes.txt: an unexpected file"),
            ("heads/9.json", false, "heads/9.json: an unexpected file"),
            ("heads/000000000007.json.bak", false, "heads/000000000007.json.bak: an unexpected file"),
            ("heads/000000000008.json", true, "heads/000000000008.json: is a folder, not a file"),
            ("keys/ch.pub", false, "keys/ch.pub: an unexpected file"),
            ("keys/CH.pem", false, "keys/CH.pem: an unexpected file"),
            ("keys/old", true, "keys/old/: an unexpected folder"),
        ];
        foreach (var (path, folder, because) in cases)
        {
            using var export = Honest();
            if (folder)
                Directory.CreateDirectory(export.File(path));
            else
                File.WriteAllText(export.File(path), "x");
            Both(export, because);
        }
    }

    [Fact]
    public void A_missing_part_fails_naming_it()
    {
        (Action<TempExport> Remove, string Because)[] cases =
        [
            (e => File.Delete(e.File("entries.jsonl")), "entries.jsonl: missing"),
            (e => Directory.Delete(e.File("heads"), true), "heads/: missing"),
            (e => Directory.Delete(e.File("keys"), true), "keys/: missing"),
            (e => File.Delete(e.File("keys/operator.pub")), "keys/operator.pub: missing"),
        ];
        foreach (var (remove, because) in cases)
        {
            using var export = Honest();
            remove(export);
            Both(export, because);
        }
        Assert.Contains("no such directory", AuditExportVerifier.Verify(Path.Combine(Path.GetTempPath(), "no-such-export-" + Guid.NewGuid())).Problem);
    }

    [Fact]
    public void A_link_in_place_of_a_file_fails()
    {
        using var export = Honest();
        string target = export.File("heads/000000000006.json");
        string copy = Path.Combine(Path.GetTempPath(), "head-" + Guid.NewGuid() + ".json");
        File.Move(target, copy);
        try
        {
            File.CreateSymbolicLink(target, copy);
            Both(export, "heads/000000000006.json: is a link");
        }
        finally
        {
            File.Delete(copy);
        }
    }

    // ---- Membership ----------------------------------------------------------------------------------------

    [Fact]
    public void A_membership_chain_signed_by_another_operator_fails()
    {
        using var export = Honest();
        export.Write("membership.json", MembershipJson.Write(Chain(Intruder)));
        Both(export, "membership.json: does not verify with the operator key: membership record 1: the operator's signature does not verify");
    }

    [Fact]
    public void A_membership_chain_with_its_last_record_dropped_still_verifies_but_one_laid_out_otherwise_fails()
    {
        // A prefix of the chain is a valid chain: the export does not pin which record is the latest (see the README).
        using var export = Honest();
        export.Write("membership.json", MembershipJson.Write([Chain()[0]]));
        Assert.True(export.Verify(Trust).Ok);
        export.Write("membership.json", Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(MembershipJson.Write(Chain())).Replace("\n  ", "\n\t")));
        Both(export, "membership.json: is not in its one written form");
    }

    /// <summary>A head signed by <paramref name="operatorKey"/> and co-signed by every silo, without any co-signer's checks.</summary>
    private static SignedTreeHead Sign(TreeHead head, ParticipantSigningKey operatorKey, IReadOnlyDictionary<string, ParticipantSigningKey> silos)
    {
        var signed = SignedTreeHead.Sign(head, operatorKey);
        foreach (var (country, key) in silos)
            signed = signed.WithCosignature(new TreeHeadCosignature(head, country, TreeHeadCosignature.Sign(head, country, key)));
        return signed;
    }
}
