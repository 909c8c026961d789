using FedCore.Aggregation.Protection;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;

namespace FedCore.Tests.Aggregation;

/// <summary>The CKKS scheme as the round protocol uses it (FedCore/Rounds), with real parameters and no protocol checks around it.</summary>
public class CkksProtectionTests
{
    private readonly CkksProtection _scheme = new(CkksParameters.Default, bound: 4);

    /// <summary>Key shares, the collective key, sealed updates (with pairwise masks when asked) and the aggregate, as an honest round makes them.</summary>
    private sealed record Round(List<SecretKeyShare> Secrets, CollectivePublicKey Key, List<byte[]> Updates, CkksProtection.Aggregate Sum, CiphertextMasks Masks);

    private Round Play(float[][] updates, double[] weights, bool masked = true, CkksProtection? scheme = null)
    {
        scheme ??= _scheme;
        var secrets = updates.Select(_ => SecretKeyShare.Generate(CkksParameters.Default, new byte[32])).ToList();
        var key = CollectivePublicKey.Combine(secrets.Select(s => s.PublicKeyShare));
        var sealedUpdates = masked ? PairwiseMaskTests.SealMasked(scheme, key, updates, weights) : updates.Select((u, k) => scheme.Seal(u, weights[k], key, null).ToBytes()).ToList();
        var sum = scheme.NewAggregate(key);
        for (int i = 0; i < sealedUpdates.Count; i++)
            sum.Add($"p{i}", Sent(sealedUpdates[i]));
        return new Round(secrets, key, sealedUpdates, sum, sum.Masks());
    }

    /// <summary>What of a sealed update leaves its participant: its masks (FedCore/Rounds/README.md, step 4).</summary>
    private static byte[] Sent(byte[] sealedUpdate) => CiphertextMasks.Of(EncryptedVector.FromBytes(sealedUpdate, CkksParameters.Default)).ToBytes();

