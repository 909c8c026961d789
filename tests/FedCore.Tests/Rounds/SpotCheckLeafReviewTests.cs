using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Wire;
using FedCore.Rounds;
using Federation.Tests.Shared;

namespace FedCore.Tests.Rounds;

/// <summary>
/// Session review (branch review/session-dec1) of 5f645be: spot-check leaves of 256 coefficients instead of 64. Plays the
/// colluder against Tree/Open/Read/Positions/Locate and the step-8 check: offsets at leaf and polynomial boundaries,
/// parts of several polynomials, parts with fewer leaves than spot checks, a leaf passed off at a neighbouring position
/// or in a tree of another size, and a single changed coefficient in the last leaf of a real round.
/// </summary>
public class SpotCheckLeafReviewTests
{
    private static readonly CkksParameters Parameters = CkksParameters.Default;
    private static int N => Parameters.RingDimension;
    private static int LeavesPerPolynomial => N / OpeningSpotCheck.LeafCoefficients;

    /// <summary>A plaintext of <paramref name="chunks"/> polynomials with the given coefficients (chunk-major), as the wire carries it.</summary>
    private static OpenedPlaintext Plaintext(int chunks, ulong[] coefficients, int? length = null)
    {
        int packed = BitPacking.PackedLength(N, Parameters.WireModulusBits);
        var writer = new WireWriter(WireKind.OpenedPlaintext, Parameters, 32 + 4 + 8 + chunks * (long)packed);
        writer.WriteBytes(new byte[32]);
        writer.WriteUInt32((uint)(length ?? chunks * N));
        writer.WriteDouble(1 << 20);
        for (int c = 0; c < chunks; c++)
            writer.WritePacked(coefficients.AsSpan(c * N, N), Parameters.WireModulusBits);
        return OpenedPlaintext.FromBytes(writer.ToArray(), Parameters);
    }

