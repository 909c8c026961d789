using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using Xunit.Abstractions;

namespace FedCore.Tests.Crypto;

public class MultipartyTests(ITestOutputHelper output)
{
    private const double Bound = 16; // the bound the round planner declares for weighted averages

    private static (SecretKeyShare[] Secrets, CollectivePublicKey Key) GenerateKeys(CkksParameters parameters, int participants)
    {
        byte[] seed = CommonReferencePolynomial.NewSeed();
        SecretKeyShare[] secrets = Enumerable.Range(0, participants).Select(_ => SecretKeyShare.Generate(parameters, seed)).ToArray();
        return (secrets, CollectivePublicKey.Combine(secrets.Select(s => s.PublicKeyShare)));
    }

    private static double[] RandomVector(Random rng, int length, double bound = 1.0) =>
        Enumerable.Range(0, length).Select(_ => (rng.NextDouble() * 2 - 1) * bound).ToArray();

    private static double MaxDifference(IReadOnlyList<double> a, IReadOnlyList<double> b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(100)]
    public void Encrypted_fedavg_equals_plaintext_fedavg_within_1e6(int participants)
    {
        var rng = new Random(1000 + participants);
        CkksParameters parameters = CkksParameters.N4096;
        const int modelSize = 6000; // two ciphertexts: the second one is partly padding
        (SecretKeyShare[] secrets, CollectivePublicKey key) = GenerateKeys(parameters, participants);

        double[][] models = Enumerable.Range(0, participants).Select(_ => RandomVector(rng, modelSize)).ToArray();
        long[] samples = Enumerable.Range(0, participants).Select(_ => (long)rng.Next(10, 5000)).ToArray();
        double total = samples.Sum();

        // Each participant encrypts (n_i/S)·w_i with n_i/S appended, as the round protocol does.
        var updates = new List<EncryptedVector>();
        for (int i = 0; i < participants; i++)
        {
            double weight = samples[i] / total;
            double[] weighted = [.. models[i].Select(w => weight * w), weight];
            updates.Add(EncryptedVector.Encrypt(key, weighted, Bound));
        }
        EncryptedVector aggregate = EncryptedVector.Sum(updates);
        DecryptionShare[] shares = secrets.Select(s => s.CreateDecryptionShare(key, aggregate)).ToArray();
        double[] sum = JointDecryption.Combine(key, aggregate, shares.Reverse());

        double weightSum = sum[modelSize];
        double[] encryptedAverage = sum[..modelSize].Select(v => v / weightSum).ToArray();
        double[] plainAverage = Enumerable.Range(0, modelSize)
            .Select(j => Enumerable.Range(0, participants).Sum(i => samples[i] * models[i][j]) / total).ToArray();
        double error = MaxDifference(encryptedAverage, plainAverage);
        output.WriteLine($"{participants} participants: max |encrypted − plaintext FedAvg| = {error:E2}");
        Assert.True(error <= 1e-6, $"max |encrypted − plaintext| = {error:E2} with {participants} participants");
        Assert.InRange(weightSum, 1 - 1e-6, 1 + 1e-6);
    }

    [Fact]
    public void Single_participant_round_trip()
    {
        CkksParameters parameters = CkksParameters.InsecureForTesting(256);
        (SecretKeyShare[] secrets, CollectivePublicKey key) = GenerateKeys(parameters, 1);
        double[] values = RandomVector(new Random(3), 1000, 5);
        EncryptedVector encrypted = EncryptedVector.Encrypt(key, values, 8);
        Assert.Equal(4, encrypted.ChunkCount);
        double[] decrypted = JointDecryption.Combine(key, encrypted, [secrets[0].CreateDecryptionShare(key, encrypted)]);
        Assert.Equal(values.Length, decrypted.Length);
        // Flooding noise (σ = 2^21) over Δ = 2^55 leaves about 1e-9 per value.
        Assert.True(MaxDifference(values, decrypted) < 1e-7);
    }

