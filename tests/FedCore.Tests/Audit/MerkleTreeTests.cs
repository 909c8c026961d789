using FedCore.Audit;

namespace FedCore.Tests.Audit;

/// <summary>The tree and the proofs it produces, against RFC 6962 §2.1 written out literally (<see cref="RfcReference"/>).</summary>
public class MerkleTreeTests
{
    private const int Max = 64;

    [Fact]
    public void The_root_is_the_RFC_6962_tree_hash_for_every_size_up_to_70_built_at_once_or_appended()
    {
        var appended = new MerkleTree();
        Assert.Equal(RfcReference.Mth([]), appended.Root);
        for (int n = 1; n <= 70; n++)
        {
            var entries = RfcReference.Entries(n);
            Assert.Equal(n - 1, appended.AppendEntry(entries[^1]));
            var expected = RfcReference.Mth(entries);
            Assert.Equal(expected, MerkleTree.FromEntries(entries).Root);
            Assert.Equal(expected, MerkleTree.FromLeafHashes(entries.Select(RfcReference.LeafHash)).Root);
            Assert.Equal(expected, appended.Root);
            Assert.Equal(n, appended.Size);
        }
    }

    [Fact]
    public void Every_earlier_root_is_the_tree_hash_of_that_prefix()
    {
        var entries = RfcReference.Entries(70);
        var tree = MerkleTree.FromEntries(entries);
        for (int m = 0; m <= 70; m++)
            Assert.Equal(RfcReference.Mth(entries[..m]), tree.RootAt(m));
    }

    [Fact]
    public void The_empty_tree_hash_is_SHA256_of_nothing()
    {
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Convert.ToHexStringLower(new MerkleTree().Root));
        Assert.Equal(MerkleTree.EmptyRoot(), MerkleTree.FromEntries([]).RootAt(0));
    }

    [Fact]
    public void Inclusion_proofs_are_RFC_6962_PATH_for_every_leaf_of_every_size_up_to_64()
    {
        var entries = RfcReference.Entries(Max);
        var full = MerkleTree.FromEntries(entries);
        for (int n = 1; n <= Max; n++)
        {
            var tree = MerkleTree.FromEntries(entries[..n]);
            for (int i = 0; i < n; i++)
            {
                var expected = RfcReference.Path(i, entries[..n]);
                Assert.Equal(expected, tree.InclusionProof(i));
                Assert.Equal(expected, full.InclusionProof(i, n)); // the same proof from the log after it grew
            }
        }
    }

    [Fact]
    public void Consistency_proofs_are_RFC_6962_PROOF_for_every_pair_of_sizes_up_to_64()
    {
        var entries = RfcReference.Entries(Max);
        var full = MerkleTree.FromEntries(entries);
        for (int n = 1; n <= Max; n++)
        {
            var tree = MerkleTree.FromEntries(entries[..n]);
            for (int m = 1; m <= n; m++)
            {
                var expected = RfcReference.Proof(m, entries[..n]);
                Assert.Equal(expected, tree.ConsistencyProof(m));
                Assert.Equal(expected, full.ConsistencyProof(m, n));
            }
        }
    }

    [Fact]
    public void Impossible_proof_requests_are_refused_with_the_reason()
    {
        var tree = MerkleTree.FromEntries(RfcReference.Entries(5));
        Assert.Contains("outside a tree of 5", Assert.Throws<ArgumentOutOfRangeException>(() => tree.InclusionProof(5)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.InclusionProof(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.InclusionProof(3, 3));
        Assert.Contains("not one it has had", Assert.Throws<ArgumentOutOfRangeException>(() => tree.InclusionProof(0, 6)).Message);
        Assert.Contains("0 < first size", Assert.Throws<ArgumentOutOfRangeException>(() => tree.ConsistencyProof(0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.ConsistencyProof(4, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.ConsistencyProof(1, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.RootAt(6));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MerkleTree().InclusionProof(0));
        Assert.Contains("32 bytes", Assert.Throws<ArgumentException>(() => tree.AppendLeafHash(new byte[31])).Message);
        Assert.Equal(5, tree.Size); // a refused append changes nothing
    }

    [Fact]
    public void What_the_tree_hands_out_is_a_copy()
    {
        var tree = MerkleTree.FromEntries(RfcReference.Entries(8));
        var root = tree.Root;
        tree.InclusionProof(3)[0][0] ^= 0xff;
        tree.ConsistencyProof(3)[0][0] ^= 0xff;
        tree.LeafHash(2)[0] ^= 0xff;
        tree.RootAt(8)[0] ^= 0xff;
        Assert.Equal(root, tree.Root);
        var hash = RfcReference.LeafHash([1, 2, 3]);
        var other = new MerkleTree();
        other.AppendLeafHash(hash);
        hash[0] ^= 0xff;
        Assert.Equal(RfcReference.Mth([[1, 2, 3]]), other.Root);
    }

    [Fact]
    public void Leaves_and_nodes_are_domain_separated()
    {
        // The 64 bytes of two children, appended as an entry, hash to something else than their parent node.
        var left = MerkleTree.HashLeaf([1]);
        var right = MerkleTree.HashLeaf([2]);
        Assert.NotEqual(MerkleTree.HashChildren(left, right), MerkleTree.HashLeaf([.. left, .. right]));
        Assert.Equal(RfcReference.LeafHash(new byte[5000]), MerkleTree.HashLeaf(new byte[5000])); // the pooled-buffer path
    }

    [Fact]
    public void A_larger_log_gives_proofs_that_verify_at_sizes_across_level_boundaries()
    {
        var tree = new MerkleTree();
        var sizes = new[] { 1000, 1023, 1024, 1025, 2047, 2048, 3000 };
        for (int i = 0; tree.Size < sizes[^1]; i++)
            tree.AppendEntry(BitConverter.GetBytes(i));
        foreach (var n in sizes)
        {
            var root = tree.RootAt(n);
            foreach (var i in new long[] { 0, 1, n / 2, n - 2, n - 1 })
                Assert.True(MerkleProofs.VerifyInclusion(tree.LeafHash(i), i, n, tree.InclusionProof(i, n), root).IsValid, $"{i} of {n}");
            foreach (var m in sizes.Where(m => m <= n))
                Assert.True(MerkleProofs.VerifyConsistency(m, n, tree.ConsistencyProof(m, n), tree.RootAt(m), root).IsValid, $"{m} -> {n}");
        }
    }
}
