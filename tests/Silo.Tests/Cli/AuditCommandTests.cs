using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FedCore.Aggregation.Integrity;
using FedCore.Audit;
using FedCore.Audit.Entries;
using FedCore.Audit.Export;
using FedCore.Governance.Canonical;
using Federation.Contracts.Audit;
using Federation.Silo.Cli;
using Federation.Silo.Hosting;
using Federation.Silo.Storage;
using Microsoft.Data.Sqlite;

namespace Federation.Silo.Tests.Cli;

/// <summary>
/// A real embedded federation (US, HU, CH, the sample's members) whose audit log got three batches: two while every
/// country was up, one while CH was down. An export taken while it ran; the trusted keys taken out of band (the operator's
/// operator.pub, each witness's key from its grain); then the federation stopped, as after a `round run`.
/// </summary>
public sealed class AuditCommandFixture : IAsyncLifetime
{
    public static readonly string[] Countries = ["CH", "HU", "US"];
    private readonly TempDirectory _data = new("federation-audit-cli");
    private readonly TempDirectory _work = new("federation-audit-cli-work");

    public string Data => _data.Path;

    /// <summary>Where the tests write exports and key files: outside the data directory.</summary>
    internal TempDirectory Work => _work;

    /// <summary>The trusted keys as files: operator.pub and CC.pub per country, obtained while the federation ran.</summary>
    public string OperatorKeyFile => _work.File("trusted-operator.pub");

    public string CountryKeyFile(string country) => _work.File($"trusted-{country}.pub");

    /// <summary>The size of the last head every country co-signed, and of the latest (without CH).</summary>
    public long FullyCosignedSize { get; private set; }

    public long LatestSize { get; private set; }

    internal CliResult RunningExport { get; private set; } = null!;

    public string RunningExportDirectory => _work.File("export-while-running");

    /// <summary>Every file of the data directory and its SHA-256, once the federation stopped.</summary>
    public Dictionary<string, string> Snapshot { get; private set; } = null!;

    // Entries are dated when the fixture runs: the log refuses entries far from its clock.
    private readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    public byte[] Entry(int n) => AuditEntryJson.Write(AuditEvents.PredictionsMade(
        Now.AddMilliseconds(n), AuditActor.Silo("HU"), "HU", AuditDigest.Hash([(byte)n]), n + 1, job: "HU/audit-cli"));

    public async Task InitializeAsync()
    {
        var federation = await LocalFederation.StartAsync(TestFederations.Options(Data, "US", "HU", "CH"));
        try
        {
            await TestFederations.SetUpSampleAsync(federation);
            var log = federation.Grains.GetGrain<IAuditLogGrain>(0);
            await log.Append([Entry(1), Entry(2), Entry(3)]);
            await log.PublishHead();
            await File.WriteAllBytesAsync(OperatorKeyFile, federation.Operator!.PublicKey);
            foreach (var country in Countries)
                await File.WriteAllBytesAsync(CountryKeyFile(country), await federation.Grains.GetGrain<IAuditWitnessGrain>(AuditWitnessKey.Format(country)).GetPublicKey());

            await log.Append([Entry(4), Entry(5)]);
            var full = await log.PublishHead();
            Assert.Equal(Countries, full.CosignedBy);
            FullyCosignedSize = full.Size;
            RunningExport = await new CliRunner(Data).RunAsync("audit", "export", "--out", RunningExportDirectory);

            await federation.StopCountryAsync("CH");
            await log.Append([Entry(6), Entry(7)]);
            var latest = await log.PublishHead();
            Assert.Equal(["HU", "US"], latest.CosignedBy);
            LatestSize = latest.Size;
        }
        finally
        {
            await federation.DisposeAsync();
        }
        // As when the silos' process has ended: the last connection to each database closes (and SQLite folds in its -wal).
        SqliteConnection.ClearAllPools();
        Snapshot = SnapshotOf(Data);
    }

    public Task DisposeAsync()
    {
        _data.Dispose();
        _work.Dispose();
        return Task.CompletedTask;
    }

