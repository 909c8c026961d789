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

    [Fact]
    public async Task An_abandoned_rounds_key_share_and_masking_key_expire_and_nothing_is_revealed_with_them()
    {
        using var dir = new TempDirectory("federation-expiry");
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "CH", "HU", "US") with
        {
            ConfigureSilo = silo => silo.Services.AddSingleton<TimeProvider>(clock),
        });
        await TestFederations.SetUpSampleAsync(federation);
        string[] parties = ["CH/zurich", "HU/budapest", "US/cleveland"];
        var job = TestFederations.SampleJob;
        var invitation = new JobInvitation("CH/expiry", job.Agreement, parties.Select(p => new JobParticipant(p, "heart")).ToList(),
            new ProtectionSettings("ckks", 4), job.ModelJson);
        var commitments = new List<SignedPayload>();
        foreach (var id in parties)
        {
            var participant = federation.Grains.GetGrain<IParticipantGrain>(id);
            await participant.AcceptJob(invitation);
            commitments.Add(await participant.CommitRoundKey(new RoundKeyRequest("CH/expiry", 1, parties)));
        }

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
        Assert.Equal("CH/expiry", (await budapest.CommitRoundKey(new RoundKeyRequest("CH/expiry", 2, parties))).JobId);
    }

    [Fact]
    public async Task An_agreement_that_expires_mid_job_stops_it_at_the_next_round()
    {
        using var dir = new TempDirectory("federation-expired");
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "CH", "HU", "US") with
        {
            ConfigureSilo = silo => silo.Services.AddSingleton<TimeProvider>(clock),
        });
        await TestFederations.SetUpSampleAsync(federation);
        string[] parties = ["CH/zurich", "HU/budapest", "US/cleveland"];
        var job = TestFederations.SampleJob;
        var invitation = new JobInvitation("CH/expiring", job.Agreement, parties.Select(p => new JobParticipant(p, "heart")).ToList(),
            new ProtectionSettings("ckks", 4), job.ModelJson);
        var budapest = federation.Grains.GetGrain<IParticipantGrain>("HU/budapest");
        await budapest.AcceptJob(invitation);
        await budapest.CommitRoundKey(new RoundKeyRequest("CH/expiring", 1, parties));

        clock.Advance(DateTimeOffset.Parse("2028-01-01T00:00:01Z") - clock.GetUtcNow()); // past the sample agreement's validUntil
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => budapest.CommitRoundKey(new RoundKeyRequest("CH/expiring", 2, parties)));
        Assert.Equal("agreement.lapsed", refused.Code);
        Assert.Contains("agreement 'fed-heart-disease-2026' is expired", refused.Message);
    }
}
