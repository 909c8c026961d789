using System.Numerics;
using System.Security.Cryptography;

namespace FedCore.Audit;

/// <summary>
/// The Merkle tree of RFC 6962 §2.1 / RFC 9162 §2.1 (Certificate Transparency): SHA-256, leaf hashes
/// H(0x00 ‖ entry), node hashes H(0x01 ‖ left ‖ right), a tree of n leaves split at the largest power of two
/// below n, and the empty tree's hash SHA-256(""). It holds the audit log and produces its proofs:
/// <see cref="InclusionProof(long, long)"/> is PATH(m, D[n]) of RFC 6962 §2.1.1 and
/// <see cref="ConsistencyProof(long, long)"/> is PROOF(m, D[n]) of §2.1.2, for this tree or any earlier size of
/// it. Proofs are checked by <see cref="MerkleProofs"/>, which knows nothing of this class.
/// </summary>
/// <remarks>
/// Built bottom-up: only complete subtrees are kept (level l holds the hash of every aligned block of 2^l
/// leaves), so an append costs O(log n) hashes and every subtree the RFC recursion asks for is either a kept
/// block or splits into them. Not thread-safe: the log has a single writer.
/// </remarks>
public sealed class MerkleTree
{
    public const int HashLength = 32;

    // _levels[l][j] = MTH of leaves [j·2^l, (j+1)·2^l); a block appears once all its leaves are present.
    private readonly List<List<byte[]>> _levels = [[]];

    /// <summary>The number of leaves (the tree size of RFC 6962).</summary>
    public long Size => _levels[0].Count;

    /// <summary>MTH(D[n]) of the whole tree; the empty tree's root is SHA-256 of nothing.</summary>
    public byte[] Root => RootAt(Size);

    /// <summary>MTH({}) = SHA-256(""), e3b0c442…b855.</summary>
    public static byte[] EmptyRoot() => SHA256.HashData(ReadOnlySpan<byte>.Empty);

