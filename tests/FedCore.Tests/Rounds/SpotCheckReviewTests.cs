using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Ring;
using FedCore.Rounds;
using Federation.Tests.Shared;

namespace FedCore.Tests.Rounds;

/// <summary>
/// Review of the committed, spot-checked opening (branch review/spot). The claim under review: the aggregator plus one
/// colluder cannot make the honest parties advance by anything but the sum of the members' parts, in particular cannot
/// hold the model still, which would give two nearly equal consecutive bases and a read of one member's update by
/// differencing sums over S and S ∖ {v}. The review's two findings worked against the first version; both tests now
/// assert the refusal.
/// </summary>
public class SpotCheckReviewTests
{
    private static readonly CkksParameters Parameters = CkksParameters.Default;

    // ---- Finding 1: a blind, data-independent part still holds the model (nearly) still -------------------------------

    [Fact]
    public void A_colluder_committing_blind_to_its_part_plus_a_large_total_weight_cannot_damp_the_step()
    {
        // The commitment fixes the colluder's part before the others are revealed, but not that it is c0 + h: it commits to
        // its part plus the encoding of (0, …, 0, 14), which adds 14 to the opened total weight only. That needs no knowledge
        // of the honest sum, so it is revealed, fingerprinted and spot-checked honestly. The opened mean Σwu / (Σw + 14) was
        // 15× smaller, and version 1 over S ∖ {v} then read v's update to 2.2 % (31 % on an honest chain). Now every party
        // checks the opened total weight against the members' rows, which their signed moments count.
        var job = new ChainedJob();
        var members = job.Harness.Parties;
        var colluder = members[3];
        var honest = members.Take(3).ToList();
        var aggregator = job.AggregateChecked(1, members);
        var decrypt = aggregator.DecryptRequest();
        foreach (var p in honest)
            aggregator.AcceptPartCommitment(p.Round.Decrypt(decrypt));

        // The colluder: its honest part, computed as any member's, then the blind addition, committed to as if it were its part.
        colluder.Round.Decrypt(decrypt);
        var forgedPart = AddToLastValue(OpenedPlaintext.FromBytes(colluder.Round.OpeningPart!, Parameters), 14);
        var record = colluder.Round.Record!;
        byte[] commitment = OpeningSpotCheck.Commitment(OpeningSpotCheck.Tree(forgedPart).Root, record.Part!.Nonce);
        var forged = new ParticipantRound(colluder.Round.Terms, record with { Part = record.Part with { Commitment = commitment } },
            b => colluder.Key.Sign(b), new OpenedSums(), chain: colluder.Round.Chain, openingPart: forgedPart.ToBytes());
        aggregator.AcceptPartCommitment(colluder.Sign(RoundPurpose.PartCommitment, job.Id, 1, commitment));

        // Steps 6b–7b: the honest members and the colluder's forged host answer as the protocol says; every check up to the weight passes.
        var reveal = aggregator.PartRevealRequest();
        foreach (var p in honest)
            aggregator.AcceptPart(p.Round.RevealPart(reveal));
        aggregator.AcceptPart(forged.RevealPart(reveal));
        var openingCheck = aggregator.OpeningCheckRequest();
        foreach (var p in honest)
            aggregator.AcceptOpeningFingerprint(p.Round.CheckOpening(openingCheck));
        aggregator.AcceptOpeningFingerprint(forged.CheckOpening(openingCheck));
        var spots = aggregator.SpotCheckRequest();
        foreach (var p in honest)
            aggregator.AcceptOpenedLeaves(p.Round.OpenLeaves(spots));
        aggregator.AcceptOpenedLeaves(forged.OpenLeaves(spots));
        Assert.Equal(15, aggregator.Open().TotalWeight, 3);
        var opening = aggregator.OpeningRequest();
        foreach (var p in members)
        {
            Assert.Contains("an update's weight is not its row count", Assert.Throws<RoundRefusedException>(() => p.Round.AdvanceChain(opening, job.Global, null)).Message);
            Assert.Equal(0, p.Round.Chain!.Version);
        }
    }

    // ---- Finding 2: two rounds of one version, interleaved ----------------------------------------------------------

