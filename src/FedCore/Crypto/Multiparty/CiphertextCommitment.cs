using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using FedCore.Audit;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Wire;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// A Merkle commitment (RFC 6962 tree) to an encrypted vector, in blocks of <see cref="MaxBlockLength"/> coefficients
/// of c0 and c1 (fewer only in the insecure test rings smaller than that). Its author signs the root; later any block can be opened with an inclusion proof. This lets a
/// participant check, before it helps decrypt an aggregate, that the aggregate really is the sum of the round's
/// signed updates (<see cref="AggregateVerification"/>), instead of trusting the aggregator.
/// Every leaf carries the vector's parameter fingerprint, key id, length and scale, so an opening binds them too.
/// </summary>
public sealed class CiphertextCommitment
{
    public const int MaxBlockLength = 64;
    private static readonly byte[] LeafDomain = Encoding.ASCII.GetBytes("FedCore/CKKS/ciphertext-commitment-leaf/v1\0");

    private readonly EncryptedVector _vector;
    private readonly MerkleTree _tree;

    private CiphertextCommitment(EncryptedVector vector, MerkleTree tree)
    {
        _vector = vector;
        _tree = tree;
    }

    /// <summary>The Merkle root: what the author signs.</summary>
    public byte[] Root => _tree.Root;

    public int LeafCount => _tree.LeafCount;

    public static CiphertextCommitment Commit(EncryptedVector vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        int length = BlockLength(vector.Parameters);
        int blocks = vector.Parameters.RingDimension / length;
        var leaves = new byte[vector.ChunkCount * blocks][];
        var buffer = new byte[LeafByteLength(length)];
        for (int chunk = 0, leaf = 0; chunk < vector.ChunkCount; chunk++)
            for (int block = 0; block < blocks; block++, leaf++)
            {
                WriteLeaf(buffer, vector, leaf, vector.C0(chunk).Slice(block * length, length), vector.C1(chunk).Slice(block * length, length));
                leaves[leaf] = MerkleTree.HashLeaf(buffer);
            }
        return new CiphertextCommitment(vector, MerkleTree.FromLeafHashes(leaves));
    }

    /// <summary>Number of leaves of a commitment to a vector of <paramref name="length"/> values.</summary>
    public static int LeafCountFor(CkksParameters parameters, int length)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        int chunks = (int)((length + (long)parameters.RingDimension - 1) / parameters.RingDimension);
        return checked(chunks * (parameters.RingDimension / BlockLength(parameters)));
    }

    /// <summary>Coefficients of c0 (and of c1) per leaf.</summary>
    public static int BlockLength(CkksParameters parameters) => Math.Min(MaxBlockLength, parameters.RingDimension);

    /// <summary>Block <paramref name="leaf"/> of c0 and c1 with its inclusion proof.</summary>
    public CoefficientOpening Open(int leaf)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(leaf);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(leaf, LeafCount);
        var (chunk, offset) = Locate(_vector.Parameters, leaf);
        int length = BlockLength(_vector.Parameters);
        return new CoefficientOpening(
            leaf,
            _vector.C0(chunk).Slice(offset, length).ToArray(),
            _vector.C1(chunk).Slice(offset, length).ToArray(),
            _tree.InclusionProof(leaf));
    }

    /// <summary>True if <paramref name="opening"/> is block opening.Leaf of a vector with <paramref name="shape"/>'s metadata committed to by <paramref name="root"/>.</summary>
    internal static bool Verifies(ReadOnlySpan<byte> root, EncryptedVector shape, CoefficientOpening opening)
    {
        int leafCount = LeafCountFor(shape.Parameters, shape.Length);
        int length = BlockLength(shape.Parameters);
        if (opening.Leaf < 0 || opening.Leaf >= leafCount || opening.C0.Length != length || opening.C1.Length != length)
            return false;
        var buffer = new byte[LeafByteLength(length)];
        WriteLeaf(buffer, shape, opening.Leaf, opening.C0, opening.C1);
        return MerkleTree.VerifyInclusion(MerkleTree.HashLeaf(buffer), opening.Leaf, leafCount, opening.Path, root);
    }

    internal static (int Chunk, int Offset) Locate(CkksParameters parameters, int leaf)
    {
        int length = BlockLength(parameters);
        int blocks = parameters.RingDimension / length;
        return (leaf / blocks, leaf % blocks * length);
    }

    // domain, parameter fingerprint, key id, length, scale, leaf index, c0 and c1 of the block as uint64s
    private static int LeafByteLength(int blockLength) => LeafDomain.Length + 32 + 32 + 4 + 8 + 4 + 2 * blockLength * 8;

    private static void WriteLeaf(Span<byte> buffer, EncryptedVector v, int leaf, ReadOnlySpan<ulong> c0, ReadOnlySpan<ulong> c1)
    {
        int at = 0;
        LeafDomain.CopyTo(buffer);
        at += LeafDomain.Length;
        v.Parameters.Fingerprint.Span.CopyTo(buffer[at..]);
        at += 32;
        v.KeyId.Span.CopyTo(buffer[at..]);
        at += 32;
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[at..], (uint)v.Length);
        at += 4;
        BinaryPrimitives.WriteDoubleLittleEndian(buffer[at..], v.Scale);
        at += 8;
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[at..], (uint)leaf);
        at += 4;
        for (int j = 0; j < c0.Length; j++, at += 8)
            BinaryPrimitives.WriteUInt64LittleEndian(buffer[at..], c0[j]);
        for (int j = 0; j < c1.Length; j++, at += 8)
            BinaryPrimitives.WriteUInt64LittleEndian(buffer[at..], c1[j]);
    }
}

