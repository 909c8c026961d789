using System.Security.Cryptography;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Rlwe;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// The common reference polynomial a ∈ R_Q shared by all participants of one key generation, expanded
/// deterministically from a public 32-byte seed: a = Uniform(AES-CTR stream keyed by the seed and the
/// parameter fingerprint). Anyone holding the seed can recompute it, so only the seed travels.
/// </summary>
public sealed class CommonReferencePolynomial
{
    public const int SeedLength = AesCtrRandom.SeedLength;
    private const string Domain = "FedCore/CKKS/common-reference-polynomial/v1";

    private readonly byte[] _seed;

    private CommonReferencePolynomial(CkksParameters parameters, byte[] seed, RnsPolynomial nttForm)
    {
        Parameters = parameters;
        _seed = seed;
        NttForm = nttForm;
    }

    public CkksParameters Parameters { get; }

    public ReadOnlySpan<byte> Seed => _seed;

    /// <summary>a over all moduli, in NTT form.</summary>
    internal RnsPolynomial NttForm { get; }

    /// <summary>A fresh public seed (any party, or the coordinator, may draw it; it need not be secret).</summary>
    public static byte[] NewSeed() => RandomNumberGenerator.GetBytes(SeedLength);

    public static CommonReferencePolynomial Expand(CkksParameters parameters, ReadOnlySpan<byte> seed)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (seed.Length != SeedLength)
            throw new ArgumentException($"A common reference seed has {SeedLength} bytes; got {seed.Length}.", nameof(seed));
        RnsRing ring = parameters.Context.Ring;
        // The fingerprint goes into the stream's key material so that one seed gives unrelated polynomials under different sets.
        byte[] keyedSeed = SHA256.HashData([.. parameters.Fingerprint.Span, .. seed]);
        using var stream = new AesCtrRandom(keyedSeed, Domain);
        RnsPolynomial a = ring.NewPolynomial(ring.Moduli.Count);
        for (int i = 0; i < ring.Moduli.Count; i++)
            Sampling.Uniform(stream, ring.Moduli[i], a.Residue(i));
        ring.ForwardNtt(a);
        return new CommonReferencePolynomial(parameters, seed.ToArray(), a);
    }
}
