using System.Numerics;
using FedCore.Audit;

namespace FedCore.Tests.Audit;

/// <summary>
/// The RFC 9162 verifiers: every honest proof verifies, and every change to a proof, a root, a leaf hash, an
/// index or a size is refused — exhaustively over small trees, with the reason the verifier gives.
/// </summary>
public class MerkleProofsTests
{
    private const int Max = 64;        // honest proofs: every size up to this
    private const int TamperMax = 16;  // tampering: every bit of every hash, every size up to this

    private static readonly byte[][] Entries = RfcReference.Entries(2 * Max + 2);
    private static readonly MerkleTree Tree = MerkleTree.FromEntries(Entries);

    private static byte[][] Clone(IEnumerable<byte[]> proof) => proof.Select(h => (byte[])h.Clone()).ToArray();

    private static byte[] Flip(byte[] hash, int bit)
    {
        var flipped = (byte[])hash.Clone();
        flipped[bit / 8] ^= (byte)(1 << (bit % 8));
        return flipped;
    }

    [Fact]
    public void Every_leafs_inclusion_proof_verifies_for_every_size_up_to_64_and_has_the_RFC_length()
    {
        for (int n = 1; n <= Max; n++)
        {
            var root = Tree.RootAt(n);
            for (int i = 0; i < n; i++)
            {
                var proof = Tree.InclusionProof(i, n);
                var verdict = MerkleProofs.VerifyInclusion(Tree.LeafHash(i), i, n, proof, root);
                Assert.True(verdict.IsValid, $"leaf {i} of {n}: {verdict}");
                // Two derivations of the length agree: the RFC's recursion (PATH) and the verifier's index walk.
                Assert.Equal(RfcReference.Path(i, Entries[..n]).Count, proof.Length);
                Assert.Equal(proof.Length, MerkleProofs.InclusionPathLength(i, n));
                // A path is at most the tree's height, and exactly it in a complete tree.
                int height = n == 1 ? 0 : 64 - BitOperations.LeadingZeroCount((ulong)(n - 1));
                Assert.True(proof.Length <= height);
                if (BitOperations.IsPow2(n))
                    Assert.Equal(height, proof.Length);
            }
        }
    }

    [Fact]
    public void Every_consistency_proof_verifies_for_all_sizes_1_le_m_le_n_le_64_and_has_the_RFC_length()
    {
        for (int n = 1; n <= Max; n++)
        {
            var root = Tree.RootAt(n);
            int height = n == 1 ? 0 : 64 - BitOperations.LeadingZeroCount((ulong)(n - 1));
            for (int m = 1; m <= n; m++)
            {
                var proof = Tree.ConsistencyProof(m, n);
                var verdict = MerkleProofs.VerifyConsistency(m, n, proof, Tree.RootAt(m), root);
                Assert.True(verdict.IsValid, $"{m} -> {n}: {verdict}");
                Assert.Equal(RfcReference.Proof(m, Entries[..n]).Count, proof.Length);
                Assert.Equal(proof.Length, MerkleProofs.ConsistencyPathLength(m, n));
                if (m == n)
                    Assert.Empty(proof);
                else
                    Assert.InRange(proof.Length, 1, height + 1);
                // A complete first tree is a node of the second: its hash never travels in the proof.
                if (BitOperations.IsPow2(m))
                    Assert.DoesNotContain(proof, h => h.AsSpan().SequenceEqual(Tree.RootAt(m)));
            }
        }
    }

    [Fact]
    public void Any_flipped_bit_in_an_inclusion_proof_its_leaf_hash_or_its_root_is_refused()
    {
        int checks = 0;
        for (int n = 1; n <= TamperMax; n++)
        {
            var root = Tree.RootAt(n);
            for (int i = 0; i < n; i++)
            {
                var leaf = Tree.LeafHash(i);
                var proof = Tree.InclusionProof(i, n);
                for (int bit = 0; bit < 256; bit++)
                {
                    AssertRefused(MerkleProofFault.RootMismatch, MerkleProofs.VerifyInclusion(Flip(leaf, bit), i, n, proof, root));
                    AssertRefused(MerkleProofFault.RootMismatch, MerkleProofs.VerifyInclusion(leaf, i, n, proof, Flip(root, bit)));
                    for (int h = 0; h < proof.Length; h++)
                    {
                        var bent = Clone(proof);
                        bent[h] = Flip(bent[h], bit);
                        AssertRefused(MerkleProofFault.RootMismatch, MerkleProofs.VerifyInclusion(leaf, i, n, bent, root));
                        checks++;
                    }
                    checks += 2;
                }
            }
        }
        Assert.True(checks > 150_000, $"{checks} checks");
    }

