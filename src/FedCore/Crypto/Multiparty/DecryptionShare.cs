using FedCore.Crypto.Ckks;
using FedCore.Crypto.Wire;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// One participant's contribution h_i = s_i·c1 + e_flood to the joint decryption of one encrypted vector
/// (one polynomial mod q_0 per ciphertext). On its own it reveals nothing: without the other participants' shares
/// c0 + h_i is still masked by c1·Σ_{j≠i} s_j.
/// Wire body: key id (32 bytes), share id (16), digest of the vector it decrypts (32), vector length (uint32), then
/// one polynomial per ciphertext, N coefficients bit-packed at ⌈log2 q_0⌉ bits.
/// </summary>
public sealed class DecryptionShare
{
    private const int FixedBodyLength = 32 + 16 + 32 + 4;

    private readonly byte[] _keyId;
    private readonly byte[] _vectorDigest;
    private readonly ulong[] _shares;

    internal DecryptionShare(CkksParameters parameters, byte[] keyId, Guid shareId, byte[] vectorDigest, int length, ulong[] shares)
    {
        Parameters = parameters;
        _keyId = keyId;
        ShareId = shareId;
        _vectorDigest = vectorDigest;
        Length = length;
        _shares = shares;
    }

    public CkksParameters Parameters { get; }

    public ReadOnlyMemory<byte> KeyId => _keyId;

    /// <summary>The participant (its public-key share) that made this share.</summary>
    public Guid ShareId { get; }

    /// <summary>Digest of the encrypted vector this share decrypts.</summary>
    public ReadOnlyMemory<byte> VectorDigest => _vectorDigest;

    public int Length { get; }

    public int ChunkCount => _shares.Length / Parameters.RingDimension;

    public long WireLength => WireFormat.HeaderLength + FixedBodyLength + ChunkCount * EncryptedVector.PackedPolynomialLength(Parameters);

    internal ReadOnlySpan<ulong> Chunk(int chunk) => _shares.AsSpan(chunk * Parameters.RingDimension, Parameters.RingDimension);

    public byte[] ToBytes()
    {
        var writer = new WireWriter(WireKind.DecryptionShare, Parameters, WireLength - WireFormat.HeaderLength);
        writer.WriteBytes(_keyId);
        writer.WriteGuid(ShareId);
        writer.WriteBytes(_vectorDigest);
        writer.WriteUInt32((uint)Length);
        for (int chunk = 0; chunk < ChunkCount; chunk++)
            writer.WritePacked(Chunk(chunk), Parameters.WireModulusBits);
        return writer.ToArray();
    }

    public static DecryptionShare FromBytes(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        var reader = new WireReader(data, WireKind.DecryptionShare, parameters);
        byte[] keyId = reader.ReadBytes(32, "key id").ToArray();
        Guid shareId = reader.ReadGuid("share id");
        byte[] digest = reader.ReadBytes(32, "vector digest").ToArray();
        uint length = reader.ReadUInt32("length");
        if (length == 0 || length > int.MaxValue)
            throw reader.Fail("length", $"{length} values is outside 1..{int.MaxValue}");
        int n = parameters.RingDimension;
        long chunks = (length + (long)n - 1) / n;
        reader.RequireExactly(chunks * EncryptedVector.PackedPolynomialLength(parameters), "share polynomials");
        var shares = new ulong[chunks * n];
        for (int chunk = 0; chunk < chunks; chunk++)
            reader.ReadPacked(shares.AsSpan(chunk * n, n), parameters.WireModulusBits, parameters.WireModulus, $"share polynomial {chunk}");
        return new DecryptionShare(parameters, keyId, shareId, digest, (int)length, shares);
    }
}
