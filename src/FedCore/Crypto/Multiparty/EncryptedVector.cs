using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Rlwe;
using FedCore.Crypto.Wire;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// A real vector of any length encrypted under a collective public key: ⌈Length / N⌉ CKKS ciphertexts
/// (c0, c1) ∈ R_{q_0}², N values each, all at one scale Δ. This is what crosses a border and what the aggregator
/// adds; it holds no key material. Immutable.
/// Wire body: key id (32 bytes), length (uint32), scale (IEEE double), then per ciphertext c0 and c1,
/// each N coefficients bit-packed at ⌈log2 q_0⌉ bits.
/// </summary>
public sealed class EncryptedVector
{
    private const string EncryptionDomain = "FedCore/CKKS/encryption/v1";

    private readonly byte[] _keyId;
    private readonly ulong[] _c0, _c1; // ciphertext after ciphertext, N coefficients each, mod q_0
    private readonly Lazy<byte[]> _digest;

    private EncryptedVector(CkksParameters parameters, byte[] keyId, int length, double scale, ulong[] c0, ulong[] c1)
    {
        Parameters = parameters;
        _keyId = keyId;
        Length = length;
        Scale = scale;
        _c0 = c0;
        _c1 = c1;
        _digest = new Lazy<byte[]>(ComputeDigest);
    }

    public CkksParameters Parameters { get; }

    /// <summary>Identifier of the collective key it is encrypted under.</summary>
    public ReadOnlyMemory<byte> KeyId => _keyId;

    /// <summary>Number of real values carried.</summary>
    public int Length { get; }

    /// <summary>Δ: decrypted coefficients divided by this give the values.</summary>
    public double Scale { get; }

    public int ChunkCount => _c0.Length / Parameters.RingDimension;

    /// <summary>Size of <see cref="ToBytes"/> in bytes.</summary>
    public long WireLength => WireFormat.HeaderLength + FixedBodyLength + ChunkCount * 2L * PackedPolynomialLength(Parameters);

    /// <summary>SHA-256 over key id, length, scale and both polynomials: binds decryption shares to this exact vector.</summary>
    internal ReadOnlyMemory<byte> Digest => _digest.Value;

    internal ReadOnlySpan<ulong> C0(int chunk) => _c0.AsSpan(chunk * Parameters.RingDimension, Parameters.RingDimension);

    internal ReadOnlySpan<ulong> C1(int chunk) => _c1.AsSpan(chunk * Parameters.RingDimension, Parameters.RingDimension);

    private const int FixedBodyLength = 32 + 4 + 8;