    [Fact]
    public void An_inclusion_proof_with_a_hash_added_removed_or_of_the_wrong_length_is_refused()
    {
        var stranger = RfcReference.LeafHash([0xee]);
        for (int n = 1; n <= TamperMax; n++)
        {
            var root = Tree.RootAt(n);
            for (int i = 0; i < n; i++)
            {
                var leaf = Tree.LeafHash(i);
                var proof = Tree.InclusionProof(i, n);
                for (int at = 0; at <= proof.Length; at++)
                {
                    // An extra hash anywhere: a stranger, or a copy of a neighbour, the leaf or the root.
                    foreach (var extra in new[] { stranger, leaf, root }.Concat(proof))
                        AssertRefused(MerkleProofFault.PathLength, MerkleProofs.VerifyInclusion(leaf, i, n, [.. proof[..at], extra, .. proof[at..]], root));
                    if (at < proof.Length)
                    {
                        AssertRefused(MerkleProofFault.PathLength, MerkleProofs.VerifyInclusion(leaf, i, n, [.. proof[..at], .. proof[(at + 1)..]], root));
                        AssertRefused(MerkleProofFault.HashLength, MerkleProofs.VerifyInclusion(leaf, i, n, [.. proof[..at], proof[at][..31], .. proof[(at + 1)..]], root));
                        AssertRefused(MerkleProofFault.HashLength, MerkleProofs.VerifyInclusion(leaf, i, n, [.. proof[..at], [.. proof[at], 0], .. proof[(at + 1)..]], root));
                        AssertRefused(MerkleProofFault.HashLength, MerkleProofs.VerifyInclusion(leaf, i, n, [.. proof[..at], null!, .. proof[(at + 1)..]], root));
                    }
                }
                AssertRefused(MerkleProofFault.HashLength, MerkleProofs.VerifyInclusion(leaf[..31], i, n, proof, root));
                AssertRefused(MerkleProofFault.HashLength, MerkleProofs.VerifyInclusion([.. leaf, 0], i, n, proof, root));
                AssertRefused(MerkleProofFault.HashLength, MerkleProofs.VerifyInclusion(leaf, i, n, proof, root[..31]));
                AssertRefused(MerkleProofFault.HashLength, MerkleProofs.VerifyInclusion(leaf, i, n, proof, []));
                AssertRefused(MerkleProofFault.PathLength, MerkleProofs.VerifyInclusion(leaf, i, n, null, root));
            }
        }
    }

    [Fact]
    public void An_inclusion_proof_for_a_wrong_index_is_refused()
    {
        for (int n = 1; n <= TamperMax; n++)
        {
            var root = Tree.RootAt(n);
            for (int i = 0; i < n; i++)
            {
                var leaf = Tree.LeafHash(i);
                var proof = Tree.InclusionProof(i, n);
                for (int j = 0; j < n; j++)
                    if (j != i)
                        Assert.False(MerkleProofs.VerifyInclusion(leaf, j, n, proof, root).IsValid, $"leaf {i} of {n} claimed as {j}");
                foreach (var j in new long[] { -1, n, n + 1, long.MaxValue, long.MinValue })
                    AssertRefused(MerkleProofFault.Sizes, MerkleProofs.VerifyInclusion(leaf, j, n, proof, root));
                foreach (var size in new long[] { 0, -1, long.MinValue })
                    AssertRefused(MerkleProofFault.Sizes, MerkleProofs.VerifyInclusion(leaf, i, size, proof, root));
                if (i > 0)
                    AssertRefused(MerkleProofFault.Sizes, MerkleProofs.VerifyInclusion(leaf, i, i, proof, root));
            }
        }
    }

