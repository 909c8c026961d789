using System.Collections.Concurrent;
using FedCore.Jobs;
using Federation.Contracts.Errors;
using Federation.Contracts.Jobs;
using Federation.Contracts.Models;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Jobs;

/// <summary>
/// A participant whose activation is lost in the middle of an encrypted round (its silo restarted, say) forgets the
/// round: it refuses to go on, and the job redoes that round with a fresh key instead of failing.
/// </summary>
public sealed class ParticipantRestartTests
{
    private const string Victim = "HU/budapest";
    private const int RestartRound = 2;

    [Fact]
    public async Task A_participant_restarting_mid_round_makes_the_job_redo_the_round_not_fail()
    {
        using var dir = new TempDirectory("federation-restart");
        var job = JobDefinition.Load(Path.Combine(TestPaths.HeartSample, "job.json")) with { Rounds = 3 };
        var checkRefusals = new ConcurrentQueue<string>();
        int restarts = 0;
        var options = TestFederations.Options(dir.Path, "US", "HU", "CH") with
        {
            // Right after the victim has trained and sealed in round 2, its activation is deactivated: the job's next
            // call, the aggregate check, reaches a fresh activation that knows nothing of the round but that it sealed.
            ConfigureSilo = silo => silo.AddIncomingGrainCallFilter(async context =>
            {
                try
                {
                    await context.Invoke();
                }
                catch (FedCore.Rounds.RoundRefusedException e) when (context.InterfaceMethod.Name == nameof(IParticipantGrain.CheckAggregate))
                {
                    checkRefusals.Enqueue($"{context.TargetId.Key}: {e.Code}");
                    throw;
                }
                if (context.InterfaceMethod.Name == nameof(IParticipantGrain.Train) && context.TargetId.Key.ToString() == Victim
                    && context.Request.GetArgument(0) is RoundAssignment { JobId: "CH/restarted" } assignment && assignment.GlobalVersion == RestartRound - 1
                    && Interlocked.Exchange(ref restarts, 1) == 0)
                    context.TargetContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "test: restart mid-round"));
            }),
        };
        await using var federation = await LocalFederation.StartAsync(options);
        await TestFederations.SetUpSampleAsync(federation);

        var restarted = await TestFederations.RunToCompletionAsync(federation, job, "CH/restarted");
        var undisturbed = await TestFederations.RunToCompletionAsync(federation, job, "CH/undisturbed");

        Assert.Equal(1, restarts);
        Assert.Equal([$"{Victim}: round.participant-restarted"], checkRefusals.ToArray());
        // The redone round trains from the same model with the same seeds: only the encryption noise differs.
        var a = (await federation.Grains.GetGrain<IModelVersionGrain>(ModelVersionKey.Format("CH/restarted", job.Rounds)).Get())!.Parameters.Inline!.AsFloats();
        var b = (await federation.Grains.GetGrain<IModelVersionGrain>(ModelVersionKey.Format("CH/undisturbed", job.Rounds)).Get())!.Parameters.Inline!.AsFloats();
        Assert.True(a.Zip(b).Max(p => Math.Abs(p.First - p.Second)) < 1e-5);
        Assert.Equal(Math.Round(undisturbed.Rounds[^1].MeanLocalTestAccuracy, 3), Math.Round(restarted.Rounds[^1].MeanLocalTestAccuracy, 3));
        // The redone round ran under a new protocol round number: a participant seals once per protocol round.
        Assert.True(restarted.Rounds[RestartRound - 1].ProtocolRound > undisturbed.Rounds[RestartRound - 1].ProtocolRound);
    }
}
