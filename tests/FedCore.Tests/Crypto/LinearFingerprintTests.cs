using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Wire;

namespace FedCore.Tests.Crypto;

public class LinearFingerprintTests
{
    private static readonly CkksParameters Parameters = CkksParameters.InsecureForTesting(64);
    private static readonly byte[] Challenge = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    private static (CollectivePublicKey Key, List<SecretKeyShare> Secrets, List<EncryptedVector> Vectors) Vectors(int count, int length)
    {
        var secrets = Enumerable.Range(0, count).Select(_ => SecretKeyShare.Generate(Parameters, new byte[32])).ToList();
        var key = CollectivePublicKey.Combine(secrets.Select(s => s.PublicKeyShare));
        var random = new Random(7);
        var vectors = Enumerable.Range(0, count).Select(_ => EncryptedVector.Encrypt(key, Enumerable.Range(0, length).Select(_ => random.NextDouble() - 0.5).ToArray(), 4)).ToList();
        return (key, secrets, vectors);
    }

    [Fact]
    public void The_fingerprint_of_a_sum_is_the_sum_of_the_fingerprints()
    {
        var (_, _, vectors) = Vectors(3, 200); // four ciphertexts at N = 64
        var sum = EncryptedVector.Sum(vectors);
        var expected = LinearFingerprint.Sum(vectors.Select(v => LinearFingerprint.OfMasks(v, Challenge)));
        Assert.True(LinearFingerprint.OfMasks(sum, Challenge).Matches(expected));
        Assert.True(LinearFingerprint.OfMasks(CiphertextMasks.Of(sum), Challenge).Matches(expected));
    }

    [Fact]
    public void Anything_but_the_sum_differs_one_coefficient_one_vector_or_another_challenge()
    {
        var (_, _, vectors) = Vectors(3, 200);
        var expected = LinearFingerprint.Sum(vectors.Select(v => LinearFingerprint.OfMasks(v, Challenge)));
        Assert.False(LinearFingerprint.OfMasks(EncryptedVector.Sum(vectors.Take(2)), Challenge).Matches(expected));
        Assert.False(LinearFingerprint.OfMasks(vectors[0], Challenge).Matches(expected));
        var tampered = CiphertextMasks.Of(EncryptedVector.Sum(vectors)).ToBytes();
        tampered[^20] ^= 1;
        Assert.False(LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(tampered, Parameters), Challenge).Matches(expected));
        var other = (byte[])Challenge.Clone();
        other[0] ^= 1;
        Assert.False(LinearFingerprint.OfMasks(EncryptedVector.Sum(vectors), other).Matches(expected));
        Assert.Throws<ArgumentException>(() => LinearFingerprint.Sum([LinearFingerprint.OfMasks(vectors[0], Challenge), LinearFingerprint.OfMasks(vectors[1], other)]));
    }

    [Fact]
    public void It_is_the_evaluation_of_the_coefficients_read_as_a_polynomial()
    {
        // Independent check: with one ciphertext the fingerprint is Σ c1_k·y^{D−1−k} mod q0 at each drawn point; the
        // fingerprint of the vector with c1 replaced by the unit vector e_{D−1} is therefore 1 at every point.
        var (_, _, vectors) = Vectors(1, 10);
        var masks = CiphertextMasks.Of(vectors[0]).ToBytes();
        int start = WireFormat.HeaderLength + 36;
        Array.Clear(masks, start, masks.Length - start);
        var constant = (byte[])masks.Clone();
        // The last coefficient (index D−1 = 63) sits in the top bits of the packed polynomial: set it to 1.
        int bitOffset = 63 * Parameters.WireModulusBits;
        constant[start + bitOffset / 8] |= (byte)(1 << (bitOffset % 8));
        var fingerprint = LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(constant, Parameters), Challenge).ToBytes();
        int values = fingerprint.Length - 4 * 8;
        for (int i = 0; i < LinearFingerprint.Points; i++)
            Assert.Equal(1UL, BitConverter.ToUInt64(fingerprint, values + 8 * i));
        var zero = LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(masks, Parameters), Challenge).ToBytes();
        for (int i = 0; i < LinearFingerprint.Points; i++)
            Assert.Equal(0UL, BitConverter.ToUInt64(zero, values + 8 * i));
    }

    [Fact]
    public void Over_several_ciphertexts_and_values_near_q0_it_is_the_polynomial_evaluated_exactly()
    {
        // The points are read off the fingerprint of the unit vector e_{D−2} (F = y), then F is recomputed in BigInteger
        // for coefficients that fill every ciphertext, many of them q0 − 1: the eight-lane Horner must give the same value.
        var (_, _, vectors) = Vectors(1, 150); // three ciphertexts at N = 64, D = 192
        var template = CiphertextMasks.Of(vectors[0]).ToBytes();
        int start = WireFormat.HeaderLength + 36, n = Parameters.RingDimension, bits = Parameters.WireModulusBits, d = 3 * n;
        ulong q = Parameters.WireModulus;
        byte[] Masks(ulong[] coefficients)
        {
            var bytes = (byte[])template.Clone();
            int polynomial = BitPacking.PackedLength(n, bits);
            for (int chunk = 0; chunk < 3; chunk++)
                BitPacking.Pack(coefficients.AsSpan(chunk * n, n), bits, bytes.AsSpan(start + chunk * polynomial, polynomial));
            return bytes;
        }
        ulong[] Values(ulong[] coefficients)
        {
            var fingerprint = LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(Masks(coefficients), Parameters), Challenge).ToBytes();
            return Enumerable.Range(0, LinearFingerprint.Points).Select(i => BitConverter.ToUInt64(fingerprint, fingerprint.Length - 8 * (LinearFingerprint.Points - i))).ToArray();
        }
        var unit = new ulong[d];
        unit[d - 2] = 1;
        var points = Values(unit);
        var random = new Random(11);
        var coefficients = Enumerable.Range(0, d).Select(k => k % 5 == 0 ? q - 1 : (ulong)random.NextInt64((long)q)).ToArray();
        var actual = Values(coefficients);
        for (int i = 0; i < LinearFingerprint.Points; i++)
        {
            System.Numerics.BigInteger value = 0;
            foreach (ulong c in coefficients)
                value = (value * points[i] + c) % q;
            Assert.Equal((ulong)value, actual[i]);
        }
    }

    [Fact]
    public void It_round_trips_and_a_malformed_one_is_a_format_error_naming_the_field()
    {
        var (_, _, vectors) = Vectors(1, 10);
        var fingerprint = LinearFingerprint.OfMasks(vectors[0], Challenge);
        Assert.True(LinearFingerprint.FromBytes(fingerprint.ToBytes(), Parameters).Matches(fingerprint));
        var bytes = fingerprint.ToBytes();
        Assert.Contains("values", Assert.Throws<HeFormatException>(() => LinearFingerprint.FromBytes(bytes[..^1], Parameters)).Message);
        var tooBig = (byte[])bytes.Clone();
        BitConverter.GetBytes(ulong.MaxValue).CopyTo(tooBig, tooBig.Length - 8);
        Assert.Contains("not below q0", Assert.Throws<HeFormatException>(() => LinearFingerprint.FromBytes(tooBig, Parameters)).Message);
    }
}
