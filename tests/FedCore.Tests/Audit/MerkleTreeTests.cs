using System.Security.Cryptography;
using FedCore.Audit;

namespace FedCore.Tests.Audit;

public class MerkleTreeTests
{
    /// <summary>RFC 6962 section 2.1, written out literally: MTH(D[n]) = H(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n])).</summary>
    private static byte[] ReferenceRoot(byte[][] leaves)
    {
        if (leaves.Length == 0)
            return SHA256.HashData(Array.Empty<byte>());
        if (leaves.Length == 1)
            return SHA256.HashData([0x00, .. leaves[0]]);
        int k = 1;
        while (k * 2 < leaves.Length)
            k *= 2;
        return SHA256.HashData([0x01, .. ReferenceRoot(leaves[..k]), .. ReferenceRoot(leaves[k..])]);
    }

    private static byte[][] Leaves(int n) => Enumerable.Range(0, n).Select(i => new byte[] { (byte)i, (byte)(i >> 8), 0x5a }).ToArray();

    [Fact]
    public void The_root_is_the_RFC_6962_tree_hash_for_every_size_up_to_70()
    {
        for (int n = 0; n <= 70; n++)
        {
            var leaves = Leaves(n);
            var tree = MerkleTree.FromLeafHashes(leaves.Select(l => MerkleTree.HashLeaf(l)).ToList());
            Assert.Equal(ReferenceRoot(leaves), tree.Root);
        }
    }

    [Fact]
    public void Every_leaf_has_a_proof_that_verifies_and_no_other_leaf_or_index_does()
    {
        for (int n = 1; n <= 33; n++)
        {
            var hashes = Leaves(n).Select(l => MerkleTree.HashLeaf(l)).ToList();
            var tree = MerkleTree.FromLeafHashes(hashes);
            for (int i = 0; i < n; i++)
            {
                var proof = tree.InclusionProof(i);
                Assert.True(MerkleTree.VerifyInclusion(hashes[i], i, n, proof, tree.Root), $"n={n} i={i}");
                Assert.False(MerkleTree.VerifyInclusion(hashes[(i + 1) % n], i, n, proof, tree.Root) && n > 1, $"n={n} i={i}: another leaf");
                if (n > 1)
                    Assert.False(MerkleTree.VerifyInclusion(hashes[i], (i + 1) % n, n, proof, tree.Root), $"n={n} i={i}: another index");
            }
        }
    }

    [Fact]
    public void A_tampered_path_or_root_fails()
    {
        var hashes = Leaves(21).Select(l => MerkleTree.HashLeaf(l)).ToList();
        var tree = MerkleTree.FromLeafHashes(hashes);
        var proof = tree.InclusionProof(13);
        var bent = proof.Select(p => (byte[])p.Clone()).ToArray();
        bent[2][5] ^= 1;
        Assert.False(MerkleTree.VerifyInclusion(hashes[13], 13, 21, bent, tree.Root));
        Assert.False(MerkleTree.VerifyInclusion(hashes[13], 13, 21, proof[..^1], tree.Root));
        Assert.False(MerkleTree.VerifyInclusion(hashes[13], 13, 21, [.. proof, proof[0]], tree.Root));
        var root = (byte[])tree.Root.Clone();
        root[0] ^= 0x80;
        Assert.False(MerkleTree.VerifyInclusion(hashes[13], 13, 21, proof, root));
    }

    [Fact]
    public void Leaves_and_nodes_are_domain_separated()
    {
        // A node's bytes presented as a leaf hash to something else than the node hash.
        var left = MerkleTree.HashLeaf([1]);
        var right = MerkleTree.HashLeaf([2]);
        Assert.NotEqual(MerkleTree.HashChildren(left, right), MerkleTree.HashLeaf([.. left, .. right]));
    }
}