    /// <summary>
    /// RFC 9162's inclusion check uses the size only to choose the path's shape (which side each sibling is on,
    /// how many there are): another size whose walk has the same shape verifies, as the RFC specifies, and
    /// every size with another shape is refused. It is the signed tree head, size and root together, that
    /// binds the size; this test pins exactly that behaviour.
    /// </summary>
    [Fact]
    public void An_inclusion_proof_for_a_wrong_tree_size_is_refused_unless_the_RFC_walk_is_the_same()
    {
        int sameShape = 0, refused = 0;
        for (int n = 1; n <= TamperMax; n++)
        {
            var root = Tree.RootAt(n);
            for (int i = 0; i < n; i++)
            {
                var leaf = Tree.LeafHash(i);
                var proof = Tree.InclusionProof(i, n);
                for (int s = i + 1; s <= 4 * TamperMax; s++)
                {
                    if (s == n)
                        continue;
                    bool same = InclusionWalk(i, s) == InclusionWalk(i, n);
                    var verdict = MerkleProofs.VerifyInclusion(leaf, i, s, proof, root);
                    Assert.True(verdict.IsValid == same, $"leaf {i} of {n} claimed in size {s}: {verdict}");
                    if (same) sameShape++; else refused++;
                }
            }
        }
        Assert.True(refused > 10 * sameShape, $"{refused} refused, {sameShape} same-shape");
    }

    [Fact]
    public void Any_flipped_bit_in_a_consistency_proof_or_either_root_is_refused()
    {
        int checks = 0;
        for (int n = 1; n <= TamperMax; n++)
        {
            var root2 = Tree.RootAt(n);
            for (int m = 1; m <= n; m++)
            {
                var root1 = Tree.RootAt(m);
                var proof = Tree.ConsistencyProof(m, n);
                for (int bit = 0; bit < 256; bit++)
                {
                    AssertRefused(MerkleProofFault.RootMismatch, MerkleProofs.VerifyConsistency(m, n, proof, Flip(root1, bit), root2));
                    AssertRefused(MerkleProofFault.RootMismatch, MerkleProofs.VerifyConsistency(m, n, proof, root1, Flip(root2, bit)));
                    for (int h = 0; h < proof.Length; h++)
                    {
                        var bent = Clone(proof);
                        bent[h] = Flip(bent[h], bit);
                        AssertRefused(MerkleProofFault.RootMismatch, MerkleProofs.VerifyConsistency(m, n, bent, root1, root2));
                        checks++;
                    }
                    checks += 2;
                }
            }
        }
        Assert.True(checks > 100_000, $"{checks} checks");
    }

    [Fact]
    public void A_consistency_proof_with_a_hash_added_removed_or_of_the_wrong_length_is_refused()
    {
        var stranger = RfcReference.LeafHash([0xee]);
        for (int n = 1; n <= TamperMax; n++)
        {
            var root2 = Tree.RootAt(n);
            for (int m = 1; m <= n; m++)
            {
                var root1 = Tree.RootAt(m);
                var proof = Tree.ConsistencyProof(m, n);
                for (int at = 0; at <= proof.Length; at++)
                {
                    // Notably root1 put in front: what a verifier prepends itself for a power-of-two first size.
                    foreach (var extra in new[] { stranger, root1, root2 }.Concat(proof))
                        AssertRefused(MerkleProofFault.PathLength, MerkleProofs.VerifyConsistency(m, n, [.. proof[..at], extra, .. proof[at..]], root1, root2));
                    if (at < proof.Length)
                    {
                        AssertRefused(MerkleProofFault.PathLength, MerkleProofs.VerifyConsistency(m, n, [.. proof[..at], .. proof[(at + 1)..]], root1, root2));
                        AssertRefused(MerkleProofFault.HashLength, MerkleProofs.VerifyConsistency(m, n, [.. proof[..at], proof[at][..31], .. proof[(at + 1)..]], root1, root2));
                        AssertRefused(MerkleProofFault.HashLength, MerkleProofs.VerifyConsistency(m, n, [.. proof[..at], [.. proof[at], 0], .. proof[(at + 1)..]], root1, root2));
                        AssertRefused(MerkleProofFault.HashLength, MerkleProofs.VerifyConsistency(m, n, [.. proof[..at], null!, .. proof[(at + 1)..]], root1, root2));
                    }
                }
                AssertRefused(MerkleProofFault.HashLength, MerkleProofs.VerifyConsistency(m, n, proof, root1[..31], root2));
                AssertRefused(MerkleProofFault.HashLength, MerkleProofs.VerifyConsistency(m, n, proof, root1, [.. root2, 0]));
                AssertRefused(MerkleProofFault.PathLength, MerkleProofs.VerifyConsistency(m, n, null, root1, root2));
                // The roots swapped, or both the same, are two other histories.
                if (m < n)
                {
                    Assert.False(MerkleProofs.VerifyConsistency(m, n, proof, root2, root1).IsValid);
                    Assert.False(MerkleProofs.VerifyConsistency(m, n, proof, root2, root2).IsValid);
                    Assert.False(MerkleProofs.VerifyConsistency(m, n, proof, root1, root1).IsValid);
                }
            }
        }
    }

