using System.Buffers.Binary;
using System.Security.Cryptography;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Wire;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// The c1 halves ("masks") of an encrypted vector's ciphertexts: all that a participant needs to compute its
/// decryption share h_i = s_i·c1 + e, and half the bytes of the vector. The c0 halves stay with whoever combines the
/// shares. Immutable; kept in wire form like <see cref="EncryptedVector"/>.
/// Wire body: key id (32 bytes), length (uint32), then per ciphertext c1, N coefficients bit-packed at ⌈log2 q_0⌉ bits.
/// </summary>
public sealed class CiphertextMasks
{
    private const int FixedBodyLength = 32 + 4;
    private const int BodyStart = WireFormat.HeaderLength + FixedBodyLength;

    private readonly byte[] _wire;
    private readonly Lazy<byte[]> _digest;

    private CiphertextMasks(CkksParameters parameters, byte[] wire)
    {
        Parameters = parameters;
        _wire = wire;
        Length = (int)BinaryPrimitives.ReadUInt32LittleEndian(wire.AsSpan(WireFormat.HeaderLength + 32));
        ChunkCount = EncryptedVector.ChunksFor(parameters, Length);
        _digest = new Lazy<byte[]>(() => SHA256.HashData(_wire));
    }

    public CkksParameters Parameters { get; }

    public ReadOnlyMemory<byte> KeyId => _wire.AsMemory(WireFormat.HeaderLength, 32);

    /// <summary>Number of real values the vector carries.</summary>
    public int Length { get; }

    public int ChunkCount { get; }

    /// <summary>SHA-256 of the wire form: names the masks (and so the vector) a decryption share belongs to.</summary>
    public ReadOnlyMemory<byte> Digest => _digest.Value;

    internal byte[] WireBuffer => _wire;

    internal void ReadC1(int chunk, Span<ulong> destination) =>
        BitPacking.Unpack(PackedC1(chunk), Parameters.WireModulusBits, ulong.MaxValue, destination, out _);

    /// <summary>The masks of <paramref name="vector"/>: its c1 halves, not a copy (a vector keeps them as masks).</summary>
    public static CiphertextMasks Of(EncryptedVector vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        return vector.Masks;
    }

    /// <summary>c1 of one ciphertext as packed on the wire.</summary>
    internal ReadOnlySpan<byte> PackedC1(int chunk)
    {
        int polynomialBytes = EncryptedVector.PackedPolynomialLength(Parameters);
        return _wire.AsSpan(BodyStart + chunk * polynomialBytes, polynomialBytes);
    }

    /// <summary>Wraps a wire form built here (no validation pass).</summary>
    internal static CiphertextMasks Trusted(byte[] wire, CkksParameters parameters) => new(parameters, wire);

    /// <summary>Masks of the same shape as <paramref name="shape"/> whose c1 halves, unpacked, are <paramref name="c1"/>.</summary>
    internal static CiphertextMasks FromPolynomials(CiphertextMasks shape, ReadOnlySpan<ulong> c1)
    {
        var writer = NewWriter(shape.Parameters, shape.KeyId.Span, shape.Length);
        int n = shape.Parameters.RingDimension;
        for (int chunk = 0; chunk < shape.ChunkCount; chunk++)
            writer.WritePacked(c1.Slice(chunk * n, n), shape.Parameters.WireModulusBits);
        return new CiphertextMasks(shape.Parameters, writer.ToArray());
    }

    /// <summary>Refuses <paramref name="other"/> unless it is of the same parameters, round key and length.</summary>
    internal void RequireSameShape(CiphertextMasks other)
    {
        if (other.Parameters != Parameters)
            throw new ArgumentException($"Cannot combine masks of parameter sets {Parameters.Name} and {other.Parameters.Name}.");
        if (!other.KeyId.Span.SequenceEqual(KeyId.Span))
            throw new ArgumentException("Cannot combine masks of vectors encrypted under different collective keys.");
        if (other.Length != Length)
            throw new ArgumentException($"Cannot combine masks of vectors of lengths {Length} and {other.Length}.");
    }

    /// <summary>A writer positioned after the fixed body fields, sized for ⌈length/N⌉ packed c1 polynomials.</summary>
    internal static WireWriter NewWriter(CkksParameters parameters, ReadOnlySpan<byte> keyId, int length)
    {
        long body = FixedBodyLength + EncryptedVector.ChunksFor(parameters, length) * (long)EncryptedVector.PackedPolynomialLength(parameters);
        var writer = new WireWriter(WireKind.CiphertextMasks, parameters, body);
        writer.WriteBytes(keyId);
        writer.WriteUInt32((uint)length);
        return writer;
    }

    public byte[] ToBytes() => (byte[])_wire.Clone();

    public static CiphertextMasks FromBytes(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        Validate(data, parameters);
        return new CiphertextMasks(parameters, data.ToArray());
    }

    /// <summary>Reads <paramref name="data"/> without copying it: the caller hands the array over and must not change it afterwards.</summary>
    internal static CiphertextMasks Adopt(byte[] data, CkksParameters parameters)
    {
        Validate(data, parameters);
        return new CiphertextMasks(parameters, data);
    }

    private static void Validate(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        var reader = new WireReader(data, WireKind.CiphertextMasks, parameters);
        reader.ReadBytes(32, "key id");
        int chunks = EncryptedVector.ChunksFor(parameters, (int)EncryptedVector.ReadLength(ref reader));
        EncryptedVector.CheckMasks(ref reader, parameters, chunks);
    }
}
