using System.CommandLine;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCore.Audit;
using FedCore.Audit.Entries;
using FedCore.Audit.Export;
using Federation.Silo.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Federation.Silo.Cli;

/// <summary>
/// `federation audit export | verify` (FedCore/Audit/README.md, "Export and verify"). <c>export</c> reads the audit log of a
/// data directory straight from its <c>cluster.db</c>, read-only (no cluster needs to run; one may), and writes an export
/// ending on the last head every country with a witness key co-signed. <c>verify</c> checks an export offline with the
/// entries' closed reader, against keys the auditor trusts. Each prints one JSON document on standard output.
/// Exit codes: 0 written / verified; 1 refused (verify: the export does not verify; export: what it wrote does not verify,
/// so the stored log does not hold), the problem on standard error too; 2 bad input, naming the option, nothing written.
/// </summary>
public static class AuditCommand
{
    public const int Refused = 1;

    /// <summary>The data directory's files the export reads (besides the log's tables in <see cref="ClusterDatabase"/>).</summary>
    public const string ClusterDatabase = "cluster.db", OperatorFolder = "operator", OperatorPublicKey = "operator.pub", Membership = "membership.json";

    /// <summary>How often export reads the store again when a witness key is newer than every head it read (a log running beside it).</summary>
    private const int ReadAttempts = 5;

    public static Command Create(TextWriter output, TextWriter error) => new("audit", "The audit log: export it for an auditor, verify an export offline, report on a job, an agreement or a period.")
    {
        Export(output, error),
        Verify(output, error),
        AuditReportCommand.Create(output, error),
        AuditReportCommand.CreateVerify(output, error),
    };

    // ---- export ----------------------------------------------------------------------------------------------------

    private static Command Export(TextWriter output, TextWriter error)
    {
        var data = EmbeddedCommand.DataOption();
        var outDir = new Option<DirectoryInfo>("--out")
        {
            Description = "The folder to write the export into: new or empty, and outside the data directory.",
            Required = true,
        };
        var command = new Command("export",
            "Write the audit log of a data directory as an export (entries.jsonl, heads/, keys/, membership.json) ending on the last head " +
            "every country with a witness key co-signed. Reads cluster.db read-only; a federation may be running. Exit 0, 1 if what was " +
            "written does not verify, 2 bad input.") { data, outDir };
        command.SetAction((parse, cancellation) => Run(error, async () =>
        {
            var (json, problem) = await ExportAsync(parse.GetValue(data)!, parse.GetValue(outDir)!, cancellation);
            await output.WriteLineAsync(json.ToJsonString(EmbeddedCommand.Indented));
            if (problem is null)
                return 0;
            await error.WriteLineAsync($"error: the export written to {parse.GetValue(outDir)!.FullName} does not verify: {problem}");
            return Refused;
        }));
        return command;
    }

