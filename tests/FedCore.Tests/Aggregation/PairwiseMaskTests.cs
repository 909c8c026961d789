using FedCore.Aggregation.Protection;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;

namespace FedCore.Tests.Aggregation;

/// <summary>Pairwise one-time masks (Bonawitz et al.): they cancel exactly in the sum, and mask each update alone.</summary>
public class PairwiseMaskTests
{
    private static readonly CkksParameters Parameters = CkksParameters.Default;

    /// <summary>Seals each update with masks over the complete graph of all of them (ids p0, p1, …), as the round protocol does.</summary>
    internal static List<byte[]> SealMasked(CkksProtection scheme, CollectivePublicKey key, float[][] updates, double[] weights, byte[]? context = null)
    {
        context ??= new byte[32];
        var ids = updates.Select((_, i) => $"p{i}").ToList();
        var keys = ids.Select(_ => MaskingKeyPair.Generate()).ToList();
        var sealedUpdates = new List<byte[]>();
        for (int i = 0; i < updates.Length; i++)
        {
            var neighbours = ids.Select((id, j) => (id, keys[j].PublicKey)).Where(n => n.id != ids[i]).ToList();
            using var masks = PairwiseMasks.Derive(Parameters, keys[i], ids[i], neighbours, context);
            sealedUpdates.Add(scheme.Seal(updates[i], weights[i], key, masks).ToBytes());
        }
        keys.ForEach(k => k.Dispose());
        return sealedUpdates;
    }

    [Fact]
    public void Masks_of_every_member_add_up_to_zero_and_no_single_one_is_zero()
    {
        var ids = new[] { "CH/zurich", "HU/budapest", "US/cleveland", "US/long-beach" };
        var keys = ids.Select(_ => MaskingKeyPair.Generate()).ToList();
        var context = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var masks = ids.Select((id, i) => PairwiseMasks.Derive(Parameters, keys[i], id,
            ids.Select((other, j) => (other, keys[j].PublicKey)).Where(n => n.other != id).ToList(), context)).ToList();
        var q0 = Parameters.Context.WireModulus;
        for (int chunk = 0; chunk < 3; chunk++) // the streams continue chunk after chunk, in step
        {
            var sum = new ulong[Parameters.RingDimension];
            foreach (var m in masks)
            {
                var one = new ulong[Parameters.RingDimension];
                m.AddTo(one);
                Assert.True(one.Count(c => c == 0) < 4, "a single member's masks look uniform, not zero");
                for (int j = 0; j < sum.Length; j++)
                    sum[j] = q0.Add(sum[j], one[j]);
            }
            Assert.All(sum, c => Assert.Equal(0UL, c));
        }
    }

    [Fact]
    public void Vector_and_scalar_paths_add_identical_masks()
    {
        using var own = MaskingKeyPair.Generate();
        using var before = MaskingKeyPair.Generate();
        using var after = MaskingKeyPair.Generate();
        var q0 = Parameters.Context.WireModulus;
        var random = new Random(7);
        // Residues anywhere in [0, q₀), the edges included: the masks are added to some and subtracted from others.
        var start = Enumerable.Range(0, Parameters.RingDimension)
            .Select(j => j % 97 == 0 ? 0UL : j % 89 == 0 ? q0.Value - 1 : (ulong)random.NextInt64((long)q0.Value)).ToArray();
        ulong[][] Run(bool vectors)
        {
            bool saved = FedCore.Crypto.Ring.VectorArithmetic.Enabled;
            FedCore.Crypto.Ring.VectorArithmetic.Enabled = vectors;
            try
            {
                // "HU/m" sorts after "CH/a" (its masks subtracted) and before "US/z" (added).
                using var masks = PairwiseMasks.Derive(Parameters, own, "HU/m", [("CH/a", before.PublicKey), ("US/z", after.PublicKey)], new byte[32]);
                return Enumerable.Range(0, 3).Select(_ =>
                {
                    var polynomial = (ulong[])start.Clone();
                    masks.AddTo(polynomial);
                    return polynomial;
                }).ToArray();
            }
            finally
            {
                FedCore.Crypto.Ring.VectorArithmetic.Enabled = saved;
            }
        }
        var vector = Run(true);
        Assert.Equal(Run(false), vector);
        Assert.All(vector.SelectMany(p => p), c => Assert.True(c < q0.Value));
    }

