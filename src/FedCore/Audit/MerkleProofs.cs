using System.Numerics;
using System.Security.Cryptography;

namespace FedCore.Audit;

/// <summary>Why a Merkle proof was refused.</summary>
public enum MerkleProofFault
{
    None,
    /// <summary>The sizes or the index are impossible: index ≥ size, a size ≤ 0, first size &gt; second size.</summary>
    Sizes,
    /// <summary>A leaf hash, root or proof hash that is missing or is not 32 bytes.</summary>
    HashLength,
    /// <summary>The proof has more or fewer hashes than the RFC algorithm consumes for these sizes.</summary>
    PathLength,
    /// <summary>The hashes are well formed but do not lead to the given root(s).</summary>
    RootMismatch,
}

/// <summary>The outcome of a proof check: valid, or the fault and a sentence saying what was wrong.</summary>
public readonly record struct MerkleProofVerdict(MerkleProofFault Fault, string Reason)
{
    public static readonly MerkleProofVerdict Valid = new(MerkleProofFault.None, "valid");

    public bool IsValid => Fault == MerkleProofFault.None;

    public void ThrowIfInvalid()
    {
        if (!IsValid)
            throw new MerkleProofException(this);
    }

    public override string ToString() => IsValid ? "valid" : $"{Fault}: {Reason}";
}

public sealed class MerkleProofException(MerkleProofVerdict verdict) : Exception(verdict.Reason)
{
    public MerkleProofVerdict Verdict { get; } = verdict;
}

/// <summary>
/// The proof verifiers of RFC 9162: §2.1.3.2 (inclusion) and §2.1.4.2 (consistency), written from the RFC's
/// steps, independent of <see cref="MerkleTree"/> so that an auditor's check shares no code with the log that
/// produced the proof. Every part is checked: the sizes, each hash's length, the number of proof hashes (exactly
/// what the algorithm consumes, computed before any hashing, so a long proof costs nothing), and the root(s).
/// </summary>
public static class MerkleProofs
{
    private const int HashLength = MerkleTree.HashLength;

    /// <summary>
    /// Checks that <paramref name="leafHash"/> is leaf <paramref name="index"/> of the tree of
    /// <paramref name="treeSize"/> leaves whose root is <paramref name="root"/> (RFC 9162 §2.1.3.2).
    /// </summary>
    /// <remarks>
    /// As in the RFC, the proof binds the leaf to the root; the size only chooses the path's shape. A tree head
    /// signs size and root together, and that is what binds the size.
    /// </remarks>
    public static MerkleProofVerdict VerifyInclusion(ReadOnlySpan<byte> leafHash, long index, long treeSize, IReadOnlyList<byte[]>? proof, ReadOnlySpan<byte> root)
    {
        // Step 1: the index must be inside the tree.
        if (treeSize <= 0)
            return Refuse(MerkleProofFault.Sizes, $"tree size {treeSize}: only a tree of at least one leaf includes anything");
        if (index < 0 || index >= treeSize)
            return Refuse(MerkleProofFault.Sizes, $"leaf index {index} is outside a tree of {treeSize} leaves");
        if (leafHash.Length != HashLength)
            return Refuse(MerkleProofFault.HashLength, $"the leaf hash is {leafHash.Length} bytes, not {HashLength}");
        if (root.Length != HashLength)
            return Refuse(MerkleProofFault.HashLength, $"the root is {root.Length} bytes, not {HashLength}");
        if (CheckHashes(proof, "inclusion") is { } malformed)
            return malformed;
        int expected = InclusionPathLength(index, treeSize);
        if (proof!.Count != expected)
            return Refuse(MerkleProofFault.PathLength,
                $"the inclusion proof has {proof.Count} hashes; leaf {index} of a tree of {treeSize} leaves needs exactly {expected}");

        // Steps 2–3.
        long fn = index, sn = treeSize - 1;
        byte[] r = leafHash.ToArray();
        // Step 4.
        foreach (var p in proof)
        {
            if (sn == 0) // 4a (unreachable after the length check; kept as the RFC writes it)
                return Refuse(MerkleProofFault.PathLength, "the inclusion proof has hashes left after reaching the root");
            if ((fn & 1) == 1 || fn == sn)
            {
                r = MerkleTree.HashChildren(p, r); // 4b.i: p is the left sibling
                if ((fn & 1) == 0) // 4b.ii: fn is the last node of its level; climb to where it is a right child
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
            }
            else
            {
                r = MerkleTree.HashChildren(r, p); // p is the right sibling
            }
            fn >>= 1; // 4c
            sn >>= 1;
        }
        // Step 5.
        if (sn != 0)
            return Refuse(MerkleProofFault.PathLength, "the inclusion proof ends below the root");
        if (!CryptographicOperations.FixedTimeEquals(r, root))
            return Refuse(MerkleProofFault.RootMismatch,
                $"the proof of leaf {index} in a tree of {treeSize} leaves leads to root {Convert.ToHexStringLower(r)}, not the given {Convert.ToHexStringLower(root)}");
        return MerkleProofVerdict.Valid;
    }

