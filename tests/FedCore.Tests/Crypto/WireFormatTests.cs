using System.Buffers.Binary;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Wire;
using Xunit.Abstractions;

namespace FedCore.Tests.Crypto;

public class WireFormatTests(ITestOutputHelper output)
{
    /// <summary>One object of every kind, made under one key generation.</summary>
    private sealed class Sample
    {
        public Sample(CkksParameters parameters, int participants, int values)
        {
            Parameters = parameters;
            byte[] seed = CommonReferencePolynomial.NewSeed();
            Secrets = Enumerable.Range(0, participants).Select(_ => SecretKeyShare.Generate(parameters, seed)).ToArray();
            Key = CollectivePublicKey.Combine(Secrets.Select(s => s.PublicKeyShare));
            Values = Enumerable.Range(0, values).Select(i => Math.Sin(i) * 0.9).ToArray();
            Vector = EncryptedVector.Encrypt(Key, Values, 1);
            Share = Secrets[0].CreateDecryptionShare(Key, Vector);
        }

        public CkksParameters Parameters { get; }
        public SecretKeyShare[] Secrets { get; }
        public CollectivePublicKey Key { get; }
        public double[] Values { get; }
        public EncryptedVector Vector { get; }
        public DecryptionShare Share { get; }

        public (WireKind Kind, byte[] Bytes)[] Serialised() =>
        [
            (WireKind.SecretKeyShare, Secrets[0].ToBytes()),
            (WireKind.PublicKeyShare, Secrets[0].PublicKeyShare.ToBytes()),
            (WireKind.CollectivePublicKey, Key.ToBytes()),
            (WireKind.EncryptedVector, Vector.ToBytes()),
            (WireKind.DecryptionShare, Share.ToBytes()),
            (WireKind.CiphertextMasks, CiphertextMasks.Of(Vector).ToBytes()),
            (WireKind.LinearFingerprint, LinearFingerprint.OfMasks(Vector, new byte[32]).ToBytes()),
        ];