    [Fact]
    public void A_pair_derives_one_seed_from_both_sides_and_another_context_gives_other_masks()
    {
        using var a = MaskingKeyPair.Generate();
        using var b = MaskingKeyPair.Generate();
        ulong[] Mask(MaskingKeyPair own, string self, MaskingKeyPair peer, string peerId, byte context)
        {
            using var masks = PairwiseMasks.Derive(Parameters, own, self, [(peerId, peer.PublicKey)], Enumerable.Repeat(context, 32).ToArray());
            var polynomial = new ulong[Parameters.RingDimension];
            masks.AddTo(polynomial);
            return polynomial;
        }
        var fromA = Mask(a, "HU/a", b, "CH/b", 1);
        var fromB = Mask(b, "CH/b", a, "HU/a", 1);
        var q0 = Parameters.Context.WireModulus;
        Assert.All(fromA.Zip(fromB), p => Assert.Equal(0UL, q0.Add(p.First, p.Second)));
        Assert.NotEqual(fromA, Mask(a, "HU/a", b, "CH/b", 2));
        // The same two keys, but a third party's key in place of b's: another seed entirely.
        using var c = MaskingKeyPair.Generate();
        Assert.NotEqual(fromA, Mask(a, "HU/a", c, "CH/b", 1));
    }

    [Fact]
    public void One_masked_update_decrypted_alone_shows_nothing_of_the_update()
    {
        // Whoever holds the round's whole secret (every share) can decrypt any single ciphertext. Masked, that shows a
        // one-time pad, not the update; unmasked, the update itself.
        var scheme = new CkksProtection(Parameters, 4);
        var secrets = Enumerable.Range(0, 3).Select(_ => SecretKeyShare.Generate(Parameters, new byte[32])).ToList();
        var key = CollectivePublicKey.Combine(secrets.Select(s => s.PublicKeyShare));
        var update = Enumerable.Range(0, 1000).Select(i => (float)Math.Sin(i) / 2).ToArray();
        float[][] updates = [update, update, update];
        double[] weights = [0.3, 0.3, 0.4];

        double WorstError(byte[] sealedUpdate)
        {
            var vector = EncryptedVector.FromBytes(sealedUpdate, Parameters);
            var masks = CiphertextMasks.Of(vector);
            var values = JointDecryption.Combine(key, vector, secrets.Select(s => s.CreateDecryptionShare(key, masks)));
            return Enumerable.Range(0, update.Length).Max(i => Math.Abs(values[i] - 0.3 * update[i]));
        }
        Assert.True(WorstError(scheme.Seal(update, 0.3, key, null).ToBytes()) < 1e-6);
        double masked = WorstError(SealMasked(scheme, key, updates, weights)[0]);
        Assert.True(masked > 1, $"a masked update decrypted alone is off by at most {masked}");
    }

    [Fact]
    public void A_masking_key_that_is_not_a_curve_point_or_a_repeated_neighbour_is_refused()
    {
        using var own = MaskingKeyPair.Generate();
        using var peer = MaskingKeyPair.Generate();
        var offCurve = peer.PublicKey;
        offCurve[^1] ^= 1;
        Assert.Contains("not a point of P-256", Assert.Throws<ArgumentException>(() =>
            PairwiseMasks.Derive(Parameters, own, "HU/a", [("CH/b", offCurve)], new byte[32])).Message);
        Assert.Contains("not an uncompressed P-256 point", Assert.Throws<ArgumentException>(() =>
            PairwiseMasks.Derive(Parameters, own, "HU/a", [("CH/b", offCurve[..33])], new byte[32])).Message);
        Assert.Contains("listed twice", Assert.Throws<ArgumentException>(() =>
            PairwiseMasks.Derive(Parameters, own, "HU/a", [("CH/b", peer.PublicKey), ("CH/b", peer.PublicKey)], new byte[32])).Message);
        Assert.Contains("itself", Assert.Throws<ArgumentException>(() =>
            PairwiseMasks.Derive(Parameters, own, "HU/a", [("HU/a", own.PublicKey)], new byte[32])).Message);
    }
}
