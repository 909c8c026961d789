using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Wire;

namespace FedCore.Tests.Crypto;

/// <summary>The sketch of an encrypted vector's masks adds like the vectors, binds key and length, and round-trips.</summary>
public class CiphertextSketchTests
{
    private static readonly CkksParameters Small = CkksParameters.InsecureForTesting(64);

    private static CollectivePublicKey NewKey(CkksParameters parameters, int participants = 3)
    {
        byte[] seed = CommonReferencePolynomial.NewSeed();
        return CollectivePublicKey.Combine(Enumerable.Range(0, participants).Select(_ => SecretKeyShare.Generate(parameters, seed).PublicKeyShare));
    }

    private static EncryptedVector Encrypt(CollectivePublicKey key, int length, int seed = 0) =>
        EncryptedVector.Encrypt(key, Enumerable.Range(0, length).Select(i => Math.Sin(i + 7.0 * seed) * 0.9).ToArray(), 1);

    private static CiphertextSketch SumOfSketches(IEnumerable<EncryptedVector> vectors) => CiphertextSketch.Sum(vectors.Select(CiphertextSketch.Of));

    [Fact]
    public void Sum_of_sketches_is_the_sketch_of_the_sum_and_of_its_masks()
    {
        CollectivePublicKey key = NewKey(Small);
        EncryptedVector[] vectors = [.. Enumerable.Range(0, 3).Select(i => Encrypt(key, 3 * 64 + 10, i))];
        EncryptedVector sum = EncryptedVector.Sum(vectors);
        Assert.Equal(4, sum.ChunkCount);

        CiphertextSketch expected = SumOfSketches(vectors);
        Assert.True(CiphertextSketch.Of(sum).Matches(expected));
        Assert.True(CiphertextSketch.Of(CiphertextMasks.Of(sum)).Matches(expected));
        Assert.True(expected.Matches(CiphertextSketch.Of(sum)));
    }

    [Fact]
    public void Partial_sums_single_updates_and_altered_masks_do_not_match()
    {
        CollectivePublicKey key = NewKey(Small);
        EncryptedVector[] vectors = [.. Enumerable.Range(0, 3).Select(i => Encrypt(key, 3 * 64 + 10, i))];
        CiphertextSketch expected = SumOfSketches(vectors);
        EncryptedVector sum = EncryptedVector.Sum(vectors);

        Assert.False(CiphertextSketch.Of(EncryptedVector.Sum(vectors[..2])).Matches(expected));
        foreach (EncryptedVector vector in vectors)
            Assert.False(CiphertextSketch.Of(vector).Matches(expected));

        // One coefficient of the last ciphertext's c1 changed by ±1 (its lowest bit flipped): still valid, no longer the sum.
        byte[] bytes = CiphertextMasks.Of(sum).ToBytes();
        bytes[^EncryptedVector.PackedPolynomialLength(Small)] ^= 1;
        CiphertextMasks altered = CiphertextMasks.FromBytes(bytes, Small);
        Assert.NotEqual(CiphertextMasks.Of(sum).Digest.ToArray(), altered.Digest.ToArray());
        Assert.False(CiphertextSketch.Of(altered).Matches(expected));
    }