    private static async Task<(JsonObject Json, string? Problem)> ExportAsync(DirectoryInfo data, DirectoryInfo outDir, CancellationToken cancellationToken)
    {
        if (!data.Exists)
            throw new CommandInputException($"--data: the directory {data.FullName} does not exist");
        string database = Path.Combine(data.FullName, ClusterDatabase);
        if (!File.Exists(database))
            throw new CommandInputException($"--data: {data.FullName} holds no audit log: there is no {ClusterDatabase} (the log of a federation that ran over this directory is kept there)");
        string operatorKeyPath = Path.Combine(data.FullName, OperatorFolder, OperatorPublicKey);
        if (!File.Exists(operatorKeyPath))
            throw new CommandInputException($"--data: {data.FullName} has no {OperatorFolder}/{OperatorPublicKey}: the operator's public key, which signs the log's heads");
        if (File.Exists(outDir.FullName))
            throw new CommandInputException($"--out: {outDir.FullName} is a file; an export is a folder");
        if (outDir.Exists && outDir.EnumerateFileSystemInfos().Any())
            throw new CommandInputException($"--out: {outDir.FullName} is not empty; an export is written into a new or empty folder");
        if (Inside(outDir.FullName, data.FullName))
            throw new CommandInputException($"--out: {outDir.FullName} is inside the data directory {data.FullName}, which the export leaves as it is; write it elsewhere");

        byte[] operatorKey = await File.ReadAllBytesAsync(operatorKeyPath, cancellationToken);
        string membershipPath = Path.Combine(data.FullName, OperatorFolder, Membership);
        byte[]? membership = File.Exists(membershipPath) ? await File.ReadAllBytesAsync(membershipPath, cancellationToken) : null;
        var log = await ReadLogAsync(data, database, cancellationToken);

        var exported = log.Heads.Take(log.Last + 1).ToList();
        var lastHead = exported[^1].Head;
        try
        {
            AuditExport.Write(outDir.FullName, new AuditExportContent(log.Entries, exported, operatorKey, log.Keys, membership));
        }
        catch (ArgumentException e)
        {
            throw new CommandInputException($"--data: the audit log in {database} cannot be exported: {e.Message}");
        }
        catch (IOException e)
        {
            throw new CommandInputException($"--out: {e.Message}");
        }

        var countries = log.Keys.Keys.Order(StringComparer.Ordinal).ToList();
        var missing = new JsonArray();
        for (int i = 0; i < log.Heads.Count; i++)
        {
            var lacks = countries.Where(c => !log.Heads[i].Cosignatures.ContainsKey(c)).ToList();
            if (lacks.Count > 0)
                missing.Add(new JsonObject
                {
                    ["size"] = log.Heads[i].Head.Size,
                    ["time"] = TreeHead.FormatTime(log.Heads[i].Head.Time),
                    ["countries"] = Strings(lacks),
                    ["exported"] = i <= log.Last,
                });
        }
        var leftOutHeads = log.Heads.Skip(log.Last + 1).ToList();
        long leftOutEntries = log.Entries.Count - lastHead.Size;
        var verification = AuditExportVerifier.Verify(outDir.FullName, trust: null, AuditEntryCheck.ForExport(outDir.FullName), AuditEntryCheck.Time);
        var json = new JsonObject
        {
            ["directory"] = outDir.FullName,
            ["entries"] = lastHead.Size,
            ["heads"] = exported.Count,
            ["countries"] = Strings(countries),
            ["operatorKey"] = EmbeddedCommand.KeyFingerprint(operatorKey),
            ["membership"] = membership is not null,
            ["lastHead"] = new JsonObject
            {
                ["size"] = lastHead.Size,
                ["root"] = lastHead.RootHex,
                ["time"] = TreeHead.FormatTime(lastHead.Time),
                ["cosignedBy"] = Strings(exported[^1].Cosignatures.Keys),
            },
            ["leftOut"] = new JsonObject
            {
                ["entries"] = leftOutEntries,
                ["heads"] = new JsonArray([.. leftOutHeads.Select(h => (JsonNode)h.Head.Size)]),
                ["reason"] = LeftOutReason(log, countries, leftOutHeads, leftOutEntries),
            },
            ["headsMissingCosignatures"] = missing,
            ["verified"] = verification.Ok,
        };
        return (json, verification.Ok ? null : verification.Problem);
    }

    /// <summary>Why entries and heads after the exported last head were left out, or null when nothing was.</summary>
    private static string? LeftOutReason(StoredLog log, List<string> countries, List<SignedTreeHead> leftOutHeads, long leftOutEntries)
    {
        if (leftOutEntries == 0 && leftOutHeads.Count == 0)
            return null;
        long last = log.Heads[log.Last].Head.Size;
        var parts = new List<string>();
        if (leftOutHeads.Count > 0)
        {
            var lacking = leftOutHeads.SelectMany(h => countries.Where(c => !h.Cosignatures.ContainsKey(c))).Distinct().Order(StringComparer.Ordinal);
            parts.Add($"the {leftOutHeads.Count} later head{(leftOutHeads.Count == 1 ? "" : "s")} (sizes {string.Join(", ", leftOutHeads.Select(h => h.Head.Size))}) " +
                $"lack{(leftOutHeads.Count == 1 ? "s" : "")} the co-signature of {string.Join(", ", lacking)}, so the export ends on the head of size {last}, " +
                $"the last one every country with a witness key ({string.Join(", ", countries)}) co-signed, and verifies");
        }
        long underHeads = leftOutHeads.Count == 0 ? last : leftOutHeads[^1].Head.Size;
        if (underHeads > last)
            parts.Add($"entries {last} to {underHeads - 1} are covered only by those heads");
        if (log.Entries.Count > underHeads)
            parts.Add($"entries {underHeads} to {log.Entries.Count - 1} are under no head yet (the log publishes one shortly after an append)");
        return string.Join("; ", parts) + ". Export again once every country has co-signed a later head.";
    }

