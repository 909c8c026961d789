using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using FedCore.Crypto.Benchmarks;
using FedCore.Jobs;
using Federation.Contracts.Jobs;
using Federation.Silo.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Cli;

/// <summary>
/// `federation bench he` (the CKKS figures, one JSON line per parameter set) and `federation bench round`
/// (the wall time a real encrypted round adds over the plaintext simulation). Benchmarks print figures;
/// nothing here asserts a time. Build in Release for meaningful numbers.
/// </summary>
public static class BenchCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var bench = new Command("bench", "Benchmarks that print figures as JSON lines (use a Release build).");

        var participants = new Option<int>("--participants") { Description = "Participants in the scenario.", DefaultValueFactory = _ => 10 };
        var parameters = new Option<int>("--parameters") { Description = "Model parameters per update.", DefaultValueFactory = _ => 1_000_000 };
        var runs = new Option<int>("--runs") { Description = "Scenario repetitions (best and median are reported).", DefaultValueFactory = _ => 3 };
        var he = new Command("he", "CKKS: per-ciphertext timings, wire size, and a whole encrypted FedAvg scenario on one core.") { participants, parameters, runs };
        he.SetAction(async (parse, _) =>
        {
            var options = new HeBenchmarkOptions
            {
                Participants = parse.GetValue(participants),
                ModelParameters = parse.GetValue(parameters),
                ScenarioRuns = parse.GetValue(runs),
            };
            await WarnIfDebugAsync(error);
            foreach (var result in HeBenchmark.RunStandardSets(options))
            {
                HeBenchmark.WriteJsonLines(output, [result]);
                await output.FlushAsync();
            }
            return 0;
        });
        bench.Subcommands.Add(he);

        var config = new Option<FileInfo>("--config")
        {
            Description = "Job file whose federation and training settings are used.",
            DefaultValueFactory = _ => new FileInfo(Path.Combine("samples", "fed-heart-disease", "job.json")),
        };
        var hidden = new Option<string>("--hidden") { Description = "Hidden widths of the MLP (about 10^6 parameters by default).", DefaultValueFactory = _ => "1000,985" };
        var rounds = new Option<int>("--rounds") { Description = "Rounds counted per mode.", DefaultValueFactory = _ => 6 };
        var warmUp = new Option<int>("--warm-up") { Description = "Rounds run first in each mode and not counted (JIT, caches).", DefaultValueFactory = _ => 3 };
        var round = new Command("round", "Wall time of sample-federation rounds with an MLP, encrypted (ckks) against the plaintext simulation.") { config, hidden, rounds, warmUp };
        round.SetAction((parse, cancellation) => RoundOverheadAsync(
            parse.GetValue(config)!, parse.GetValue(hidden)!, parse.GetValue(rounds), parse.GetValue(warmUp), output, error, cancellation));
        bench.Subcommands.Add(round);
        return bench;
    }

    private static async Task<int> RoundOverheadAsync(FileInfo config, string hidden, int rounds, int warmUp, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        JobDefinition job;
        int[] widths;
        try
        {
            job = JobDefinition.Load(config.FullName);
            widths = hidden.Split(',').Select(w => int.Parse(w.Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception e) when (e is JobFileException or FormatException)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return 2;
        }
        if (rounds < 1 || warmUp < 1)
        {
            await error.WriteLineAsync("error: --rounds and --warm-up must be at least 1 (the CPU time of a round is measured from the round before it).");
            return 2;
        }
        await WarnIfDebugAsync(error);

        var inputs = FedCore.Data.DatasetSchema.Load(job.Federation.Participants[0].Datasets.First(d => d.Name == job.DatasetName).SchemaPath).FeatureNames.Count;
        var model = new JsonObject { ["type"] = "mlp", ["inputs"] = inputs, ["hidden"] = new JsonArray(widths.Select(w => (JsonNode)w).ToArray()), ["classes"] = 2 }.ToJsonString();
        var data = Directory.CreateTempSubdirectory("federation-bench-round");
        try
        {
            await using var federation = await LocalFederation.StartAsync(new LocalFederationOptions
            {
                Countries = JobSpecifications.CountriesOf(job),
                DataDirectory = data.FullName,
                ConfigureLogging = logging => ConsoleLogging.Configure(logging, LogLevel.Error),
                ResumeUnfinishedJobs = false,
            }, cancellation);
            await FederationEnrolment.EnrolAsync(federation.Grains, job.Federation, job.ParticipantIds, cancellation);

            var seconds = new Dictionary<string, double>();
            foreach (var scheme in new[] { "plaintext-simulation", "ckks" })
            {
                var id = $"bench-round-{scheme}";
                var spec = JobSpecifications.From(job with { ModelJson = model, Rounds = warmUp + rounds, Protection = scheme }, id);
                var grain = federation.Grains.GetGrain<ITrainingJobGrain>(id);
                var clock = Stopwatch.StartNew();
                // Process CPU time when each round is seen complete: CPU per round shows whether a round is compute-bound.
                var cpuAtRound = new List<TimeSpan>();
                var status = await JobProgress.WaitAsync(grain, await grain.Start(spec), _ =>
                {
                    cpuAtRound.Add(Process.GetCurrentProcess().TotalProcessorTime);
                    return Task.CompletedTask;
                }, TimeSpan.FromMilliseconds(20), cancellation);
                if (status.Phase != JobPhase.Completed)
                {
                    await error.WriteLineAsync($"error: {scheme} job failed: {status.Error}");
                    return 1;
                }
                var counted = status.Rounds.Skip(warmUp).ToList();
                seconds[scheme] = counted.Average(r => r.Seconds);
                var last = status.Rounds[^1];
                await output.WriteLineAsync(new JsonObject
                {
                    ["benchmark"] = "round",
                    ["protection"] = scheme,
                    ["modelParameters"] = FedCore.Learning.ParameterLayout.For(FedCore.Learning.ModelSpec.Parse(model, "bench")).TotalLength,
                    ["participants"] = last.Participants.Count,
                    ["roundsCounted"] = counted.Count,
                    ["meanRoundSeconds"] = Math.Round(seconds[scheme], 4),
                    ["cpuSecondsPerRound"] = Math.Round((cpuAtRound[^1] - cpuAtRound[warmUp - 1]).TotalSeconds / counted.Count, 4),
                    ["cores"] = Environment.ProcessorCount,
                    ["medianRoundSeconds"] = Math.Round(Median(counted.Select(r => r.Seconds)), 4),
                    ["meanPhaseSeconds"] = new JsonObject(counted[0].Phases.Select(p => KeyValuePair.Create(p.Phase,
                        (JsonNode?)Math.Round(counted.Average(r => r.Phases.First(q => q.Phase == p.Phase).Seconds), 4)))),
                    ["meanSealSecondsPerParticipant"] = Math.Round(counted.Average(r => r.Participants.Average(p => p.SealSeconds)), 4),
                    ["meanTrainSecondsPerParticipant"] = Math.Round(counted.Average(r => r.Participants.Average(p => p.TrainSeconds)), 4),
                    ["updateBytesPerParticipant"] = last.Participants[0].UpdateBytes,
                    ["meanLocalTestAccuracy"] = Math.Round(last.MeanLocalTestAccuracy, 4),
                    ["wallSeconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2),
                }.ToJsonString());
            }
            await output.WriteLineAsync(new JsonObject
            {
                ["benchmark"] = "round-overhead",
                ["encryptionOverheadPercent"] = Math.Round(100 * (seconds["ckks"] / seconds["plaintext-simulation"] - 1), 1),
            }.ToJsonString());
            return 0;
        }
        finally
        {
            try
            {
                data.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static async Task WarnIfDebugAsync(TextWriter error)
    {
        var debuggable = typeof(BenchCommand).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false).OfType<DebuggableAttribute>().FirstOrDefault();
        if (debuggable?.IsJITOptimizerDisabled == true)
            await error.WriteLineAsync("warning: this is a Debug build; run `dotnet run -c Release --project src/Silo -- bench …` for figures worth quoting.");
    }
}