        /// <summary>Parses as <paramref name="kind"/> and returns the object's own serialisation.</summary>
        public byte[] Reparse(WireKind kind, byte[] bytes) => kind switch
        {
            WireKind.SecretKeyShare => SecretKeyShare.FromBytes(bytes, Parameters).ToBytes(),
            WireKind.PublicKeyShare => PublicKeyShare.FromBytes(bytes, Parameters).ToBytes(),
            WireKind.CollectivePublicKey => CollectivePublicKey.FromBytes(bytes, Parameters).ToBytes(),
            WireKind.EncryptedVector => EncryptedVector.FromBytes(bytes, Parameters).ToBytes(),
            WireKind.DecryptionShare => DecryptionShare.FromBytes(bytes, Parameters).ToBytes(),
            WireKind.CiphertextMasks => CiphertextMasks.FromBytes(bytes, Parameters).ToBytes(),
            WireKind.LinearFingerprint => LinearFingerprint.FromBytes(bytes, Parameters).ToBytes(),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    [Fact]
    public void Every_kind_round_trips_byte_for_byte_and_still_decrypts()
    {
        var sample = new Sample(CkksParameters.InsecureForTesting(64), 3, 150);
        foreach ((WireKind kind, byte[] bytes) in sample.Serialised())
            Assert.Equal(bytes, sample.Reparse(kind, bytes));

        // A round through the wire for every object the protocol moves.
        CkksParameters p = sample.Parameters;
        SecretKeyShare[] restoredSecrets = sample.Secrets.Select(s => SecretKeyShare.FromBytes(s.ToBytes(), p)).ToArray();
        CollectivePublicKey key = CollectivePublicKey.Combine(sample.Secrets.Select(s => PublicKeyShare.FromBytes(s.PublicKeyShare.ToBytes(), p)));
        Assert.Equal(sample.Key.KeyId.ToArray(), key.KeyId.ToArray());
        key = CollectivePublicKey.FromBytes(key.ToBytes(), p);
        EncryptedVector vector = EncryptedVector.FromBytes(sample.Vector.ToBytes(), p);
        DecryptionShare[] shares = restoredSecrets
            .Select(s => DecryptionShare.FromBytes(s.CreateDecryptionShare(key, vector).ToBytes(), p)).ToArray();
        double[] decrypted = JointDecryption.Combine(key, vector, shares);
        Assert.True(sample.Values.Zip(decrypted, (a, b) => Math.Abs(a - b)).Max() < 1e-6);
    }

    [Fact]
    public void Ciphertexts_take_at_most_16_bytes_per_value_on_the_wire()
    {
        foreach (CkksParameters p in CkksParameters.Standard)
        {
            byte[] seed = CommonReferencePolynomial.NewSeed();
            var secret = SecretKeyShare.Generate(p, seed);
            CollectivePublicKey key = CollectivePublicKey.Combine([secret.PublicKeyShare]);
            byte[] bytes = EncryptedVector.Encrypt(key, new double[4 * p.RingDimension], 1).ToBytes();
            double perValue = (double)bytes.Length / (4 * p.RingDimension);
            Assert.InRange(perValue, (45 + 61) / 8.0, (45 + 61) / 8.0 + 0.05); // c0 rounded to 45 bits, c1 at 61, a small header
            Assert.Equal((45 + 61) / 8.0, p.WireBytesPerValue);
            Assert.Equal(EncryptedVector.FromBytes(bytes, p).WireLength, bytes.Length);
        }
    }

    [Fact]
    public void Decryption_shares_drop_the_16_low_bits_that_flooding_drowns_and_refuse_larger_coefficients()
    {
        CkksParameters p = CkksParameters.Default;
        var secret = SecretKeyShare.Generate(p, CommonReferencePolynomial.NewSeed());
        CollectivePublicKey key = CollectivePublicKey.Combine([secret.PublicKeyShare]);
        byte[] share = secret.CreateDecryptionShare(key, EncryptedVector.Encrypt(key, new double[p.RingDimension], 1)).ToBytes();
        Assert.Equal(45, p.RoundedBits);
        Assert.Equal(WireFormat.HeaderLength + 32 + 16 + 32 + 4 + p.RingDimension * 45 / 8, share.Length);

        // The first coefficient set to 2^45 − 1: beyond the largest rounded residue, so not a share.
        int first = share.Length - p.RingDimension * 45 / 8;
        for (int b = 0; b < 5; b++)
            share[first + b] = 0xFF;
        share[first + 5] |= 0x1F;
        Assert.Contains("share polynomial 0", Assert.Throws<HeFormatException>(() => DecryptionShare.FromBytes(share, p)).Message);
    }

    [Fact]
    public void Foreign_truncated_extended_and_mislabelled_input_is_rejected_with_its_offset()
    {
        var sample = new Sample(CkksParameters.InsecureForTesting(16), 2, 40);
        CkksParameters p = sample.Parameters;
        byte[] vector = sample.Vector.ToBytes();

        var foreign = Assert.Throws<HeFormatException>(() => EncryptedVector.FromBytes(vector, CkksParameters.InsecureForTesting(64)));
        Assert.Equal(6, foreign.ByteOffset);
        Assert.Contains("INSECURE-N16", foreign.Message);

        // Every proper prefix fails, and so does any extension.
        for (int length = 0; length < vector.Length; length++)
            Assert.Throws<HeFormatException>(() => EncryptedVector.FromBytes(vector.AsSpan(0, length), p));
        var extended = Assert.Throws<HeFormatException>(() => EncryptedVector.FromBytes([.. vector, 0], p));
        Assert.Contains("trailing", extended.Message);

        var wrongKind = Assert.Throws<HeFormatException>(() => DecryptionShare.FromBytes(vector, p));
        Assert.Equal("kind", wrongKind.Field);
        byte[] badMagic = (byte[])vector.Clone();
        badMagic[0] = (byte)'X';
        Assert.Equal("magic", Assert.Throws<HeFormatException>(() => EncryptedVector.FromBytes(badMagic, p)).Field);
        byte[] badVersion = (byte[])vector.Clone();
        badVersion[4] = WireFormat.Version + 1;
        Assert.Equal("version", Assert.Throws<HeFormatException>(() => EncryptedVector.FromBytes(badVersion, p)).Field);
    }

    [Fact]
    public void Out_of_range_fields_are_rejected()
    {
        var sample = new Sample(CkksParameters.InsecureForTesting(16), 2, 40);
        CkksParameters p = sample.Parameters;
        byte[] vector = sample.Vector.ToBytes();
        int body = WireFormat.HeaderLength;
        int lengthOffset = body + 32, scaleOffset = body + 36, firstCoefficient = body + 44;

        // A coefficient ≥ q0: the first 61-bit value set to 2^61 − 1.
        byte[] big = (byte[])vector.Clone();
        for (int b = 0; b < 7; b++)
            big[firstCoefficient + b] = 0xFF;
        big[firstCoefficient + 7] |= 0x1F;
        var range = Assert.Throws<HeFormatException>(() => EncryptedVector.FromBytes(big, p));
        Assert.Contains("coefficient 0", range.Field);
        Assert.Equal(firstCoefficient, range.ByteOffset);

        foreach (double scale in new[] { double.NaN, -1.0, 0.0, double.PositiveInfinity, double.Epsilon })
        {
            byte[] bad = (byte[])vector.Clone();
            BinaryPrimitives.WriteDoubleLittleEndian(bad.AsSpan(scaleOffset), scale);
            Assert.Equal("scale", Assert.Throws<HeFormatException>(() => EncryptedVector.FromBytes(bad, p)).Field);
        }

        // Lengths that promise more (or fewer) ciphertexts than the bytes hold, including absurd ones, fail before any allocation.
        foreach (uint length in new uint[] { 0, 1, 16, 49, 1_000_000, int.MaxValue, uint.MaxValue })
        {
            byte[] bad = (byte[])vector.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(bad.AsSpan(lengthOffset), length);
            Assert.Throws<HeFormatException>(() => EncryptedVector.FromBytes(bad, p));
        }

        // Collective key: share identifiers out of order, or a share count that does not match the bytes.
        byte[] key = sample.Key.ToBytes();
        int countOffset = body + 32, idsOffset = body + 36;
        byte[] swapped = (byte[])key.Clone();
        key.AsSpan(idsOffset, 16).CopyTo(swapped.AsSpan(idsOffset + 16));
        key.AsSpan(idsOffset + 16, 16).CopyTo(swapped.AsSpan(idsOffset));
        Assert.Contains("ascending", Assert.Throws<HeFormatException>(() => CollectivePublicKey.FromBytes(swapped, p)).Message);
        foreach (uint count in new uint[] { 0, 1, 3, 10_001, uint.MaxValue })
        {
            byte[] bad = (byte[])key.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(bad.AsSpan(countOffset), count);
            Assert.Throws<HeFormatException>(() => CollectivePublicKey.FromBytes(bad, p));
        }
    }

    [Fact]
    public void Fuzzed_input_is_either_a_canonical_object_or_a_format_error()
    {
        // 120 000 mutations of small-ring objects (fast) and 2 000 of default-ring ones. Any exception other than
        // HeFormatException (IndexOutOfRange, OutOfMemory, Overflow, Argument…) fails; a successful parse must
        // re-serialise to exactly the input, so no two encodings mean the same object.
        var small = new Sample(CkksParameters.InsecureForTesting(16), 3, 40);
        var large = new Sample(CkksParameters.N4096, 2, 5000);
        var rng = new Random(424242);
        var rejections = new Dictionary<string, int>();
        int accepted = Fuzz(small, rng, 120_000, rejections) + Fuzz(large, rng, 2_000, rejections);
        output.WriteLine($"accepted {accepted}; rejected by field: " +
            string.Join(", ", rejections.OrderByDescending(r => r.Value).Select(r => $"{r.Key} {r.Value}")));
        Assert.True(accepted > 0, "some mutations (e.g. of coefficients) should still be valid objects");
        Assert.True(rejections.Count >= 8, "mutations should reach many different checks");
    }

    private static int Fuzz(Sample sample, Random rng, int iterations, Dictionary<string, int> rejections)
    {
        (WireKind Kind, byte[] Bytes)[] originals = sample.Serialised();
        WireKind[] kinds = originals.Select(o => o.Kind).ToArray();
        int accepted = 0;
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            (WireKind kind, byte[] original) = originals[rng.Next(originals.Length)];
            (byte[] mutated, string mutation) = Mutate(original, originals[rng.Next(originals.Length)].Bytes, rng);
            // Mostly read as the kind it came from; sometimes as another kind.
            WireKind readAs = rng.Next(8) == 0 ? kinds[rng.Next(kinds.Length)] : kind;
            try
            {
                byte[] again = sample.Reparse(readAs, mutated);
                Assert.True(again.AsSpan().SequenceEqual(mutated), $"iteration {iteration}: {mutation} parsed as {readAs} but re-serialised differently");
                accepted++;
            }
            catch (HeFormatException e)
            {
                // Group "ciphertext 3 c1, coefficient 17" and the like under their first word.
                string field = e.Field.Split(' ')[0];
                rejections[field] = rejections.GetValueOrDefault(field) + 1;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"iteration {iteration}: {mutation} read as {readAs} threw {e.GetType().Name}: {e.Message}");
            }
        }
        return accepted;
    }

