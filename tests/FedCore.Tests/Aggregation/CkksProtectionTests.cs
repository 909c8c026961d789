using FedCore.Aggregation.Protection;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;

namespace FedCore.Tests.Aggregation;

/// <summary>The CKKS scheme behind the update seam: the protocol as the grains run it, with real parameters.</summary>
public class CkksProtectionTests
{
    private readonly CkksProtection _scheme = new(CkksParameters.Default, bound: 4);

    /// <summary>One round as the grains play it, with an honest aggregator.</summary>
    private sealed record Round(List<RoundKeyShare> Keys, byte[] RoundKey, List<SealedUpdate> Updates, ISealedAggregate Sum, byte[] Input)
    {
        public List<byte[]> Commitments => Updates.Select(u => u.Commitment).ToList();
    }

    private Round Play(float[][] updates, double[] weights)
    {
        var seed = new byte[32];
        var keys = updates.Select(_ => _scheme.CreateKeyShare(seed)).ToList();
        var roundKey = _scheme.CombineKeyShares(keys.Select(k => k.PublicShare).ToList());
        var sealedUpdates = updates.Select((u, k) => _scheme.Seal(u, weights[k], roundKey)).ToList();
        var sum = _scheme.NewAggregate(roundKey);
        for (int i = 0; i < sealedUpdates.Count; i++)
            Assert.Equal(sealedUpdates[i].Commitment, sum.Add($"p{i}", sealedUpdates[i].Bytes));
        return new Round(keys, roundKey, sealedUpdates, sum, sum.DecryptionInput());
    }

    [Fact]
    public void Three_participants_encrypted_FedAvg_equals_plaintext_FedAvg()
    {
        var random = new Random(11);
        const int length = 5000; // two ciphertexts at N = 4096
        var updates = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        double[] weights = [202 / 493.0, 174 / 493.0, 117 / 493.0];

        var round = Play(updates, weights);
        var shares = round.Keys.Select(k => _scheme.DecryptionShare(round.Input, round.RoundKey, k.Secret, round.Commitments)).ToList();
        var opened = round.Sum.Open(shares);

        Assert.Equal(weights.Sum(), opened.TotalWeight, 6);
        var mean = opened.Mean();
        double worst = 0;
        for (int i = 0; i < length; i++)
        {
            double plain = Enumerable.Range(0, 3).Sum(k => weights[k] * updates[k][i]) / weights.Sum();
            worst = Math.Max(worst, Math.Abs(plain - mean[i]));
        }
        Assert.True(worst <= 1e-6, $"max |encrypted − plaintext| = {worst:E2}");
        // On the wire: two ciphertexts of 4,096 values, 13.25 bytes per value they carry (c0 at 45 bits, c1 at 61) plus a small header.
        Assert.InRange(round.Updates[0].Bytes.Length, 2 * 4096 * 13.25, 2 * 4096 * 13.25 + 256);
    }

    [Fact]
    public void A_participant_refuses_a_round_key_made_without_its_own_share()
    {
        var keys = Enumerable.Range(0, 3).Select(_ => _scheme.CreateKeyShare(new byte[32])).ToList();
        var all = keys.Select(k => k.PublicShare).ToList();
        Assert.Equal(_scheme.CombineKeyShares(all), _scheme.CombineKeyShares(all, keys[0].Secret));
        // The aggregator's key from the others' shares only: they could decrypt what participant 0 seals under it.
        var error = Assert.Throws<SealedUpdateFormatException>(() => _scheme.CombineKeyShares(all.Skip(1).ToList(), keys[0].Secret));
        Assert.Contains("own key share", error.Message);
        // A share made over another round seed does not count either.
        var otherSeed = _scheme.CreateKeyShare(Enumerable.Repeat((byte)1, 32).ToArray());
        Assert.Throws<SealedUpdateFormatException>(() => _scheme.CombineKeyShares(all.Skip(1).ToList(), otherSeed.Secret));
    }

