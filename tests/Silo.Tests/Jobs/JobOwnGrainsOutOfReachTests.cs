using System.Text;
using Federation.Contracts.Audit;
using Federation.Contracts.Jobs;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Jobs;

/// <summary>
/// A grain of the job's own (here its audit log) out of reach while a round starts, as when the silo that holds it is
/// stopping and rejects every call ("Silo stopping") for as long as its graceful stop takes: the job tries the round
/// again with the same members, and such tries are not counted against the members' attempts. Real silos and grains;
/// the log's appends of "round.started" are refused by a filter on every silo.
/// </summary>
public sealed class JobOwnGrainsOutOfReachTests
{
    [Fact]
    public async Task A_grain_of_the_jobs_own_out_of_reach_for_more_tries_than_the_members_get_does_not_fail_the_job()
    {
        // Six refusals: one more than the five attempts a round gets when its members cannot be reached. The job failed on
        // the fifth with the rejection's text before such tries were counted apart (RoundDropoutAndLapseTests, once).
        using var dir = new TempDirectory("federation-own-grain-stalls");
        var outage = new RoundStartOutage(refusals: 6);
        await using var federation = await StartAsync(dir, outage);

        var status = await TestFederations.RunToCompletionAsync(federation, TestFederations.SampleJob with { Rounds = 1 }, "CH/own-grain-stalls");

        Assert.Equal(6, outage.Refused);
        Assert.Equal(7, outage.RoundStarts);
        Assert.Equal(1, status.CompletedRounds);
    }

    [Fact]
    public async Task A_grain_of_the_jobs_own_that_stays_out_of_reach_fails_the_job_saying_which_round_and_why()
    {
        using var dir = new TempDirectory("federation-own-grain-gone");
        var outage = new RoundStartOutage(refusals: int.MaxValue);
        await using var federation = await StartAsync(dir, outage);

        var status = await TestFederations.RunAsync(federation, TestFederations.SampleJob with { Rounds = 1 }, "CH/own-grain-gone");

        Assert.Equal(JobPhase.Failed, status.Phase);
        Assert.Contains("Job CH/own-grain-gone round 1: a grain of the job's own stayed unreachable in 9 attempts", status.Error);
        Assert.Contains(RoundStartOutage.Reason, status.Error);
        Assert.Equal(9, outage.RoundStarts);
    }

    private static async Task<LocalFederation> StartAsync(TempDirectory dir, RoundStartOutage outage)
    {
        var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US", "HU", "CH") with
        {
            ConfigureSilo = silo =>
            {
                silo.AddIncomingGrainCallFilter(outage.OnCallAsync);
                TestFederations.ChangeSiloOptions(silo, options => options with { RoundRetryDelay = TimeSpan.FromMilliseconds(20) });
            },
        });
        try
        {
            await TestFederations.SetUpSampleAsync(federation);
            return federation;
        }
        catch
        {
            await federation.DisposeAsync();
            throw;
        }
    }

    /// <summary>Refuses the audit log's appends that record a round's start, the first <c>refusals</c> of them, as a silo that stops would.</summary>
    private sealed class RoundStartOutage(int refusals)
    {
        public const string Reason = "the audit log's silo is stopping (a test's outage)";
        private int _roundStarts;

        /// <summary>Appends of a round's start that reached the log, refused or not.</summary>
        public int RoundStarts => Volatile.Read(ref _roundStarts);

        public int Refused => Math.Min(RoundStarts, refusals);

        public async Task OnCallAsync(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.Name == nameof(IAuditLogGrain.Append)
                && context.Request.GetArgument(0) is IReadOnlyList<byte[]> entries
                && entries.Any(e => Encoding.UTF8.GetString(e).Contains("\"round.started\"", StringComparison.Ordinal))
                && Interlocked.Increment(ref _roundStarts) <= refusals)
                throw new TimeoutException(Reason);
            await context.Invoke();
        }
    }
}