/// <summary>One committed block of c0 and c1 and the Merkle path that ties it to the author's root.</summary>
public sealed record CoefficientOpening(int Leaf, ulong[] C0, ulong[] C1, byte[][] Path);

/// <summary>
/// Openings of one committed vector at the leaves a participant challenged. Wire body: count (uint32), then per
/// opening: leaf (uint32), c0 and c1 bit-packed at the wire modulus width, path length (1 byte), path hashes.
/// </summary>
public static class CommitmentOpenings
{
    /// <summary>Far more than any challenge needs; bounds what a reader allocates.</summary>
    public const int MaxOpenings = 4096;
    public const int MaxPathLength = 40;

    public static byte[] ToBytes(CkksParameters parameters, IReadOnlyList<CoefficientOpening> openings)
    {
        int bits = parameters.WireModulusBits;
        int packed = BitPacking.PackedLength(CiphertextCommitment.BlockLength(parameters), bits);
        long body = 4 + openings.Sum(o => 4L + 2 * packed + 1 + o.Path.Length * (long)MerkleTree.HashLength);
        var writer = new WireWriter(WireKind.CommitmentOpenings, parameters, body);
        writer.WriteUInt32((uint)openings.Count);
        foreach (var o in openings)
        {
            writer.WriteUInt32((uint)o.Leaf);
            writer.WritePacked(o.C0, bits);
            writer.WritePacked(o.C1, bits);
            writer.WriteBytes([(byte)o.Path.Length]);
            foreach (var hash in o.Path)
                writer.WriteBytes(hash);
        }
        return writer.ToArray();
    }