    /// <summary>The opening as a round makes it: each participant's part (its c0 plus its share of the masks), summed and decoded.</summary>
    private AggregatedUpdate Open(Round round, CkksProtection? scheme = null)
    {
        scheme ??= _scheme;
        var parts = round.Secrets.Select((secret, i) =>
            scheme.Part(EncryptedVector.FromBytes(round.Updates[i], CkksParameters.Default), secret, round.Key, round.Masks, round.Secrets.Count)).ToList();
        return scheme.Open(OpenedPlaintext.Sum(parts), round.Secrets.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Three_participants_encrypted_FedAvg_equals_plaintext_FedAvg_with_or_without_pairwise_masks(bool masked)
    {
        var random = new Random(11);
        const int length = 5000; // two ciphertexts at N = 4096
        var updates = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        double[] weights = [202 / 493.0, 174 / 493.0, 117 / 493.0];

        var round = Play(updates, weights, masked);
        var opened = Open(round);

        Assert.Equal(weights.Sum(), opened.TotalWeight, 6);
        var mean = opened.Mean();
        double worst = 0;
        for (int i = 0; i < length; i++)
        {
            double plain = Enumerable.Range(0, 3).Sum(k => weights[k] * updates[k][i]) / weights.Sum();
            worst = Math.Max(worst, Math.Abs(plain - mean[i]));
        }
        Assert.True(worst <= 1e-6, $"max |encrypted − plaintext| = {worst:E2}");
        // Sealed: two ciphertexts of 4,096 values, 13.25 bytes per value they carry (c0 at 45 bits, c1 at 61) plus a small
        // header; on the wire only the masks, 7.625 bytes per value (c1), since c0 stays with the participant.
        Assert.InRange(round.Updates[0].Length, 2 * 4096 * 13.25, 2 * 4096 * 13.25 + 256);
        Assert.InRange(Sent(round.Updates[0]).Length, 2 * 4096 * 7.625, 2 * 4096 * 7.625 + 256);
    }

    [Fact]
    public void A_part_whose_share_would_spend_more_than_the_flooding_budget_is_refused()
    {
        // 10 000 updates summed: one key may then decrypt only 84 ciphertexts (NoiseFlooding.md); this sum has 85.
        const int participants = 10_000;
        long budget = NoiseFloodingBudget.MaxDecryptedCiphertexts(CkksParameters.Default, participants);
        Assert.Equal(84, budget);
        var values = new float[(int)budget * 4096]; // with the weight: one value more than 84 ciphertexts hold
        var round = Play([values], [1], masked: false);
        var sealedUpdate = EncryptedVector.FromBytes(round.Updates[0], CkksParameters.Default);
        var error = Assert.Throws<AggregateRefusedException>(() => _scheme.Part(sealedUpdate, round.Secrets[0], round.Key, round.Masks, participants));
        Assert.Contains("85 ciphertexts", error.Message);
        Assert.Contains("allows 84", error.Message);
        // Within the budget for the sum actually made: given.
        Assert.Equal(85, _scheme.Part(sealedUpdate, round.Secrets[0], round.Key, round.Masks, 1).ChunkCount);
    }

    [Fact]
    public void A_participant_clips_to_the_bound_and_sealing_refuses_what_was_not_clipped_naming_no_value()
    {
        float[] update = [0.1f, 9f, -7.5f, float.NaN, float.PositiveInfinity, 0.2f];
        Assert.Equal(4, _scheme.Clip(update));
        Assert.Equal([0.1f, 4f, -4f, 0f, 0f, 0.2f], update);

        var key = CollectivePublicKey.Combine([SecretKeyShare.Generate(CkksParameters.Default, new byte[32]).PublicKeyShare]);
        var error = Assert.Throws<UpdateOutOfBoundsException>(() => _scheme.Seal([0.1f, 9.25f, 0.2f], 1, key, null));
        Assert.Equal(1, error.Index); // for the participant's own log
        Assert.DoesNotContain("9.25", error.Message);
        Assert.Throws<UpdateOutOfBoundsException>(() => _scheme.Seal([float.NaN], 1, key, null));
        Assert.Contains("normaliser", Assert.Throws<UpdateOutOfBoundsException>(() => _scheme.Seal([0.1f], 1.5, key, null)).Message); // w·u could pass the bound
    }

    [Theory]
    [InlineData(new[] { 0.35, -0.1, 0.9 }, null)] // ×10: total weight 0.6 + 9 is beyond 2 updates × bound 4
    [InlineData(new[] { 3.9, -3.9, 0.001 }, 0)]  // ×10: 0.6·0.5 + 39 at index 0 is beyond (0.6 + 0.01) × 4
    public void A_sum_that_honest_seals_cannot_make_does_not_open(double[] weightedValuesThenWeight, int? offendingIndex)
    {
        // Participant 2 skips Seal's checks: it encrypts through the library directly and multiplies its ciphertext by
        // 10. The wire form is valid and it signs what it sends, so only the opened sum can give it away.
        var secrets = Enumerable.Range(0, 2).Select(_ => SecretKeyShare.Generate(CkksParameters.Default, new byte[32])).ToList();
        var key = CollectivePublicKey.Combine(secrets.Select(s => s.PublicKeyShare));
        var inflated = EncryptedVector.Encrypt(key, weightedValuesThenWeight, _scheme.Bound).MultiplyByInteger(10).ToBytes();
        List<byte[]> updates = [_scheme.Seal([0.5f, 0.5f], 0.6, key, null).ToBytes(), inflated];
        var sum = _scheme.NewAggregate(key);
        sum.Add("HU/honest", Sent(updates[0]));
        sum.Add("CH/inflated", Sent(updates[1]));
        var round = new Round(secrets, key, updates, sum, sum.Masks());

        var error = Assert.Throws<ImplausibleAggregateException>(() => Open(round));
        Assert.Contains("malformed", error.Message);
        Assert.Equal(offendingIndex, error.Index);
    }

    [Fact]
    public void An_opened_sums_tolerance_grows_with_the_bound_and_covers_its_error()
    {
        // At bound 8192 the scale is 2^11 times smaller than at 4, and the decryption error that much larger: a fixed
        // 1e-6 for the total weight would fail honest rounds.
        var wide = new CkksProtection(CkksParameters.Default, bound: 8192);
        var opened = Open(Play([[0.5f, -0.25f], [0.5f, -0.25f], [0.5f, -0.25f]], [0.3, 0.3, 0.4], scheme: wide), wide);
        Assert.InRange(opened.Tolerance, 1e-6, 1e-2);
        Assert.InRange(opened.TotalWeight, 1 - opened.Tolerance, 1 + opened.Tolerance);
        Assert.InRange(opened.WeightedSum[0], 0.5 - opened.Tolerance, 0.5 + opened.Tolerance);
        var narrow = Open(Play([[0.5f, -0.25f]], [1]));
        Assert.True(narrow.Tolerance < 1e-6 && opened.Tolerance > 1000 * narrow.Tolerance, $"{narrow.Tolerance:E2} at bound 4, {opened.Tolerance:E2} at 8192");
    }

    [Fact]
    public void An_honest_sum_at_the_edge_of_the_bound_opens()
    {
        // Every value at ±bound: the opened weighted sums sit exactly on the edge of the box, ±total weight × bound.
        var opened = Open(Play([[4f, -4f], [4f, -4f]], [0.5, 0.5]));
        Assert.Equal(1, opened.TotalWeight, 6);
        Assert.Equal(4, opened.WeightedSum[0], 6);
        Assert.Equal(-4, opened.WeightedSum[1], 6);
    }

    [Fact]
    public void Garbage_updates_whole_ciphertexts_and_masks_under_another_round_key_or_of_another_length_are_refused_on_arrival()
    {
        var seed = new byte[32];
        var keyA = CollectivePublicKey.Combine([SecretKeyShare.Generate(CkksParameters.Default, seed).PublicKeyShare]);
        var keyB = CollectivePublicKey.Combine([SecretKeyShare.Generate(CkksParameters.Default, seed).PublicKeyShare]);
        var sum = _scheme.NewAggregate(keyA);
        Assert.Contains("sealed update from HU/x", Assert.Throws<SealedUpdateFormatException>(() => sum.Add("HU/x", [1, 2, 3, 4])).Message);
        sum.Add("HU/a", Sent(_scheme.Seal([0.1f, 0.2f], 1, keyA, null).ToBytes()));
        Assert.Contains("another round key", Assert.Throws<SealedUpdateFormatException>(() => sum.Add("CH/b", Sent(_scheme.Seal([0.1f, 0.2f], 1, keyB, null).ToBytes()))).Message);
        Assert.Contains("lengths 3 and 4", Assert.Throws<SealedUpdateFormatException>(() => sum.Add("CH/b", Sent(_scheme.Seal([0.1f, 0.2f, 0.3f], 1, keyA, null).ToBytes()))).Message);
        Assert.Contains("second sealed update from HU/a", Assert.Throws<SealedUpdateFormatException>(() => sum.Add("HU/a", Sent(_scheme.Seal([0.3f, 0.2f], 1, keyA, null).ToBytes()))).Message);
        // A whole sealed update, c0 included, is not what a member sends: refused like any other malformed bytes.
        Assert.Contains("sealed update from CH/c", Assert.Throws<SealedUpdateFormatException>(() => sum.Add("CH/c", _scheme.Seal([0.1f, 0.2f], 1, keyA, null).ToBytes())).Message);
    }
}
