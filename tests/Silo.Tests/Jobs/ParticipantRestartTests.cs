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
        // The same job id in a second federation, undisturbed: a job's version 0 is drawn for the job, so only the same id
        // starts from the same model.
        var (restarted, a) = await TestFederations.RunInOwnFederationAsync(options, job, "CH/restarted");
        using var quiet = new TempDirectory("federation-restart-undisturbed");
        var (undisturbed, b) = await TestFederations.RunInOwnFederationAsync(TestFederations.Options(quiet.Path, "US", "HU", "CH"), job, "CH/restarted");

        Assert.Equal(1, restarts);
        Assert.Equal([$"{Victim}: round.participant-restarted"], checkRefusals.ToArray());
        // The redone round trains from the same model with the same seeds: only the encryption noise differs.
        Assert.True(a.Zip(b).Max(p => Math.Abs(p.First - p.Second)) < 1e-5);
        Assert.Equal(Math.Round(undisturbed.Rounds[^1].MeanLocalTestAccuracy, 3), Math.Round(restarted.Rounds[^1].MeanLocalTestAccuracy, 3));
        // The redone round ran under a new protocol round number: a participant seals once per protocol round.
        Assert.True(restarted.Rounds[RestartRound - 1].ProtocolRound > undisturbed.Rounds[RestartRound - 1].ProtocolRound);
    }

    [Fact]
    public async Task A_member_out_of_reach_after_the_parts_were_revealed_makes_the_job_take_the_same_round_up_again()
    {
        // Budapest times out once when asked for its opening fingerprint in round 2, after every member revealed its part.
        // Members refuse to redo a version whose parts they revealed (a redo would show the aggregator the sum before a
        // colluder commits), so the job takes the same protocol round up again from step 6b with the parts they stored,
        // and ends with the model an undisturbed run of the same job makes, up to the encryption noise.
        var job = JobDefinition.Load(Path.Combine(TestPaths.HeartSample, "job.json")) with { Rounds = 3 };
        int timeouts = 0;
        using var dir = new TempDirectory("federation-resume");
        var options = TestFederations.Options(dir.Path, "US", "HU", "CH") with
        {
            ConfigureSilo = silo => silo.AddIncomingGrainCallFilter(async context =>
            {
                if (context.InterfaceMethod.Name == nameof(IParticipantGrain.CheckOpening) && context.TargetId.Key.ToString() == Victim
                    && context.Request.GetArgument(0) is RoundOpeningCheckRequest { JobId: "CH/resumed" } && Interlocked.Increment(ref timeouts) == RestartRound)
                    throw new TimeoutException("test: Budapest out of reach at the opening check");
                await context.Invoke();
            }),
        };
        var (resumed, a) = await TestFederations.RunInOwnFederationAsync(options, job, "CH/resumed");
        using var quiet = new TempDirectory("federation-resume-undisturbed");
        var (undisturbed, b) = await TestFederations.RunInOwnFederationAsync(TestFederations.Options(quiet.Path, "US", "HU", "CH"), job, "CH/resumed");

        Assert.True(timeouts > RestartRound, $"Budapest was asked for its opening fingerprint {timeouts} times");
        Assert.True(a.Zip(b).Max(p => Math.Abs(p.First - p.Second)) < 1e-5);
        // The same protocol round, taken up: no round was redone.
        Assert.Equal(undisturbed.Rounds.Select(r => r.ProtocolRound), resumed.Rounds.Select(r => r.ProtocolRound));
    }
}
