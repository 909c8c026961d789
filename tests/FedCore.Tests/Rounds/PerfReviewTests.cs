using FedCore.Aggregation.Integrity;
using FedCore.Aggregation.Protection;
using FedCore.Crypto.Multiparty;
using FedCore.Rounds;
using Federation.Tests.Shared;

namespace FedCore.Tests.Rounds;

/// <summary>
/// A review of the aggregator's running sums, adopted arrays and cached signing keys (branch review/perf): each test plays
/// an attacker against them. The review's one finding, a colluder's part under another header getting honest parts
/// refused in their members' names, is fixed; the test now pins the fix.
/// </summary>
public sealed class PerfReviewTests
{
    private static readonly FedCore.Crypto.Ckks.CkksParameters Parameters = RoundHarness.Parameters;

    /// <summary>Steps 1–6 played honestly over every party of <paramref name="harness"/>; the parts' reveal request is returned.</summary>
    private static (AggregatorRound Aggregator, PartRevealRequest Reveal) UpToReveal(RoundHarness harness, float[][] updates)
    {
        var aggregator = harness.SealedRound(1, updates);
        return (aggregator, RoundHarness.Committed(aggregator, harness.Parties));
    }

    // ---- 1. The aggregator's running sum of the parts ------------------------------------------------------------

    [Theory]
    [InlineData("scale")]
    [InlineData("length")]
    [InlineData("key")]
    public void A_colluder_revealing_its_committed_part_under_another_header_first_is_refused_in_its_own_name_and_the_honest_parts_are_taken(string field)
    {
        // The review's finding: the running sum took the first part's header as the opening's, so the colluder's part,
        // sent first, passed, and every honest part after it was refused in its member's name (and, already in the
        // ledger, could not be sent again). The header is now checked against the round's.
        var harness = new RoundHarness(3);
        var (aggregator, reveal) = UpToReveal(harness, RoundHarness.Updates(3, 8));
        AssertForgedHeaderRefusedInItsOwnName(harness, aggregator, reveal, field);
    }

    /// <summary>
    /// The first member, revealing first, sends its committed part under another header: it is refused in its name, the
    /// honest parts after it are taken, and the opening is refused for the one part missing.
    /// </summary>
    private static void AssertForgedHeaderRefusedInItsOwnName(RoundHarness harness, AggregatorRound aggregator, PartRevealRequest reveal, string field)
    {
        var colluder = harness[0];
        var own = colluder.Round.RevealPart(reveal);
        var refused = Assert.Throws<RoundRefusedException>(() => aggregator.AcceptPart(colluder.Sign(RoundPurpose.OpeningPart, harness.Job, 1, CkksAttackTools.WithHeader(own.Payload, field))));
        Assert.Contains($"the part of {colluder.Id} is not", refused.Message);

        foreach (var honest in harness.Parties.Skip(1))
            aggregator.AcceptPart(honest.Round.RevealPart(reveal));
        var opening = Assert.Throws<RoundRefusedException>(aggregator.OpeningCheckRequest);
        Assert.Contains("1 of the members' parts were refused", opening.Message);
    }

    [Theory]
    [InlineData("scale")]
    [InlineData("length")]
    [InlineData("key")]
    public void In_a_round_taken_up_again_a_colluders_part_under_another_header_revealed_first_is_refused_in_its_own_name(string field)
    {
        // Found through grains (ColludingMemberTests, branch review/grains-colluder): a round the job takes up again from
        // step 6b has no masks, and held the parts to the first one's length and key, which the colluder chose. It is now
        // given the length the job names and the key id the job stored with the commitments.
        var harness = new RoundHarness(3);
        var (first, reveal) = UpToReveal(harness, RoundHarness.Updates(3, 8));
        var resumed = new AggregatorRound(harness.Job, 1, harness.Parties.Select(p => p.Id), harness.PublicKeys, harness.Protection, CkksProtection.SealedLength(8));
        resumed.Resume(RoundHarness.PlanFor(1), reveal.PartCommitments, first.RoundKey.KeyId.ToArray());
        AssertForgedHeaderRefusedInItsOwnName(harness, resumed, reveal, field);
    }

    [Fact]
    public void Parts_sent_from_many_threads_at_once_each_twice_open_to_the_sum_of_the_updates_each_counted_once()
    {
        // Defence: the ledger (under the round's lock) takes one part per member, and the running sum is locked, so racing
        // AcceptPart calls (the job grain calls them concurrently) and replays neither drop nor double a part.
        const int members = 6, length = 16;
        var harness = new RoundHarness(members);
        var updates = RoundHarness.Updates(members, length, seed: 7);
        var (aggregator, reveal) = UpToReveal(harness, updates);
        var parts = harness.Parties.Select(p => p.Round.RevealPart(reveal)).ToList();
        int accepted = 0, refused = 0;
        Parallel.ForEach(parts.Concat(parts).Reverse(), new ParallelOptions { MaxDegreeOfParallelism = 8 }, part =>
        {
            try
            {
                aggregator.AcceptPart(part with { Payload = (byte[])part.Payload.Clone() });
                Interlocked.Increment(ref accepted);
            }
            catch (RoundRefusedException e) when (e.Message.Contains("duplicate"))
            {
                Interlocked.Increment(ref refused);
            }
        });
        Assert.Equal((members, members), (accepted, refused));
        aggregator.OpeningCheckRequest();
        var sum = aggregator.Open();
        Assert.Equal(1.0, sum.TotalWeight, 3);
        for (int i = 0; i < length; i++)
            Assert.Equal(updates.Sum(u => u[i]) / members, sum.WeightedSum[i], 3);
    }

