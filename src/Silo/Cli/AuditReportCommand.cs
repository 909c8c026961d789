using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCore.Audit;
using FedCore.Audit.Reports;
using FedCore.Audit.Reports.Pdf;

namespace Federation.Silo.Cli;

/// <summary>
/// `federation audit report` and `federation audit report-verify` (FedCore/Audit/README.md, "Reports (section 6)").
/// <c>report</c> reads the audit log of a data directory from its <c>cluster.db</c> without starting a cluster, takes the
/// latest head every country with a witness key co-signed (the latest head when none is), and writes a report on a job,
/// a round of it, an agreement or a period as PDF, CSV or JSON. <c>report-verify</c> checks a JSON report offline with the
/// operator's and the countries' public keys. Each prints one JSON document on standard output. Exit codes: 0 written /
/// verified; 1 the report does not verify (its problem on standard error too); 2 bad input, naming the option.
/// </summary>
public static class AuditReportCommand
{
    public const int Refused = 1;

    /// <summary><c>report</c>, for <c>federation audit</c>.</summary>
    public static Command Create(TextWriter output, TextWriter error)
    {
        var data = EmbeddedCommand.DataOption();
        var job = new Option<string>("--job") { Description = "Report on this job: every entry naming it, its agreement, datasets, policy sets and participants." };
        var round = new Option<int?>("--round") { Description = "With --job: only this model round (round r makes version r), with the job's context." };
        var agreement = new Option<string>("--agreement") { Description = "Report on this agreement: its transitions and signatures and every job under it." };
        var from = new Option<string>("--from") { Description = "With --to: report on every entry from this UTC time (included), e.g. 2025-03-01T00:00:00Z." };
        var to = new Option<string>("--to") { Description = "With --from: up to this UTC time (excluded)." };
        var format = new Option<string>("--format") { Description = "pdf, csv or json (json is what report-verify checks).", Required = true };
        format.AcceptOnlyFromAmong("pdf", "csv", "json");
        var outFile = new Option<FileInfo>("--out") { Description = "The file to write (replaced if it exists).", Required = true };
        var noProofs = new Option<bool>("--no-proofs") { Description = "pdf: leave out the appendix of inclusion proofs (the JSON form carries them)." };
        var command = new Command("report",
            "Write a report on a job (--job, optionally --round), an agreement (--agreement) or a period (--from, --to), built only from the " +
            "audit log of a data directory and its latest co-signed head: every line cites its entries, the JSON form carries their inclusion proofs. " +
            "Exit 0, 2 bad input.")
        {
            data, job, round, agreement, from, to, format, outFile, noProofs,
        };
        command.SetAction((parse, cancellation) => AuditCommand.Run(error, async () =>
        {
            var scope = Scope(parse.GetValue(job), parse.GetValue(round), parse.GetValue(agreement), parse.GetValue(from), parse.GetValue(to));
            var dataDirectory = parse.GetValue(data)!;
            var target = parse.GetValue(outFile)!;
            if (Directory.Exists(target.FullName))
                throw new CommandInputException($"--out: {target.FullName} is a directory; a report is a file");
            if (target.Directory is { Exists: false } folder)
                throw new CommandInputException($"--out: the folder {folder.FullName} does not exist");
            var (entries, head, fullyCosigned) = await ReadLogAsync(dataDirectory, cancellation);
            var report = AuditReportBuilder.Build(scope, entries, head);
            if (report.Entries.IsEmpty)
                throw new CommandInputException($"{Option(scope)}: the audit log has no entry for {scope.Describe()} under its latest head (size {head.Head.Size})");
            string chosen = parse.GetValue(format)!;
            byte[] bytes = chosen switch
            {
                "pdf" => AuditReportPdf.Write(report, includeProofs: !parse.GetValue(noProofs)),
                "csv" => AuditReportCsv.Write(report),
                _ => AuditReportJson.Write(report),
            };
            await File.WriteAllBytesAsync(target.FullName, bytes, cancellation);
            await output.WriteLineAsync(new JsonObject
            {
                ["file"] = target.FullName,
                ["format"] = chosen,
                ["bytes"] = bytes.Length,
                ["scope"] = scope.Describe(),
                ["entries"] = report.Entries.Length,
                ["head"] = new JsonObject
                {
                    ["size"] = head.Head.Size,
                    ["root"] = head.Head.RootHex,
                    ["time"] = TreeHead.FormatTime(head.Head.Time),
                    ["cosignedBy"] = new JsonArray([.. head.Cosignatures.Keys.Select(c => (JsonNode)c)]),
                    ["everyWitness"] = fullyCosigned,
                },
            }.ToJsonString(EmbeddedCommand.Indented));
            return 0;
        }));
        return command;
    }

