using System.Buffers.Binary;
using System.Security.Cryptography;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Wire;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// A jointly decrypted vector before decoding: per ciphertext the plaintext polynomial c0 + Σ hᵢ mod q₀, the sum of every
/// member's c0 and decryption share. It is what a member checks, by fingerprint, is the sum of those parts before it takes
/// the decoded values as the round's sum (FedCore/Rounds/README.md, step 7); decoding it is a public function, so everyone
/// who accepts it reads the same values.
/// Wire body: key id (32 bytes), length (uint32), scale (double), then per ciphertext N coefficients bit-packed at
/// ⌈log2 q₀⌉ bits.
/// </summary>
public sealed class OpenedPlaintext
{
    private const int FixedBodyLength = 32 + 4 + 8;
    private const int BodyStart = WireFormat.HeaderLength + FixedBodyLength;

    private readonly byte[] _wire;

    private OpenedPlaintext(CkksParameters parameters, byte[] wire)
    {
        Parameters = parameters;
        _wire = wire;
        Length = (int)BinaryPrimitives.ReadUInt32LittleEndian(wire.AsSpan(WireFormat.HeaderLength + 32));
        Scale = BinaryPrimitives.ReadDoubleLittleEndian(wire.AsSpan(WireFormat.HeaderLength + 36));
        ChunkCount = EncryptedVector.ChunksFor(parameters, Length);
    }

    public CkksParameters Parameters { get; }

    public ReadOnlyMemory<byte> KeyId => _wire.AsMemory(WireFormat.HeaderLength, 32);

    /// <summary>Number of real values it carries.</summary>
    public int Length { get; }

    public double Scale { get; }

    public int ChunkCount { get; }

    internal byte[] WireBuffer => _wire;

    public byte[] Sha256() => SHA256.HashData(_wire);

    internal void ReadChunk(int chunk, Span<ulong> destination)
    {
        int polynomialBytes = EncryptedVector.PackedPolynomialLength(Parameters);
        BitPacking.Unpack(_wire.AsSpan(BodyStart + chunk * polynomialBytes, polynomialBytes), Parameters.WireModulusBits, ulong.MaxValue, destination, out _);
    }

    /// <summary>Decodes the first head.Length values into <paramref name="head"/> and the rest into <paramref name="tail"/>.</summary>
    public void Decode(Span<double> head, Span<double> tail) =>
        JointDecryption.DecodeInto(Parameters, Scale, Length, ReadChunk, head, tail);

    /// <summary>The plaintext of a vector shaped like <paramref name="shape"/> whose polynomials, unpacked, are <paramref name="coefficients"/>.</summary>
    internal static OpenedPlaintext FromPolynomials(EncryptedVector shape, ReadOnlySpan<ulong> coefficients)
    {
        CkksParameters parameters = shape.Parameters;
        var writer = NewWriter(parameters, shape.KeyId.Span, shape.Length, shape.Scale, shape.ChunkCount);
        int n = parameters.RingDimension;
        for (int chunk = 0; chunk < shape.ChunkCount; chunk++)
            writer.WritePacked(coefficients.Slice(chunk * n, n), parameters.WireModulusBits);
        return new OpenedPlaintext(parameters, writer.ToArray());
    }

    /// <summary>
    /// One member's part of an opened plaintext: its own update's c0 plus its decryption share, as both travelled. The
    /// parts of every member add up to the opened plaintext (<see cref="Sum"/>); FedCore/Rounds/README.md, steps 6–8.
    /// </summary>
    public static OpenedPlaintext Part(EncryptedVector sealedUpdate, DecryptionShare share)
    {
        ArgumentNullException.ThrowIfNull(sealedUpdate);
        ArgumentNullException.ThrowIfNull(share);
        if (share.ChunkCount != sealedUpdate.ChunkCount || share.Parameters != sealedUpdate.Parameters || !share.KeyId.Span.SequenceEqual(sealedUpdate.KeyId.Span))
            throw new ArgumentException("The decryption share is not of the update's shape or round key.", nameof(share));
        var addend = new ulong[sealedUpdate.Parameters.RingDimension];
        return Build(sealedUpdate.Parameters, sealedUpdate.KeyId.Span, sealedUpdate.Length, sealedUpdate.Scale, sealedUpdate.ChunkCount, (chunk, polynomial) =>
        {
            sealedUpdate.ReadC0(chunk, polynomial);
            share.ReadChunk(chunk, addend);
            RnsRing.AddInPlace(sealedUpdate.Parameters.Context.WireModulus, polynomial, addend);
        });
    }