    private sealed record StoredLog(List<byte[]> Entries, List<SignedTreeHead> Heads, Dictionary<string, byte[]> Keys, int Last);

    /// <summary>
    /// The heads, the witness keys and the entries, and the index of the last head co-signed by every country with a key. The
    /// log stores a country's key before the head it co-signed and the entries before their head, so in one snapshot every
    /// co-signature has its key and every head its entries; a key stored just before its first head has none: read again.
    /// </summary>
    private static async Task<StoredLog> ReadLogAsync(DirectoryInfo data, string database, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            var (headRows, keys, entries) = await ReadStoreAsync(database, cancellationToken);
            if (headRows.Count == 0)
                throw new CommandInputException($"--data: the audit log in {data.FullName} has no signed head yet, so there is nothing signed to export (the log publishes one when it first starts, then after appends)");
            var heads = new List<SignedTreeHead>(headRows.Count);
            foreach (var row in headRows)
            {
                try
                {
                    heads.Add(SignedTreeHead.Read(row, $"the head stored as number {heads.Count + 1} in {database}"));
                }
                catch (AuditFormatException e)
                {
                    throw new CommandInputException($"--data: {e.Message}");
                }
            }
            int last = heads.FindLastIndex(h => keys.Keys.All(h.Cosignatures.ContainsKey));
            if (last >= 0)
                return new StoredLog(entries, heads, keys, last);
            if (attempt == ReadAttempts)
            {
                var latest = heads[^1];
                var lacking = keys.Keys.Where(c => !latest.Cosignatures.ContainsKey(c)).Order(StringComparer.Ordinal);
                throw new CommandInputException($"--data: no head of the audit log in {data.FullName} is co-signed by every country with a witness key " +
                    $"({string.Join(", ", keys.Keys.Order(StringComparer.Ordinal))}); the latest, of size {latest.Head.Size}, lacks {string.Join(", ", lacking)}. " +
                    "An export must end on such a head to verify: export again once those countries' silos have co-signed one");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
        }
    }

    /// <summary>
    /// Reads the log's tables (the store's own mapping, <see cref="AuditLogDbContext"/>) without changing anything in the data
    /// directory. <see cref="AuditLogStore.Sqlite"/> would not do: it opens read-write, sets the journal mode and creates missing
    /// tables, and any connection to a database in write-ahead-log mode leaves <c>-wal</c> and <c>-shm</c> files behind unless it
    /// can remove them. So: when no silo has the database open (no <c>-wal</c> or <c>-journal</c> beside it) it is opened
    /// read-only and immutable, which creates no file; if a silo opened it meanwhile (a <c>-wal</c> appeared, or the file
    /// changed) it is read again as below. When one has it open, it is opened read-only beside it (SQLite's write-ahead log
    /// lets readers run beside the writer), in one read transaction: a consistent snapshot of the three tables.
    /// </summary>
    internal static async Task<(List<byte[]> Heads, Dictionary<string, byte[]> Keys, List<byte[]> Entries)> ReadStoreAsync(string database, CancellationToken cancellationToken)
    {
        bool Quiet() => !File.Exists(database + "-wal") && !File.Exists(database + "-journal");
        (long, DateTime) Stamp() { var file = new FileInfo(database); return (file.Length, file.LastWriteTimeUtc); }
        try
        {
            if (Quiet())
            {
                var before = Stamp();
                var read = await ReadTablesAsync(new Uri(Path.GetFullPath(database)).AbsoluteUri + "?immutable=1", cancellationToken);
                if (Quiet() && Stamp() == before)
                    return read;
            }
            return await ReadTablesAsync(database, cancellationToken);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException)
        {
            throw new CommandInputException($"--data: {database} holds no audit log this command can read ({Innermost(e)})");
        }
    }

