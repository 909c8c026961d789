using FedCore.Aggregation.Protection;
using FedCore.Crypto.Multiparty;
using FedCore.Rounds;

namespace FedCore.Tests.Rounds;

/// <summary>The round protocol played honestly, and every rule a participant keeps whatever the job asks.</summary>
public class RoundProtocolTests
{
    [Fact]
    public void An_honest_round_opens_the_weighted_mean_of_the_updates()
    {
        var harness = new RoundHarness(4);
        var updates = RoundHarness.Updates(4, 5000);
        var opened = harness.Finish(harness.SealedRound(1, updates));
        Assert.Equal(1, opened.TotalWeight, 6);
        var mean = opened.Mean();
        Assert.True(Enumerable.Range(0, 5000).Max(i => Math.Abs(updates.Average(u => u[i]) - mean[i])) < 1e-6);
    }

    [Fact]
    public void The_aggregator_opens_only_once_every_members_part_is_in_and_adds_each_once()
    {
        // The aggregator keeps a running sum of the parts, not the parts: a second part from one member, or a part that
        // was refused, must not enter it.
        var harness = new RoundHarness(4);
        var aggregator = harness.SealedRound(1, RoundHarness.Updates(4, 10));
        var reveal = RoundHarness.Committed(aggregator, harness.Parties);
        var parts = harness.Parties.Select(p => p.Round.RevealPart(reveal)).ToList();
        foreach (var part in parts.Take(3))
            aggregator.AcceptPart(part);
        Assert.Contains("missing from XX/party-3", Assert.Throws<RoundRefusedException>(aggregator.OpeningCheckRequest).Message);
        Assert.Contains("already sent one", Assert.Throws<RoundRefusedException>(() => aggregator.AcceptPart(parts[2])).Message);
        aggregator.AcceptPart(parts[3]);
        Assert.Equal(1, aggregator.Open().TotalWeight, 6);
    }

    [Fact]
    public void Consecutive_rounds_and_a_round_over_fewer_members_work_with_fresh_keys()
    {
        var harness = new RoundHarness(4);
        harness.Finish(harness.SealedRound(1, RoundHarness.Updates(4, 10)));
        var three = harness.Parties.Take(3).ToList();
        var opened = harness.Finish(harness.SealedRound(2, RoundHarness.Updates(3, 10), three), three);
        Assert.Equal(1, opened.TotalWeight, 6);
        Assert.Equal(RoundStage.Decrypted, harness[0].Round.Record!.Stage);
        Assert.Null(harness[0].Round.Record!.Secret); // the key share is erased once its one share is given
    }

    [Theory]
    [InlineData(new[] { 0 }, "at least 3")]                 // the victim alone
    [InlineData(new[] { 0, 1 }, "at least 3")]              // the victim and one other
    [InlineData(new[] { 1, 2, 3 }, "not among the round's participants")]
    public void A_participant_takes_part_only_in_a_round_of_its_job_within_the_pinned_minimum(int[] members, string reason)
    {
        var harness = new RoundHarness(4);
        var request = new KeyRequest(RoundHarness.JobId, 1, members.Select(i => harness[i].Id).ToList());
        var refused = Assert.Throws<RoundRefusedException>(() => harness[0].Round.Commit(request));
        Assert.Contains(reason, refused.Message);
        Assert.Contains("refuses to make a key share", refused.Message);
        Assert.Null(harness[0].Round.Record); // nothing made, nothing stored
    }

    [Fact]
    public void A_round_naming_an_outsider_another_job_or_an_unsorted_set_is_refused()
    {
        var harness = new RoundHarness(4);
        var ids = harness.Parties.Select(p => p.Id).ToList();
        Assert.Contains("'XX/sybil' is not a party", Assert.Throws<RoundRefusedException>(() =>
            harness[0].Round.Commit(new KeyRequest(RoundHarness.JobId, 1, [ids[0], ids[1], "XX/sybil"]))).Message);
        Assert.Contains("for job 'other'", Assert.Throws<RoundRefusedException>(() =>
            harness[0].Round.Commit(new KeyRequest("other", 1, ids))).Message);
        Assert.Contains("once each in ordinal order", Assert.Throws<RoundRefusedException>(() =>
            harness[0].Round.Commit(new KeyRequest(RoundHarness.JobId, 1, [ids[0], ids[0], ids[1], ids[2]]))).Message);
    }

