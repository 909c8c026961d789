using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Wire;

namespace FedCore.Tests.Crypto;

/// <summary>Merkle commitments to ciphertexts and the participants' spot check of an aggregate.</summary>
public class CiphertextCommitmentTests
{
    private static readonly CkksParameters Parameters = CkksParameters.InsecureForTesting(256);

    private static (EncryptedVector[] Updates, EncryptedVector Sum) Round(int participants, int length)
    {
        var seed = CommonReferencePolynomial.NewSeed();
        var secrets = Enumerable.Range(0, participants).Select(_ => SecretKeyShare.Generate(Parameters, seed)).ToArray();
        var key = CollectivePublicKey.Combine(secrets.Select(s => s.PublicKeyShare));
        var random = new Random(17);
        var updates = Enumerable.Range(0, participants)
            .Select(_ => EncryptedVector.Encrypt(key, Enumerable.Range(0, length).Select(_ => random.NextDouble() - 0.5).ToArray(), 4))
            .ToArray();
        return (updates, EncryptedVector.Sum(updates));
    }

    [Fact]
    public void Every_block_opens_against_the_root_and_only_there()
    {
        var (updates, _) = Round(2, 700); // 3 ciphertexts of 256, 4 blocks each
        var commitment = CiphertextCommitment.Commit(updates[0]);
        var other = CiphertextCommitment.Commit(updates[1]);
        Assert.Equal(12, commitment.LeafCount);
        Assert.Equal(12, CiphertextCommitment.LeafCountFor(Parameters, 700));
        int[] all = Enumerable.Range(0, commitment.LeafCount).ToArray();

        var openings = all.Select(commitment.Open).ToList();
        AggregateVerification.Verify(updates[0], [commitment.Root], all, [openings]); // a "sum" of one

        Assert.Throws<AggregateVerificationException>(() => AggregateVerification.Verify(updates[0], [other.Root], all, [openings]));
        var bent = openings[5] with { C1 = (ulong[])openings[5].C1.Clone() };
        bent.C1[7] ^= 1;
        Assert.Contains("leaf 5", Assert.Throws<AggregateVerificationException>(() =>
            AggregateVerification.Verify(updates[0], [commitment.Root], [5], [[bent]])).Message);
    }

    [Fact]
    public void A_sum_wrong_in_one_block_is_caught_exactly_when_that_block_is_challenged()
    {
        var (updates, sum) = Round(3, 512);
        var commitments = updates.Select(CiphertextCommitment.Commit).ToArray();
        var roots = commitments.Select(c => c.Root).ToArray();
        // The aggregator swaps block 3 of the true sum for the same block of participant 0's update.
        var forged = EncryptedVector.FromBytes(ReplaceBlock(sum, updates[0], 3), Parameters);

        IReadOnlyList<IReadOnlyList<CoefficientOpening>> Openings(int[] leaves) =>
            commitments.Select(c => (IReadOnlyList<CoefficientOpening>)leaves.Select(c.Open).ToList()).ToList();

        int[] missing = [0, 1, 2, 4, 5, 6, 7];
        AggregateVerification.Verify(forged, roots, missing, Openings(missing));
        var caught = Assert.Throws<AggregateVerificationException>(() => AggregateVerification.Verify(forged, roots, [2, 3], Openings([2, 3])));
        Assert.Contains("at leaf 3 the aggregate is not the sum", caught.Message);
        AggregateVerification.Verify(sum, roots, [2, 3], Openings([2, 3]));
    }

    [Fact]
    public void Challenges_are_distinct_random_blocks_in_range()
    {
        var first = AggregateVerification.ChooseLeaves(1000, 40);
        var second = AggregateVerification.ChooseLeaves(1000, 40);
        Assert.Equal(40, first.Distinct().Count());
        Assert.All(first, leaf => Assert.InRange(leaf, 0, 999));
        Assert.NotEqual(first, second);
        Assert.Equal(Enumerable.Range(0, 5), AggregateVerification.ChooseLeaves(5, 40));
    }

