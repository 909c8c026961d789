using Federation.Silo.Grains;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Participants;

public class ParticipantWorkSlotsTests
{
    [Fact]
    public async Task No_more_participants_work_at_once_than_the_silo_has_turns_and_a_failure_gives_its_turn_back()
    {
        using var turns = new ParticipantWorkSlots(new FederationSiloOptions { Country = "HU", DataDirectory = "unused", ConcurrentParticipantWork = 2 });
        int running = 0, most = 0;
        var gate = new TaskCompletionSource();
        async Task<int> Work(int i)
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            await gate.Task;
            Interlocked.Decrement(ref running);
            return i;
        }
        var failing = turns.RunAsync<int>(() => throw new InvalidOperationException("its rows could not be read"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        var work = Enumerable.Range(0, 6).Select(i => turns.RunAsync(() => Work(i))).ToList();
        await Task.Delay(200);
        Assert.Equal(2, Volatile.Read(ref running)); // two at work, four waiting: the failure gave its turn back
        gate.SetResult();
        Assert.Equal(Enumerable.Range(0, 6), await Task.WhenAll(work));
        Assert.Equal(2, most);
    }

    [Fact]
    public void A_silo_without_a_turn_for_its_participants_or_a_call_for_its_jobs_or_with_a_negative_retry_delay_does_not_start()
    {
        var options = new FederationSiloOptions { Country = "HU", DataDirectory = "data" };
        options.Validate();
        Assert.Contains("ConcurrentParticipantWork is 0", Assert.Throws<ArgumentException>(() => (options with { ConcurrentParticipantWork = 0 }).Validate()).Message);
        Assert.Contains("ConcurrentMemberCalls is 0", Assert.Throws<ArgumentException>(() => (options with { ConcurrentMemberCalls = 0 }).Validate()).Message);
        Assert.Contains("RoundRetryDelay is -00:00:01", Assert.Throws<ArgumentException>(() => (options with { RoundRetryDelay = TimeSpan.FromSeconds(-1) }).Validate()).Message);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