    private static (byte[] Bytes, string Description) Mutate(byte[] original, byte[] other, Random rng)
    {
        byte[] bytes = (byte[])original.Clone();
        switch (rng.Next(9))
        {
            case 0:
            {
                int flips = 1 + rng.Next(8);
                for (int f = 0; f < flips; f++)
                    bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8));
                return (bytes, $"{flips} bit flips");
            }
            case 1:
            {
                // Flips confined to the header and fixed fields, where the interesting checks are.
                int position = rng.Next(Math.Min(bytes.Length, 140));
                bytes[position] ^= (byte)(1 << rng.Next(8));
                return (bytes, $"bit flip at {position}");
            }
            case 2:
            {
                int length = rng.Next(bytes.Length);
                return (bytes[..length], $"truncated to {length}");
            }
            case 3:
            {
                byte[] extra = new byte[1 + rng.Next(64)];
                rng.NextBytes(extra);
                return ([.. bytes, .. extra], $"extended by {extra.Length}");
            }
            case 4:
            {
                // A random 32-bit value where a length or count field may sit.
                int position = WireFormat.HeaderLength + rng.Next(Math.Min(100, bytes.Length - WireFormat.HeaderLength - 4));
                uint value = rng.Next(3) switch { 0 => (uint)rng.Next(100), 1 => (uint)rng.NextInt64(uint.MaxValue), _ => uint.MaxValue - (uint)rng.Next(100) };
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(position), value);
                return (bytes, $"uint32 {value} written at {position}");
            }
            case 5:
            {
                int start = rng.Next(bytes.Length), count = rng.Next(Math.Min(64, bytes.Length - start) + 1);
                return ([.. bytes[..start], .. bytes[(start + count)..]], $"deleted {count} bytes at {start}");
            }
            case 6:
            {
                int start = rng.Next(bytes.Length);
                byte[] inserted = new byte[1 + rng.Next(32)];
                rng.NextBytes(inserted);
                return ([.. bytes[..start], .. inserted, .. bytes[start..]], $"inserted {inserted.Length} bytes at {start}");
            }
            case 7:
            {
                int cut = rng.Next(Math.Min(bytes.Length, other.Length));
                return ([.. bytes[..cut], .. other[cut..]], $"spliced with another object at {cut}");
            }
            default:
            {
                int position = rng.Next(bytes.Length);
                bytes[position] = (byte)rng.Next(256);
                return (bytes, $"byte {position} overwritten");
            }
        }
    }
}