    [Fact]
    public void A_share_that_would_spend_more_than_the_flooding_budget_is_refused()
    {
        // 10 000 updates summed: one key may then decrypt only 84 ciphertexts (NoiseFlooding.md); this sum has 85.
        const int participants = 10_000;
        long budget = NoiseFloodingBudget.MaxDecryptedCiphertexts(CkksParameters.Default, participants);
        Assert.Equal(84, budget);
        var values = new float[(int)budget * 4096]; // with the weight: one value more than 84 ciphertexts hold
        var round = Play([values], [1]);
        var error = Assert.Throws<AggregateRefusedException>(() =>
            _scheme.DecryptionShare(round.Input, round.RoundKey, round.Keys[0].Secret, Enumerable.Repeat(round.Commitments[0], participants).ToList()));
        Assert.Contains("85 ciphertexts", error.Message);
        Assert.Contains("allows 84", error.Message);
        // Within the budget for the sum actually made: given.
        Assert.NotEmpty(_scheme.DecryptionShare(round.Input, round.RoundKey, round.Keys[0].Secret, round.Commitments));
    }

    [Fact]
    public void The_sum_does_not_open_without_every_participants_share()
    {
        var round = Play([[0.5f, -0.25f], [0.1f, 0.2f], [0.3f, 0.3f]], [0.3, 0.3, 0.4]);
        var twoShares = round.Keys.Take(2).Select(k => _scheme.DecryptionShare(round.Input, round.RoundKey, k.Secret, round.Commitments)).ToList();
        Assert.Contains("Missing decryption shares from 1", Assert.Throws<SealedUpdateFormatException>(() => round.Sum.Open(twoShares)).Message);
    }

    [Fact]
    public void Participants_give_shares_for_the_true_sum_only()
    {
        var random = new Random(5);
        const int length = 9000; // three ciphertexts
        var round = Play(Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray()).ToArray(), [0.3, 0.3, 0.4]);
        _scheme.DecryptionShare(round.Input, round.RoundKey, round.Keys[0].Secret, round.Commitments); // the honest sum passes

