using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Wire;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// One participant's contribution h_i = s_i·c1 + e_flood to the joint decryption of one encrypted vector
/// (one polynomial mod q_0 per ciphertext). On its own it reveals nothing: without the other participants' shares
/// c0 + h_i is still masked by c1·Σ_{j≠i} s_j. Immutable; kept in wire form.
/// Wire body: key id (32 bytes), share id (16), digest of the masks it decrypts (32, <see cref="CiphertextMasks.Digest"/>),
/// vector length (uint32), then one polynomial per ciphertext in its rounded form (<see cref="RoundedPolynomial"/>).
/// </summary>
public sealed class DecryptionShare
{
    private const int FixedBodyLength = 32 + 16 + 32 + 4;
    private const int BodyStart = WireFormat.HeaderLength + FixedBodyLength;

    private readonly byte[] _wire;

    private DecryptionShare(CkksParameters parameters, byte[] wire)
    {
        Parameters = parameters;
        _wire = wire;
        Length = (int)BinaryPrimitives.ReadUInt32LittleEndian(wire.AsSpan(BodyStart - 4));
        ChunkCount = EncryptedVector.ChunksFor(parameters, Length);
    }

    public CkksParameters Parameters { get; }

    public ReadOnlyMemory<byte> KeyId => _wire.AsMemory(WireFormat.HeaderLength, 32);

    /// <summary>The participant (its public-key share) that made this share.</summary>
    public Guid ShareId => new(_wire.AsSpan(WireFormat.HeaderLength + 32, 16));

    /// <summary>Digest of the masks (and so of the encrypted vector) this share decrypts.</summary>
    public ReadOnlyMemory<byte> VectorDigest => _wire.AsMemory(WireFormat.HeaderLength + 48, 32);

    public int Length { get; }

    public int ChunkCount { get; }

    public long WireLength => _wire.Length;

    internal byte[] WireBuffer => _wire;

    /// <summary>Share polynomial <paramref name="chunk"/> mod q_0 (its coefficients are multiples of 2^16 up to reduction).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void ReadChunk(int chunk, Span<ulong> destination)
    {
        int polynomialBytes = RoundedPolynomial.PackedLength(Parameters);
        RoundedPolynomial.Read(_wire.AsSpan(BodyStart + chunk * polynomialBytes, polynomialBytes), Parameters, destination);
    }

    /// <summary>A writer for a share of <paramref name="masks"/>; the caller writes one packed polynomial per ciphertext, then <see cref="Finish"/>.</summary>
    internal static WireWriter NewWriter(CkksParameters parameters, Guid shareId, CiphertextMasks masks)
    {
        var writer = new WireWriter(WireKind.DecryptionShare, parameters,
            FixedBodyLength + masks.ChunkCount * (long)RoundedPolynomial.PackedLength(parameters));
        writer.WriteBytes(masks.KeyId.Span);
        writer.WriteGuid(shareId);
        writer.WriteBytes(masks.Digest.Span);
        writer.WriteUInt32((uint)masks.Length);
        return writer;
    }

    internal static DecryptionShare Finish(CkksParameters parameters, WireWriter writer) => new(parameters, writer.ToArray());

    public byte[] ToBytes() => (byte[])_wire.Clone();

    public static DecryptionShare FromBytes(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        Validate(data, parameters);
        return new DecryptionShare(parameters, data.ToArray());
    }


    private static void Validate(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        var reader = new WireReader(data, WireKind.DecryptionShare, parameters);
        reader.ReadBytes(32, "key id");
        reader.ReadGuid("share id");
        reader.ReadBytes(32, "vector digest");
        int chunks = EncryptedVector.ChunksFor(parameters, (int)EncryptedVector.ReadLength(ref reader));
        reader.RequireExactly(chunks * (long)RoundedPolynomial.PackedLength(parameters), "share polynomials");
        var scratch = new ulong[parameters.RingDimension];
        for (int chunk = 0; chunk < chunks; chunk++)
            RoundedPolynomial.Check(ref reader, parameters, scratch, $"share polynomial {chunk}");
    }
}