    public static IReadOnlyList<CoefficientOpening> FromBytes(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        var reader = new WireReader(data, WireKind.CommitmentOpenings, parameters);
        uint count = reader.ReadUInt32("count");
        if (count > MaxOpenings)
            throw reader.Fail("count", $"{count} openings is more than the {MaxOpenings} a reader accepts");
        int bits = parameters.WireModulusBits;
        var openings = new List<CoefficientOpening>((int)count);
        for (int i = 0; i < count; i++)
        {
            uint leaf = reader.ReadUInt32($"opening {i} leaf");
            if (leaf > int.MaxValue)
                throw reader.Fail($"opening {i} leaf", $"{leaf} is not a leaf index");
            var c0 = new ulong[CiphertextCommitment.BlockLength(parameters)];
            var c1 = new ulong[CiphertextCommitment.BlockLength(parameters)];
            reader.ReadPacked(c0, bits, parameters.WireModulus, $"opening {i} c0");
            reader.ReadPacked(c1, bits, parameters.WireModulus, $"opening {i} c1");
            int pathLength = reader.ReadBytes(1, $"opening {i} path length")[0];
            if (pathLength > MaxPathLength)
                throw reader.Fail($"opening {i} path length", $"{pathLength} hashes is more than {MaxPathLength}");
            var path = new byte[pathLength][];
            for (int k = 0; k < pathLength; k++)
                path[k] = reader.ReadBytes(MerkleTree.HashLength, $"opening {i} path hash {k}").ToArray();
            openings.Add(new CoefficientOpening((int)leaf, c0, c1, path));
        }
        reader.RequireEnd();
        return openings;
    }
}

/// <summary>
/// A participant's check, before it gives a decryption share, that an aggregate is the sum of the round's
/// committed updates: at leaves it chose at random after the aggregate was fixed, every contributor's opening
/// must verify against that contributor's signed root, and the aggregate's coefficients must equal the openings'
/// sum mod q0. An aggregate that differs from the true sum on a fraction d of the leaves passes k challenges
/// with probability at most (1 − d)^k; decrypting anything else than the sum (one participant's update, say)
/// needs d close to 1.
/// </summary>
public static class AggregateVerification
{
    /// <summary>Distinct leaves drawn uniformly with the operating system's CSPRNG.</summary>
    public static int[] ChooseLeaves(int leafCount, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(leafCount);
        count = Math.Min(count, leafCount);
        var chosen = new HashSet<int>();
        while (chosen.Count < count)
            chosen.Add(RandomNumberGenerator.GetInt32(leafCount));
        return [.. chosen.Order()];
    }

    public static void Verify(EncryptedVector aggregate, IReadOnlyList<byte[]> roots, IReadOnlyList<int> leaves,
        IReadOnlyList<IReadOnlyList<CoefficientOpening>> openings)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        if (roots.Count == 0)
            throw new AggregateVerificationException("there are no committed updates to check the aggregate against");
        if (openings.Count != roots.Count)
            throw new AggregateVerificationException($"{openings.Count} sets of openings for {roots.Count} committed updates");
        Modulus q0 = aggregate.Parameters.Context.WireModulus;
        for (int k = 0; k < leaves.Count; k++)
        {
            int leaf = leaves[k];
            int length = CiphertextCommitment.BlockLength(aggregate.Parameters);
            var sum0 = new ulong[length];
            var sum1 = new ulong[length];
            for (int i = 0; i < roots.Count; i++)
            {
                var opening = openings[i].FirstOrDefault(o => o.Leaf == leaf)
                    ?? throw new AggregateVerificationException($"update #{i} has no opening of challenged leaf {leaf}");
                if (!CiphertextCommitment.Verifies(roots[i], aggregate, opening))
                    throw new AggregateVerificationException($"update #{i}'s opening of leaf {leaf} does not match its signed commitment");
                RnsRing.AddInPlace(q0, sum0, opening.C0);
                RnsRing.AddInPlace(q0, sum1, opening.C1);
            }
            var (chunk, offset) = CiphertextCommitment.Locate(aggregate.Parameters, leaf);
            if (!aggregate.C0(chunk).Slice(offset, length).SequenceEqual(sum0)
                || !aggregate.C1(chunk).Slice(offset, length).SequenceEqual(sum1))
                throw new AggregateVerificationException($"at leaf {leaf} the aggregate is not the sum of the committed updates");
        }
    }
}

/// <summary>An aggregate failed a participant's check; the participant gives no decryption share for it.</summary>
public sealed class AggregateVerificationException(string reason) : Exception($"The aggregate was refused: {reason}.");