        // The aggregator shows participant 0's own update (its masks) as if it were the sum.
        var ownMasks = CiphertextMasks.Of(EncryptedVector.FromBytes(round.Updates[0].Bytes, CkksParameters.Default)).ToBytes();
        Assert.Contains("not the sum", Assert.Throws<AggregateRefusedException>(() =>
            _scheme.DecryptionShare(ownMasks, round.RoundKey, round.Keys[1].Secret, round.Commitments)).Message);
        // Or the sum of two of the three updates, or the true sum with one commitment left out or counted twice.
        var twoOfThree = _scheme.Aggregate(round.RoundKey, round.Updates.Take(2).Select(u => u.Bytes).ToList()).DecryptionInput();
        Assert.Throws<AggregateRefusedException>(() => _scheme.DecryptionShare(twoOfThree, round.RoundKey, round.Keys[1].Secret, round.Commitments));
        Assert.Throws<AggregateRefusedException>(() => _scheme.DecryptionShare(round.Input, round.RoundKey, round.Keys[1].Secret, round.Commitments.Take(2).ToList()));
        Assert.Throws<AggregateRefusedException>(() => _scheme.DecryptionShare(round.Input, round.RoundKey, round.Keys[1].Secret, [.. round.Commitments, round.Commitments[0]]));
        // One coefficient of the masks changed is enough.
        var tampered = (byte[])round.Input.Clone();
        tampered[^100] ^= 1;
        Assert.Throws<AggregateRefusedException>(() => _scheme.DecryptionShare(tampered, round.RoundKey, round.Keys[1].Secret, round.Commitments));
        // Without commitments nothing ties the aggregate to the updates: refused outright.
        Assert.Throws<AggregateRefusedException>(() => _scheme.DecryptionShare(round.Input, round.RoundKey, round.Keys[1].Secret, []));
    }

    [Fact]
    public void An_update_changed_on_the_way_no_longer_matches_the_commitment_its_author_signed()
    {
        var roundKey = _scheme.CombineKeyShares([_scheme.CreateKeyShare(new byte[32]).PublicShare]);
        var sealedUpdate = _scheme.Seal([0.1f, -0.2f, 0.3f], 1, roundKey);
        const int header = 38 + 32 + 4 + 8; // wire header, key id, length, scale: then c0 (rounded, 45 bits), then c1
        int c0Bytes = 4096 * 45 / 8;
        foreach (int offset in new[] { header + 10, header + c0Bytes + 10 }) // a bit of c0, then of c1
        {
            var changed = (byte[])sealedUpdate.Bytes.Clone();
            changed[offset] ^= 1;
            var commitment = _scheme.NewAggregate(roundKey).Add("HU/a", changed);
            Assert.NotEqual(sealedUpdate.Commitment, commitment);
            Assert.NotEqual(sealedUpdate.Commitment.AsSpan(0, 32).ToArray(), commitment.AsSpan(0, 32).ToArray()); // the SHA-256 part
        }
    }

    [Fact]
    public void An_update_beyond_the_bound_is_refused_with_its_index_never_clipped()
    {
        var seed = new byte[32];
        var key = _scheme.CreateKeyShare(seed);
        var roundKey = _scheme.CombineKeyShares([key.PublicShare]);
        var error = Assert.Throws<UpdateOutOfBoundsException>(() => _scheme.Seal([0.1f, 9f, 0.2f], 1, roundKey));
        Assert.Equal(1, error.Index);
        Assert.Contains("±4", error.Message);
        Assert.Throws<UpdateOutOfBoundsException>(() => _scheme.Seal([float.NaN], 1, roundKey));
    }

    [Theory]
    [InlineData(new[] { 0.35, -0.1, 0.9 }, null)] // ×10: total weight 0.6 + 9 is beyond 2 updates × bound 4
    [InlineData(new[] { 3.9, -3.9, 0.001 }, 0)]  // ×10: 0.6·0.5 + 39 at index 0 is beyond (0.6 + 0.01) × 4
    public void A_sum_that_honest_seals_cannot_make_does_not_open(double[] weightedValuesThenWeight, int? offendingIndex)
    {
        // Participant 2 skips Seal's checks: it encrypts through the library directly and multiplies its ciphertext by
        // 10. The wire form is valid and it signs what it sends, so only the opened sum can give it away.
        var seed = new byte[32];
        var keys = Enumerable.Range(0, 2).Select(_ => _scheme.CreateKeyShare(seed)).ToList();
        var roundKey = _scheme.CombineKeyShares(keys.Select(k => k.PublicShare).ToList());
        var collective = CollectivePublicKey.FromBytes(roundKey, CkksParameters.Default);
        var inflated = EncryptedVector.Encrypt(collective, weightedValuesThenWeight, _scheme.Bound).MultiplyByInteger(10).ToBytes();
        var honest = _scheme.Seal([0.5f, 0.5f], 0.6, roundKey);
        var sum = _scheme.NewAggregate(roundKey);
        var commitments = new List<byte[]> { sum.Add("HU/honest", honest.Bytes), sum.Add("CH/inflated", inflated) };
        var input = sum.DecryptionInput();
        var shares = keys.Select(k => _scheme.DecryptionShare(input, roundKey, k.Secret, commitments)).ToList();

        var error = Assert.Throws<ImplausibleAggregateException>(() => sum.Open(shares));
        Assert.Contains("malformed", error.Message);
        Assert.Equal(offendingIndex, error.Index);
    }

    [Fact]
    public void An_opened_sums_tolerance_grows_with_the_bound_and_covers_its_error()
    {
        // At bound 8192 the scale is 2^11 times smaller than at 4, and the decryption error that much larger: a fixed
        // 1e-6 for the total weight would fail honest rounds.
        var wide = new CkksProtection(CkksParameters.Default, bound: 8192);
        var keys = Enumerable.Range(0, 3).Select(_ => wide.CreateKeyShare(new byte[32])).ToList();
        var roundKey = wide.CombineKeyShares(keys.Select(k => k.PublicShare).ToList());
        double[] weights = [0.3, 0.3, 0.4];
        var sealedUpdates = weights.Select(w => wide.Seal([0.5f, -0.25f], w, roundKey)).ToList();
        var sum = wide.Aggregate(roundKey, sealedUpdates.Select(u => u.Bytes).ToList());
        var input = sum.DecryptionInput();
        var opened = sum.Open(keys.Select(k => wide.DecryptionShare(input, roundKey, k.Secret, sealedUpdates.Select(u => u.Commitment).ToList())).ToList());

        Assert.InRange(opened.Tolerance, 1e-6, 1e-2);
        Assert.InRange(opened.TotalWeight, 1 - opened.Tolerance, 1 + opened.Tolerance);
        Assert.InRange(opened.WeightedSum[0], 0.5 - opened.Tolerance, 0.5 + opened.Tolerance);
        var small = Play([[0.5f, -0.25f]], [1]); // bound 4
        var narrow = small.Sum.Open(small.Keys.Select(k => _scheme.DecryptionShare(small.Input, small.RoundKey, k.Secret, small.Commitments)).ToList());
        Assert.True(narrow.Tolerance < 1e-6 && opened.Tolerance > 1000 * narrow.Tolerance, $"{narrow.Tolerance:E2} at bound 4, {opened.Tolerance:E2} at 8192");
    }

    [Fact]
    public void An_honest_sum_at_the_edge_of_the_bound_opens()
    {
        // Every value at ±bound: the opened weighted sums sit exactly on the edge of the box, ±total weight × bound.
        var round = Play([[4f, -4f], [4f, -4f]], [0.5, 0.5]);
        var opened = round.Sum.Open(round.Keys.Select(k => _scheme.DecryptionShare(round.Input, round.RoundKey, k.Secret, round.Commitments)).ToList());
        Assert.Equal(1, opened.TotalWeight, 6);
        Assert.Equal(4, opened.WeightedSum[0], 6);
        Assert.Equal(-4, opened.WeightedSum[1], 6);
    }

    [Fact]
    public void Garbage_in_place_of_a_sealed_update_is_a_format_error_naming_it()
    {
        var roundKey = _scheme.CombineKeyShares([_scheme.CreateKeyShare(new byte[32]).PublicShare]);
        var error = Assert.Throws<SealedUpdateFormatException>(() => _scheme.Aggregate(roundKey, [[1, 2, 3, 4]]));
        Assert.Contains("sealed update from #0", error.Message);
    }

    [Fact]
    public void Updates_under_another_round_key_or_of_another_length_are_refused_on_arrival()
    {
        var seed = new byte[32];
        var keyA = _scheme.CombineKeyShares([_scheme.CreateKeyShare(seed).PublicShare]);
        var keyB = _scheme.CombineKeyShares([_scheme.CreateKeyShare(seed).PublicShare]);
        var sum = _scheme.NewAggregate(keyA);
        sum.Add("HU/a", _scheme.Seal([0.1f, 0.2f], 1, keyA).Bytes);
        Assert.Contains("another round key", Assert.Throws<SealedUpdateFormatException>(() => sum.Add("CH/b", _scheme.Seal([0.1f, 0.2f], 1, keyB).Bytes)).Message);
        Assert.Contains("lengths 3 and 4", Assert.Throws<SealedUpdateFormatException>(() => sum.Add("CH/b", _scheme.Seal([0.1f, 0.2f, 0.3f], 1, keyA).Bytes)).Message);
        Assert.Contains("second sealed update from HU/a", Assert.Throws<SealedUpdateFormatException>(() => sum.Add("HU/a", _scheme.Seal([0.3f, 0.2f], 1, keyA).Bytes)).Message);
        Assert.Equal(1, sum.Count);
    }
}
