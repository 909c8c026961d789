using System.Buffers.Binary;
using System.Security.Cryptography;
using FedCore.Audit;
using FedCore.Crypto.Multiparty;

namespace FedCore.Rounds;

/// <summary>
/// The commitment to a member's part of an opened plaintext and the spot checks against it (README next to this file,
/// steps 6–8). A part (c0ᵢ + hᵢ, shaped as an <see cref="OpenedPlaintext"/>) is cut into leaves of
/// <see cref="LeafCoefficients"/> consecutive coefficients of one polynomial, each written as little-endian uint64; the
/// member commits to the RFC 6962 Merkle root over them (<see cref="MerkleTree"/>) and to the hash of a fresh nonce before
/// any part is revealed. Once the opened plaintext R is fixed and every nonce revealed, every member opens the leaves at
/// <see cref="SpotChecks"/> positions drawn from H(τ, nonces), with their inclusion paths, and a party checks each against
/// its member's root and that the members' leaves add up to R there.
/// </summary>
public static class OpeningSpotCheck
{
    /// <summary>
    /// Coefficients per leaf: 2 KB, beside an inclusion path of 12 hashes at 10⁶ values. Hashing a part costs the hash calls
    /// more than the bytes: at 64 coefficients a leaf a part's tree took 37–65 ms, at 256 10 ms (one SHA-256 over it, 5).
    /// Larger leaves only widen what a changed coefficient exposes to the spot checks.
    /// </summary>
    public const int LeafCoefficients = 256;

    /// <summary>Leaves opened per member: a change to a fraction f of R's leaves passes with probability (1 − f)³².</summary>
    public const int SpotChecks = 32;

    public const int NonceLength = 32;

    /// <summary>What a member commits to at step 6: its part's Merkle root (32 bytes) ‖ SHA-256 of its nonce (32 bytes).</summary>
    public const int CommitmentLength = 64;

    public static long LeafCount(OpenedPlaintext part) => (long)part.ChunkCount * LeavesPerPolynomial(part);

    /// <summary>The Merkle tree over a part's leaves.</summary>
    public static MerkleTree Tree(OpenedPlaintext part)
    {
        ArgumentNullException.ThrowIfNull(part);
        LeavesPerPolynomial(part);
        var tree = new MerkleTree();
        var chunk = new ulong[part.Parameters.RingDimension];
        var entry = new byte[LeafCoefficients * 8];
        for (int c = 0; c < part.ChunkCount; c++)
        {
            part.ReadChunk(c, chunk);
            for (int start = 0; start < chunk.Length; start += LeafCoefficients)
            {
                Write(chunk.AsSpan(start, LeafCoefficients), entry);
                tree.AppendEntry(entry);
            }
        }
        return tree;
    }

    public static byte[] Commitment(byte[] root, byte[] nonce) => [.. root, .. SHA256.HashData(nonce)];

    /// <summary>The leaf positions every member opens: <see cref="SpotChecks"/> distinct ones, drawn from H(τ, every nonce in member order).</summary>
    public static long[] Positions(byte[] openingChallenge, IEnumerable<byte[]> nonces, long leafCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(leafCount, 1);
        byte[] seed = Transcript.Hash("spot-check", [openingChallenge, .. nonces]);
        var positions = new SortedSet<long>();
        ulong limit = ulong.MaxValue - ulong.MaxValue % (ulong)leafCount; // no bias towards low positions
        for (int i = 0; positions.Count < Math.Min(SpotChecks, leafCount); i++)
        {
            ulong draw = BinaryPrimitives.ReadUInt64LittleEndian(Transcript.Hash("spot-position", seed, Transcript.Int(i)));
            if (draw < limit)
                positions.Add((long)(draw % (ulong)leafCount));
        }
        return [.. positions];
    }

    /// <summary>A member's answer at step 7b: per position, its leaf, then the path's length (one byte) and hashes.</summary>
    public static byte[] Open(OpenedPlaintext part, MerkleTree tree, IReadOnlyList<long> positions)
    {
        ArgumentNullException.ThrowIfNull(part);
        ArgumentNullException.ThrowIfNull(tree);
        using var stream = new MemoryStream();
        var chunk = new ulong[part.Parameters.RingDimension];
        var entry = new byte[LeafCoefficients * 8];
        foreach (long position in positions)
        {
            var (c, start) = Locate(part, position);
            part.ReadChunk(c, chunk);
            Write(chunk.AsSpan(start, LeafCoefficients), entry);
            stream.Write(entry);
            var path = tree.InclusionProof(position);
            stream.WriteByte((byte)path.Length);
            foreach (var hash in path)
                stream.Write(hash);
        }
        return stream.ToArray();
    }

