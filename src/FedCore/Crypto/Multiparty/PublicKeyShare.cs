using System.Security.Cryptography;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Wire;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// A participant's public-key share p_i = −a·s_i + e_i over the whole modulus chain, for the common reference
/// polynomial expanded from <see cref="CrsSeed"/>. Its <see cref="ShareId"/> is derived from its bytes, so two
/// different shares never carry the same identifier.
/// Wire body: CRS seed (32 bytes), then p_i modulo q_0, q_1, … each bit-packed at that modulus's width.
/// </summary>
public sealed class PublicKeyShare
{
    private readonly byte[] _crsSeed;
    private readonly byte[] _bytes;

    internal PublicKeyShare(CkksParameters parameters, byte[] crsSeed, RnsPolynomial p)
    {
        Parameters = parameters;
        _crsSeed = crsSeed;
        P = p;
        _bytes = Serialize();
        ShareId = IdentifierOf(_bytes);
    }

    public CkksParameters Parameters { get; }

    public ReadOnlySpan<byte> CrsSeed => _crsSeed;

    public Guid ShareId { get; }

    /// <summary>p_i in coefficient form over all moduli.</summary>
    internal RnsPolynomial P { get; }

    public byte[] ToBytes() => (byte[])_bytes.Clone();

    public static PublicKeyShare FromBytes(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        var reader = new WireReader(data, WireKind.PublicKeyShare, parameters);
        reader.RequireExactly(CommonReferencePolynomial.SeedLength + PolynomialWire.PackedLength(parameters), "body");
        byte[] crsSeed = reader.ReadBytes(CommonReferencePolynomial.SeedLength, "CRS seed").ToArray();
        RnsPolynomial p = PolynomialWire.Read(ref reader, parameters, "p");
        reader.RequireEnd();
        return new PublicKeyShare(parameters, crsSeed, p);
    }

    private byte[] Serialize()
    {
        var writer = new WireWriter(WireKind.PublicKeyShare, Parameters, CommonReferencePolynomial.SeedLength + PolynomialWire.PackedLength(Parameters));
        writer.WriteBytes(_crsSeed);
        PolynomialWire.Write(writer, Parameters, P);
        return writer.ToArray();
    }

    private static Guid IdentifierOf(byte[] bytes)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        return new Guid(hash[..16]);
    }
}

/// <summary>Serialisation of a polynomial over the whole chain: each residue packed at its modulus's bit width.</summary>
internal static class PolynomialWire
{
    public static long PackedLength(CkksParameters parameters) =>
        parameters.Context.Ring.Moduli.Sum(m => (long)BitPacking.PackedLength(parameters.RingDimension, m.BitLength));

    public static void Write(WireWriter writer, CkksParameters parameters, RnsPolynomial p)
    {
        IReadOnlyList<Modulus> moduli = parameters.Context.Ring.Moduli;
        for (int i = 0; i < moduli.Count; i++)
            writer.WritePacked(p.Residue(i), moduli[i].BitLength);
    }

    public static RnsPolynomial Read(ref WireReader reader, CkksParameters parameters, string name)
    {
        RnsRing ring = parameters.Context.Ring;
        RnsPolynomial p = ring.NewPolynomial(ring.Moduli.Count);
        for (int i = 0; i < ring.Moduli.Count; i++)
            reader.ReadPacked(p.Residue(i), ring.Moduli[i].BitLength, ring.Moduli[i].Value, $"{name} modulo q{i}");
        return p;
    }
}