    [Fact]
    public void A_part_refused_for_not_being_the_committed_one_adds_nothing_and_the_opening_is_refused_not_opened_short()
    {
        // Defence: a refused part is in the ledger (so All() passes) but not in the sum; step 7 counts the parts summed and
        // refuses rather than open the others' sum without it.
        var harness = new RoundHarness(3);
        var (aggregator, reveal) = UpToReveal(harness, RoundHarness.Updates(3, 8));
        var cheat = harness[2];
        var own = OpenedPlaintext.FromBytes(cheat.Round.RevealPart(reveal).Payload, Parameters);
        var other = OpenedPlaintext.FromBytes(harness[1].Round.RevealPart(reveal).Payload, Parameters);
        var forged = OpenedPlaintext.Sum([own, other]).ToBytes(); // not the part it committed to
        Assert.Throws<RoundRefusedException>(() => aggregator.AcceptPart(cheat.Sign(RoundPurpose.OpeningPart, harness.Job, 1, forged)));
        aggregator.AcceptPart(harness[0].Round.RevealPart(reveal));
        aggregator.AcceptPart(harness[1].Round.RevealPart(reveal));
        var refusal = Assert.Throws<RoundRefusedException>(aggregator.OpeningCheckRequest);
        Assert.Contains("refused", refusal.Message);
        Assert.Throws<RoundRefusedException>(() => aggregator.AcceptPart(cheat.Round.RevealPart(reveal))); // a duplicate now
    }

    // ---- 3. Signing keys imported once and cached by party id -----------------------------------------------------

    [Fact]
    public void A_message_signed_with_one_partys_cached_key_is_never_accepted_as_another_partys_through_a_view()
    {
        using var alice = ParticipantSigningKey.Generate();
        using var bob = ParticipantSigningKey.Generate();
        var keys = new VerifyingKeys(new Dictionary<string, byte[]> { ["XX/alice"] = alice.PublicKey, ["XX/bob"] = bob.PublicKey, ["XX/carol"] = [1, 2, 3] });
        byte[] message = "m"u8.ToArray();
        byte[] byAlice = alice.Sign(message);
        Assert.True(keys.Verifies("XX/alice", message, byAlice)); // alice's key imported and cached
        var view = keys.Of(["XX/bob", "XX/carol"]);
        Assert.False(view.Verifies("XX/alice", message, byAlice)); // outside the view, though cached
        Assert.False(view.Verifies("XX/bob", message, byAlice));
        Assert.False(keys.Verifies("XX/bob", message, byAlice));
        Assert.False(keys.Verifies("xx/alice", message, byAlice)); // ids are ordinal
        Assert.False(keys.Verifies("XX/ALICE", message, byAlice));
        Assert.False(view.Contains("XX/alice"));
        // A malformed key is refused, and stays refused for any signature, through any view.
        Assert.False(keys.Verifies("XX/carol", message, byAlice));
        Assert.False(view.Verifies("XX/carol", message, byAlice));
        Assert.Throws<KeyNotFoundException>(() => keys.Of(["XX/mallory"]));
        Assert.ThrowsAny<ArgumentException>(() => keys.Of(["XX/bob", "XX/bob"]));
    }

    [Fact]
    public void A_round_ledger_over_a_view_refuses_a_member_outside_the_round_even_with_its_key_cached_by_an_earlier_step()
    {
        // The participant's steps share one VerifyingKeys (ParticipantRound._partyKeys): a party of the job that is not a
        // member of this round must still be refused.
        var harness = new RoundHarness(4);
        var keys = new VerifyingKeys(harness.PublicKeys);
        var outsider = harness[3];
        var m = outsider.Sign(RoundPurpose.PartCommitment, harness.Job, 1, new byte[64]);
        Assert.True(keys.Verifies(outsider.Id, SignedStatement.For(RoundPurpose.PartCommitment, harness.Job, 1, outsider.Id, CkksProtection.SchemeName, m.Payload).ToBytes(), m.Signature));
        var ledger = new RoundUpdateLedger(RoundPurpose.PartCommitment, harness.Job, 1, CkksProtection.SchemeName, keys.Of(harness.Parties.Take(3).Select(p => p.Id)));
        Assert.Throws<RejectedUpdateException>(() => ledger.Accept(m.ParticipantId, m.JobId, m.Round, m.Scheme, m.Payload, m.Signature));
        // Its signature under another member's name is refused too.
        Assert.Throws<RejectedUpdateException>(() => ledger.Accept(harness[0].Id, m.JobId, m.Round, m.Scheme, m.Payload, m.Signature));
    }
}
