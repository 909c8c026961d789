using FedCore.Jobs;
using Federation.Contracts.Jobs;
using Federation.Contracts.Models;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Jobs;

/// <summary>A job survives a restart of the whole process and continues from its last completed round.</summary>
public sealed class JobDurabilityTests
{
    private const int Rounds = 10;

    private static JobSpecification Specification(FederationManifest manifest) => new(
        "CH/durable-heart",
        "durable heart MLP",
        """{"type":"mlp","inputs":15,"hidden":[256,256],"activation":"relu","classes":2}""",
        manifest.Participants.Select(p => new JobParticipant(p.Id, "heart")).ToList(),
        Rounds,
        new StrategySettings("fedavg", 1.0, 0.9, 0.99, 1e-3),
        // Enough local work per round that the test can stop the silos between rounds.
        new LocalTrainingSettings(Epochs: 30, BatchSize: 4, Optimizer: "sgd", LearningRate: 0.01, Momentum: 0, WeightDecay: 0, ProximalMu: 0),
        2.0 / 3.0,
        7,
        new ProtectionSettings("ckks", 4.0),
        "fed-heart-disease-2026");

    [Fact]
    public async Task A_job_continues_from_its_last_completed_round_after_a_restart()
    {
        using var dir = new TempDirectory("federation-durable");
        var manifest = FederationManifest.Load(Path.Combine(TestPaths.HeartSample, "federation.json"));
        var options = TestFederations.Options(dir.Path, "US", "HU", "CH");
        var spec = Specification(manifest);

        RoundSummary[] before;
        await using (var federation = await LocalFederation.StartAsync(options))
        {
            await TestFederations.SetUpSampleAsync(federation);
            var job = federation.Grains.GetGrain<ITrainingJobGrain>(spec.JobId);
            var status = await job.Start(spec);
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (status.CompletedRounds < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
                status = await job.GetStatus();
            }
            Assert.True(status.CompletedRounds >= 2, $"no two rounds within three minutes: {status.Phase} {status.Error}");
            Assert.True(status.CompletedRounds < Rounds, "the job finished before it could be interrupted");
            before = status.Rounds.ToArray();
        } // every silo stops here, in the middle of the job

        await using (var federation = await LocalFederation.StartAsync(options))
        {
            var job = federation.Grains.GetGrain<ITrainingJobGrain>(spec.JobId);
            var status = await job.GetStatus();
            Assert.True(status.CompletedRounds >= before.Length);
            Assert.NotEqual(JobPhase.Failed, status.Phase);

            using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5)))
                status = await JobProgress.WaitAsync(job, status, poll: TimeSpan.FromMilliseconds(100), cancellationToken: timeout.Token);

            Assert.True(status.Phase == JobPhase.Completed, $"{status.Phase}: {status.Error}");
            Assert.Equal(Enumerable.Range(1, Rounds), status.Rounds.Select(r => r.Round));
            foreach (var round in before)
                Assert.Equal(round.CompletedAt, status.Rounds[round.Round - 1].CompletedAt);
            Assert.All(status.Rounds, r => Assert.Equal(4, r.Participants.Count));

            for (int version = 0; version <= Rounds; version++)
            {
                var stored = await federation.Grains.GetGrain<IModelVersionGrain>(ModelVersionKey.Format(spec.JobId, version)).Get();
                Assert.NotNull(stored);
                Assert.Equal(version, stored.Version);
            }
        }
    }

    [Fact]
    public async Task An_invalid_job_is_refused_before_anything_is_stored()
    {
        using var dir = new TempDirectory("federation-invalid-job");
        var manifest = FederationManifest.Load(Path.Combine(TestPaths.HeartSample, "federation.json"));
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US"));
        var bad = Specification(manifest) with
        {
            JobId = "US/bad-job",
            Rounds = 0,
            Strategy = new StrategySettings("fedmagic", 1, 0.9, 0.99, 1e-3),
            Participants = [new JobParticipant("nowhere", "heart")],
        };
        var error = await Assert.ThrowsAsync<Federation.Contracts.Errors.FederationOperationException>(() =>
            federation.Grains.GetGrain<ITrainingJobGrain>("US/bad-job").Start(bad));
        Assert.Contains("rounds must be at least 1", error.Message);
        Assert.Contains("fedmagic", error.Message);
        Assert.Contains("nowhere", error.Message);
        await Assert.ThrowsAsync<Federation.Contracts.Errors.FederationOperationException>(() =>
            federation.Grains.GetGrain<ITrainingJobGrain>("US/bad-job").GetStatus());
        // A job runs in its aggregator's country, which its id names: one that names none is refused, saying so.
        var nowhere = await Assert.ThrowsAsync<Federation.Contracts.Errors.FederationOperationException>(() =>
            federation.Grains.GetGrain<ITrainingJobGrain>("bad-job").Start(bad with { JobId = "bad-job" }));
        Assert.Contains("must start with the country it runs in", nowhere.Message);
    }
}