    [Fact]
    public void A_second_round_of_a_version_sealed_before_the_first_revealed_neither_opens_nor_erases_the_first_rounds_part()
    {
        // Foreknowledge attempt: round 1 reaches step 6 (every member committed); round 2 from the same version and members
        // is keyed and sealed (allowed: nothing was revealed yet); round 1's parts are revealed, so the aggregator knows the
        // version's sum before round 2's commitments exist, where a colluder would commit to its cancellation. In the review,
        // no member revealed round 2's part, but round 2's step 6 replaced each member's stored part of round 1, which could
        // then never finish: the job's chain was stuck for good. Now round 2's step 6 is refused, and round 1 finishes.
        var job = new ChainedJob();
        var members = job.Harness.Parties;
        var first = Committed(job, 1, members);
        var second = job.AggregateChecked(2, members);
        var reveal1 = first.PartRevealRequest();
        foreach (var p in members)
            first.AcceptPart(p.Round.RevealPart(reveal1));

        var decrypt2 = second.DecryptRequest();
        foreach (var p in members)
            Assert.Contains("that round must be finished", Assert.Throws<RoundRefusedException>(() => p.Round.Decrypt(decrypt2)).Message);
        job.Advance(first, job.Opening(first, members), members);
    }

    /// <summary>Steps 1–6: every member's part commitment is in, nothing revealed.</summary>
    private static AggregatorRound Committed(ChainedJob job, int round, IReadOnlyList<Party> members)
    {
        var aggregator = job.AggregateChecked(round, members);
        var decrypt = aggregator.DecryptRequest();
        foreach (var p in members)
            aggregator.AcceptPartCommitment(p.Round.Decrypt(decrypt));
        return aggregator;
    }

    // ---- Malformed step-8 input from a colluder: refusals, not crashes --------------------------------------------------

    [Fact]
    public void Malformed_leaves_or_answers_signed_by_a_colluder_are_refused_at_step_8_not_thrown_on()
    {
        var job = new ChainedJob();
        var members = job.Harness.Parties;
        var aggregator = job.Decrypted(1, members);
        var request = job.Opening(aggregator, members);
        var colluder = members[3];
        int at = request.Participants.ToList().IndexOf(colluder.Id);
        byte[] goodLeaves = request.OpenedLeaves[at].Payload;
        byte[] goodAnswer = request.OpeningFingerprints[at].Payload;
        List<byte[]> leafVariants =
        [
            [],
            [1],
            [.. goodLeaves[..(OpeningSpotCheck.LeafCoefficients * 8)], 255],
            [.. goodLeaves, 0],
            [.. goodLeaves[..^1]],
            Enumerable.Repeat((byte)0xFF, goodLeaves.Length).ToArray(),
        ];
        List<byte[]> answerVariants =
        [
            goodAnswer[..OpeningSpotCheck.NonceLength],
            [.. goodAnswer[..OpeningSpotCheck.NonceLength], 0],
            [.. goodAnswer, 0],
            [.. goodAnswer[..OpeningSpotCheck.NonceLength], .. Enumerable.Repeat((byte)0xFF, goodAnswer.Length - OpeningSpotCheck.NonceLength)],
        ];
        foreach (var bad in leafVariants)
        {
            var leaves = request.OpenedLeaves.ToList();
            leaves[at] = colluder.Sign(RoundPurpose.OpenedLeaves, job.Id, 1, bad);
            foreach (var p in members.Take(3))
                Assert.Throws<RoundRefusedException>(() => p.Round.AdvanceChain(request with { OpenedLeaves = leaves }, job.Global, null));
        }
        foreach (var bad in answerVariants)
        {
            var answers = request.OpeningFingerprints.ToList();
            answers[at] = colluder.Sign(RoundPurpose.OpeningFingerprint, job.Id, 1, bad);
            foreach (var p in members.Take(3))
                Assert.Throws<RoundRefusedException>(() => p.Round.AdvanceChain(request with { OpeningFingerprints = answers }, job.Global, null));
        }
        // Still at version 0, and the honest request still advances every party.
        job.Advance(aggregator, request, members);
    }

    /// <summary>The plaintext plus the encoding of (0, …, 0, x) at its scale: x is added to its last value (the total weight) only.</summary>
    private static OpenedPlaintext AddToLastValue(OpenedPlaintext part, double x)
    {
        Assert.Equal(1, part.ChunkCount);
        var values = new double[part.Length];
        values[^1] = x / 2; // encoded twice: the encoder's own range check is √2 × tighter than what decodes
        var addend = new ulong[Parameters.RingDimension];
        Parameters.Context.Encoder.Encode(values, part.Scale, Parameters.Context.WireModulus, addend);
        return CkksAttackTools.EditFirstPolynomial(part, c =>
        {
            for (int j = 0; j < c.Length; j++)
                c[j] = Parameters.Context.WireModulus.Add(c[j], Parameters.Context.WireModulus.Add(addend[j], addend[j]));
        });
    }
}