    public static Dictionary<string, string> SnapshotOf(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(directory, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));
}

/// <summary>
/// `federation audit export | verify` on a real federation's data directory: an honest export verifies against keys obtained
/// out of band; a flipped byte, a wrong key, an entry the closed reader refuses are refused naming what; bad input exits 2.
/// </summary>
public sealed class AuditCommandTests(AuditCommandFixture fixture) : IClassFixture<AuditCommandFixture>
{
    private CliRunner Cli => new(fixture.Data);

    /// <summary>A command that takes no --data (CliRunner adds it to every command).</summary>
    private static async Task<CliResult> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await FederationCommandLine.RunAsync(args, output, error);
        return new CliResult(args, exit, output.ToString(), error.ToString());
    }

    private string[] TrustedKeys() =>
        ["--operator-key", fixture.OperatorKeyFile, .. AuditCommandFixture.Countries.SelectMany(c => new[] { "--country-key", $"{c}={fixture.CountryKeyFile(c)}" })];

    private Task<CliResult> VerifyAsync(string directory, params string[] keys) => RunAsync(["audit", "verify", directory, .. keys]);

    private async Task<string> ExportAsync(string name)
    {
        string directory = fixture.Work.File(name);
        (await Cli.RunAsync("audit", "export", "--out", directory)).Succeeded();
        return directory;
    }

    private static string CopyOf(string directory, string name)
    {
        string copy = Path.Combine(Path.GetDirectoryName(directory)!, name);
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(copy, Path.GetRelativePath(directory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return copy;
    }

    [Fact]
    public async Task An_export_of_a_stopped_federation_ends_on_the_last_head_every_country_cosigned_and_verifies_against_keys_obtained_out_of_band()
    {
        string directory = fixture.Work.File("export-honest");
        var export = (await Cli.RunAsync("audit", "export", "--out", directory)).Succeeded();
        Assert.Equal("", export.Error);

        var json = export.Json;
        Assert.Equal(Path.GetFullPath(directory), (string)json["directory"]!);
        Assert.Equal(fixture.FullyCosignedSize, (long)json["entries"]!);
        Assert.Equal(AuditCommandFixture.Countries, json["countries"]!.AsArray().Select(c => (string)c!));
        Assert.True((bool)json["membership"]!);
        Assert.True((bool)json["verified"]!);
        Assert.Equal(fixture.FullyCosignedSize, (long)json["lastHead"]!["size"]!);
        Assert.Equal(AuditCommandFixture.Countries, json["lastHead"]!["cosignedBy"]!.AsArray().Select(c => (string)c!));
        // What was left out, and why: the two entries appended while CH was down, under a head CH did not co-sign.
        Assert.Equal(fixture.LatestSize - fixture.FullyCosignedSize, (long)json["leftOut"]!["entries"]!);
        Assert.Equal([fixture.LatestSize], json["leftOut"]!["heads"]!.AsArray().Select(h => (long)h!));
        Assert.Contains("lacks the co-signature of CH", (string)json["leftOut"]!["reason"]!);
        var missing = json["headsMissingCosignatures"]!.AsArray().Single(h => (long)h!["size"]! == fixture.LatestSize)!;
        Assert.Equal(["CH"], missing["countries"]!.AsArray().Select(c => (string)c!));
        Assert.False((bool)missing["exported"]!);

        // The files: exactly the entries under that head, one file per head written, the keys the witnesses gave.
        var lines = File.ReadAllBytes(Path.Combine(directory, AuditExport.EntriesFile));
        Assert.Equal(fixture.FullyCosignedSize, lines.Count(b => b == (byte)'\n'));
        Assert.EndsWith(Encoding.UTF8.GetString(fixture.Entry(5)) + "\n", Encoding.UTF8.GetString(lines));
        int headFiles = Directory.GetFiles(Path.Combine(directory, AuditExport.HeadsFolder)).Length;
        Assert.Equal(headFiles, (int)json["heads"]!);
        foreach (var country in AuditCommandFixture.Countries)
            Assert.Equal(File.ReadAllBytes(fixture.CountryKeyFile(country)), File.ReadAllBytes(Path.Combine(directory, AuditExport.KeysFolder, $"{country}.pub")));

        var verify = (await VerifyAsync(directory, TrustedKeys())).Succeeded();
        Assert.Equal("", verify.Error); // trusted keys given: no warning
        var result = verify.Json;
        Assert.True((bool)result["ok"]!);
        Assert.Equal(fixture.FullyCosignedSize, (long)result["entries"]!);
        Assert.Equal(headFiles, (int)result["heads"]!);
        Assert.Equal(AuditCommandFixture.Countries, result["countries"]!.AsArray().Select(c => (string)c!));
        Assert.False((bool)result["keysFromExport"]!);
        Assert.Equal(fixture.FullyCosignedSize, (long)result["lastHead"]!["size"]!);
        Assert.Equal((string)json["lastHead"]!["root"]!, (string)result["lastHead"]!["root"]!);
        Assert.Null(result["problem"]);

        // Nothing in the data directory changed: no file added, removed or altered (the store was opened read-only).
        Assert.Equal(fixture.Snapshot, AuditCommandFixture.SnapshotOf(fixture.Data));
    }

    [Fact]
    public async Task An_export_taken_while_the_federation_ran_verifies_and_left_nothing_out()
    {
        var export = fixture.RunningExport.Succeeded();
        Assert.Equal(fixture.FullyCosignedSize, (long)export.Json["entries"]!);
        Assert.Equal(0, (long)export.Json["leftOut"]!["entries"]!);
        Assert.Null(export.Json["leftOut"]!["reason"]);
        Assert.True((bool)export.Json["verified"]!);

        var verify = (await VerifyAsync(fixture.RunningExportDirectory, TrustedKeys())).Succeeded();
        Assert.Equal(fixture.FullyCosignedSize, (long)verify.Json["entries"]!);
    }

    [Fact]
    public async Task One_flipped_byte_in_entries_jsonl_is_refused_naming_the_entry_line()
    {
        string honest = await ExportAsync("export-to-flip");
        var bytes = File.ReadAllBytes(Path.Combine(honest, AuditExport.EntriesFile));
        int lineStarts = 0, third = 0;
        for (int i = 0; i < bytes.Length && lineStarts < 2; i++)
            if (bytes[i] == (byte)'\n' && ++lineStarts == 2)
                third = i + 1;

        // The first byte of line 3, '{' ^ 0x01 = 'z': not JSON, so not an entry.
        string flipped = CopyOf(honest, "export-flipped-brace");
        var changed = bytes.ToArray();
        changed[third] ^= 0x01;
        File.WriteAllBytes(Path.Combine(flipped, AuditExport.EntriesFile), changed);
        var refused = await VerifyAsync(flipped, TrustedKeys());
        Assert.Equal(AuditCommand.Refused, refused.Exit);
        Assert.False((bool)refused.Json["ok"]!);
        Assert.StartsWith("entry 2 (entries.jsonl line 3): is not an audit entry", (string)refused.Json["problem"]!);
        Assert.Contains("error: refused: entry 2 (entries.jsonl line 3)", refused.Error);

        // A flip that leaves a valid entry (the last hex digit of a digest on the last line): the head's root names the lines.
        string digest = CopyOf(honest, "export-flipped-digest");
        changed = bytes.ToArray();
        int at = Encoding.ASCII.GetString(changed).LastIndexOf("\"modelDigest\":\"", StringComparison.Ordinal) + "\"modelDigest\":\"".Length + 63;
        changed[at] = changed[at] == (byte)'0' ? (byte)'1' : (byte)'0';
        File.WriteAllBytes(Path.Combine(digest, AuditExport.EntriesFile), changed);
        refused = await VerifyAsync(digest, TrustedKeys());
        Assert.Equal(AuditCommand.Refused, refused.Exit);
        Assert.Contains($"lines {fixture.FullyCosignedSize - 1} to {fixture.FullyCosignedSize}", (string)refused.Json["problem"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_trusted_country_key_is_refused_naming_the_country()
    {
        string directory = await ExportAsync("export-wrong-key");
        using var impostor = ParticipantSigningKey.Generate();
        string impostorFile = fixture.Work.File("impostor-HU.pub");
        await File.WriteAllBytesAsync(impostorFile, impostor.PublicKey);
        var keys = TrustedKeys().Select(a => a == $"HU={fixture.CountryKeyFile("HU")}" ? $"HU={impostorFile}" : a).ToArray();

        var refused = await VerifyAsync(directory, keys);
        Assert.Equal(AuditCommand.Refused, refused.Exit);
        Assert.Equal("keys/HU.pub: differs from the key you trust for HU", (string)refused.Json["problem"]!);
        Assert.Contains("keys/HU.pub", refused.Error);
    }

    [Fact]
    public async Task Without_trusted_keys_the_export_verifies_but_a_warning_says_the_keys_came_from_the_export_itself()
    {
        string directory = await ExportAsync("export-no-keys");
        var result = (await VerifyAsync(directory)).Succeeded();
        Assert.True((bool)result.Json["keysFromExport"]!);
        Assert.Equal(fixture.FullyCosignedSize, (long)result.Json["entries"]!);
        Assert.StartsWith("warning: ", result.Error);
        Assert.Contains("taken from the export itself", result.Error);
        Assert.Contains("only that the export is self-consistent", result.Error);
    }

    [Fact]
    public async Task An_entry_that_is_canonical_json_but_no_audit_entry_in_an_export_the_operator_rebuilt_and_signed_is_refused_by_the_closed_reader()
    {
        string honest = await ExportAsync("export-to-rebuild");
        var entries = File.ReadAllText(Path.Combine(honest, AuditExport.EntriesFile)).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(Encoding.UTF8.GetBytes).ToList();
        int target = entries.Count - 2;
        var node = JsonNode.Parse(entries[target])!;
        node["kind"] = "predictions.leaked";
        entries[target] = CanonicalJson.Write(node);

        // The test plays the operator: its key is in the data directory. It signs a head over the rebuilt entries and drops the
        // countries (it cannot co-sign as them), so only the keys in the export vouch for it.
        using var operatorKey = ParticipantSigningKey.Import(File.ReadAllBytes(Path.Combine(fixture.Data, "operator", "operator.key")));
        var head = SignedTreeHead.Sign(TreeHead.Of(MerkleTree.FromEntries(entries), DateTimeOffset.UtcNow), operatorKey);
        string rebuilt = fixture.Work.File("export-rebuilt");
        AuditExport.Write(rebuilt, new AuditExportContent(entries, [head], operatorKey.PublicKey, new Dictionary<string, byte[]>(),
            File.ReadAllBytes(Path.Combine(honest, AuditExport.MembershipFile)))); // the organisations' keys, to check their entries with

        // Everything holds but the entry's meaning: the verifier's default check (canonical JSON) accepts the export …
        var formOnly = AuditExportVerifier.Verify(rebuilt);
        Assert.True(formOnly.Ok, formOnly.Problem);
        // … the command, with the entries' closed reader plugged in, refuses it naming the entry.
        var refused = await VerifyAsync(rebuilt);
        Assert.Equal(AuditCommand.Refused, refused.Exit);
        Assert.StartsWith($"entry {target} (entries.jsonl line {target + 1}): is not an audit entry: $.kind", (string)refused.Json["problem"]!);
        Assert.Equal(target, (long)refused.Json["entries"]!);
    }

    [Fact]
    public async Task Export_into_a_folder_that_is_not_empty_or_inside_the_data_directory_is_bad_input_naming_out()
    {
        string occupied = fixture.Work.File("occupied");
        Directory.CreateDirectory(occupied);
        await File.WriteAllTextAsync(Path.Combine(occupied, "notes.txt"), "mine");
        (await Cli.RunAsync("audit", "export", "--out", occupied)).Refused("--out", "not empty");
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(occupied).Select(Path.GetFileName));

        (await Cli.RunAsync("audit", "export", "--out", Path.Combine(fixture.Data, "export"))).Refused("--out", "inside the data directory");
        (await RunAsync("audit", "export")).Refused("--out");
        Assert.Equal(fixture.Snapshot, AuditCommandFixture.SnapshotOf(fixture.Data));
    }

    [Fact]
    public async Task A_data_directory_without_a_log_is_bad_input_naming_data_and_stays_as_it_was()
    {
        using var empty = new TempDirectory("federation-audit-cli-empty");
        string outDir = fixture.Work.File("export-of-nothing");
        (await new CliRunner(empty.Path).RunAsync("audit", "export", "--out", outDir)).Refused("--data", "cluster.db");
        (await new CliRunner(empty.File("absent")).RunAsync("audit", "export", "--out", outDir)).Refused("--data", "does not exist");

        // A cluster database of another program: no audit tables, and the command creates none.
        Directory.CreateDirectory(empty.File("operator"));
        File.Copy(fixture.OperatorKeyFile, empty.File("operator/operator.pub"));
        using (var connection = new SqliteConnection($"Data Source={empty.File("cluster.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE other (x INTEGER)";
            command.ExecuteNonQuery();
        }
        var before = AuditCommandFixture.SnapshotOf(empty.Path);
        (await new CliRunner(empty.Path).RunAsync("audit", "export", "--out", outDir)).Refused("--data", "no audit log");
        Assert.Equal(before, AuditCommandFixture.SnapshotOf(empty.Path));

        // A log with its tables but no head yet.
        _ = await AuditLogStore.Sqlite(empty.File("cluster.db")).ReadHeadsAsync();
        SqliteConnection.ClearAllPools();
        before = AuditCommandFixture.SnapshotOf(empty.Path);
        (await new CliRunner(empty.Path).RunAsync("audit", "export", "--out", outDir)).Refused("--data", "no signed head yet");
        Assert.Equal(before, AuditCommandFixture.SnapshotOf(empty.Path));
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task Verify_of_a_missing_folder_an_unreadable_key_or_a_malformed_country_key_is_bad_input_naming_it()
    {
        string directory = await ExportAsync("export-bad-input");
        (await VerifyAsync(fixture.Work.File("no-such-export"), TrustedKeys())).Refused("DIR", "does not exist");
        (await VerifyAsync(directory, "--operator-key", fixture.Work.File("missing.pub"), "--country-key", $"HU={fixture.CountryKeyFile("HU")}"))
            .Refused("--operator-key", "missing.pub");
        (await VerifyAsync(directory, "--operator-key", fixture.OperatorKeyFile, "--country-key", $"HU={fixture.Work.File("missing.pub")}"))
            .Refused("--country-key HU", "missing.pub");
        (await VerifyAsync(directory, "--operator-key", fixture.OperatorKeyFile, "--country-key", fixture.CountryKeyFile("HU"))).Refused("--country-key", "CC=FILE");
        (await VerifyAsync(directory, "--operator-key", fixture.OperatorKeyFile, "--country-key", $"hu={fixture.CountryKeyFile("HU")}")).Refused("--country-key", "'hu'");
        (await VerifyAsync(directory, "--operator-key", fixture.OperatorKeyFile, "--country-key", "HU=")).Refused("--country-key", "no file");
        (await VerifyAsync(directory, "--operator-key", fixture.OperatorKeyFile,
            "--country-key", $"HU={fixture.CountryKeyFile("HU")}", "--country-key", $"HU={fixture.CountryKeyFile("HU")}")).Refused("--country-key", "twice");
        (await VerifyAsync(directory, "--operator-key", fixture.OperatorKeyFile)).Refused("--country-key", "both or neither");
        (await VerifyAsync(directory, "--country-key", $"HU={fixture.CountryKeyFile("HU")}")).Refused("--operator-key", "both or neither");
        string notAKey = fixture.Work.File("not-a-key.pub");
        await File.WriteAllTextAsync(notAKey, "hello");
        (await VerifyAsync(directory, "--operator-key", notAKey, "--country-key", $"HU={fixture.CountryKeyFile("HU")}")).Refused("--operator-key", "not an ECDSA P-256 public key");
    }
}