    /// <summary>As for inclusion: another pair of sizes verifies exactly when the RFC walk has the same shape.</summary>
    [Fact]
    public void A_consistency_proof_for_wrong_sizes_is_refused_unless_the_RFC_walk_is_the_same()
    {
        int sameShape = 0, refused = 0;
        for (int n = 1; n <= TamperMax; n++)
        {
            var root2 = Tree.RootAt(n);
            for (int m = 1; m <= n; m++)
            {
                var root1 = Tree.RootAt(m);
                var proof = Tree.ConsistencyProof(m, n);
                for (int n2 = 1; n2 <= 4 * TamperMax; n2++)
                    for (int m2 = 1; m2 <= n2; m2++)
                    {
                        if (m2 == m && n2 == n)
                            continue;
                        bool same = ConsistencyWalk(m2, n2) == ConsistencyWalk(m, n);
                        var verdict = MerkleProofs.VerifyConsistency(m2, n2, proof, root1, root2);
                        Assert.True(verdict.IsValid == same, $"{m} -> {n} claimed as {m2} -> {n2}: {verdict}");
                        if (same) sameShape++; else refused++;
                    }
                foreach (var (m2, n2) in new (long, long)[] { (0, n), (-1, n), (n + 1, n), (m, m - 1), (long.MinValue, n), (long.MaxValue, n) })
                    AssertRefused(MerkleProofFault.Sizes, MerkleProofs.VerifyConsistency(m2, n2, proof, root1, root2));
            }
        }
        Assert.True(refused > 10 * sameShape, $"{refused} refused, {sameShape} same-shape");
    }

    [Fact]
    public void Equal_sizes_need_equal_roots_and_an_empty_proof()
    {
        var root = Tree.RootAt(5);
        Assert.True(MerkleProofs.VerifyConsistency(5, 5, [], root, root).IsValid);
        AssertRefused(MerkleProofFault.RootMismatch, MerkleProofs.VerifyConsistency(5, 5, [], root, Tree.RootAt(6)));
        AssertRefused(MerkleProofFault.PathLength, MerkleProofs.VerifyConsistency(5, 5, [root], root, root));
        // The empty tree is a prefix of every tree: a "proof" from size 0 proves nothing and is refused.
        AssertRefused(MerkleProofFault.Sizes, MerkleProofs.VerifyConsistency(0, 0, [], MerkleTree.EmptyRoot(), MerkleTree.EmptyRoot()));
        AssertRefused(MerkleProofFault.Sizes, MerkleProofs.VerifyConsistency(0, 5, [], MerkleTree.EmptyRoot(), root));
    }