    /// <summary><c>report-verify</c>, for <c>federation audit</c>.</summary>
    public static Command CreateVerify(TextWriter output, TextWriter error)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A report in its JSON form (report --format json)." };
        var operatorKey = new Option<FileInfo>("--operator-key")
        {
            Description = "The operator's public key (SubjectPublicKeyInfo DER, e.g. data/operator/operator.pub), obtained from the operator.",
            Required = true,
        };
        var countryKeys = new Option<string[]>("--country-key")
        {
            Description = "CC=FILE: a country's silo key (DER), obtained from that country; once per country. Each must have co-signed the report's head.",
            AllowMultipleArgumentsPerToken = false,
        };
        var export = new Option<DirectoryInfo>("--export") { Description = "An export of the log (audit export): also check that the report leaves nothing in its scope out." };
        var command = new Command("report-verify",
            "Check a JSON report offline: the head's signatures with the keys given, every cited entry's inclusion proof, and that each line is what " +
            "the cited entries say; with --export, that nothing in scope was left out. Exit 0 valid, 1 refused, 2 bad input.")
        {
            file, operatorKey, countryKeys, export,
        };
        command.SetAction((parse, cancellation) => AuditCommand.Run(error, async () =>
        {
            var reportFile = parse.GetValue(file)!;
            if (!reportFile.Exists)
                throw new CommandInputException($"FILE: {reportFile.FullName} does not exist");
            byte[] operatorPublic = AuditCommand.KeyFile(parse.GetValue(operatorKey)!, "--operator-key");
            var keys = AuditCommand.CountryKeys(parse.GetValue(countryKeys) ?? []);
            List<byte[]>? log = null;
            if (parse.GetValue(export) is { } exportDirectory)
            {
                string entriesFile = Path.Combine(exportDirectory.FullName, FedCore.Audit.Export.AuditExport.EntriesFile);
                if (!File.Exists(entriesFile))
                    throw new CommandInputException($"--export: {exportDirectory.FullName} holds no {FedCore.Audit.Export.AuditExport.EntriesFile}");
                log = SplitLines(await File.ReadAllBytesAsync(entriesFile, cancellation));
            }
            byte[] json = await File.ReadAllBytesAsync(reportFile.FullName, cancellation);
            var verification = AuditReportVerifier.Verify(json, operatorPublic, keys, log);
            await output.WriteLineAsync(new JsonObject
            {
                ["file"] = reportFile.FullName,
                ["valid"] = verification.Ok,
                ["problem"] = verification.Problem,
                ["complete"] = verification.Complete,
                ["countries"] = new JsonArray([.. keys.Keys.Order(StringComparer.Ordinal).Select(c => (JsonNode)c)]),
                ["entries"] = verification.Report?.Entries.Length,
                ["scope"] = verification.Report?.Scope.Describe(),
            }.ToJsonString(EmbeddedCommand.Indented));
            if (verification.Ok)
            {
                if (keys.Count == 0)
                    await error.WriteLineAsync("warning: no --country-key given: only the operator's signature was checked, so the operator alone vouches for the log.");
                return 0;
            }
            await error.WriteLineAsync($"error: {reportFile.FullName} does not verify: {verification.Problem}");
            return Refused;
        }));
        return command;
    }

    private static AuditReportScope Scope(string? job, int? round, string? agreement, string? from, string? to)
    {
        int kinds = (job is null ? 0 : 1) + (agreement is null ? 0 : 1) + (from is null && to is null ? 0 : 1);
        if (kinds != 1)
            throw new CommandInputException("--job, --agreement, --from/--to: give exactly one scope (--job ID [--round N], --agreement ID, or --from T --to T)");
        if (round is not null && job is null)
            throw new CommandInputException("--round: only with --job");
        try
        {
            if (job is not null)
                return round is { } r ? AuditReportScope.ForRound(job, r) : AuditReportScope.ForJob(job);
            if (agreement is not null)
                return AuditReportScope.ForAgreement(agreement);
            if (from is null || to is null)
                throw new CommandInputException($"{(from is null ? "--from" : "--to")}: a period needs both --from and --to");
            return AuditReportScope.ForPeriod(Time(from, "--from"), Time(to, "--to"));
        }
        catch (ArgumentOutOfRangeException e) when (e.ParamName == "round")
        {
            throw new CommandInputException($"--round: {round} is not a round (1 or more)");
        }
        catch (ArgumentException e)
        {
            string option = e.ParamName switch { "job" => "--job", "agreement" => "--agreement", "from" => "--from", _ => "--to" };
            throw new CommandInputException($"{option}: {StripParameter(e.Message)}");
        }
    }

    private static string Option(AuditReportScope scope) => scope.Kind switch
    {
        AuditReportScopeKind.Job => "--job",
        AuditReportScopeKind.Round => "--round",
        AuditReportScopeKind.Agreement => "--agreement",
        _ => "--from/--to",
    };

    private static DateTimeOffset Time(string text, string option) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new CommandInputException($"{option}: \"{text}\" is not a time (e.g. 2025-03-01T09:00:00Z)");

    private static string StripParameter(string message)
    {
        int at = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return at < 0 ? message : message[..at];
    }

    /// <summary>The log's entries, and its latest head that every country with a witness key co-signed (else its latest head).</summary>
    private static async Task<(List<byte[]> Entries, SignedTreeHead Head, bool EveryWitness)> ReadLogAsync(DirectoryInfo data, CancellationToken cancellationToken)
    {
        if (!data.Exists)
            throw new CommandInputException($"--data: the directory {data.FullName} does not exist");
        string database = Path.Combine(data.FullName, AuditCommand.ClusterDatabase);
        if (!File.Exists(database))
            throw new CommandInputException($"--data: {data.FullName} holds no audit log: there is no {AuditCommand.ClusterDatabase}");
        // As export reads it: one snapshot, changing nothing in the data directory.
        var (headRows, keys, entries) = await AuditCommand.ReadStoreAsync(database, cancellationToken);
        var heads = new List<SignedTreeHead>();
        foreach (var json in headRows)
        {
            try
            {
                heads.Add(SignedTreeHead.Read(json, "stored head"));
            }
            catch (AuditFormatException e)
            {
                throw new CommandInputException($"--data: a head stored in {database} cannot be read: {e.Message}");
            }
        }
        if (heads.Count == 0)
            throw new CommandInputException($"--data: the audit log in {database} has no signed tree head yet: nothing in it is signed");
        var witnesses = keys.Keys.ToList();
        var full = heads.Where(h => h.Head.Size <= entries.Count && witnesses.All(h.Cosignatures.ContainsKey)).ToList();
        var head = full.Count > 0 ? full[^1] : heads.Where(h => h.Head.Size <= entries.Count).LastOrDefault()
            ?? throw new CommandInputException($"--data: every head in {database} covers more entries than are stored");
        return (entries, head, full.Count > 0);
    }

    private static List<byte[]> SplitLines(byte[] bytes)
    {
        var lines = new List<byte[]>();
        int start = 0;
        for (int i = 0; i < bytes.Length; i++)
            if (bytes[i] == (byte)'\n')
            {
                lines.Add(bytes[start..i]);
                start = i + 1;
            }
        return lines;
    }
}