    private static async Task<(List<byte[]> Heads, Dictionary<string, byte[]> Keys, List<byte[]> Entries)> ReadTablesAsync(string dataSource, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = dataSource,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = 60,
        }.ToString());
        await connection.OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: true);
        await using var db = new AuditLogDbContext(new DbContextOptionsBuilder<AuditLogDbContext>().UseSqlite(connection).Options);
        await db.Database.UseTransactionAsync(transaction, cancellationToken);
        var heads = await db.Heads.AsNoTracking().OrderBy(h => h.Size).Select(h => h.Json).ToListAsync(cancellationToken);
        var keys = await db.WitnessKeys.AsNoTracking().ToDictionaryAsync(k => k.Country, k => k.PublicKey, StringComparer.Ordinal, cancellationToken);
        var entries = heads.Count == 0 ? [] : await db.Entries.AsNoTracking().OrderBy(e => e.Position).Select(e => e.Bytes).ToListAsync(cancellationToken);
        return (heads, keys, entries);
    }

    private static bool Inside(string path, string folder)
    {
        string Normal(string p) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(p)) + Path.DirectorySeparatorChar;
        return Normal(path).StartsWith(Normal(folder), StringComparison.Ordinal);
    }

    // ---- verify ----------------------------------------------------------------------------------------------------

    private static Command Verify(TextWriter output, TextWriter error)
    {
        var dir = new Argument<DirectoryInfo>("DIR") { Description = "The export folder (as `audit export` writes it)." };
        var operatorKey = new Option<FileInfo?>("--operator-key")
        {
            Description = "The federation operator's public key as you obtained it from the operator (operator.pub, SubjectPublicKeyInfo DER). With --country-key.",
        };
        var countryKeys = new Option<string[]>("--country-key")
        {
            Description = "A country's witness public key as you obtained it from that country, CC=FILE (e.g. HU=hu-witness.pub); one per co-signing country. " +
                "Without --operator-key and --country-key the keys are taken from the export itself, which shows only that it is self-consistent.",
        };
        var command = new Command("verify",
            "Verify an audit export offline: recompute the tree from the entries, read every entry with the closed reader, check every head's root, " +
            "order and signatures. Exit 0 verified, 1 refused (naming the first bad entry, head or file), 2 bad input.") { dir, operatorKey, countryKeys };
        command.SetAction((parse, cancellation) => Run(error, async () =>
        {
            var folder = parse.GetValue(dir)!;
            if (!folder.Exists)
                throw new CommandInputException(File.Exists(folder.FullName)
                    ? $"DIR: {folder.FullName} is a file; an export is a folder"
                    : $"DIR: the folder {folder.FullName} does not exist");
            var trust = Trust(parse.GetValue(operatorKey), parse.GetValue(countryKeys) ?? []);
            AuditVerification result;
            try
            {
                result = AuditExportVerifier.Verify(folder.FullName, trust, AuditEntryCheck.ForExport(folder.FullName), AuditEntryCheck.Time);
            }
            catch (ArgumentException e)
            {
                throw new CommandInputException($"--operator-key / --country-key: {e.Message}");
            }
            if (trust is null)
                await error.WriteLineAsync(
                    "warning: no trusted keys given (--operator-key, --country-key): the operator's and the countries' keys were taken from the export itself. " +
                    "The result shows only that the export is self-consistent, not that its keys are the operator's and the countries': whoever wrote it " +
                    "could have signed and co-signed it with keys of their own. Obtain the operator's key and each country's witness key from them, and pass them.");
            await output.WriteLineAsync(Describe(folder, result).ToJsonString(EmbeddedCommand.Indented));
            if (result.Ok)
                return 0;
            await error.WriteLineAsync($"error: refused: {result.Problem}");
            return Refused;
        }));
        return command;
    }

    private static AuditTrust? Trust(FileInfo? operatorKey, string[] countryKeys)
    {
        if (operatorKey is null && countryKeys.Length == 0)
            return null;
        if (operatorKey is null)
            throw new CommandInputException("--operator-key: missing; with --country-key give the operator's key too (both or neither)");
        if (countryKeys.Length == 0)
            throw new CommandInputException("--country-key: missing; with --operator-key give each co-signing country's witness key as CC=FILE (both or neither)");
        return new AuditTrust(KeyFile(operatorKey, "--operator-key"), CountryKeys(countryKeys));
    }

    /// <summary>The keys given as <c>--country-key CC=FILE</c>, each read and checked, each country once.</summary>
    internal static Dictionary<string, byte[]> CountryKeys(IEnumerable<string> values)
    {
        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            int equals = value.IndexOf('=');
            if (equals < 0)
                throw new CommandInputException($"--country-key: '{value}' is not CC=FILE (e.g. HU=hu-witness.pub)");
            string country = EmbeddedCommand.Country(value[..equals], "--country-key");
            if (equals == value.Length - 1)
                throw new CommandInputException($"--country-key: '{value}' names no file after '='");
            var key = KeyFile(new FileInfo(value[(equals + 1)..]), $"--country-key {country}");
            if (!keys.TryAdd(country, key))
                throw new CommandInputException($"--country-key: {country} is given twice");
        }
        return keys;
    }

    /// <summary>A public key file given to an option: read, and a P-256 key (SubjectPublicKeyInfo DER, 91 bytes, a point on the curve).</summary>
    internal static byte[] KeyFile(FileInfo file, string option)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CommandInputException($"{option}: cannot read {file.FullName}: {e.Message}");
        }
        if (!IsP256PublicKey(bytes))
            throw new CommandInputException($"{option}: {file.FullName} is not an ECDSA P-256 public key (SubjectPublicKeyInfo DER, 91 bytes)");
        return bytes;
    }

    private static bool IsP256PublicKey(byte[] bytes)
    {
        if (bytes.Length != 91)
            return false;
        try
        {
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(bytes, out int read);
            return read == bytes.Length && key.KeySize == 256 && key.ExportParameters(false).Curve.Oid.Value == "1.2.840.10045.3.1.7"; // P-256
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static JsonObject Describe(DirectoryInfo folder, AuditVerification result) => new()
    {
        ["ok"] = result.Ok,
        ["directory"] = folder.FullName,
        ["entries"] = result.EntryCount,
        ["heads"] = result.HeadCount,
        ["countries"] = Strings(result.Countries),
        ["keysFromExport"] = result.KeysFromExport,
        ["membership"] = result.HasMembership,
        ["headsMissingCosignatures"] = new JsonArray([.. result.HeadsMissingCosignatures.Select(h => (JsonNode)new JsonObject
        {
            ["file"] = h.File,
            ["size"] = h.Size,
            ["countries"] = Strings(h.Countries),
        })]),
        ["lastHead"] = result.LastHead is { } head
            ? new JsonObject { ["size"] = head.Size, ["root"] = head.RootHex, ["time"] = TreeHead.FormatTime(head.Time) }
            : null,
        ["problem"] = result.Problem,
    };

    // ---- shared ----------------------------------------------------------------------------------------------------

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)v)]);

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null)
            e = e.InnerException;
        return e.Message;
    }

    /// <summary>Runs an audit command: bad input, or a stored log that cannot be read, is exit 2 with the message on standard error.</summary>
    internal static async Task<int> Run(TextWriter error, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (CommandInputException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return 2;
        }
        catch (AuditFormatException e)
        {
            await error.WriteLineAsync($"error: --data: the stored audit log cannot be read: {e.Message}");
            return 2;
        }
    }
}
