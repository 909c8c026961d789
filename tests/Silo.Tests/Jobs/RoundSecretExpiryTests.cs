using Federation.Contracts.Errors;
using Federation.Contracts.Jobs;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Silo.Tests.Jobs;

/// <summary>
/// What time does to a job, through real grains and storage: round secrets that no one finishes using are erased after
/// their lifetime, and an agreement's validity window closes on the next round.
/// </summary>
public sealed class RoundSecretExpiryTests
{
    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    private static readonly string[] Parties = ["CH/zurich", "HU/budapest", "US/cleveland"];

    /// <summary>The sample federation on silos whose clock the test moves.</summary>
    private static async Task<LocalFederation> StartAsync(TempDirectory dir, ManualClock clock)
    {
        var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "CH", "HU", "US") with
        {
            ConfigureSilo = silo => silo.Services.AddSingleton<TimeProvider>(clock),
        });
        await TestFederations.SetUpSampleAsync(federation);
        return federation;
    }

    /// <summary>The participant accepts the job over <see cref="Parties"/> and makes its key share for round 1.</summary>
    private static async Task<SignedPayload> AcceptAndKeyAsync(LocalFederation federation, string participant, string jobId)
    {
        var grain = federation.Grains.GetGrain<IParticipantGrain>(participant);
        await grain.AcceptJob(TestFederations.Invitation(jobId, Parties));
        return await grain.CommitRoundKey(new RoundKeyRequest(jobId, 1, Parties));
    }

    [Fact]
    public async Task An_abandoned_rounds_key_share_and_masking_key_expire_and_nothing_is_revealed_with_them()
    {
        using var dir = new TempDirectory("federation-expiry");
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var federation = await StartAsync(dir, clock);
        var commitments = new List<SignedPayload>();
        foreach (var id in Parties)
            commitments.Add(await AcceptAndKeyAsync(federation, id, "CH/expiry"));

        // The aggregator goes quiet for longer than a round's secrets live (30 minutes by default).
        clock.Advance(TimeSpan.FromMinutes(31));
        var budapest = federation.Grains.GetGrain<IParticipantGrain>("HU/budapest");
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() =>
            budapest.RevealRoundKey(new RoundKeyRevealRequest("CH/expiry", 1, commitments)));
        Assert.Contains("the round's secrets were erased (the round was abandoned or expired)", refused.Message);

        // The erasure was stored: a restarted activation still has nothing to reveal, and a new round works as before.
        await budapest.AsReference<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
        refused = await Assert.ThrowsAsync<FederationOperationException>(() =>
            budapest.RevealRoundKey(new RoundKeyRevealRequest("CH/expiry", 1, commitments)));
        Assert.Contains("erased", refused.Message);
        Assert.Equal("CH/expiry", (await budapest.CommitRoundKey(new RoundKeyRequest("CH/expiry", 2, Parties))).JobId);
    }

    [Fact]
    public async Task An_agreement_that_expires_mid_job_stops_it_at_the_next_round()
    {
        using var dir = new TempDirectory("federation-expired");
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var federation = await StartAsync(dir, clock);
        var budapest = federation.Grains.GetGrain<IParticipantGrain>("HU/budapest");
        await AcceptAndKeyAsync(federation, "HU/budapest", "CH/expiring");

        clock.Advance(DateTimeOffset.Parse("2028-01-01T00:00:01Z") - clock.GetUtcNow()); // past the sample agreement's validUntil
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => budapest.CommitRoundKey(new RoundKeyRequest("CH/expiring", 2, Parties)));
        Assert.Equal("agreement.lapsed", refused.Code);
        Assert.Contains("agreement 'fed-heart-disease-2026' is expired", refused.Message);
    }
}