    public static MerkleTree FromLeafHashes(IEnumerable<byte[]> leafHashes)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        var tree = new MerkleTree();
        foreach (var hash in leafHashes)
            tree.AppendLeafHash(hash);
        return tree;
    }

    public static MerkleTree FromEntries(IEnumerable<byte[]> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return FromLeafHashes(entries.Select(e => HashLeaf(e)));
    }

    /// <summary>Appends H(0x00 ‖ entry) and returns the new leaf's index.</summary>
    public long AppendEntry(ReadOnlySpan<byte> entry) => AppendLeafHash(HashLeaf(entry));

    /// <summary>Appends an already computed leaf hash and returns its index.</summary>
    public long AppendLeafHash(byte[] leafHash)
    {
        if (leafHash is null || leafHash.Length != HashLength)
            throw new ArgumentException($"A leaf hash must be {HashLength} bytes (SHA-256), got {(leafHash is null ? "null" : $"{leafHash.Length} bytes")}.", nameof(leafHash));
        long index = Size;
        _levels[0].Add((byte[])leafHash.Clone());
        // Every time a level gets an even count, its last two blocks complete a block one level up.
        for (int l = 0; _levels[l].Count % 2 == 0; l++)
        {
            var level = _levels[l];
            if (l + 1 == _levels.Count)
                _levels.Add([]);
            _levels[l + 1].Add(HashChildren(level[^2], level[^1]));
        }
        return index;
    }

    public byte[] LeafHash(long index)
    {
        RequireIndex(index, Size, nameof(index));
        return (byte[])_levels[0][(int)index].Clone();
    }

    /// <summary>MTH(D[0:treeSize]): the root this log had when it held <paramref name="treeSize"/> leaves.</summary>
    public byte[] RootAt(long treeSize)
    {
        RequireSize(treeSize, nameof(treeSize));
        return treeSize == 0 ? EmptyRoot() : (byte[])SubtreeHash(0, treeSize).Clone();
    }

    /// <summary>PATH(index, D[Size]): the audit path of leaf <paramref name="index"/> in the current tree.</summary>
    public byte[][] InclusionProof(long index) => InclusionProof(index, Size);

    /// <summary>
    /// PATH(index, D[treeSize]) of RFC 6962 §2.1.1 (RFC 9162 §2.1.3.1), in the tree as it was at
    /// <paramref name="treeSize"/> leaves: the siblings from the leaf up to the root, nearest first.
    /// </summary>
    public byte[][] InclusionProof(long index, long treeSize)
    {
        RequireSize(treeSize, nameof(treeSize));
        RequireIndex(index, treeSize, nameof(index));
        var proof = new List<byte[]>();
        Path(index, 0, treeSize, proof);
        return [.. proof];
    }

    /// <summary>PROOF(firstSize, D[Size]): that the current tree extends the tree of <paramref name="firstSize"/> leaves.</summary>
    public byte[][] ConsistencyProof(long firstSize) => ConsistencyProof(firstSize, Size);

    /// <summary>
    /// PROOF(firstSize, D[secondSize]) = SUBPROOF(firstSize, D[secondSize], true) of RFC 6962 §2.1.2
    /// (RFC 9162 §2.1.4.1), for 0 &lt; firstSize ≤ secondSize ≤ Size. Equal sizes give the empty proof.
    /// </summary>
    public byte[][] ConsistencyProof(long firstSize, long secondSize)
    {
        RequireSize(secondSize, nameof(secondSize));
        if (firstSize <= 0 || firstSize > secondSize)
            throw new ArgumentOutOfRangeException(nameof(firstSize), firstSize,
                $"A consistency proof is defined for 0 < first size ≤ second size (here {secondSize}); an empty first tree proves nothing.");
        var proof = new List<byte[]>();
        SubProof(firstSize, 0, secondSize, true, proof);
        return [.. proof];
    }

    public static byte[] HashLeaf(ReadOnlySpan<byte> entry)
    {
        // One-shot hashing of 0x00 ‖ entry: an incremental hash context per leaf cost more than the hashing itself.
        byte[]? rented = null;
        Span<byte> buffer = entry.Length < 1024
            ? stackalloc byte[entry.Length + 1]
            : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(entry.Length + 1)).AsSpan(0, entry.Length + 1);
        buffer[0] = 0x00;
        entry.CopyTo(buffer[1..]);
        var hash = SHA256.HashData(buffer);
        if (rented is not null)
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        return hash;
    }

    public static byte[] HashChildren(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        if (left.Length != HashLength || right.Length != HashLength)
            throw new ArgumentException($"Node children must be {HashLength}-byte hashes, got {left.Length} and {right.Length} bytes.");
        Span<byte> buffer = stackalloc byte[1 + 2 * HashLength];
        buffer[0] = 0x01;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + HashLength)..]);
        return SHA256.HashData(buffer);
    }

    /// <summary>The k of RFC 6962 §2.1: the largest power of two smaller than n (n ≥ 2).</summary>
    internal static long SplitPoint(long n) => 1L << (63 - BitOperations.LeadingZeroCount((ulong)(n - 1)));

    // PATH(m, D[start:end]) of RFC 6962 §2.1.1, appending deepest sibling first.
    private void Path(long m, long start, long end, List<byte[]> proof)
    {
        long n = end - start;
        if (n == 1)
            return;
        long k = SplitPoint(n);
        if (m < k)
        {
            Path(m, start, start + k, proof);
            proof.Add(CopyOf(SubtreeHash(start + k, end)));
        }
        else
        {
            Path(m - k, start + k, end, proof);
            proof.Add(CopyOf(SubtreeHash(start, start + k)));
        }
    }

    // SUBPROOF(m, D[start:end], complete) of RFC 6962 §2.1.2; `complete` is the RFC's b: whether D[0:m] is this
    // very subtree, whose hash the verifier already holds.
    private void SubProof(long m, long start, long end, bool complete, List<byte[]> proof)
    {
        long n = end - start;
        if (m == n)
        {
            if (!complete)
                proof.Add(CopyOf(SubtreeHash(start, end)));
            return;
        }
        long k = SplitPoint(n);
        if (m <= k)
        {
            SubProof(m, start, start + k, complete, proof);
            proof.Add(CopyOf(SubtreeHash(start + k, end)));
        }
        else
        {
            SubProof(m - k, start + k, end, false, proof);
            proof.Add(CopyOf(SubtreeHash(start, start + k)));
        }
    }

    // MTH(D[start:end]) for a non-empty range of present leaves: a kept block when the range is one, else the
    // RFC's split. The ranges the RFC recursion visits start on a multiple of a power of two at least their
    // length, so a power-of-two range is always a kept block and this costs O(log n) hashes.
    private byte[] SubtreeHash(long start, long end)
    {
        long n = end - start;
        if (BitOperations.IsPow2(n) && start % n == 0)
        {
            int level = BitOperations.Log2((ulong)n);
            return _levels[level][(int)(start >> level)];
        }
        long k = SplitPoint(n);
        return HashChildren(SubtreeHash(start, start + k), SubtreeHash(start + k, end));
    }

    private static byte[] CopyOf(byte[] hash) => (byte[])hash.Clone();

    private void RequireSize(long treeSize, string name)
    {
        if (treeSize < 0 || treeSize > Size)
            throw new ArgumentOutOfRangeException(name, treeSize, $"The tree has {Size} leaves; size {treeSize} is not one it has had.");
    }

    private static void RequireIndex(long index, long treeSize, string name)
    {
        if (index < 0 || index >= treeSize)
            throw new ArgumentOutOfRangeException(name, index, $"Leaf index {index} is outside a tree of {treeSize} leaves.");
    }
}