    /// <summary>
    /// A member's part made straight from its secret: the same as <see cref="Part(EncryptedVector, DecryptionShare)"/> of its
    /// share of <paramref name="masks"/>, one ciphertext at a time, without the share as an object of its own (a model-sized
    /// array less to write and read back). The caller checks that decrypting these masks is allowed (<c>CkksProtection.Part</c>).
    /// </summary>
    public static OpenedPlaintext Part(EncryptedVector sealedUpdate, SecretKeyShare secret, CollectivePublicKey key, CiphertextMasks masks)
    {
        ArgumentNullException.ThrowIfNull(sealedUpdate);
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(masks);
        if (masks.ChunkCount != sealedUpdate.ChunkCount || masks.Parameters != sealedUpdate.Parameters || !masks.KeyId.Span.SequenceEqual(sealedUpdate.KeyId.Span))
            throw new ArgumentException("The masks are not of the update's shape or round key.", nameof(masks));
        CkksParameters parameters = sealedUpdate.Parameters;
        var writer = NewWriter(parameters, sealedUpdate.KeyId.Span, sealedUpdate.Length, sealedUpdate.Scale, sealedUpdate.ChunkCount);
        var polynomial = new ulong[parameters.RingDimension];
        secret.ShareChunks(key, masks, (chunk, share) =>
        {
            RoundedPolynomial.Round(parameters, share); // as a share travels, so that both ways give one part
            sealedUpdate.ReadC0(chunk, polynomial);
            RnsRing.AddInPlace(parameters.Context.WireModulus, polynomial, share);
            writer.WritePacked(polynomial, parameters.WireModulusBits);
        });
        Array.Clear(polynomial);
        return new OpenedPlaintext(parameters, writer.ToArray());
    }

    /// <summary>The sum of parts of one opening (same parameters, round key, length and scale), coefficient by coefficient mod q₀.</summary>
    public static OpenedPlaintext Sum(IReadOnlyList<OpenedPlaintext> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
            throw new ArgumentException("No parts to add.", nameof(parts));
        var sum = new OpenedPlaintextSum();
        foreach (var part in parts)
            sum.Add(part);
        return sum.Total();
    }

    /// <summary>Refuses <paramref name="other"/> unless it is of this plaintext's opening: parameters, round key, length and scale.</summary>
    internal void RequireSameOpening(OpenedPlaintext other)
    {
        if (other.Parameters != Parameters || other.Length != Length || other.Scale != Scale || !other.KeyId.Span.SequenceEqual(KeyId.Span))
            throw new ArgumentException("The parts are not of one opening: their parameters, round key, length or scale differ.");
    }

    /// <summary>The plaintext shaped like <paramref name="shape"/> whose polynomials, unpacked, are <paramref name="coefficients"/>.</summary>
    internal static OpenedPlaintext FromPolynomials(OpenedPlaintext shape, ulong[] coefficients)
    {
        int n = shape.Parameters.RingDimension;
        return Build(shape.Parameters, shape.KeyId.Span, shape.Length, shape.Scale, shape.ChunkCount,
            (chunk, polynomial) => coefficients.AsSpan(chunk * n, n).CopyTo(polynomial));
    }

    /// <summary>A plaintext of the given header whose polynomials <paramref name="fill"/> writes, one chunk at a time.</summary>
    private static OpenedPlaintext Build(CkksParameters parameters, ReadOnlySpan<byte> keyId, int length, double scale, int chunks, Action<int, ulong[]> fill)
    {
        var writer = NewWriter(parameters, keyId, length, scale, chunks);
        var polynomial = new ulong[parameters.RingDimension];
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            fill(chunk, polynomial);
            writer.WritePacked(polynomial, parameters.WireModulusBits);
        }
        return new OpenedPlaintext(parameters, writer.ToArray());
    }

    private static WireWriter NewWriter(CkksParameters parameters, ReadOnlySpan<byte> keyId, int length, double scale, int chunks)
    {
        var writer = new WireWriter(WireKind.OpenedPlaintext, parameters, FixedBodyLength + chunks * (long)EncryptedVector.PackedPolynomialLength(parameters));
        writer.WriteBytes(keyId);
        writer.WriteUInt32((uint)length);
        writer.WriteDouble(scale);
        return writer;
    }

    public byte[] ToBytes() => (byte[])_wire.Clone();

    public static OpenedPlaintext FromBytes(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        Validate(data, parameters);
        return new OpenedPlaintext(parameters, data.ToArray());
    }

    /// <summary>Reads <paramref name="data"/> without copying it: the caller hands the array over and must not change it afterwards.</summary>
    internal static OpenedPlaintext Adopt(byte[] data, CkksParameters parameters)
    {
        Validate(data, parameters);
        return new OpenedPlaintext(parameters, data);
    }

    private static void Validate(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        var reader = new WireReader(data, WireKind.OpenedPlaintext, parameters);
        reader.ReadBytes(32, "key id");
        int chunks = EncryptedVector.ChunksFor(parameters, (int)EncryptedVector.ReadLength(ref reader));
        double scale = reader.ReadDouble("scale");
        if (!double.IsNormal(scale) || scale < 0)
            throw reader.Fail("scale", $"{scale} is not a positive finite number");
        reader.RequireExactly(chunks * (long)EncryptedVector.PackedPolynomialLength(parameters), "polynomials");
        var scratch = new ulong[parameters.RingDimension];
        for (int chunk = 0; chunk < chunks; chunk++)
            reader.ReadPacked(scratch, parameters.WireModulusBits, parameters.WireModulus, $"polynomial {chunk}");
    }
}