    /// <summary>
    /// Encrypts <paramref name="values"/> under <paramref name="key"/> at the scale for <paramref name="bound"/>, the
    /// largest magnitude any slot of the eventual aggregate may reach (see <see cref="CkksParameters.ScaleForBound"/>).
    /// Every value must be finite and within ±bound. Randomness comes from the operating system.
    /// </summary>
    public static EncryptedVector Encrypt(CollectivePublicKey key, ReadOnlySpan<double> values, double bound)
    {
        ArgumentNullException.ThrowIfNull(key);
        CkksParameters parameters = key.Parameters;
        double scale = parameters.ScaleForBound(bound);
        if (values.IsEmpty)
            throw new ArgumentException("Nothing to encrypt: the vector is empty.", nameof(values));
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]) || Math.Abs(values[i]) > bound)
                throw new ArgumentOutOfRangeException(nameof(values), values[i], $"Value at index {i} is not a finite number within ±{bound}.");
        }

        CkksContext context = parameters.Context;
        int n = parameters.RingDimension;
        int chunks = (values.Length + n - 1) / n;
        var c0 = new ulong[(long)chunks * n];
        var c1 = new ulong[(long)chunks * n];
        var plaintext = new ulong[n];
        Modulus q0 = context.WireModulus;
        using var encryptor = new PublicKeyEncryptor(key.Prepared, context.Errors);
        using var random = AesCtrRandom.FromSystemEntropy(EncryptionDomain);
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            Span<ulong> chunkC0 = c0.AsSpan(chunk * n, n), chunkC1 = c1.AsSpan(chunk * n, n);
            // Encrypt zero at Q, switch to q_0, then add the message at q_0 (equivalent, and cheaper than encoding at Q).
            encryptor.EncryptZero(random, chunkC0, chunkC1);
            int start = chunk * n;
            context.Encoder.Encode(values.Slice(start, Math.Min(n, values.Length - start)), scale, q0, plaintext);
            RnsRing.AddInPlace(q0, chunkC0, plaintext);
        }
        return new EncryptedVector(parameters, key.KeyId.ToArray(), values.Length, scale, c0, c1);
    }

    /// <summary>The encryption of the element-wise sum.</summary>
    public EncryptedVector Add(EncryptedVector other) => Sum([this, other]);

    /// <summary>The encryption of the element-wise sum of vectors of one key, length and scale (the aggregator's step).</summary>
    public static EncryptedVector Sum(IEnumerable<EncryptedVector> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        EncryptedVector? first = null;
        ulong[]? c0 = null, c1 = null;
        foreach (EncryptedVector v in vectors)
        {
            ArgumentNullException.ThrowIfNull(v, nameof(vectors));
            if (first is null)
            {
                first = v;
                c0 = (ulong[])v._c0.Clone();
                c1 = (ulong[])v._c1.Clone();
                continue;
            }
            first.RequireCompatible(v);
            Modulus q0 = v.Parameters.Context.WireModulus;
            RnsRing.AddInPlace(q0, c0, v._c0);
            RnsRing.AddInPlace(q0, c1, v._c1);
        }
        if (first is null)
            throw new ArgumentException("No vectors to add.", nameof(vectors));
        return new EncryptedVector(first.Parameters, first._keyId, first.Length, first.Scale, c0!, c1!);
    }

    /// <summary>
    /// The encryption of factor × values, exactly: both polynomials are multiplied by the integer. The values grow by
    /// |factor| and so does the noise; the bound the vectors were encrypted with must allow for the product.
    /// </summary>
    public EncryptedVector MultiplyByInteger(long factor)
    {
        Modulus q0 = Parameters.Context.WireModulus;
        ulong k = q0.FromSigned(factor);
        ulong kShoup = q0.ShoupPrecompute(k);
        var c0 = new ulong[_c0.Length];
        var c1 = new ulong[_c1.Length];
        for (int j = 0; j < c0.Length; j++)
        {
            c0[j] = q0.MultiplyShoup(_c0[j], k, kShoup);
            c1[j] = q0.MultiplyShoup(_c1[j], k, kShoup);
        }
        return new EncryptedVector(Parameters, _keyId, Length, Scale, c0, c1);
    }

    /// <summary>
    /// The encryption of factor × values for a real factor. Without a further modulus to rescale by, the exact and
    /// noise-free way is to leave the ciphertext as it is and divide its scale by |factor| (negating it when factor &lt; 0);
    /// a zero factor gives an encryption of zero. Vectors of different scales cannot be added, so to form a weighted sum
    /// multiply by integers first (<see cref="MultiplyByInteger"/>) and by the real normaliser last.
    /// </summary>
    public EncryptedVector MultiplyByScalar(double factor)
    {
        if (!double.IsFinite(factor))
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The factor must be finite.");
        if (factor == 0)
            return new EncryptedVector(Parameters, _keyId, Length, Scale, new ulong[_c0.Length], new ulong[_c1.Length]);
        double scale = Scale / Math.Abs(factor);
        if (!double.IsNormal(scale))
            throw new ArgumentOutOfRangeException(nameof(factor), factor, $"Scale {Scale} / |{factor}| is not a usable number.");
        EncryptedVector source = factor < 0 ? MultiplyByInteger(-1) : this;
        return new EncryptedVector(Parameters, _keyId, Length, scale, source._c0, source._c1);
    }

    public byte[] ToBytes()
    {
        var writer = new WireWriter(WireKind.EncryptedVector, Parameters, WireLength - WireFormat.HeaderLength);
        writer.WriteBytes(_keyId);
        writer.WriteUInt32((uint)Length);
        writer.WriteDouble(Scale);
        int bits = Parameters.WireModulusBits;
        for (int chunk = 0; chunk < ChunkCount; chunk++)
        {
            writer.WritePacked(C0(chunk), bits);
            writer.WritePacked(C1(chunk), bits);
        }
        return writer.ToArray();
    }

    public static EncryptedVector FromBytes(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        var reader = new WireReader(data, WireKind.EncryptedVector, parameters);
        byte[] keyId = reader.ReadBytes(32, "key id").ToArray();
        uint length = reader.ReadUInt32("length");
        if (length == 0 || length > int.MaxValue)
            throw reader.Fail("length", $"{length} values is outside 1..{int.MaxValue}");
        double scale = reader.ReadDouble("scale");
        if (!double.IsNormal(scale) || scale < 0)
            throw reader.Fail("scale", $"{scale} is not a positive finite number");
        int n = parameters.RingDimension;
        long chunks = (length + (long)n - 1) / n;
        reader.RequireExactly(chunks * 2 * PackedPolynomialLength(parameters), "ciphertexts");
        var c0 = new ulong[chunks * n];
        var c1 = new ulong[chunks * n];
        int bits = parameters.WireModulusBits;
        ulong q0 = parameters.WireModulus;
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            reader.ReadPacked(c0.AsSpan(chunk * n, n), bits, q0, $"ciphertext {chunk} c0");
            reader.ReadPacked(c1.AsSpan(chunk * n, n), bits, q0, $"ciphertext {chunk} c1");
        }
        return new EncryptedVector(parameters, keyId, (int)length, scale, c0, c1);
    }

    internal static long PackedPolynomialLength(CkksParameters parameters) =>
        BitPacking.PackedLength(parameters.RingDimension, parameters.WireModulusBits);

    private void RequireCompatible(EncryptedVector other)
    {
        if (other.Parameters != Parameters)
            throw new ArgumentException($"Cannot combine vectors of parameter sets {Parameters.Name} and {other.Parameters.Name}.");
        if (!other._keyId.AsSpan().SequenceEqual(_keyId))
            throw new ArgumentException("Cannot combine vectors encrypted under different collective keys.");
        if (other.Length != Length)
            throw new ArgumentException($"Cannot combine vectors of lengths {Length} and {other.Length}.");
        if (other.Scale != Scale)
            throw new ArgumentException($"Cannot add vectors of scales {Scale} and {other.Scale}: they were encrypted with different bounds or multiplied by different scalars.");
    }

    private byte[] ComputeDigest()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.ASCII.GetBytes("FedCore/CKKS/encrypted-vector-digest/v1\0"));
        hash.AppendData(_keyId);
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(header, Length);
        BinaryPrimitives.WriteDoubleLittleEndian(header[4..], Scale);
        hash.AppendData(header);
        // Raw little-endian words (the platform is little-endian x64, see Directory.Build.props).
        hash.AppendData(MemoryMarshal.AsBytes(_c0.AsSpan()));
        hash.AppendData(MemoryMarshal.AsBytes(_c1.AsSpan()));
        return hash.GetHashAndReset();
    }
}