    [Fact]
    public void Openings_on_the_wire_are_validated()
    {
        var (updates, _) = Round(1, 300);
        var commitment = CiphertextCommitment.Commit(updates[0]);
        var bytes = CommitmentOpenings.ToBytes(Parameters, [commitment.Open(1), commitment.Open(2)]);
        Assert.Equal(bytes, CommitmentOpenings.ToBytes(Parameters, CommitmentOpenings.FromBytes(bytes, Parameters)));

        Assert.Throws<HeFormatException>(() => CommitmentOpenings.FromBytes(bytes[..^1], Parameters));
        Assert.Throws<HeFormatException>(() => CommitmentOpenings.FromBytes([.. bytes, 0], Parameters));
        var huge = (byte[])bytes.Clone();
        huge[WireFormat.HeaderLength + 3] = 0x7f; // count ≫ MaxOpenings
        Assert.Contains("count", Assert.Throws<HeFormatException>(() => CommitmentOpenings.FromBytes(huge, Parameters)).Message);
        Assert.Throws<HeFormatException>(() => CommitmentOpenings.FromBytes(bytes, CkksParameters.InsecureForTesting(64)));
    }

    private static byte[] ReplaceBlock(EncryptedVector target, EncryptedVector source, int leaf)
    {
        // Rebuild through the public wire format: the aggregator controls the bytes it sends.
        var sourceOpening = CiphertextCommitment.Commit(source).Open(leaf);
        var coefficients = CoefficientsOf(target);
        var (chunk, offset) = (leaf / (Parameters.RingDimension / 64), leaf % (Parameters.RingDimension / 64) * 64);
        sourceOpening.C0.CopyTo(coefficients.C0, chunk * Parameters.RingDimension + offset);
        sourceOpening.C1.CopyTo(coefficients.C1, chunk * Parameters.RingDimension + offset);
        return Rewrite(target, coefficients.C0, coefficients.C1);
    }

    private static (ulong[] C0, ulong[] C1) CoefficientsOf(EncryptedVector v)
    {
        var commitment = CiphertextCommitment.Commit(v);
        var c0 = new ulong[v.ChunkCount * Parameters.RingDimension];
        var c1 = new ulong[v.ChunkCount * Parameters.RingDimension];
        for (int leaf = 0; leaf < commitment.LeafCount; leaf++)
        {
            var o = commitment.Open(leaf);
            o.C0.CopyTo(c0, leaf * 64);
            o.C1.CopyTo(c1, leaf * 64);
        }
        return (c0, c1);
    }

    /// <summary>Same header and metadata as <paramref name="template"/>, other coefficients (bit-packed as on the wire).</summary>
    private static byte[] Rewrite(EncryptedVector template, ulong[] c0, ulong[] c1)
    {
        var bytes = template.ToBytes();
        int bits = Parameters.WireModulusBits;
        int n = Parameters.RingDimension;
        int packed = (n * bits + 7) / 8;
        int bodyStart = WireFormat.HeaderLength + 32 + 4 + 8;
        for (int chunk = 0; chunk < template.ChunkCount; chunk++)
        {
            Pack(c0.AsSpan(chunk * n, n), bits, bytes.AsSpan(bodyStart + (2 * chunk) * packed, packed));
            Pack(c1.AsSpan(chunk * n, n), bits, bytes.AsSpan(bodyStart + (2 * chunk + 1) * packed, packed));
        }
        return bytes;
    }

    private static void Pack(ReadOnlySpan<ulong> values, int bits, Span<byte> destination)
    {
        destination.Clear();
        for (int i = 0; i < values.Length; i++)
            for (int b = 0; b < bits; b++)
                if ((values[i] >> b & 1) == 1)
                {
                    long bit = (long)i * bits + b;
                    destination[(int)(bit / 8)] |= (byte)(1 << (int)(bit % 8));
                }
    }
}