    [Fact]
    public void Sketches_are_bound_to_the_key_and_the_length()
    {
        CollectivePublicKey key = NewKey(Small), other = NewKey(Small);
        CiphertextSketch underKey = CiphertextSketch.Of(Encrypt(key, 200)), underOther = CiphertextSketch.Of(Encrypt(other, 200));
        Assert.False(underKey.Matches(underOther));
        Assert.NotEqual(underKey.ToBytes(), underOther.ToBytes());
        Assert.Throws<ArgumentException>(() => CiphertextSketch.Sum([underKey, underOther]));

        // 199 and 200 values take the same four ciphertexts; the lengths still must agree.
        CiphertextSketch shorter = CiphertextSketch.Of(Encrypt(key, 199));
        Assert.Throws<ArgumentException>(() => CiphertextSketch.Sum([underKey, shorter]));
        Assert.Throws<ArgumentException>(() => CiphertextSketch.Sum([shorter, underKey, underKey]));

        // The same masks relabelled with another length (same chunk count) do not match the original.
        EncryptedVector vector = Encrypt(key, 199);
        byte[] bytes = CiphertextMasks.Of(vector).ToBytes();
        bytes[WireFormat.HeaderLength + 32] = 200; // length 199 → 200 (little-endian uint32)
        CiphertextSketch relabelled = CiphertextSketch.Of(CiphertextMasks.FromBytes(bytes, Small));
        Assert.Equal(200, relabelled.Length);
        Assert.False(relabelled.Matches(CiphertextSketch.Of(vector)));
        Assert.Throws<ArgumentException>(() => CiphertextSketch.Sum(Array.Empty<CiphertextSketch>()));
    }

    [Theory]
    [InlineData(64, 1)]
    [InlineData(64, 64)]
    [InlineData(64, 200)]
    [InlineData(256, 1000)]
    [InlineData(4096, 5000)]
    public void Round_trips_byte_for_byte_at_a_fixed_wire_length(int ringDimension, int length)
    {
        CkksParameters parameters = ringDimension == 4096 ? CkksParameters.Default : CkksParameters.InsecureForTesting(ringDimension);
        EncryptedVector vector = Encrypt(NewKey(parameters, 2), length);
        CiphertextSketch sketch = CiphertextSketch.Of(vector);
        byte[] bytes = sketch.ToBytes();

        CiphertextSketch restored = CiphertextSketch.FromBytes(bytes, parameters);
        Assert.True(restored.Matches(sketch));
        Assert.Equal(length, restored.Length);
        Assert.Equal(vector.KeyId.ToArray(), restored.KeyId.ToArray());
        Assert.Equal(bytes, restored.ToBytes());
        Assert.Equal(CiphertextSketch.WireLength(parameters), bytes.Length);
    }

    [Fact]
    public void Truncated_extended_and_foreign_bytes_are_refused()
    {
        EncryptedVector vector = Encrypt(NewKey(Small), 50);
        byte[] bytes = CiphertextSketch.Of(vector).ToBytes();
        Assert.Throws<HeFormatException>(() => CiphertextSketch.FromBytes(bytes.AsSpan(0, bytes.Length - 1), Small));
        Assert.Throws<HeFormatException>(() => CiphertextSketch.FromBytes(bytes.AsSpan(0, WireFormat.HeaderLength + 10), Small));
        Assert.Throws<HeFormatException>(() => CiphertextSketch.FromBytes([.. bytes, 0], Small));
        Assert.Throws<HeFormatException>(() => CiphertextSketch.FromBytes(vector.ToBytes(), Small));
        // One ciphertext's masks have exactly a sketch's layout and length; only the kind tells them apart.
        byte[] masks = CiphertextMasks.Of(vector).ToBytes();
        Assert.Equal(bytes.Length, masks.Length);
        Assert.Throws<HeFormatException>(() => CiphertextSketch.FromBytes(masks, Small));
        Assert.Throws<HeFormatException>(() => CiphertextSketch.FromBytes(bytes, CkksParameters.InsecureForTesting(256)));
    }

    [Fact]
    public void Sketching_is_deterministic()
    {
        EncryptedVector vector = Encrypt(NewKey(Small), 3 * 64 + 10);
        byte[] first = CiphertextSketch.Of(vector).ToBytes();
        Assert.Equal(first, CiphertextSketch.Of(vector).ToBytes());
        Assert.Equal(first, CiphertextSketch.Of(EncryptedVector.FromBytes(vector.ToBytes(), Small)).ToBytes());
        Assert.Equal(first, CiphertextSketch.Of(CiphertextMasks.Of(vector)).ToBytes());
    }
}
