using System.Text.Json.Nodes;
using FedCore.Audit.Entries;
using FedCore.Audit.Reports;
using FedCore.Governance.Agreements;
using Federation.Contracts.Audit;
using Federation.Silo.Cli;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Cli;

/// <summary>
/// `audit report` and `audit report-verify` over the log a real federation stored (entries appended through the log grain,
/// heads co-signed by the US, HU and CH witnesses), read after the federation stopped.
/// </summary>
public sealed class AuditReportCommandTests : IAsyncLifetime
{
    private const string Job = "US/cli-report-job";
    private readonly TempDirectory _dir = new("federation-audit-report");
    private string _out = null!;
    private byte[] _operatorKey = null!;
    private Dictionary<string, byte[]> _countryKeys = null!;

    public async Task InitializeAsync()
    {
        _out = Path.Combine(_dir.Path, "out");
        Directory.CreateDirectory(_out);
        string data = Path.Combine(_dir.Path, "data");
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(data, "US", "HU", "CH"));
        await TestFederations.SetUpSampleAsync(federation);
        var log = federation.Grains.GetGrain<IAuditLogGrain>(0);
        await log.Append([.. Entries().Select(AuditEntryJson.Write)]);
        await log.PublishHead();
        _operatorKey = federation.Operator!.PublicKey;
        _countryKeys = (await Task.WhenAll(new[] { "CH", "HU", "US" }.Select(async c =>
            (c, await federation.Grains.GetGrain<IAuditWitnessGrain>(AuditWitnessKey.Format(c)).GetPublicKey())))).ToDictionary(x => x.c, x => x.Item2);
        Data = data;
    }

    private string Data { get; set; } = "";

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    private static IEnumerable<AuditEntry> Entries()
    {
        // Dated now (to the millisecond): the log refuses entries far from its clock.
        var t = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var silo = AuditActor.Silo("US");
        string[] parties = ["CH/zurich", "HU/budapest", "US/boston"];
        yield return AuditEvents.JobStarted(t, silo, "US", Job, "cli-agreement", AuditDigest.Hash([1]), parties, ProtectionScheme.Ckks, rounds: 2, updateBound: 4);
        for (int round = 1; round <= 2; round++)
        {
            yield return AuditEvents.RoundStarted(t.AddMinutes(round), silo, "US", Job, round, parties);
            yield return AuditEvents.ModelVersion(t.AddMinutes(round), silo, "US", Job, round, round, AuditDigest.Hash([(byte)(10 + round)]));
            yield return AuditEvents.RoundFinished(t.AddMinutes(round), silo, "US", Job, round, RoundOutcome.Completed, version: round,
                participants: parties, accuracy: 0.7 + 0.05 * round, loss: 0.6 - 0.1 * round, seconds: 12.5);
        }
        yield return AuditEvents.JobFinished(t.AddMinutes(3), silo, "US", Job, JobOutcome.Completed, 2);
    }

    // Through the real command line: `federation audit report …`, `federation audit report-verify …`.
    private static async Task<CliResult> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await FederationCommandLine.RunAsync(["audit", .. args], output, error);
        return new CliResult(args, exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task A_job_report_is_written_in_each_format_and_the_json_one_verifies_with_the_keys()
    {
        foreach (var format in new[] { "json", "csv", "pdf" })
        {
            string file = Path.Combine(_out, "report." + format);
            var result = (await RunAsync("report", "--data", Data, "--job", Job, "--format", format, "--out", file)).Succeeded();
            Assert.InRange(result.Json["entries"]!.GetValue<int>(), 8, 40); // the job's 8 entries and the context the sample set-up logged (admissions, …)
            Assert.True(result.Json["head"]!["everyWitness"]!.GetValue<bool>());
            Assert.True(new FileInfo(file).Length > 0);
        }
        byte[] json = File.ReadAllBytes(Path.Combine(_out, "report.json"));
        var verification = AuditReportVerifier.Verify(json, _operatorKey, _countryKeys);
        Assert.True(verification.Ok, verification.Problem);
        Assert.StartsWith("%PDF-", File.ReadAllText(Path.Combine(_out, "report.pdf"))[..5]);
        Assert.StartsWith("index,time,kind,", File.ReadAllText(Path.Combine(_out, "report.csv")));

        string operatorFile = Path.Combine(_out, "operator.pub");
        File.WriteAllBytes(operatorFile, _operatorKey);
        var keyArgs = new List<string> { "report-verify", Path.Combine(_out, "report.json"), "--operator-key", operatorFile };
        foreach (var (country, key) in _countryKeys)
        {
            string path = Path.Combine(_out, country + ".pub");
            File.WriteAllBytes(path, key);
            keyArgs.AddRange(["--country-key", $"{country}={path}"]);
        }
        var verified = (await RunAsync([.. keyArgs])).Succeeded();
        Assert.True(verified.Json["valid"]!.GetValue<bool>());

        // A changed number is refused with exit 1, naming it.
        var node = JsonNode.Parse(json)!;
        var rounds = node["sections"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == "rounds")!;
        rounds["tables"]![0]!["rows"]![1]!["cells"]![5] = "0.99";
        File.WriteAllBytes(Path.Combine(_out, "report.json"), FedCore.Governance.Canonical.CanonicalJson.WriteIndented(node));
        var refused = await RunAsync([.. keyArgs]);
        Assert.Equal(AuditReportCommand.Refused, refused.Exit);
        Assert.Contains("column \"Accuracy\"", refused.Error);
    }

    [Fact]
    public async Task Bad_input_exits_2_naming_the_option()
    {
        string file = Path.Combine(_out, "x.json");
        (await RunAsync("report", "--data", Data, "--format", "json", "--out", file)).Refused("--job");
        (await RunAsync("report", "--data", Data, "--job", Job, "--agreement", "a", "--format", "json", "--out", file)).Refused("--agreement");
        (await RunAsync("report", "--data", Data, "--job", Job, "--format", "xml", "--out", file)).Refused("xml");
        (await RunAsync("report", "--data", Data, "--round", "2", "--format", "json", "--out", file)).Refused("--round");
        (await RunAsync("report", "--data", Data, "--from", "2025-03-01T00:00:00Z", "--format", "json", "--out", file)).Refused("--to");
        (await RunAsync("report", "--data", Data, "--from", "yesterday", "--to", "2025-03-01T00:00:00Z", "--format", "json", "--out", file)).Refused("--from");
        (await RunAsync("report", "--data", Data, "--job", "no/such job", "--format", "json", "--out", file)).Refused("--job");
        (await RunAsync("report", "--data", Data, "--job", "US/unknown", "--format", "json", "--out", file)).Refused("--job", "no entry");
        (await RunAsync("report", "--data", Path.Combine(_dir.Path, "nowhere"), "--job", Job, "--format", "json", "--out", file)).Refused("--data");
        (await RunAsync("report", "--data", Data, "--job", Job, "--format", "json", "--out", _out)).Refused("--out");
        Assert.False(File.Exists(file));
        (await RunAsync("report-verify", file, "--operator-key", file)).Refused("FILE");
    }
}