    private static ulong[] Random(int chunks, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, chunks * N).Select(_ => (ulong)random.NextInt64((long)Parameters.WireModulus))];
    }

    private static long[] All(long leaves) => [.. Enumerable.Range(0, (int)leaves).Select(i => (long)i)];

    [Fact]
    public void Every_leaf_of_a_three_polynomial_part_opens_to_exactly_its_own_256_coefficients_and_nothing_past_the_last()
    {
        var values = Random(3, 1);
        var part = Plaintext(3, values);
        long leaves = OpeningSpotCheck.LeafCount(part);
        Assert.Equal(3 * LeavesPerPolynomial, leaves);
        var tree = OpeningSpotCheck.Tree(part);
        var positions = All(leaves);
        var opened = OpeningSpotCheck.Read(OpeningSpotCheck.Open(part, tree, positions), tree.Root, positions, leaves, Parameters.WireModulus, out var why);
        Assert.Null(why);
        for (int p = 0; p < leaves; p++)
            Assert.Equal(values.AsSpan(p * OpeningSpotCheck.LeafCoefficients, OpeningSpotCheck.LeafCoefficients).ToArray(), opened![p]);
        // Past the last leaf there is nothing to open.
        Assert.Throws<ArgumentOutOfRangeException>(() => OpeningSpotCheck.Open(part, tree, [leaves]));
        Assert.Throws<ArgumentOutOfRangeException>(() => OpeningSpotCheck.Open(part, tree, [-1]));
    }

    [Fact]
    public void A_colluder_cannot_pass_a_committed_leaf_off_at_a_neighbouring_position_nor_another_leaf_off_at_any_tree_size()
    {
        var part = Plaintext(2, Random(2, 2));
        long leaves = OpeningSpotCheck.LeafCount(part);
        var tree = OpeningSpotCheck.Tree(part);
        for (long p = 0; p < leaves; p++)
        {
            var answer = OpeningSpotCheck.Open(part, tree, [p]);
            foreach (long other in new[] { p - 1, p + 1 }.Where(o => o >= 0 && o < leaves))
                Assert.Null(OpeningSpotCheck.Read(answer, tree.Root, [other], leaves, Parameters.WireModulus, out _));
            // Another leaf in its place (one coefficient moved) with the same path: refused at the size the verifier uses
            // (R's), and at any other size too. (The committed leaf itself may verify at a neighbouring size, RFC 6962 paths
            // being shared between sizes; harmless, as the verifier takes the size from R and the leaf is still the committed one.)
            var swapped = (byte[])answer.Clone();
            swapped[8 * 17] ^= 1;
            for (long size = p + 1; size <= 4 * leaves; size++)
                Assert.Null(OpeningSpotCheck.Read(swapped, tree.Root, [p], size, ulong.MaxValue, out _));
            // A trailing byte, or the leaf cut by one coefficient.
            Assert.Null(OpeningSpotCheck.Read([.. answer, 0], tree.Root, [p], leaves, Parameters.WireModulus, out _));
            Assert.Null(OpeningSpotCheck.Read(answer.AsSpan(8).ToArray(), tree.Root, [p], leaves, Parameters.WireModulus, out _));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(4095)]   // the last coefficient of the first polynomial: its last leaf
    [InlineData(4096)]   // the first of the second
    [InlineData(4096 + 3 * 256 - 1)]
    [InlineData(3 * 4096 - 1)] // the very last coefficient
    public void A_change_to_any_single_coefficient_is_caught_at_exactly_its_own_leaf(int coefficient)
    {
        // Two members' parts add up to R; the aggregator opens R with one coefficient moved by 1. With every leaf drawn,
        // the mismatch is reported at the one leaf holding that coefficient, and at no other.
        var p1 = Random(3, 3);
        var p2 = Random(3, 4);
        var q0 = Parameters.Context.WireModulus;
        var sum = p1.Zip(p2, q0.Add).ToArray();
        sum[coefficient] = q0.Add(sum[coefficient], 1);
        var parts = new[] { Plaintext(3, p1), Plaintext(3, p2) };
        var forged = Plaintext(3, sum);
        long leaves = OpeningSpotCheck.LeafCount(forged);
        long expected = coefficient / OpeningSpotCheck.LeafCoefficients;

        var memberLeaves = parts.Select(part =>
        {
            var tree = OpeningSpotCheck.Tree(part);
            return OpeningSpotCheck.Read(OpeningSpotCheck.Open(part, tree, All(leaves)), tree.Root, All(leaves), leaves, Parameters.WireModulus, out _)!;
        }).ToList();
        Assert.Equal(expected, OpeningSpotCheck.Mismatch(forged, All(leaves), memberLeaves));
        // Drawn everywhere but there, it passes: the check is exactly as wide as one leaf, no more and no less.
        var elsewhere = All(leaves).Where(p => p != expected).ToArray();
        var partial = memberLeaves.Select(l => l.Where((_, i) => i != expected).ToArray()).ToList();
        Assert.Null(OpeningSpotCheck.Mismatch(forged, elsewhere, partial));
    }

    [Fact]
    public void A_part_with_no_more_leaves_than_spot_checks_has_every_leaf_drawn_and_a_larger_one_32_distinct()
    {
        byte[] challenge = RoundHarness.Sha256([7]);
        byte[][] nonces = [RoundHarness.Sha256([1]), RoundHarness.Sha256([2])];
        for (long leaves = 1; leaves <= 200; leaves++)
        {
            var positions = OpeningSpotCheck.Positions(challenge, nonces, leaves);
            if (leaves <= OpeningSpotCheck.SpotChecks)
                Assert.Equal(All(leaves), positions);
            else
            {
                Assert.Equal(OpeningSpotCheck.SpotChecks, positions.Distinct().Count());
                Assert.All(positions, p => Assert.InRange(p, 0, leaves - 1));
            }
        }
    }

    [Fact]
    public void The_wider_leaves_expose_a_changed_coefficient_to_more_checks_never_fewer()
    {
        // The colluder's best change is the sparsest: one coefficient per polynomial it touches. At 10⁶ values (245
        // polynomials) with m polynomials changed, a fraction m/(245·16) of the leaves is changed now, m/(245·64) before;
        // the pass probability (1 − f)^32 can only fall. With every coefficient changed, f is the same either way.
        int polynomials = (1_000_000 + N - 1) / N;
        foreach (int m in new[] { 1, 10, 100, 245 })
        {
            double now = Math.Pow(1 - m / (double)(polynomials * LeavesPerPolynomial), OpeningSpotCheck.SpotChecks);
            double before = Math.Pow(1 - m / (double)(polynomials * (N / 64)), OpeningSpotCheck.SpotChecks);
            Assert.True(now <= before, $"m = {m}: {now} > {before}");
        }
        Assert.Equal(16, LeavesPerPolynomial); // rounds run at the default N = 4096; no smaller ring reaches a round
    }

    [Fact]
    public void A_colluder_moving_only_the_last_coefficient_of_the_opened_plaintext_is_refused_at_step_8()
    {
        // As OpeningSpotCheckTests.Attack, but δ is 2¹² in coefficient N − 1 only (the last leaf, the one an
        // offset error at the end of a polynomial would miss), with the colluder's fingerprint forged to match.
        var job = new ChainedJob();
        var members = job.Harness.Parties;
        var ids = members.Select(p => p.Id).ToList();
        var colluder = members[3];
        var aggregator = job.Decrypted(1, members);
        var commitments = aggregator.PartRevealRequest().PartCommitments;
        var honest = OpenedPlaintext.Sum([.. members.Select(p => OpenedPlaintext.FromBytes(job.LastParts[p.Id].Payload, Parameters))]);
        Assert.Equal(1, honest.ChunkCount);
        const ulong shift = 1UL << 12;
        var altered = CkksAttackTools.EditFirstPolynomial(honest, c => c[^1] = (c[^1] + shift) % Parameters.WireModulus);
        var delta = CkksAttackTools.EditFirstPolynomial(honest, c => { Array.Clear(c); c[^1] = shift; });
        byte[] openedDigest = RoundHarness.Sha256(altered.ToBytes());
        var challenge = RoundChallenges.OpeningChallenge(RoundChallenges.SetDigest(job.Id, 1, ids), job.Plan.Digest, openedDigest,
            RoundChallenges.PartCommitmentsDigest(ids, commitments.ToDictionary(c => c.ParticipantId, c => c.Payload)));
        var answers = members.Select(p => p.Round.CheckOpening(new OpeningCheckRequest(job.Id, 1, openedDigest))).ToList();
        var own = OpeningSpotCheck.SplitNonce(answers[3].Payload)!.Value;
        var forgedFingerprint = LinearFingerprint.Sum([LinearFingerprint.FromBytes(own.Fingerprint, Parameters), LinearFingerprint.OfOpening(delta, challenge)]);
        answers[3] = colluder.Sign(RoundPurpose.OpeningFingerprint, job.Id, 1, OpeningSpotCheck.JoinNonce(own.Nonce, forgedFingerprint.ToBytes()));
        var leaves = members.Select(p => p.Round.OpenLeaves(new SpotCheckRequest(job.Id, 1, answers))).ToList();
        var forged = new OpeningRequest(job.Id, 1, ids, altered.ToBytes(), commitments, answers, leaves);
        foreach (var p in members.Take(3))
        {
            var refusal = Assert.Throws<RoundRefusedException>(() => p.Round.AdvanceChain(forged, job.Global, null));
            Assert.Contains($"they differ at leaf {LeavesPerPolynomial - 1}", refusal.Message);
            Assert.Equal(0, p.Round.Chain!.Version);
        }
    }

    [Fact]
    public void A_part_over_a_ring_smaller_than_a_leaf_is_refused_rather_than_read_past_its_polynomials()
    {
        var parameters = FedCore.Crypto.Ckks.CkksParameters.InsecureForTesting(64);
        var secret = FedCore.Crypto.Multiparty.SecretKeyShare.Generate(parameters, new byte[32]);
        var key = FedCore.Crypto.Multiparty.CollectivePublicKey.Combine([secret.PublicKeyShare]);
        var shape = FedCore.Crypto.Multiparty.EncryptedVector.Encrypt(key, new double[10], 4);
        var part = FedCore.Crypto.Multiparty.OpenedPlaintext.FromPolynomials(shape, new ulong[64]);

        Assert.Contains("does not split into leaves of 256 coefficients", Assert.Throws<ArgumentException>(() => OpeningSpotCheck.LeafCount(part)).Message);
        Assert.Throws<ArgumentException>(() => OpeningSpotCheck.Tree(part));
    }
}