    /// <summary>
    /// The leaves a member opened at <paramref name="positions"/>, each checked against its <paramref name="root"/> in a
    /// tree of <paramref name="leafCount"/> leaves; null, with <paramref name="problem"/> saying why, if any is not there.
    /// </summary>
    public static ulong[][]? Read(ReadOnlySpan<byte> opened, byte[] root, IReadOnlyList<long> positions, long leafCount, ulong modulus, out string? problem)
    {
        var leaves = new ulong[positions.Count][];
        int offset = 0, entryLength = LeafCoefficients * 8;
        for (int i = 0; i < positions.Count; i++)
        {
            if (opened.Length < offset + entryLength + 1)
                return Fail($"it ends before the leaf at position {positions[i]}", out problem);
            var entry = opened.Slice(offset, entryLength);
            int pathLength = opened[offset + entryLength];
            offset += entryLength + 1;
            if (opened.Length < offset + pathLength * MerkleTree.HashLength)
                return Fail($"it ends inside the path of position {positions[i]}", out problem);
            var path = new byte[pathLength][];
            for (int h = 0; h < pathLength; h++, offset += MerkleTree.HashLength)
                path[h] = opened.Slice(offset, MerkleTree.HashLength).ToArray();
            var verdict = MerkleProofs.VerifyInclusion(MerkleTree.HashLeaf(entry), positions[i], leafCount, path, root);
            if (!verdict.IsValid)
                return Fail($"the leaf at position {positions[i]} is not in the part it committed to ({verdict.Reason})", out problem);
            leaves[i] = new ulong[LeafCoefficients];
            for (int k = 0; k < LeafCoefficients; k++)
            {
                leaves[i][k] = BinaryPrimitives.ReadUInt64LittleEndian(entry.Slice(8 * k));
                if (leaves[i][k] >= modulus)
                    return Fail($"the leaf at position {positions[i]} holds a value not below q0", out problem);
            }
        }
        if (offset != opened.Length)
            return Fail($"{opened.Length - offset} bytes follow the last leaf", out problem);
        problem = null;
        return leaves;
    }

    /// <summary>The position (leaf index) where the members' leaves do not add up to <paramref name="opened"/>, or null if they all do.</summary>
    public static long? Mismatch(OpenedPlaintext opened, IReadOnlyList<long> positions, IEnumerable<ulong[][]> memberLeaves)
    {
        ArgumentNullException.ThrowIfNull(opened);
        var q0 = opened.Parameters.Context.WireModulus;
        var sums = positions.Select(_ => new ulong[LeafCoefficients]).ToArray();
        foreach (var leaves in memberLeaves)
            for (int i = 0; i < positions.Count; i++)
                for (int k = 0; k < LeafCoefficients; k++)
                    sums[i][k] = q0.Add(sums[i][k], leaves[i][k]);
        var chunk = new ulong[opened.Parameters.RingDimension];
        for (int i = 0; i < positions.Count; i++)
        {
            var (c, start) = Locate(opened, positions[i]);
            opened.ReadChunk(c, chunk);
            if (!chunk.AsSpan(start, LeafCoefficients).SequenceEqual(sums[i]))
                return positions[i];
        }
        return null;
    }

    /// <summary>Step 7's answer: the member's nonce, revealed only now that R is fixed, and its fingerprint.</summary>
    public static byte[] JoinNonce(byte[] nonce, byte[] fingerprint) => [.. nonce, .. fingerprint];

    public static (byte[] Nonce, byte[] Fingerprint)? SplitNonce(byte[] payload) =>
        payload.Length > NonceLength ? (payload[..NonceLength], payload[NonceLength..]) : null;

    /// <summary>Leaves per polynomial; refused for a ring whose polynomials do not split into whole leaves (every real parameter set does).</summary>
    private static int LeavesPerPolynomial(OpenedPlaintext part) =>
        part.Parameters.RingDimension % LeafCoefficients == 0
            ? part.Parameters.RingDimension / LeafCoefficients
            : throw new ArgumentException($"A ring of dimension {part.Parameters.RingDimension} does not split into leaves of {LeafCoefficients} coefficients.", nameof(part));

    private static (int Chunk, int Start) Locate(OpenedPlaintext part, long position)
    {
        int perChunk = LeavesPerPolynomial(part);
        if (position < 0 || position >= LeafCount(part))
            throw new ArgumentOutOfRangeException(nameof(position), position, $"The part has {LeafCount(part)} leaves.");
        return ((int)(position / perChunk), (int)(position % perChunk) * LeafCoefficients);
    }

    private static void Write(ReadOnlySpan<ulong> values, Span<byte> entry)
    {
        for (int k = 0; k < values.Length; k++)
            BinaryPrimitives.WriteUInt64LittleEndian(entry.Slice(8 * k), values[k]);
    }

    private static ulong[][]? Fail(string reason, out string? problem)
    {
        problem = reason;
        return null;
    }
}