    [Fact]
    public void A_job_of_fewer_than_three_parties_cannot_even_be_pinned()
    {
        var keys = new Dictionary<string, byte[]> { ["XX/a"] = [1], ["XX/b"] = [2] };
        Assert.Throws<ArgumentOutOfRangeException>(() => new RoundTerms("job", "XX/a", keys.Keys, 2, keys, new RoundProtection("ckks", 4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RoundTerms("job", "XX/a", keys.Keys, 3, keys, new RoundProtection("ckks", 4)));
    }

    [Fact]
    public void Rounds_only_go_up_and_each_seals_and_decrypts_once_also_after_a_restart()
    {
        var harness = new RoundHarness(3);
        var aggregator = harness.SealedRound(5, RoundHarness.Updates(3, 10));
        var victim = harness[0];
        var seal = aggregator.SealRequest();
        Assert.Contains("already sealed its update this round", Assert.Throws<RoundRefusedException>(() => victim.Round.Seal(5, new float[10], 0.3)).Message);
        victim.Restart();
        Assert.Contains("already sealed its update this round", Assert.Throws<RoundRefusedException>(() => victim.Round.PrepareSeal(seal, RoundHarness.Plan, RoundHarness.BasisFor(1))).Message);
        Assert.Contains("not above round 5", Assert.Throws<RoundRefusedException>(() =>
            victim.Round.Commit(new KeyRequest(RoundHarness.JobId, 5, harness.Parties.Select(p => p.Id).ToList()))).Message);
        Assert.Contains("not above round 5", Assert.Throws<RoundRefusedException>(() =>
            victim.Round.Commit(new KeyRequest(RoundHarness.JobId, 4, harness.Parties.Select(p => p.Id).ToList()))).Message);
        // What it lost in the restart (its sealed update) makes it ask for a new round rather than go on.
        var lost = Assert.Throws<RoundRefusedException>(() => victim.Round.CheckAggregate(aggregator.AggregateCheckRequest()));
        Assert.Equal(RoundRefusal.Restarted, lost.Code);

        var fresh = new RoundHarness(3);
        var done = fresh.SealedRound(1, RoundHarness.Updates(3, 10));
        fresh.Finish(done);
        fresh[1].Restart();
        var again = Assert.Throws<RoundRefusedException>(() => fresh[1].Round.Decrypt(done.DecryptRequest()));
        Assert.Contains("already committed to its part of the opening this round", again.Message);
    }

    [Fact]
    public void A_key_share_is_revealed_against_one_set_of_commitments_only_also_after_a_restart()
    {
        var harness = new RoundHarness(3);
        var aggregator = harness.Aggregator(1);
        var commitments = harness.Parties.Select(p => p.Round.Commit(aggregator.KeyRequest())).ToList();
        foreach (var c in commitments)
            aggregator.AcceptCommitment(c);
        var victim = harness[0];
        var reveal = victim.Round.Reveal(aggregator.RevealRequest());
        victim.Restart();
        // A colluder's second commitment, made with the victim's statement in view, is refused in a second reveal...
        var rogue = harness[2].Sign(RoundPurpose.KeyCommitment, RoundHarness.JobId, 1, RoundHarness.Sha256([1, 2, 3]));
        var refused = Assert.Throws<RoundRefusedException>(() => victim.Round.Reveal(new KeyRevealRequest(RoundHarness.JobId, 1, [commitments[0], commitments[1], rogue])));
        Assert.Contains("already revealed its key share against other commitments", refused.Message);
        // ...while a retry against the same commitments is answered with the same statement.
        Assert.Equal(reveal.Statement.Payload, victim.Round.Reveal(aggregator.RevealRequest()).Statement.Payload);
    }

    [Fact]
    public void Messages_that_are_not_each_members_own_for_this_round_are_refused()
    {
        var harness = new RoundHarness(3);
        var aggregator = harness.Aggregator(1);
        var commitments = harness.Parties.Select(p => p.Round.Commit(aggregator.KeyRequest())).ToList();
        var victim = harness[0].Round;
        KeyRevealRequest With(params SignedMessage[] messages) => new(RoundHarness.JobId, 1, messages);

        Assert.Contains("missing from XX/party-2", Assert.Throws<RoundRefusedException>(() => victim.Reveal(With(commitments[0], commitments[1]))).Message);
        Assert.Contains("duplicate", Assert.Throws<RoundRefusedException>(() => victim.Reveal(With(commitments[0], commitments[1], commitments[1]))).Message);
        // Signed by a key other than the one pinned for that party (a key swapped in the directory, say).
        var impostor = new Party(harness[1].Id, FedCore.Aggregation.Integrity.ParticipantSigningKey.Generate(), victim.Terms, TimeProvider.System);
        var swapped = impostor.Sign(RoundPurpose.KeyCommitment, RoundHarness.JobId, 1, commitments[1].Payload);
        Assert.Contains("does not verify", Assert.Throws<RoundRefusedException>(() => victim.Reveal(With(commitments[0], swapped, commitments[2]))).Message);
        // A replay from another round, or a message signed for another purpose.
        var replay = harness[1].Sign(RoundPurpose.KeyCommitment, RoundHarness.JobId, 0, commitments[1].Payload);
        Assert.Contains("replay", Assert.Throws<RoundRefusedException>(() => victim.Reveal(With(commitments[0], replay, commitments[2]))).Message);
        var otherPurpose = commitments[1] with { Signature = harness[1].Sign(RoundPurpose.KeyStatement, RoundHarness.JobId, 1, commitments[1].Payload).Signature };
        Assert.Contains("does not verify", Assert.Throws<RoundRefusedException>(() => victim.Reveal(With(commitments[0], otherPurpose, commitments[2]))).Message);
        // A downgrade: the same message claimed under the plaintext simulation.
        var downgraded = harness[1].Sign(RoundPurpose.KeyCommitment, RoundHarness.JobId, 1, commitments[1].Payload, PlaintextSimulation.SchemeName);
        Assert.Contains("scheme 'plaintext-simulation'", Assert.Throws<RoundRefusedException>(() => victim.Reveal(With(commitments[0], downgraded, commitments[2]))).Message);
        Assert.Equal(RoundStage.Keyed, victim.Record!.Stage); // refusals change nothing
    }

    [Fact]
    public void A_participant_pinned_to_ckks_never_sends_its_update_in_the_clear()
    {
        var harness = new RoundHarness(3);
        var refused = Assert.Throws<RoundRefusedException>(() => harness[0].Round.SealInTheClear(1, harness.Parties.Select(p => p.Id).ToList(), [0.1f], 0.3));
        Assert.Contains("pinned protection is ckks", refused.Message);

        var simulation = new RoundHarness(3, new RoundProtection(PlaintextSimulation.SchemeName, 4));
        Assert.Contains("no keys to make", Assert.Throws<RoundRefusedException>(() =>
            simulation[0].Round.Commit(new KeyRequest(RoundHarness.JobId, 1, simulation.Parties.Select(p => p.Id).ToList()))).Message);
        var aggregator = simulation.Aggregator(1);
        foreach (var (p, i) in simulation.Parties.Select((p, i) => (p, i)))
            aggregator.AcceptSealed(p.Round.SealInTheClear(1, aggregator.Participants, [0.5f * i, -0.5f], 1.0 / 3));
        Assert.Equal(0.5, aggregator.Open().Mean()[0], 6);
        Assert.Contains("not above round 1", Assert.Throws<RoundRefusedException>(() => simulation[0].Round.SealInTheClear(1, aggregator.Participants, [0.5f], 0.3)).Message);
    }

    [Fact]
    public void Secrets_of_an_abandoned_round_expire()
    {
        var clock = new ManualClock(DateTimeOffset.Parse("2026-11-30T12:00:00Z"));
        var harness = new RoundHarness(3, clock: clock);
        harness.KeyedRound(1);
        var round = harness[0].Round;
        Assert.False(round.ExpireIfOlderThan(TimeSpan.FromHours(1)));
        clock.Advance(TimeSpan.FromMinutes(61));
        round.RecordChanged = false;
        Assert.True(round.ExpireIfOlderThan(TimeSpan.FromHours(1)));
        Assert.True(round.RecordChanged);
        Assert.Equal(RoundStage.Abandoned, round.Record!.Stage);
        Assert.Null(round.Record.Secret);
        Assert.Null(round.Record.MaskingKey);
        Assert.Contains("abandoned or expired", Assert.Throws<RoundRefusedException>(() => round.PrepareSeal(new SealRequest(RoundHarness.JobId, 1, []), RoundHarness.Plan, RoundHarness.BasisFor(1))).Message);
    }

    [Fact]
    public void The_stored_record_round_trips_and_says_nothing_of_its_secrets()
    {
        var harness = new RoundHarness(3);
        harness.KeyedRound(2);
        var record = harness[0].Round.Record!;
        var back = ParticipantRoundRecord.FromBytes(record.ToBytes());
        Assert.Equal(record.Secret, back.Secret);
        Assert.Equal(record.Participants, back.Participants);
        Assert.Equal(record.CommitmentsSeen!.Keys, back.CommitmentsSeen!.Keys);
        Assert.DoesNotContain(Convert.ToBase64String(record.Secret!)[..12], record.ToString());
        Assert.Contains("secrets held", record.ToString());
        Assert.Throws<ArgumentException>(() => ParticipantRoundRecord.FromBytes("{not json"u8.ToArray()));
    }

    [Fact]
    public void A_fingerprint_of_another_shape_is_refused_not_thrown_on()
    {
        var harness = new RoundHarness(3);
        var aggregator = harness.SealedRound(1, RoundHarness.Updates(3, 3000));
        var check = aggregator.AggregateCheckRequest();
        var fingerprints = harness.Parties.Select(p => p.Round.CheckAggregate(check)).ToList();
        // Party 2 signs the fingerprint of a vector of another length, at the right challenge: adding it would not type-check.
        var own = LinearFingerprint.FromBytes(fingerprints[2].Payload, RoundHarness.Parameters);
        var other = LinearFingerprint.OfMasks(EncryptedVector.Encrypt(aggregator.RoundKey, new double[5000], 4), own.Challenge).ToBytes();
        fingerprints[2] = harness[2].Sign(RoundPurpose.AggregateFingerprint, RoundHarness.JobId, 1, other);
        var refused = Assert.Throws<RoundRefusedException>(() => harness[0].Round.Decrypt(new DecryptRequest(RoundHarness.JobId, 1, fingerprints)));
        Assert.Contains("another challenge or another aggregate", refused.Message);
    }

    [Fact]
    public void A_member_that_accepted_another_key_or_plan_is_named_by_the_aggregator_and_refused_by_every_other_member()
    {
        var harness = new RoundHarness(3);
        var aggregator = harness.RevealedRound(1);
        var check = aggregator.KeyCheckRequest(RoundHarness.Plan);
        var acceptances = harness.Parties.Take(2).Select(p => p.Round.CheckKey(check)).ToList();
        // Party 2 accepts the key for another plan, as a member shown another plan would.
        var other = harness[2].Round.CheckKey(check with { PlanDigest = new byte[32] });
        Assert.Contains("XX/party-2 accepted another round key, other statements or another plan",
            Assert.Throws<RoundRefusedException>(() => aggregator.AcceptKeyAcceptance(other)).Message);
        acceptances.Add(other);
        foreach (var p in harness.Parties.Take(2))
            Assert.Contains("XX/party-2 accepted another round key",
                Assert.Throws<RoundRefusedException>(() => p.Round.PrepareSeal(new SealRequest(RoundHarness.JobId, 1, acceptances), RoundHarness.Plan, RoundHarness.BasisFor(1))).Message);
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    private DateTimeOffset _now = now;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