    [Fact]
    public void Every_refusal_says_why_and_can_be_thrown()
    {
        var proof = Tree.InclusionProof(3, 8);
        var verdict = MerkleProofs.VerifyInclusion(Tree.LeafHash(3), 3, 8, [.. proof, proof[0]], Tree.RootAt(8));
        Assert.Equal(MerkleProofFault.PathLength, verdict.Fault);
        Assert.Contains("has 4 hashes; leaf 3 of a tree of 8 leaves needs exactly 3", verdict.Reason);
        var thrown = Assert.Throws<MerkleProofException>(verdict.ThrowIfInvalid);
        Assert.Equal(verdict, thrown.Verdict);
        Assert.Equal(verdict.Reason, thrown.Message);
        MerkleProofs.VerifyInclusion(Tree.LeafHash(3), 3, 8, proof, Tree.RootAt(8)).ThrowIfInvalid();

        var mismatch = MerkleProofs.VerifyConsistency(3, 8, Tree.ConsistencyProof(3, 8), Tree.RootAt(4), Tree.RootAt(8));
        Assert.Equal(MerkleProofFault.RootMismatch, mismatch.Fault);
        Assert.Contains("first root", mismatch.Reason);
    }

    [Fact]
    public void The_RFC_walk_lengths_hold_at_sizes_beyond_any_in_memory_tree()
    {
        // A complete tree of 2^62 leaves: every path is 62 long; the last leaf of 2^62 + 1 leaves has a path of 1.
        Assert.Equal(62, MerkleProofs.InclusionPathLength(0, 1L << 62));
        Assert.Equal(62, MerkleProofs.InclusionPathLength((1L << 62) - 1, 1L << 62));
        Assert.Equal(1, MerkleProofs.InclusionPathLength(1L << 62, (1L << 62) + 1));
        Assert.Equal(63, MerkleProofs.InclusionPathLength(0, long.MaxValue));
        Assert.Equal(62, MerkleProofs.InclusionPathLength(long.MaxValue - 1, long.MaxValue)); // the odd last leaf: one level short
        Assert.Equal(1, MerkleProofs.ConsistencyPathLength(1L << 40, 1L << 41));
        Assert.Equal(63, MerkleProofs.ConsistencyPathLength(1, long.MaxValue));
        // A proof of the right length that leads elsewhere is refused on the root, after all 62 steps.
        var leaf = RfcReference.LeafHash([1]);
        var path = Enumerable.Range(0, 62).Select(i => RfcReference.LeafHash([(byte)i])).ToArray();
        AssertRefused(MerkleProofFault.RootMismatch, MerkleProofs.VerifyInclusion(leaf, long.MaxValue - 1, long.MaxValue, path, leaf));
        AssertRefused(MerkleProofFault.PathLength, MerkleProofs.VerifyInclusion(leaf, long.MaxValue - 1, long.MaxValue, path[1..], leaf));
    }

    private static void AssertRefused(MerkleProofFault expected, MerkleProofVerdict verdict)
    {
        Assert.False(verdict.IsValid);
        Assert.Equal(expected, verdict.Fault);
        Assert.False(string.IsNullOrWhiteSpace(verdict.Reason));
    }

    // The shape of the RFC 9162 §2.1.3.2 walk: for each proof hash, whether it goes on the left (L) or right (R).
    private static string InclusionWalk(long index, long size)
    {
        var shape = new System.Text.StringBuilder();
        for (long fn = index, sn = size - 1; sn != 0; fn >>= 1, sn >>= 1)
        {
            if ((fn & 1) == 1 || fn == sn)
            {
                shape.Append('L');
                while ((fn & 1) == 0 && fn != 0) { fn >>= 1; sn >>= 1; }
            }
            else
                shape.Append('R');
        }
        return shape.ToString();
    }

    // The shape of the RFC 9162 §2.1.4.2 walk: whether the first root is prepended (P), then for each later path
    // hash whether it joins both roots on the left (B) or only the second on the right (S). Equal sizes: "=".
    private static string ConsistencyWalk(long first, long second)
    {
        if (first == second)
            return "=";
        var shape = new System.Text.StringBuilder(BitOperations.IsPow2(first) ? "P" : "-");
        long fn = first - 1, sn = second - 1;
        while ((fn & 1) == 1) { fn >>= 1; sn >>= 1; }
        for (; sn != 0; fn >>= 1, sn >>= 1)
        {
            if ((fn & 1) == 1 || fn == sn)
            {
                shape.Append('B');
                while ((fn & 1) == 0 && fn != 0) { fn >>= 1; sn >>= 1; }
            }
            else
                shape.Append('S');
        }
        return shape.ToString();
    }
}
