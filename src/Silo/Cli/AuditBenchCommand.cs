using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FedCore.Audit.Entries;
using FedCore.Jobs;
using Federation.Contracts.Audit;
using Federation.Silo.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Cli;

/// <summary>
/// `federation bench audit`: appends batches of policy-decision entries to the audit log of an embedded federation (the
/// sample's members, so every member country's witness co-signs) and prints the append rate and the time to a co-signed
/// head. With <c>--trace</c> it also prints one line per batch once the log has stored it, which the crash drill reads.
/// </summary>
public static class AuditBenchCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var data = EmbeddedCommand.DataOption();
        var federation = new Option<FileInfo>("--federation")
        {
            Description = "The federation manifest whose members are set up first (their countries' silos co-sign the heads).",
            DefaultValueFactory = _ => new FileInfo(Path.Combine("samples", "fed-heart-disease", "federation.json")),
        };
        var batches = new Option<int>("--batches") { Description = "Batches appended.", DefaultValueFactory = _ => 200 };
        var batchSize = new Option<int>("--batch-size") { Description = "Entries per batch.", DefaultValueFactory = _ => 5 };
        var trace = new Option<bool>("--trace") { Description = "Print each batch as the log acknowledges it: position, count and SHA-256 of its entries." };
        var command = new Command("audit", "The audit log: appends per second and the time to a head co-signed by every member country.")
        {
            data, federation, batches, batchSize, trace,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            int batchCount = parse.GetValue(batches), size = parse.GetValue(batchSize);
            if (batchCount < 1 || size < 1)
            {
                await error.WriteLineAsync("error: --batches and --batch-size must be at least 1.");
                return 2;
            }
            FederationManifest manifest;
            try
            {
                manifest = FederationManifest.Load(parse.GetValue(federation)!.FullName);
            }
            catch (JobFileException e)
            {
                await error.WriteLineAsync($"error: --federation: {e.Message}");
                return 2;
            }
            await using var local = await LocalFederation.StartAsync(new LocalFederationOptions
            {
                Countries = [.. manifest.Participants.Select(p => p.Id[..2]).Distinct()],
                DataDirectory = parse.GetValue(data)!.FullName,
                ResumeUnfinishedJobs = false,
                ConfigureLogging = logging => ConsoleLogging.Configure(logging, LogLevel.Error),
            }, cancellation);
            await Governance.FederationSetup.EnsureAsync(local.Grains, local.Operator!, local.Approvers!, manifest, cancellation);
            var log = local.Grains.GetGrain<IAuditLogGrain>(0);
            bool traced = parse.GetValue(trace);
            var appendMilliseconds = new List<double>(batchCount);
            var total = Stopwatch.StartNew();
            for (int b = 0; b < batchCount; b++)
            {
                var entries = Enumerable.Range(0, size).Select(i => AuditEntryJson.Write(Decision(b, i))).ToList();
                var watch = Stopwatch.StartNew();
                long first = await log.Append(entries);
                appendMilliseconds.Add(watch.Elapsed.TotalMilliseconds);
                if (traced)
                {
                    await output.WriteLineAsync(new JsonObject
                    {
                        ["batch"] = b, ["first"] = first, ["count"] = size, ["sha256"] = Convert.ToHexStringLower(SHA256.HashData([.. entries.SelectMany(e => e)])),
                    }.ToJsonString());
                    await output.FlushAsync(cancellation);
                }
            }
            double appendSeconds = total.Elapsed.TotalSeconds;
            var headWatch = Stopwatch.StartNew();
            var head = await log.PublishHead();
            appendMilliseconds.Sort();
            await output.WriteLineAsync(new JsonObject
            {
                ["entries"] = (long)batchCount * size,
                ["batchSize"] = size,
                ["batchesPerSecond"] = Math.Round(batchCount / appendSeconds, 1),
                ["entriesPerSecond"] = Math.Round(batchCount * size / appendSeconds, 1),
                ["medianAppendMilliseconds"] = Math.Round(appendMilliseconds[appendMilliseconds.Count / 2], 2),
                ["p95AppendMilliseconds"] = Math.Round(appendMilliseconds[(int)(appendMilliseconds.Count * 0.95)], 2),
                ["headSeconds"] = Math.Round(headWatch.Elapsed.TotalSeconds, 3),
                ["logSize"] = head.Size,
                ["cosignedBy"] = new JsonArray([.. head.CosignedBy.Select(c => (JsonNode)c)]),
            }.ToJsonString());
            return 0;
        });
        return command;
    }

    // A decision of realistic size: two reasons and two rules, as a round attempt's decision has.
    private static AuditEntry Decision(int batch, int index) => AuditEvents.PolicyDecided(
        DateTimeOffset.UtcNow, AuditActor.Federation, "US", DecisionSubject.RoundAttempt, "US/bench-job", DecisionEffect.Allow,
        AuditDigest.Hash(BitConverter.GetBytes(batch)), AuditDigest.Hash(BitConverter.GetBytes(((long)batch << 32) | (uint)index)),
        ["federation.min-participants: 4 participants take part, at least 3 are required",
         "gdpr-chapter-v.art-46: HU to US under eu-scc-2021 with a transfer impact assessment"],
        ["federation.min-participants", "gdpr-chapter-v.art-46"], round: batch + 1, attempt: 1);
}