    /// <summary>
    /// Checks that the tree of <paramref name="size2"/> leaves with root <paramref name="root2"/> extends the tree
    /// of <paramref name="size1"/> leaves with root <paramref name="root1"/> (RFC 9162 §2.1.4.2): same first
    /// <paramref name="size1"/> leaves, in the same order, nothing removed or rewritten.
    /// </summary>
    /// <remarks>
    /// 0 &lt; size1 ≤ size2. Equal sizes are consistent exactly when the roots are equal and the proof is empty
    /// (SUBPROOF(m, D[m], true) = {} in RFC 6962 §2.1.2). A first size of 0 is refused: the empty tree is a prefix
    /// of every tree, so such a "proof" would prove nothing about the second root.
    /// </remarks>
    public static MerkleProofVerdict VerifyConsistency(long size1, long size2, IReadOnlyList<byte[]>? proof, ReadOnlySpan<byte> root1, ReadOnlySpan<byte> root2)
    {
        if (size1 <= 0)
            return Refuse(MerkleProofFault.Sizes, $"first size {size1}: a consistency proof starts from a tree of at least one leaf");
        if (size1 > size2)
            return Refuse(MerkleProofFault.Sizes, $"first size {size1} is larger than second size {size2}: a log only grows");
        if (root1.Length != HashLength)
            return Refuse(MerkleProofFault.HashLength, $"the first root is {root1.Length} bytes, not {HashLength}");
        if (root2.Length != HashLength)
            return Refuse(MerkleProofFault.HashLength, $"the second root is {root2.Length} bytes, not {HashLength}");
        if (CheckHashes(proof, "consistency") is { } malformed)
            return malformed;

        if (size1 == size2)
        {
            if (proof!.Count != 0)
                return Refuse(MerkleProofFault.PathLength, $"both trees have {size1} leaves, so the proof must be empty; it has {proof.Count} hashes");
            if (!CryptographicOperations.FixedTimeEquals(root1, root2))
                return Refuse(MerkleProofFault.RootMismatch, $"two different roots for the same size {size1}: two different histories");
            return MerkleProofVerdict.Valid;
        }

        int expected = ConsistencyPathLength(size1, size2);
        // Step 1 (an empty path fails) is part of this: every 0 < size1 < size2 needs at least one hash.
        if (proof!.Count != expected)
            return Refuse(MerkleProofFault.PathLength,
                $"the consistency proof has {proof.Count} hashes; sizes {size1} → {size2} need exactly {expected}");

        // Step 2: a first tree that is a complete subtree is its own first node; the proof leaves it out.
        var path = new List<byte[]>(proof.Count + 1);
        if (BitOperations.IsPow2(size1))
            path.Add(root1.ToArray());
        path.AddRange(proof);
        // Step 3.
        long fn = size1 - 1, sn = size2 - 1;
        // Step 4: climb to the top of the largest complete subtree that ends the first tree.
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }
        // Step 5.
        byte[] fr = path[0], sr = path[0];
        // Step 6.
        foreach (var c in path.Skip(1))
        {
            if (sn == 0) // 6a (unreachable after the length check; kept as the RFC writes it)
                return Refuse(MerkleProofFault.PathLength, "the consistency proof has hashes left after reaching the second root");
            if ((fn & 1) == 1 || fn == sn)
            {
                fr = MerkleTree.HashChildren(c, fr); // 6b.i
                sr = MerkleTree.HashChildren(c, sr); // 6b.ii
                if ((fn & 1) == 0) // 6b.iii
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
            }
            else
            {
                sr = MerkleTree.HashChildren(sr, c); // a node only the second tree has
            }
            fn >>= 1; // 6c
            sn >>= 1;
        }
        // Step 7.
        if (sn != 0)
            return Refuse(MerkleProofFault.PathLength, "the consistency proof ends below the second root");
        if (!CryptographicOperations.FixedTimeEquals(fr, root1))
            return Refuse(MerkleProofFault.RootMismatch,
                $"the proof leads to first root {Convert.ToHexStringLower(fr)} for size {size1}, not the given {Convert.ToHexStringLower(root1)}");
        if (!CryptographicOperations.FixedTimeEquals(sr, root2))
            return Refuse(MerkleProofFault.RootMismatch,
                $"the proof leads to second root {Convert.ToHexStringLower(sr)} for size {size2}, not the given {Convert.ToHexStringLower(root2)}");
        return MerkleProofVerdict.Valid;
    }

    /// <summary>
    /// How many hashes the RFC 9162 §2.1.3.2 walk consumes for leaf <paramref name="index"/> of a tree of
    /// <paramref name="treeSize"/> leaves (0 ≤ index &lt; treeSize): the walk's index arithmetic without the hashing.
    /// </summary>
    public static int InclusionPathLength(long index, long treeSize)
    {
        if (index < 0 || index >= treeSize)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Leaf index {index} is outside a tree of {treeSize} leaves.");
        return WalkSteps(index, treeSize - 1);
    }

    /// <summary>
    /// How many hashes a consistency proof from <paramref name="size1"/> to <paramref name="size2"/> leaves has
    /// (0 &lt; size1 ≤ size2): the RFC 9162 §2.1.4.2 walk's arithmetic, less the first hash when the verifier
    /// supplies it itself (size1 a power of two).
    /// </summary>
    public static int ConsistencyPathLength(long size1, long size2)
    {
        if (size1 <= 0 || size1 > size2)
            throw new ArgumentOutOfRangeException(nameof(size1), size1, $"A consistency proof needs 0 < first size ≤ second size ({size2}).");
        if (size1 == size2)
            return 0;
        long fn = size1 - 1, sn = size2 - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }
        int count = WalkSteps(fn, sn); // hashes after the path's first
        return BitOperations.IsPow2(size1) ? count : count + 1;
    }

    /// <summary>The hashes RFC 9162's inclusion and consistency walks consume from node <paramref name="fn"/> up to <paramref name="sn"/>: their index arithmetic without the hashing.</summary>
    private static int WalkSteps(long fn, long sn)
    {
        int count = 0;
        for (; sn != 0; count++)
        {
            if (fn == sn)
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            fn >>= 1;
            sn >>= 1;
        }
        return count;
    }

    private static MerkleProofVerdict? CheckHashes(IReadOnlyList<byte[]>? proof, string kind)
    {
        if (proof is null)
            return Refuse(MerkleProofFault.PathLength, $"no {kind} proof was given");
        for (int i = 0; i < proof.Count; i++)
            if (proof[i] is not { Length: HashLength })
                return Refuse(MerkleProofFault.HashLength,
                    $"{kind} proof hash {i} is {(proof[i] is null ? "missing" : $"{proof[i].Length} bytes")}, not {HashLength}");
        return null;
    }

    private static MerkleProofVerdict Refuse(MerkleProofFault fault, string reason) => new(fault, reason);
}