    [Fact]
    public void Switching_to_the_wire_modulus_and_rounding_c0_leave_only_rounding_noise()
    {
        // One party, no flooding: c0 + c1·s of an encryption of zero is ρ + τ0 + τ1·s: ρ from rounding c0 to a multiple of
        // 2^16 (uniform, std 2^16/√12 ≈ 18 919), τ0 + τ1·s from the modulus switch (std √(1/12 + N/18) ≈ 15 for N = 4096),
        // where the encryption at Q had e·u + e0 + e1·s, std ≈ 3.2·√(4N/3) ≈ 236.
        CkksParameters parameters = CkksParameters.N4096;
        (SecretKeyShare[] secrets, CollectivePublicKey key) = GenerateKeys(parameters, 1);
        EncryptedVector zero = EncryptedVector.Encrypt(key, new double[parameters.RingDimension], 1);
        ulong[] partial = secrets[0].PartialDecryptionWithoutFlooding(zero, 0);
        var q0 = new FedCore.Crypto.Ring.Modulus(parameters.WireModulus);
        long[] noise = ReadC0(zero, 0).Zip(partial, (c0, h) => q0.ToCentered(q0.Add(c0, h))).ToArray();
        double sd = Math.Sqrt(noise.Average(e => (double)e * e));
        double predicted = Math.Sqrt(Math.Pow(4, 16) / 12 + 1.0 / 12 + parameters.RingDimension / 18.0);
        Assert.InRange(sd / predicted, 0.95, 1.05);
        Assert.True(noise.Max(Math.Abs) < (1 << 15) + 130);
    }

    [Fact]
    public void Decryption_error_matches_the_flooding_budget_formula()
    {
        // Sum of 10 encryptions of zero: every decrypted value is pure error, of the predicted standard deviation.
        CkksParameters parameters = CkksParameters.N4096;
        const int participants = 10;
        (SecretKeyShare[] secrets, CollectivePublicKey key) = GenerateKeys(parameters, participants);
        var zeros = new double[3 * parameters.RingDimension];
        EncryptedVector sum = EncryptedVector.Sum(secrets.Select(_ => EncryptedVector.Encrypt(key, zeros, Bound)));
        double[] errors = JointDecryption.Combine(key, sum, secrets.Select(s => s.CreateDecryptionShare(key, sum)));
        double measured = Math.Sqrt(errors.Average(e => e * e));
        double predicted = NoiseFloodingBudget.ErrorStandardDeviation(parameters, participants, Bound);
        output.WriteLine($"error sd measured {measured:E3}, predicted {predicted:E3}");
        Assert.InRange(measured / predicted, 0.9, 1.1);
    }

    [Fact]
    public void Flooding_budget_is_consistent_and_shrinks_with_more_participants()
    {
        CkksParameters parameters = CkksParameters.N4096;
        long for2 = NoiseFloodingBudget.MaxDecryptedCiphertexts(parameters, 2);
        long for100 = NoiseFloodingBudget.MaxDecryptedCiphertexts(parameters, 100);
        Assert.True(for2 > for100 && for100 > 245, "a 10^6-parameter round (245 ciphertexts) must fit in one key even at P = 100");
        Assert.InRange(NoiseFloodingBudget.SecurityLossBits(parameters, 100, for100), 7.9, 8.0);
        Assert.True(NoiseFloodingBudget.SecurityLossBits(parameters, 100, for100 + 2) > 8);
        Assert.Equal(0, NoiseFloodingBudget.SecurityLossBits(parameters, 100, 0));
        Assert.Equal(NoiseFloodingBudget.BaseSecurityBits, NoiseFloodingBudget.SecurityLossBits(parameters, 100, long.MaxValue / 2));
        // A larger ring leaks more per ciphertext.
        Assert.True(NoiseFloodingBudget.MaxDecryptedCiphertexts(CkksParameters.N16384, 100) < for100);
    }

    [Fact]
    public void No_single_share_nor_the_aggregator_decrypts()
    {
        var rng = new Random(5);
        CkksParameters parameters = CkksParameters.N4096;
        (SecretKeyShare[] secrets, CollectivePublicKey key) = GenerateKeys(parameters, 3);
        double[] values = RandomVector(rng, 4096);
        EncryptedVector encrypted = EncryptedVector.Encrypt(key, values, Bound);
        DecryptionShare[] shares = secrets.Select(s => s.CreateDecryptionShare(key, encrypted)).ToArray();

        double MedianError(IReadOnlyList<DecryptionShare> subset)
        {
            double[] result = JointDecryption.CombineUnchecked(encrypted, subset);
            return values.Zip(result, (x, y) => Math.Abs(x - y)).Order().ElementAt(values.Length / 2);
        }

        Assert.True(MedianError(shares) < 1e-6);
        // What the aggregator holds (c0 and c1, no share), one share, or all but one: noise thousands of times the values.
        Assert.True(MedianError([]) > 100);
        foreach (DecryptionShare share in shares)
            Assert.True(MedianError([share]) > 100);
        Assert.True(MedianError(shares[..2]) > 100);
        Assert.Throws<ArgumentException>(() => JointDecryption.Combine(key, encrypted, shares[..2]));
    }

