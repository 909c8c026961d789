using System.Security.Cryptography;

namespace FedCore.Audit;

/// <summary>
/// The Merkle tree of RFC 6962 / RFC 9162 (Certificate Transparency): SHA-256, leaf hashes H(0x00 ‖ leaf), node
/// hashes H(0x01 ‖ left ‖ right), a tree of n leaves split at the largest power of two below n. It will hold the
/// audit log.
/// Built bottom-up: pairing neighbours level by level and carrying an unpaired last node up unchanged gives
/// exactly the RFC's left-balanced tree, and keeps every level for O(log n) inclusion proofs.
/// </summary>
public sealed class MerkleTree
{
    public const int HashLength = 32;

    private readonly List<byte[][]> _levels;

    private MerkleTree(List<byte[][]> levels) => _levels = levels;

    public int LeafCount => _levels[0].Length;

    /// <summary>MTH(D[n]); the empty tree's root is SHA-256 of nothing.</summary>
    public byte[] Root => LeafCount == 0 ? SHA256.HashData(ReadOnlySpan<byte>.Empty) : _levels[^1][0];

    public static MerkleTree FromLeafHashes(IReadOnlyList<byte[]> leafHashes)
    {
        var level = leafHashes.ToArray();
        if (level.Any(h => h is null || h.Length != HashLength))
            throw new ArgumentException($"Every leaf hash must be {HashLength} bytes.", nameof(leafHashes));
        var levels = new List<byte[][]> { level };
        while (level.Length > 1)
        {
            var up = new byte[(level.Length + 1) / 2][];
            for (int i = 0; i < level.Length / 2; i++)
                up[i] = HashChildren(level[2 * i], level[2 * i + 1]);
            if (level.Length % 2 == 1)
                up[^1] = level[^1];
            levels.Add(up);
            level = up;
        }
        return new MerkleTree(levels);
    }

    /// <summary>PATH(m, D[n]): the sibling hashes from leaf <paramref name="index"/> up to the root.</summary>
    public byte[][] InclusionProof(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, LeafCount);
        var path = new List<byte[]>();
        for (int l = 0; l < _levels.Count - 1; l++, index >>= 1)
        {
            var level = _levels[l];
            int sibling = index ^ 1;
            if (sibling < level.Length)
                path.Add(level[sibling]);
        }
        return [.. path];
    }

    public static byte[] HashLeaf(ReadOnlySpan<byte> leaf)
    {
        // One-shot hashing of 0x00 ‖ leaf: an incremental hash context per leaf cost more than the hashing itself.
        byte[]? rented = null;
        Span<byte> buffer = leaf.Length < 1024 ? stackalloc byte[leaf.Length + 1] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(leaf.Length + 1)).AsSpan(0, leaf.Length + 1);
        buffer[0] = 0x00;
        leaf.CopyTo(buffer[1..]);
        var hash = SHA256.HashData(buffer);
        if (rented is not null)
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        return hash;
    }

    public static byte[] HashChildren(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> buffer = stackalloc byte[1 + 2 * HashLength];
        buffer[0] = 0x01;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + HashLength)..]);
        return SHA256.HashData(buffer);
    }

    /// <summary>
    /// Checks an inclusion proof (RFC 9162, section 2.1.3.2): true only if <paramref name="leafHash"/> is leaf
    /// <paramref name="index"/> of a tree of <paramref name="treeSize"/> leaves with root <paramref name="root"/>.
    /// </summary>
    public static bool VerifyInclusion(ReadOnlySpan<byte> leafHash, long index, long treeSize, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        if (index < 0 || index >= treeSize || leafHash.Length != HashLength || root.Length != HashLength)
            return false;
        long fn = index, sn = treeSize - 1;
        byte[] r = leafHash.ToArray();
        foreach (var p in proof)
        {
            if (p is null || p.Length != HashLength || sn == 0)
                return false;
            if ((fn & 1) == 1 || fn == sn)
            {
                r = HashChildren(p, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                r = HashChildren(r, p);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && CryptographicOperations.FixedTimeEquals(r, root);
    }
}
