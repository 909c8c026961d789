using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using FedCore.Crypto.Benchmarks;
using FedCore.Jobs;
using Federation.Contracts.Jobs;
using Federation.Silo.Governance;
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
        var warmUp = new Option<int>("--warm-up") { Description = "Rounds run first in each job and not counted (JIT, caches).", DefaultValueFactory = _ => 3 };
        var repeat = new Option<int>("--repeat") { Description = "Pairs of jobs (one per mode, alternating which goes first).", DefaultValueFactory = _ => 3 };
        var epochs = new Option<int?>("--epochs") { Description = "Local epochs per round instead of the job file's (more local work, same encryption work)." };
        var round = new Command("round", "Wall time of sample-federation rounds with an MLP, encrypted (ckks) against the plaintext simulation.") { config, hidden, rounds, warmUp, repeat, epochs };
        round.SetAction((parse, cancellation) => RoundOverheadAsync(
            parse.GetValue(config)!, parse.GetValue(hidden)!, parse.GetValue(rounds), parse.GetValue(warmUp), parse.GetValue(repeat), parse.GetValue(epochs),
            output, error, cancellation));
        bench.Subcommands.Add(round);
        return bench;
    }

    private static async Task<int> RoundOverheadAsync(FileInfo config, string hidden, int rounds, int warmUp, int repeat, int? epochs,
        TextWriter output, TextWriter error, CancellationToken cancellation)
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
        if (rounds < 1 || warmUp < 1 || repeat < 1 || epochs < 1)
        {
            await error.WriteLineAsync("error: --rounds, --warm-up, --repeat and --epochs must be at least 1 (the CPU time of a round is measured from the round before it).");
            return 2;
        }
        if (epochs is { } localEpochs)
            job = job with { Training = job.Training with { Epochs = localEpochs } };
        await WarnIfDebugAsync(error);

        var inputs = FedCore.Data.DatasetSchema.Load(job.Federation.Participants[0].Datasets.First(d => d.Name == job.DatasetName).SchemaPath).FeatureNames.Count;
        var model = new JsonObject { ["type"] = "mlp", ["inputs"] = inputs, ["hidden"] = new JsonArray(widths.Select(w => (JsonNode)w).ToArray()), ["classes"] = 2 }.ToJsonString();
        var data = Directory.CreateTempSubdirectory("federation-bench-round");
        try
        {
            await using var federation = await LocalFederation.StartAsync(new LocalFederationOptions
            {
                AllowSimulation = true, // the benchmark's baseline
                Countries = JobSpecifications.CountriesOf(job),
                DataDirectory = data.FullName,
                ConfigureLogging = logging => ConsoleLogging.Configure(logging, LogLevel.Error),
                ResumeUnfinishedJobs = false,
            }, cancellation);
            await FederationSetup.EnsureAsync(federation.Grains, federation.Operator!, job.Federation, cancellation);

            // Jobs of the two modes alternate, in swapped order from one repetition to the next, so that drift on a busy
            // machine (heap growth, other load) weighs on both alike.
            var roundSeconds = new Dictionary<string, List<double>> { ["plaintext-simulation"] = [], ["ckks"] = [] };
            var cpuSeconds = new Dictionary<string, double> { ["plaintext-simulation"] = 0, ["ckks"] = 0 };
            var overheadPerRepetition = new JsonArray();
            for (int repetition = 1; repetition <= repeat; repetition++)
            {
                var means = new Dictionary<string, double>();
                string[] order = repetition % 2 == 1 ? ["plaintext-simulation", "ckks"] : ["ckks", "plaintext-simulation"];
                foreach (var scheme in order)
                {
                    var id = $"bench-round-{scheme}-{repetition}";
                    var spec = JobSpecifications.From(job with { ModelJson = model, Rounds = warmUp + rounds, Protection = scheme }, id);
                    var grain = federation.Grains.GetGrain<ITrainingJobGrain>(id);
                    var clock = Stopwatch.StartNew();
                    // Process CPU time when each round is seen complete: CPU per round shows whether a round is compute-bound.
                    // Page faults too: on a virtual machine a first touch of fresh memory can cost more than the work on it.
                    var cpuAtRound = new List<TimeSpan>();
                    var faultsAtRound = new List<long>();
                    var status = await JobProgress.WaitAsync(grain, await grain.Start(spec), _ =>
                    {
                        cpuAtRound.Add(Process.GetCurrentProcess().TotalProcessorTime);
                        faultsAtRound.Add(MinorPageFaults());
                        return Task.CompletedTask;
                    }, TimeSpan.FromMilliseconds(20), cancellation);
                    if (status.Phase != JobPhase.Completed)
                    {
                        await error.WriteLineAsync($"error: {scheme} job failed: {status.Error}");
                        return 1;
                    }
                    var counted = status.Rounds.Skip(warmUp).ToList();
                    means[scheme] = counted.Average(r => r.Seconds);
                    roundSeconds[scheme].AddRange(counted.Select(r => r.Seconds));
                    var last = status.Rounds[^1];
                    var cpuPerRound = (cpuAtRound[^1] - cpuAtRound[warmUp - 1]).TotalSeconds / counted.Count;
                    cpuSeconds[scheme] += cpuPerRound * counted.Count;
                    await output.WriteLineAsync(new JsonObject
                    {
                        ["benchmark"] = "round",
                        ["protection"] = scheme,
                        ["repetition"] = repetition,
                        ["modelParameters"] = FedCore.Learning.ParameterLayout.For(FedCore.Learning.ModelSpec.Parse(model, "bench")).TotalLength,
                        ["participants"] = last.Participants.Count,
                        ["localEpochs"] = job.Training.Epochs,
                        ["roundsCounted"] = counted.Count,
                        ["meanRoundSeconds"] = Math.Round(means[scheme], 4),
                        ["medianRoundSeconds"] = Math.Round(Median(counted.Select(r => r.Seconds)), 4),
                        ["cpuSecondsPerRound"] = Math.Round(cpuPerRound, 4),
                        ["minorPageFaultsPerRound"] = faultsAtRound[^1] < 0 ? null : (faultsAtRound[^1] - faultsAtRound[warmUp - 1]) / counted.Count,
                        ["cores"] = Environment.ProcessorCount,
                        ["meanPhaseSeconds"] = new JsonObject(counted.SelectMany(r => r.Phases).Select(p => p.Phase).Distinct().Select(phase => KeyValuePair.Create(phase,
                            (JsonNode?)Math.Round(counted.Average(r => r.Phases.Where(q => q.Phase == phase).Sum(q => q.Seconds)), 4)))),
                        ["meanSealSecondsPerParticipant"] = Math.Round(counted.Average(r => r.Participants.Average(p => p.SealSeconds)), 4),
                        ["meanTrainSecondsPerParticipant"] = Math.Round(counted.Average(r => r.Participants.Average(p => p.TrainSeconds)), 4),
                        ["updateBytesPerParticipant"] = last.Participants[0].UpdateBytes,
                        ["meanLocalTestAccuracy"] = Math.Round(last.MeanLocalTestAccuracy, 4),
                        ["wallSeconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2),
                    }.ToJsonString());
                }
                overheadPerRepetition.Add(Math.Round(100 * (means["ckks"] / means["plaintext-simulation"] - 1), 1));
            }
            double Overhead(Func<List<double>, double> statistic) =>
                Math.Round(100 * (statistic(roundSeconds["ckks"]) / statistic(roundSeconds["plaintext-simulation"]) - 1), 1);
            await output.WriteLineAsync(new JsonObject
            {
                ["benchmark"] = "round-overhead",
                ["encryptionOverheadPercent"] = Overhead(s => s.Average()),
                ["encryptionOverheadPercentOfMedians"] = Overhead(s => Median(s)),
                ["overheadPercentPerRepetition"] = overheadPerRepetition,
                // When the plaintext rounds already keep every core busy, encryption cannot hide in idle time: the wall-time
                // overhead then cannot fall much below the CPU-time overhead, however the work is scheduled.
                ["cpuOverheadPercent"] = Math.Round(100 * (cpuSeconds["ckks"] / cpuSeconds["plaintext-simulation"] - 1), 1),
                ["plaintextCoreUtilisation"] = Math.Round(cpuSeconds["plaintext-simulation"] / (Environment.ProcessorCount * roundSeconds["plaintext-simulation"].Sum()), 3),
                ["plaintextMedianRoundSeconds"] = Math.Round(Median(roundSeconds["plaintext-simulation"]), 4),
                ["ckksMedianRoundSeconds"] = Math.Round(Median(roundSeconds["ckks"]), 4),
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

    /// <summary>Minor page faults of this process so far (field 10 of /proc/self/stat), or −1 where there is no such file.</summary>
    private static long MinorPageFaults()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            // The command name (field 2) may contain spaces; fields after it are counted from its closing parenthesis.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[7], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return -1;
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