    [Fact]
    public void Aggregator_operations_compute_sums_and_scalar_products()
    {
        var rng = new Random(9);
        CkksParameters parameters = CkksParameters.InsecureForTesting(64);
        (SecretKeyShare[] secrets, CollectivePublicKey key) = GenerateKeys(parameters, 2);
        double[] a = RandomVector(rng, 150), b = RandomVector(rng, 150);
        EncryptedVector ea = EncryptedVector.Encrypt(key, a, 64), eb = EncryptedVector.Encrypt(key, b, 64);

        double[] Decrypt(EncryptedVector v) => JointDecryption.Combine(key, v, secrets.Select(s => s.CreateDecryptionShare(key, v)));

        Assert.True(MaxDifference(a.Zip(b, (x, y) => x + y).ToArray(), Decrypt(ea.Add(eb))) < 1e-6);
        // Weighted sum with integer weights, then a real normaliser: (3a − 5b) / 8.
        EncryptedVector weighted = ea.MultiplyByInteger(3).Add(eb.MultiplyByInteger(-5)).MultiplyByScalar(1.0 / 8);
        Assert.True(MaxDifference(a.Zip(b, (x, y) => (3 * x - 5 * y) / 8).ToArray(), Decrypt(weighted)) < 1e-6);
        Assert.True(MaxDifference(a.Select(x => -2.5 * x).ToArray(), Decrypt(ea.MultiplyByScalar(-2.5))) < 1e-6);
        Assert.True(Decrypt(ea.MultiplyByScalar(0)).Max(Math.Abs) < 1e-6);
        // Different scales cannot be added.
        Assert.Throws<ArgumentException>(() => ea.Add(eb.MultiplyByScalar(0.5)));
    }

    [Fact]
    public void A_running_sum_shows_the_same_masks_and_opens_to_the_same_values_as_the_packed_sum()
    {
        var rng = new Random(17);
        CkksParameters parameters = CkksParameters.InsecureForTesting(64);
        (SecretKeyShare[] secrets, CollectivePublicKey key) = GenerateKeys(parameters, 3);
        EncryptedVector[] vectors = Enumerable.Range(0, 3).Select(_ => EncryptedVector.Encrypt(key, RandomVector(rng, 150), Bound)).ToArray();
        EncryptedVector packed = EncryptedVector.Sum(vectors);

        var running = new EncryptedVectorSum();
        foreach (EncryptedVector v in vectors)
            running.Add(v);
        CiphertextMasks masks = running.Masks();
        Assert.Equal(CiphertextMasks.Of(packed).ToBytes(), masks.ToBytes());
        Assert.Throws<InvalidOperationException>(() => running.Add(vectors[0]));

        DecryptionShare[] shares = secrets.Select(s => s.CreateDecryptionShare(key, masks)).ToArray();
        var head = new double[149];
        var tail = new double[1];
        Assert.Contains("Missing decryption shares", Assert.Throws<ArgumentException>(() => running.Open(key, shares.Take(2), head, tail)).Message);
        // Shares add up as they arrive: the two already added count, a repeated one is refused, the third completes it.
        Assert.Contains("more than one share", Assert.Throws<ArgumentException>(() => running.AddShare(key, shares[1])).Message);
        running.Open(key, shares.Skip(2), head, tail);
        double[] expected = JointDecryption.Combine(key, packed, shares);
        Assert.True(MaxDifference(expected, [.. head, .. tail]) < 1e-9);
    }

