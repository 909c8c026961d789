using System.Security.Cryptography;
using Federation.Contracts.Jobs;
using Federation.Contracts.Models;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Jobs;

/// <summary>
/// A job that stops between storing a round's model version (with its opening) and any party advancing its model chain to
/// it (FedCore/Rounds/README.md, "The model chain", steps 7–8): when it resumes it takes the stored version up as the round's
/// model, and brings every party to it from the stored opening before the next round.
/// </summary>
public sealed class JobCrashWindowTests
{
    private const string JobId = "CH/crash-window";
    private const int Rounds = 4;
    private const int CrashVersion = 2;

    [Fact]
    public async Task A_version_stored_before_the_job_stopped_is_taken_up_and_every_party_is_brought_to_it()
    {
        using var dir = new TempDirectory("federation-crash-window");
        var job = TestFederations.SampleJob with { Rounds = Rounds };
        var stored = new TaskCompletionSource<(ModelVersion Argument, ModelVersion Read)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var never = new CancellationTokenSource(); // released only once every silo of the first federation has stopped
        int stores = 0;
        var parties = TestFederations.SampleManifest.Participants.Select(p => p.Id).ToList();
        Assert.Equal(4, parties.Count);

        var crashing = TestFederations.Options(dir.Path, "US", "HU", "CH") with
        {
            // Version 2 is stored (with its opening), then the call never returns to the job: no party advances to it (step 8)
            // and the job's state still stands at version 1 when every silo stops.
            ConfigureSilo = silo => silo.AddIncomingGrainCallFilter(async context =>
            {
                if (context.InterfaceMethod.Name == nameof(IModelVersionGrain.Store) && context.Grain is IModelVersionGrain grain
                    && context.Request.GetArgument(0) is ModelVersion { JobId: JobId, Version: CrashVersion } version)
                {
                    Interlocked.Increment(ref stores);
                    await context.Invoke();
                    // Read back in the grain's own turn (a call through a reference would queue behind this one).
                    stored.TrySetResult((version, (await grain.Get())!));
                    await Task.Delay(Timeout.Infinite, never.Token);
                    throw new OperationCanceledException("the test released the blocked store");
                }
                await context.Invoke();
            }),
        };

        int versionBeforeCrash;
        string shaBeforeCrash;
        int[] chainsBeforeCrash;
        await using (var federation = await LocalFederation.StartAsync(crashing))
        {
            await TestFederations.SetUpSampleAsync(federation);
            var grain = federation.Grains.GetGrain<ITrainingJobGrain>(JobId);
            await grain.Start(JobSpecifications.From(job, JobId));

            var signalled = await Task.WhenAny(stored.Task, Task.Delay(TimeSpan.FromMinutes(3)));
            Assert.True(signalled == stored.Task, $"version {CrashVersion} was not stored within three minutes: {(await grain.GetStatus()).Phase} {(await grain.GetStatus()).Error}");
            var (argument, read) = await stored.Task;

            Assert.Equal(1, stores);
            Assert.Equal(CrashVersion, read.Version);
            Assert.NotNull(read.Opening); // stored with the opening it was made from
            Assert.NotNull(read.Parameters.Inline); // the sample's logistic model is small enough to travel inline
            shaBeforeCrash = Convert.ToHexStringLower(SHA256.HashData(read.Parameters.Inline!));
            Assert.Equal(argument.ParametersSha256, shaBeforeCrash);
            Assert.Equal(read.ParametersSha256, shaBeforeCrash);

            // The crash window: the job counted one round, stands at version 1, and no party advanced to version 2.
            var status = await grain.GetStatus();
            Assert.Equal(JobPhase.Running, status.Phase);
            Assert.Equal(1, status.CompletedRounds);
            versionBeforeCrash = status.LatestModelVersion;
            Assert.Equal(1, versionBeforeCrash);
            chainsBeforeCrash = await Task.WhenAll(parties.Select(p => federation.Grains.GetGrain<IParticipantGrain>(p).GetModelChainVersion(JobId)));
            Assert.All(chainsBeforeCrash, v => Assert.Equal(1, v));
        } // every silo stops here, the job between steps 7 and 8 of round 2
        never.Cancel();

        await using (var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US", "HU", "CH")))
        {
            var grain = federation.Grains.GetGrain<ITrainingJobGrain>(JobId);
            var status = await grain.GetStatus(); // reactivates the job, which resumes
            using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5)))
                status = await JobProgress.WaitAsync(grain, status, poll: TimeSpan.FromMilliseconds(100), cancellationToken: timeout.Token);

            Assert.True(status.Phase == JobPhase.Completed, $"{status.Phase}: {status.Error}");
            Assert.Equal(Enumerable.Range(1, Rounds), status.Rounds.Select(r => r.Round));
            Assert.Equal(Rounds, status.LatestModelVersion);

            // Round 2 is the stored version taken up: its figures were lost with the crash, and nobody reported metrics.
            var adopted = status.Rounds[CrashVersion - 1];
            Assert.Equal(CrashVersion, adopted.ModelVersion);
            Assert.Empty(adopted.Participants);
            Assert.True(double.IsNaN(adopted.MeanLocalTestAccuracy));
            Assert.True(double.IsNaN(adopted.MeanLocalTestLoss));
            Assert.True(double.IsNaN(adopted.PooledTestAccuracy));
            Assert.Equal(4, status.Rounds[0].Participants.Count);

            // Every later round had all four parties: each was brought from version 1 to 2 by the stored opening first.
            foreach (var later in status.Rounds.Skip(CrashVersion))
                Assert.Equal(4, later.Participants.Count);

            foreach (var p in parties)
                Assert.Equal(status.LatestModelVersion, await federation.Grains.GetGrain<IParticipantGrain>(p).GetModelChainVersion(JobId));

            var after = await federation.Grains.GetGrain<IModelVersionGrain>(ModelVersionKey.Format(JobId, CrashVersion)).Get();
            Assert.NotNull(after);
            Assert.Equal(shaBeforeCrash, after.ParametersSha256);
            Assert.Equal(shaBeforeCrash, Convert.ToHexStringLower(SHA256.HashData(after.Parameters.Inline!)));
            for (int version = 0; version <= Rounds; version++)
                Assert.Equal(version, (await federation.Grains.GetGrain<IModelVersionGrain>(ModelVersionKey.Format(JobId, version)).Get())!.Version);
        }
    }
}
