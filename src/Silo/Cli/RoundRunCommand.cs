using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCore.Jobs;
using Federation.Contracts.Participants;
using Federation.Contracts.Errors;
using Federation.Contracts.Jobs;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Cli;

/// <summary>
/// `federation round run --config job.json`: starts the silos the job's countries need (embedded, on loopback),
/// enrols the federation's participants, runs the whole job and prints, as its last line, one JSON object with
/// the results. Progress goes to standard error.
/// </summary>
public static class RoundRunCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var config = new Option<FileInfo>("--config") { Description = "The job file (job.json).", Required = true };
        var data = new Option<DirectoryInfo>("--data")
        {
            // Not the portal's data/: two clusters must never share one cluster database.
            Description = "Data directory for the silos' SQLite files (default data/round-run, apart from the portal's data/).",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("data", "round-run")),
        };
        var jobId = new Option<string?>("--job-id") { Description = "Job id (default: the job's name and the time). An unfinished job with this id continues." };
        var verbose = new Option<bool>("--verbose") { Description = "Show the silos' logs." };
        var allowSimulation = new Option<bool>("--allow-simulation")
        {
            Description = "Let the silos' participants take part in plaintext-simulation jobs (updates in the clear; for debugging only).",
        };
        var command = new Command("run", "Run a whole training job headless and print its results as JSON.") { config, data, jobId, verbose, allowSimulation };
        command.SetAction((parse, cancellation) => RunAsync(
            parse.GetValue(config)!, parse.GetValue(data)!, parse.GetValue(jobId), parse.GetValue(verbose), parse.GetValue(allowSimulation), output, error, cancellation));
        return command;
    }

    private static async Task<int> RunAsync(FileInfo config, DirectoryInfo data, string? jobId, bool verbose, bool allowSimulation, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        JobDefinition job;
        IReadOnlyList<string> countries;
        try
        {
            job = JobDefinition.Load(config.FullName);
            countries = JobSpecifications.CountriesOf(job);
        }
        catch (JobFileException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return 2;
        }

        var id = jobId ?? JobSpecifications.NewJobId(job);
        await error.WriteLineAsync($"Job {id}: {job.ParticipantIds.Count} participants in {string.Join(", ", countries)}; {job.Rounds} rounds of {job.Strategy.Name}; protection {job.Protection}.");
        await using var federation = await LocalFederation.StartAsync(new LocalFederationOptions
        {
            Countries = countries,
            DataDirectory = data.FullName,
            AllowSimulation = allowSimulation,
            ConfigureLogging = logging => ConsoleLogging.Configure(logging, verbose ? LogLevel.Information : LogLevel.Error),
        }, cancellation);

        JobStatus status;
        try
        {
            await FederationSetup.EnsureAsync(federation.Grains, federation.Operator!, federation.Approvers!, job.Federation, cancellation);
            var grain = federation.Grains.GetGrain<ITrainingJobGrain>(id);
            status = await grain.Start(JobSpecifications.From(job, id));
            status = await JobProgress.WaitAsync(grain, status, round => error.WriteLineAsync(
                $"round {round.Round,3}/{job.Rounds}  mean local test accuracy {round.MeanLocalTestAccuracy:F4}  loss {round.MeanLocalTestLoss:F4}  ({round.Seconds:F2} s)"),
                cancellationToken: cancellation);
        }
        catch (Exception e) when (e is FederationOperationException or JobFileException or ResidencyViolationException)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return 2;
        }

        // Under DP, what each participant's dataset has spent so far, as its own ledger says.
        var spent = new Dictionary<string, double>();
        if (job.Training.Privacy is { } dp)
            foreach (var participant in job.ParticipantIds)
                spent[participant] = (await federation.Grains.GetGrain<IParticipantGrain>(participant).GetPrivacyBudget(job.DatasetName, dp.Delta)).Epsilon;
        await output.WriteLineAsync(ResultJson(status, job, spent).ToJsonString());
        if (status.Phase == JobPhase.Failed)
        {
            await error.WriteLineAsync($"error: job {id} failed: {status.Error}");
            return 1;
        }
        return 0;
    }

    /// <summary>One JSON object: the job's outcome, the last round's per-participant metrics and the per-round means.</summary>
    internal static JsonObject ResultJson(JobStatus status, JobDefinition job, IReadOnlyDictionary<string, double>? epsilonSpent = null)
    {
        var last = status.Rounds.LastOrDefault();
        var participants = new JsonArray();
        foreach (var p in last?.Participants ?? [])
        {
            participants.Add(new JsonObject
            {
                ["id"] = p.ParticipantId,
                ["country"] = p.ParticipantId[..2],
                ["trainSamples"] = p.TrainSamples,
                ["testSamples"] = p.Test.Samples,
                ["testAccuracy"] = Number(p.Test.Accuracy),
                ["testAuc"] = Number(p.Test.Auc),
                ["testLoss"] = Number(p.Test.Loss),
                ["meanTrainLoss"] = Number(p.MeanTrainLoss),
                ["updateBytes"] = p.UpdateBytes,
                ["sealSeconds"] = Number(p.SealSeconds),
                ["epsilonSpent"] = epsilonSpent?.TryGetValue(p.ParticipantId, out var epsilon) == true ? Number(epsilon) : null,
            });
        }
        var rounds = new JsonArray();
        foreach (var r in status.Rounds)
            rounds.Add(new JsonObject
            {
                ["round"] = r.Round,
                ["meanLocalTestAccuracy"] = Number(r.MeanLocalTestAccuracy),
                ["meanLocalTestLoss"] = Number(r.MeanLocalTestLoss),
                ["seconds"] = Number(r.Seconds),
                ["phases"] = new JsonObject(r.Phases.Select(p => KeyValuePair.Create(p.Phase, Number(p.Seconds)))),
            });
        return new JsonObject
        {
            ["jobId"] = status.JobId,
            ["name"] = status.Name,
            ["status"] = status.Phase.ToString().ToLowerInvariant(),
            ["error"] = status.Error,
            ["rounds"] = status.CompletedRounds,
            ["strategy"] = job.Strategy.Name,
            ["protection"] = job.Protection,
            ["updateBound"] = job.UpdateBound,
            ["privacy"] = job.Training.Privacy is { } dp
                ? new JsonObject { ["clippingNorm"] = dp.ClippingNorm, ["noiseMultiplier"] = dp.NoiseMultiplier, ["delta"] = dp.Delta }
                : null,
            ["meanLocalTestAccuracy"] = Number(last?.MeanLocalTestAccuracy),
            ["pooledTestAccuracy"] = Number(last?.PooledTestAccuracy),
            ["meanLocalTestLoss"] = Number(last?.MeanLocalTestLoss),
            ["seconds"] = Number(status.Rounds.Sum(r => r.Seconds)),
            ["participants"] = participants,
            ["perRound"] = rounds,
        };
    }

    private static JsonNode? Number(double? value) =>
        value is { } v && double.IsFinite(v) ? JsonValue.Create(Math.Round(v, 6)) : null;
}