    [Fact]
    public void Misuse_is_refused_with_a_clear_reason()
    {
        CkksParameters parameters = CkksParameters.InsecureForTesting(16);
        (SecretKeyShare[] secrets, CollectivePublicKey key) = GenerateKeys(parameters, 2);
        (SecretKeyShare[] otherSecrets, CollectivePublicKey otherKey) = GenerateKeys(parameters, 2);
        EncryptedVector v = EncryptedVector.Encrypt(key, [0.5, -0.25, 1], 1);
        EncryptedVector w = EncryptedVector.Encrypt(key, [0.5, -0.25, 1], 1);
        EncryptedVector foreign = EncryptedVector.Encrypt(otherKey, [0.5, -0.25, 1], 1);

        var outOfBound = Assert.Throws<ArgumentOutOfRangeException>(() => EncryptedVector.Encrypt(key, [0.5, 2, 0], 1));
        Assert.Contains("index 1", outOfBound.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => EncryptedVector.Encrypt(key, [double.NaN], 1));
        Assert.Throws<ArgumentException>(() => EncryptedVector.Encrypt(key, [], 1));
        Assert.Throws<ArgumentException>(() => v.Add(foreign));
        Assert.Throws<ArgumentException>(() => v.Add(EncryptedVector.Encrypt(key, [0.5, -0.25], 1)));
        Assert.Throws<ArgumentException>(() => v.Add(EncryptedVector.Encrypt(key, [0.5, -0.25, 1], 4)));

        // A share for another key's vector, or from a participant outside the key.
        Assert.Throws<ArgumentException>(() => secrets[0].CreateDecryptionShare(key, foreign));
        Assert.Throws<ArgumentException>(() => otherSecrets[0].CreateDecryptionShare(key, v));

        DecryptionShare[] shares = secrets.Select(s => s.CreateDecryptionShare(key, v)).ToArray();
        DecryptionShare[] sharesOfW = secrets.Select(s => s.CreateDecryptionShare(key, w)).ToArray();
        var missing = Assert.Throws<ArgumentException>(() => JointDecryption.Combine(key, v, shares[..1]));
        Assert.Contains(secrets[1].ShareId.ToString(), missing.Message);
        Assert.Throws<ArgumentException>(() => JointDecryption.Combine(key, v, [shares[0], shares[0]]));
        Assert.Throws<ArgumentException>(() => JointDecryption.Combine(key, v, [shares[0], sharesOfW[1]]));
        Assert.Throws<ArgumentException>(() => JointDecryption.Combine(otherKey, v, shares));

        // Key generation: mixed CRS seeds, duplicates, mixed parameter sets.
        Assert.Throws<ArgumentException>(() => CollectivePublicKey.Combine([secrets[0].PublicKeyShare, otherSecrets[1].PublicKeyShare]));
        Assert.Throws<ArgumentException>(() => CollectivePublicKey.Combine([secrets[0].PublicKeyShare, secrets[0].PublicKeyShare]));
        Assert.Throws<ArgumentException>(() => CollectivePublicKey.Combine([]));
        SecretKeyShare otherSet = SecretKeyShare.Generate(CkksParameters.InsecureForTesting(64), secrets[0].CrsSeed);
        Assert.Throws<ArgumentException>(() => CollectivePublicKey.Combine([secrets[0].PublicKeyShare, otherSet.PublicKeyShare]));
    }

    [Fact]
    public void Key_shares_are_reproducible_from_storage_and_identified_by_content()
    {
        CkksParameters parameters = CkksParameters.InsecureForTesting(64);
        byte[] seed = CommonReferencePolynomial.NewSeed();
        SecretKeyShare share = SecretKeyShare.Generate(parameters, seed);
        SecretKeyShare restored = SecretKeyShare.FromBytes(share.ToBytes(), parameters);
        Assert.Equal(share.ShareId, restored.ShareId);
        Assert.Equal(share.PublicKeyShare.ToBytes(), restored.PublicKeyShare.ToBytes());
        Assert.NotEqual(share.ShareId, SecretKeyShare.Generate(parameters, seed).ShareId);
        // The CRS is a function of (parameters, seed) only.
        Assert.Equal(
            CommonReferencePolynomial.Expand(parameters, seed).NttForm.Residue(1).ToArray(),
            CommonReferencePolynomial.Expand(parameters, seed).NttForm.Residue(1).ToArray());
    }

    private static ulong[] ReadC0(EncryptedVector vector, int chunk)
    {
        var c0 = new ulong[vector.Parameters.RingDimension];
        vector.ReadC0(chunk, c0);
        return c0;
    }
}
