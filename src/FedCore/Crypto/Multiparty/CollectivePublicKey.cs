using System.Security.Cryptography;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Rlwe;
using FedCore.Crypto.Wire;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// The collective public key (p, a) with p = Σ p_i = −a·s + Σ e_i for s = Σ s_i. Anyone can form it from the
/// public-key shares; decrypting under it needs a decryption share from every participant listed in
/// <see cref="ShareIds"/>. <see cref="KeyId"/> (SHA-256 of its serialised form) names it in encrypted vectors and shares.
/// Wire body: CRS seed (32 bytes), share count (uint32), share identifiers (16 bytes each, strictly ascending),
/// then p modulo q_0, q_1, … bit-packed.
/// </summary>
public sealed class CollectivePublicKey
{
    /// <summary>More participants than this would push the combined noise past the precision budget anyway.</summary>
    public const int MaxParticipants = 10_000;

    private readonly byte[] _crsSeed;
    private readonly RnsPolynomial _p;
    private readonly byte[] _bytes;
    private readonly Lazy<NttPublicKey> _prepared;

    private CollectivePublicKey(CkksParameters parameters, byte[] crsSeed, Guid[] sortedShareIds, RnsPolynomial p)
    {
        Parameters = parameters;
        _crsSeed = crsSeed;
        ShareIds = sortedShareIds;
        _p = p;
        _bytes = Serialize();
        KeyId = SHA256.HashData(_bytes);
        _prepared = new Lazy<NttPublicKey>(Prepare);
    }

    public CkksParameters Parameters { get; }

    public ReadOnlySpan<byte> CrsSeed => _crsSeed;

    /// <summary>The participants whose shares are summed here, in ascending order.</summary>
    public IReadOnlyList<Guid> ShareIds { get; }

    public ReadOnlyMemory<byte> KeyId { get; }

    /// <summary>p in coefficient form over all moduli.</summary>
    internal RnsPolynomial P => _p;

    /// <summary>Encryption-ready form (NTT, Shoup companions), computed once on first use.</summary>
    internal NttPublicKey Prepared => _prepared.Value;

    /// <summary>Sums the public-key shares of one key generation (same parameters, same CRS seed, distinct participants).</summary>
    public static CollectivePublicKey Combine(IEnumerable<PublicKeyShare> shares)
    {
        ArgumentNullException.ThrowIfNull(shares);
        PublicKeyShare[] all = shares.ToArray();
        if (all.Length == 0)
            throw new ArgumentException("A collective key needs at least one public-key share.", nameof(shares));
        if (all.Length > MaxParticipants)
            throw new ArgumentException($"{all.Length} shares; at most {MaxParticipants} are supported.", nameof(shares));
        PublicKeyShare first = all[0];
        foreach (PublicKeyShare share in all)
        {
            if (share.Parameters != first.Parameters)
                throw new ArgumentException($"Share {share.ShareId} uses {share.Parameters.Name}, share {first.ShareId} uses {first.Parameters.Name}.", nameof(shares));
            if (!share.CrsSeed.SequenceEqual(first.CrsSeed))
                throw new ArgumentException($"Share {share.ShareId} was made for a different common reference polynomial than share {first.ShareId}.", nameof(shares));
        }
        var seen = new HashSet<Guid>();
        foreach (PublicKeyShare share in all)
            if (!seen.Add(share.ShareId))
                throw new ArgumentException($"Share {share.ShareId} appears more than once.", nameof(shares));

        RnsRing ring = first.Parameters.Context.Ring;
        RnsPolynomial sum = first.P.Clone();
        foreach (PublicKeyShare share in all.Skip(1))
            ring.AddInPlace(sum, share.P);
        Guid[] ids = all.Select(s => s.ShareId).Order().ToArray();
        return new CollectivePublicKey(first.Parameters, first.CrsSeed.ToArray(), ids, sum);
    }

    public byte[] ToBytes() => (byte[])_bytes.Clone();

    public static CollectivePublicKey FromBytes(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        var reader = new WireReader(data, WireKind.CollectivePublicKey, parameters);
        byte[] crsSeed = reader.ReadBytes(CommonReferencePolynomial.SeedLength, "CRS seed").ToArray();
        uint count = reader.ReadUInt32("share count");
        if (count == 0 || count > MaxParticipants)
            throw reader.Fail("share count", $"{count} is outside 1..{MaxParticipants}");
        reader.RequireExactly(count * 16L + PolynomialWire.PackedLength(parameters), "share identifiers and p");
        var ids = new Guid[count];
        for (int i = 0; i < ids.Length; i++)
        {
            int offset = reader.Position;
            ids[i] = reader.ReadGuid($"share identifier {i}");
            if (i > 0 && ids[i].CompareTo(ids[i - 1]) <= 0)
                throw new HeFormatException(WireFormat.Describe(WireKind.CollectivePublicKey), $"share identifier {i}", offset,
                    "identifiers must be strictly ascending (no duplicates)");
        }
        RnsPolynomial p = PolynomialWire.Read(ref reader, parameters, "p");
        reader.RequireEnd();
        return new CollectivePublicKey(parameters, crsSeed, ids, p);
    }

    private byte[] Serialize()
    {
        var writer = new WireWriter(WireKind.CollectivePublicKey, Parameters,
            CommonReferencePolynomial.SeedLength + 4 + 16L * ShareIds.Count + PolynomialWire.PackedLength(Parameters));
        writer.WriteBytes(_crsSeed);
        writer.WriteUInt32((uint)ShareIds.Count);
        foreach (Guid id in ShareIds)
            writer.WriteGuid(id);
        PolynomialWire.Write(writer, Parameters, _p);
        return writer.ToArray();
    }

    private NttPublicKey Prepare()
    {
        RnsRing ring = Parameters.Context.Ring;
        RnsPolynomial p = _p.Clone();
        ring.ForwardNtt(p);
        return new NttPublicKey(ring, p, CommonReferencePolynomial.Expand(Parameters, _crsSeed).NttForm);
    }
}
