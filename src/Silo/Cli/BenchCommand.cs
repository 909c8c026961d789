using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using FedCore.Crypto.Benchmarks;
using FedCore.Jobs;
using FedCore.Rounds.Benchmarks;
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
        var repeat = new Option<int>("--repeat") { Description = "Pairs of jobs (one per mode, alternating which goes first); sample federation only.", DefaultValueFactory = _ => 3 };
        var epochs = new Option<int?>("--epochs") { Description = "Local epochs per round instead of the job file's (more local work, same encryption work)." };
        var sizes = new Option<string?>("--participants")
        {
            Description = "Instead of the job file's federation: simulated federations of these sizes (e.g. 10,50,100), spread over US, HU and CH silos, one ckks and one plaintext job each; one JSON line per size.",
        };
        var round = new Command("round", "Wall time of rounds with an MLP, encrypted (ckks) against the plaintext simulation: the sample federation, or simulated ones of N participants.")
        {
            config, hidden, rounds, warmUp, repeat, epochs, sizes,
        };
        round.SetAction((parse, cancellation) => RoundAsync(
            parse.GetValue(config)!, parse.GetValue(hidden)!, parse.GetValue(rounds), parse.GetValue(warmUp), parse.GetValue(repeat), parse.GetValue(epochs),
            parse.GetValue(sizes), output, error, cancellation));
        bench.Subcommands.Add(round);

        var protocolParticipants = new Option<int>("--participants") { Description = "Participants in the round.", DefaultValueFactory = _ => 10 };
        var protocolHidden = new Option<string>("--hidden") { Description = "Hidden widths of the MLP (about 10^6 parameters by default).", DefaultValueFactory = _ => "1000,985" };
        var protocolRounds = new Option<int>("--rounds") { Description = "Rounds counted.", DefaultValueFactory = _ => 2 };
        var protocolWarmUp = new Option<int>("--warm-up") { Description = "Rounds played first and not counted.", DefaultValueFactory = _ => 1 };
        var protocol = new Command("protocol", "CPU seconds of each step of the round protocol, every party on one thread: no silos, training or storage.")
        {
            protocolParticipants, protocolHidden, protocolRounds, protocolWarmUp,
        };
        protocol.SetAction(async (parse, _) =>
        {
            int[] widths;
            try
            {
                widths = Integers("--hidden", parse.GetValue(protocolHidden)!);
            }
            catch (FormatException e)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return 2;
            }
            if (widths.Any(w => w < 1) || parse.GetValue(protocolParticipants) < FedCore.Rounds.RoundTerms.AbsoluteMinimum
                || parse.GetValue(protocolRounds) < 1 || parse.GetValue(protocolWarmUp) < 0)
            {
                await error.WriteLineAsync($"error: --hidden widths must be positive, --participants at least {FedCore.Rounds.RoundTerms.AbsoluteMinimum}, --rounds at least 1 and --warm-up not negative.");
                return 2;
            }
            await WarnIfDebugAsync(error);
            var result = ProtocolBenchmark.Run(new ProtocolBenchmarkOptions
            {
                Participants = parse.GetValue(protocolParticipants),
                Hidden = widths,
                Rounds = parse.GetValue(protocolRounds),
                WarmUpRounds = parse.GetValue(protocolWarmUp),
            }, ThreadCpuClock.Now);
            await output.WriteLineAsync(ProtocolBenchmark.ToJsonLine(result));
            return 0;
        });
        bench.Subcommands.Add(protocol);
        bench.Subcommands.Add(AuditBenchCommand.Create(output, error));
        return bench;
    }

    private static async Task<int> RoundAsync(FileInfo config, string hidden, int rounds, int warmUp, int repeat, int? epochs, string? sizes,
        TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        JobDefinition job;
        int[] widths;
        int[]? participants;
        try
        {
            job = JobDefinition.Load(config.FullName);
            _ = AgreementTerms(job);
            widths = Integers("--hidden", hidden);
            participants = sizes is null ? null : Integers("--participants", sizes);
        }
        catch (Exception e) when (e is JobFileException or FormatException or System.Text.Json.JsonException)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return 2;
        }
        if (rounds < 1 || warmUp < 1 || repeat < 1 || epochs < 1)
        {
            await error.WriteLineAsync("error: --rounds, --warm-up, --repeat and --epochs must be at least 1 (the CPU time of a round is measured from the round before it).");
            return 2;
        }
        if (participants?.Any(n => n < FedCore.Rounds.RoundTerms.AbsoluteMinimum) == true)
        {
            await error.WriteLineAsync($"error: --participants: every size must be at least {FedCore.Rounds.RoundTerms.AbsoluteMinimum} (the fewest a round may have).");
            return 2;
        }
        if (epochs is { } localEpochs)
            job = job with { Training = job.Training with { Epochs = localEpochs } };
        await WarnIfDebugAsync(error);

        var inputs = FedCore.Data.DatasetSchema.Load(job.Federation.Participants[0].Datasets.First(d => d.Name == job.DatasetName).SchemaPath).FeatureNames.Count;
        var model = new JsonObject { ["type"] = "mlp", ["inputs"] = inputs, ["hidden"] = new JsonArray(widths.Select(w => (JsonNode)w).ToArray()), ["classes"] = 2 };
        job = job with { ModelJson = model.ToJsonString() };
        var settings = new RoundSettings(job, model, FedCore.Learning.ParameterLayout.For(FedCore.Learning.ModelSpec.Parse(job.ModelJson, "bench")).TotalLength, warmUp, rounds);
        return participants is null
            ? await OverheadAsync(settings, repeat, output, error, cancellation)
            : await ScaleAsync(settings, participants, output, error, cancellation);
    }

    private sealed record RoundSettings(JobDefinition Job, JsonObject Model, int Parameters, int WarmUp, int Rounds);

    /// <summary>The sample federation: pairs of jobs, one per mode, each job's figures, then the overhead of encryption.</summary>
    private static async Task<int> OverheadAsync(RoundSettings settings, int repeat, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        var data = Directory.CreateTempSubdirectory("federation-bench-round");
        try
        {
            await using var federation = await StartAsync(settings.Job, data.FullName, cancellation);

            // Jobs of the two modes alternate, in swapped order from one repetition to the next, so that drift on a busy
            // machine (heap growth, other load) weighs on both alike.
            var roundSeconds = new Dictionary<string, List<double>> { [Plaintext] = [], [Ckks] = [] };
            var cpuSeconds = new Dictionary<string, double> { [Plaintext] = 0, [Ckks] = 0 };
            var overheadPerRepetition = new JsonArray();
            for (int repetition = 1; repetition <= repeat; repetition++)
            {
                var means = new Dictionary<string, double>();
                string[] order = repetition % 2 == 1 ? [Plaintext, Ckks] : [Ckks, Plaintext];
                foreach (var scheme in order)
                {
                    var run = await RunJobAsync(federation, settings, scheme, $"bench-round-{scheme}-{repetition}", TimeSpan.FromMilliseconds(20), error, cancellation);
                    if (run is null)
                        return 1;
                    means[scheme] = run.MeanSeconds;
                    roundSeconds[scheme].AddRange(run.Counted.Select(r => r.Seconds));
                    cpuSeconds[scheme] += run.CpuSecondsPerRound * run.Counted.Count;
                    var last = run.Counted[^1];
                    await output.WriteLineAsync(new JsonObject
                    {
                        ["benchmark"] = "round",
                        ["protection"] = scheme,
                        ["repetition"] = repetition,
                        ["modelParameters"] = settings.Parameters,
                        ["participants"] = last.Participants.Count,
                        ["localEpochs"] = settings.Job.Training.Epochs,
                        ["roundsCounted"] = run.Counted.Count,
                        ["meanRoundSeconds"] = Math.Round(run.MeanSeconds, 4),
                        ["medianRoundSeconds"] = Math.Round(Median(run.Counted.Select(r => r.Seconds)), 4),
                        ["cpuSecondsPerRound"] = Math.Round(run.CpuSecondsPerRound, 4),
                        ["minorPageFaultsPerRound"] = run.MinorPageFaultsPerRound,
                        ["cores"] = Environment.ProcessorCount,
                        ["meanPhaseSeconds"] = run.MeanPhaseSeconds(),
                        ["meanSealSecondsPerParticipant"] = Math.Round(run.MeanPerParticipant(p => p.SealSeconds), 4),
                        ["meanTrainSecondsPerParticipant"] = Math.Round(run.MeanPerParticipant(p => p.TrainSeconds), 4),
                        ["meanCryptoCpuSecondsPerParticipant"] = Math.Round(run.MeanPerParticipant(p => p.CryptoCpuSeconds), 4),
                        ["meanAggregatorCpuSeconds"] = Math.Round(run.Counted.Average(r => r.AggregatorCpuSeconds), 4),
                        ["updateBytesPerParticipant"] = last.Participants[0].UpdateBytes,
                        ["meanLocalTestAccuracy"] = Math.Round(last.MeanLocalTestAccuracy, 4),
                        ["wallSeconds"] = Math.Round(run.WallSeconds, 2),
                    }.ToJsonString());
                }
                overheadPerRepetition.Add(Math.Round(100 * (means[Ckks] / means[Plaintext] - 1), 1));
            }
            double Overhead(Func<List<double>, double> statistic) =>
                Math.Round(100 * (statistic(roundSeconds[Ckks]) / statistic(roundSeconds[Plaintext]) - 1), 1);
            await output.WriteLineAsync(new JsonObject
            {
                ["benchmark"] = "round-overhead",
                ["encryptionOverheadPercent"] = Overhead(s => s.Average()),
                ["encryptionOverheadPercentOfMedians"] = Overhead(s => Median(s)),
                ["overheadPercentPerRepetition"] = overheadPerRepetition,
                // When the plaintext rounds already keep every core busy, encryption cannot hide in idle time: the wall-time
                // overhead then cannot fall much below the CPU-time overhead, however the work is scheduled.
                ["cpuOverheadPercent"] = Math.Round(100 * (cpuSeconds[Ckks] / cpuSeconds[Plaintext] - 1), 1),
                ["plaintextCoreUtilisation"] = Math.Round(cpuSeconds[Plaintext] / (Environment.ProcessorCount * roundSeconds[Plaintext].Sum()), 3),
                ["plaintextMedianRoundSeconds"] = Math.Round(Median(roundSeconds[Plaintext]), 4),
                ["ckksMedianRoundSeconds"] = Math.Round(Median(roundSeconds[Ckks]), 4),
            }.ToJsonString());
            return 0;
        }
        finally
        {
            Delete(data);
        }
    }

    /// <summary>
    /// Simulated federations of N participants (<see cref="SyntheticFederation"/>), a fresh cluster for each N: one ckks
    /// job, then one plaintext-simulation job, and one JSON line with the figures of the counted rounds.
    /// </summary>
    private static async Task<int> ScaleAsync(RoundSettings settings, IReadOnlyList<int> sizes, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        foreach (var n in sizes)
        {
            var directory = Directory.CreateTempSubdirectory($"federation-bench-round-{n}-");
            try
            {
                var synthetic = settings with { Job = SyntheticFederation.Create(settings.Job, AgreementTerms(settings.Job), n, Path.Combine(directory.FullName, "federation")) };
                // The previous N's heap is given back first, so that the peak below is this N's.
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                bool peakReset = ResetPeakWorkingSet();
                var clock = Stopwatch.StartNew();
                JobRun? ckks, plaintext;
                long peak;
                MemorySample heaviest;
                await using (var federation = await StartAsync(synthetic.Job, Path.Combine(directory.FullName, "silos"), cancellation))
                await using (var memory = new MemorySampler(TimeSpan.FromMilliseconds(100)))
                {
                    var poll = TimeSpan.FromMilliseconds(100);
                    ckks = await RunJobAsync(federation, synthetic, Ckks, $"bench-round-{n}-{Ckks}", poll, error, cancellation);
                    plaintext = ckks is null ? null : await RunJobAsync(federation, synthetic, Plaintext, $"bench-round-{n}-{Plaintext}", poll, error, cancellation);
                    peak = PeakWorkingSetBytes();
                    heaviest = memory.Heaviest;
                }
                if (ckks is null || plaintext is null)
                    return 1;
                double perMillionParameters = 1e6 / settings.Parameters;
                await output.WriteLineAsync(new JsonObject
                {
                    ["benchmark"] = "round-scale",
                    ["participants"] = n,
                    ["countries"] = new JsonArray(SyntheticFederation.Countries.Select(c => (JsonNode)c).ToArray()),
                    ["secondsPerRound"] = Math.Round(ckks.MeanSeconds, 3),
                    ["plaintextSecondsPerRound"] = Math.Round(plaintext.MeanSeconds, 3),
                    ["encryptionOverheadPercent"] = Math.Round(100 * (ckks.MeanSeconds / plaintext.MeanSeconds - 1), 1),
                    ["cryptoCpuSecondsPerParticipant"] = Math.Round(ckks.MeanPerParticipant(p => p.CryptoCpuSeconds) * perMillionParameters, 4),
                    ["aggregatorCpuSecondsPerParticipant"] = Math.Round(ckks.Counted.Average(r => r.AggregatorCpuSeconds / r.Participants.Count), 4),
                    ["bytesPerParticipant"] = (long)ckks.MeanPerParticipant(p => p.ProtocolBytes),
                    ["plaintextBytesPerParticipant"] = (long)plaintext.MeanPerParticipant(p => p.ProtocolBytes),
                    ["peakWorkingSetBytes"] = peak,
                    ["peakWorkingSetSince"] = peakReset ? "the start of this N" : "process start (the kernel's peak could not be reset)",
                    // The GC grows its heap into the memory it sees: a container's limit or DOTNET_GCHeapHardLimit, or all of it.
                    ["memoryAvailableToGcBytes"] = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
                    ["heaviestSample"] = heaviest.ToJson(),
                    ["modelParameters"] = settings.Parameters,
                    ["model"] = settings.Model.DeepClone(),
                    ["localEpochs"] = synthetic.Job.Training.Epochs,
                    ["warmUpRounds"] = settings.WarmUp,
                    ["roundsCounted"] = ckks.Counted.Count,
                    ["dropouts"] = ckks.Counted.Concat(plaintext.Counted).Sum(r => r.Dropouts.Count),
                    ["cpuSecondsPerRound"] = Math.Round(ckks.CpuSecondsPerRound, 3),
                    ["plaintextCpuSecondsPerRound"] = Math.Round(plaintext.CpuSecondsPerRound, 3),
                    ["meanPhaseSeconds"] = ckks.MeanPhaseSeconds(),
                    ["plaintextMeanPhaseSeconds"] = plaintext.MeanPhaseSeconds(),
                    ["meanTrainSecondsPerParticipant"] = Math.Round(ckks.MeanPerParticipant(p => p.TrainSeconds), 4),
                    ["meanSealSecondsPerParticipant"] = Math.Round(ckks.MeanPerParticipant(p => p.SealSeconds), 4),
                    ["cores"] = Environment.ProcessorCount,
                    ["wallSeconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
                }.ToJsonString());
                await output.FlushAsync(cancellation);
            }
            finally
            {
                Delete(directory);
            }
        }
        return 0;
    }

    private const string Ckks = "ckks";
    private const string Plaintext = "plaintext-simulation";

    /// <summary>
    /// A cluster with a silo for each of the job's countries, its federation set up as the embedded default does, and a
    /// plaintext-simulation twin of the job's agreement: the benchmark's baseline (the silos allow the simulation).
    /// </summary>
    private static async Task<LocalFederation> StartAsync(JobDefinition job, string dataDirectory, CancellationToken cancellation)
    {
        var federation = await LocalFederation.StartAsync(new LocalFederationOptions
        {
            AllowSimulation = true,
            Countries = JobSpecifications.CountriesOf(job),
            DataDirectory = dataDirectory,
            ConfigureLogging = logging => ConsoleLogging.Configure(logging, LogLevel.Error),
            ResumeUnfinishedJobs = false,
        }, cancellation);
        try
        {
            await FederationSetup.EnsureAsync(federation.Grains, federation.Operator!, federation.Approvers!, job.Federation, cancellation);
            await FederationSetup.EnsureAgreementAsync(federation.Grains, federation.Operator!, federation.Approvers!,
                FederationSetup.Variant(AgreementTerms(job), SimulationAgreement(job), Plaintext), $"the simulation twin of {job.Agreement}");
            return federation;
        }
        catch
        {
            await federation.DisposeAsync();
            throw;
        }
    }

    /// <summary>One job's counted rounds (after the warm-up), with the process's CPU time and minor page faults per counted round.</summary>
    private sealed record JobRun(IReadOnlyList<RoundSummary> Counted, double CpuSecondsPerRound, long? MinorPageFaultsPerRound, double WallSeconds)
    {
        public double MeanSeconds => Counted.Average(r => r.Seconds);

        public double MeanPerParticipant(Func<ParticipantRoundMetrics, double> figure) => Counted.SelectMany(r => r.Participants).Average(figure);

        public JsonObject MeanPhaseSeconds() =>
            new(Counted.SelectMany(r => r.Phases).Select(p => p.Phase).Distinct().Select(phase => KeyValuePair.Create(phase,
                (JsonNode?)Math.Round(Counted.Average(r => r.Phases.Where(q => q.Phase == phase).Sum(q => q.Seconds)), 4))));
    }

    private static string SimulationAgreement(JobDefinition job) => $"{job.Agreement}-simulation";

    /// <summary>The terms file of the job's agreement, among its federation's agreement files.</summary>
    private static byte[] AgreementTerms(JobDefinition job) =>
        job.Federation.AgreementFiles.Select(File.ReadAllBytes).FirstOrDefault(terms => JsonNode.Parse(terms)?["id"]?.GetValue<string>() == job.Agreement)
        ?? throw new JobFileException(job.FilePath, "$.agreement", $"none of the agreement files of federation '{job.Federation.Name}' has the id '{job.Agreement}'");

    /// <summary>
    /// Runs a job of the settings' rounds under <paramref name="scheme"/> (the simulation under the agreement's twin), with
    /// the aggregator's country before <paramref name="name"/> as its id; null (with the reason on standard error) if it failed.
    /// </summary>
    private static async Task<JobRun?> RunJobAsync(LocalFederation federation, RoundSettings settings, string scheme, string name, TimeSpan poll,
        TextWriter error, CancellationToken cancellation)
    {
        var job = settings.Job;
        var id = $"{job.AggregatorCountry}/{name}";
        var spec = JobSpecifications.From(job with
        {
            Rounds = settings.WarmUp + settings.Rounds,
            Protection = scheme,
            Agreement = scheme == Plaintext ? SimulationAgreement(job) : job.Agreement,
        }, id);
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
        }, poll, cancellation);
        if (status.Phase != JobPhase.Completed)
        {
            await error.WriteLineAsync($"error: {scheme} job {id} failed: {status.Error}");
            return null;
        }
        int warmUp = settings.WarmUp;
        var counted = status.Rounds.Skip(warmUp).ToList();
        return new JobRun(
            counted,
            (cpuAtRound[^1] - cpuAtRound[warmUp - 1]).TotalSeconds / counted.Count,
            faultsAtRound[^1] < 0 ? null : (faultsAtRound[^1] - faultsAtRound[warmUp - 1]) / counted.Count,
            clock.Elapsed.TotalSeconds);
    }

    private static int[] Integers(string option, string list) =>
        list.Split(',').Select(w => int.TryParse(w.Trim(), System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"{option}: '{w.Trim()}' is not a whole number (expected a comma list such as 10,50,100).")).ToArray();

    private static void Delete(DirectoryInfo directory)
    {
        try
        {
            directory.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Resets the kernel's peak resident set of this process (VmHWM) to its current size; false where that cannot be done.</summary>
    private static bool ResetPeakWorkingSet()
    {
        try
        {
            using var clearRefs = new FileStream("/proc/self/clear_refs", FileMode.Open, FileAccess.Write);
            clearRefs.Write("5"u8);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The peak resident set of this process (VmHWM of /proc/self/status) in bytes, or .NET's figure where there is no such file.</summary>
    private static long PeakWorkingSetBytes()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return 1024 * long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            return Process.GetCurrentProcess().PeakWorkingSet64;
        }
    }

    /// <summary>
    /// Samples the resident set (/proc/self/statm) and the managed heap at a fixed period and keeps the sample of the largest
    /// resident set: what the peak was made of, managed objects (live or not yet collected) or everything else (native
    /// memory: Torch, SQLite, buffers; the runtime itself).
    /// </summary>
    private sealed class MemorySampler : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _sampling;

        public MemorySampler(TimeSpan period)
        {
            _sampling = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(period);
                try
                {
                    do
                    {
                        var sample = new MemorySample(ResidentBytes(), GC.GetTotalMemory(forceFullCollection: false), GC.GetGCMemoryInfo().TotalCommittedBytes);
                        if (sample.ResidentBytes > Heaviest.ResidentBytes)
                            Heaviest = sample;
                    }
                    while (await timer.WaitForNextTickAsync(_stop.Token));
                }
                catch (OperationCanceledException)
                {
                }
            });
        }

        public MemorySample Heaviest { get; private set; } = new(0, 0, 0);

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            await _sampling;
            _stop.Dispose();
        }

        private static long ResidentBytes()
        {
            try
            {
                var fields = File.ReadAllText("/proc/self/statm").Split(' ');
                return long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) * Environment.SystemPageSize;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return Environment.WorkingSet;
            }
        }
    }

    private readonly record struct MemorySample(long ResidentBytes, long ManagedHeapBytes, long GcCommittedBytes)
    {
        public JsonObject ToJson() => new()
        {
            ["residentBytes"] = ResidentBytes,
            ["managedHeapBytes"] = ManagedHeapBytes,
            ["gcCommittedBytes"] = GcCommittedBytes,
            ["otherBytes"] = ResidentBytes - GcCommittedBytes,
        };
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
