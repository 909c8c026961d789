using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Rlwe;
using FedCore.Crypto.Wire;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// One participant's share s_i of the collective secret s = Σ s_i (uniform ternary), together with its public-key
/// share p_i = −a·s_i + e_i. Both are expanded from a private 32-byte seed, so the share is stored as that seed and
/// p_i is the same every time it is recomputed. (Publishing two p_i with different errors for one s_i would let an
/// observer average the errors away.) It never leaves its owner except as bytes for the owner's own storage.
/// </summary>
public sealed class SecretKeyShare
{
    private const string SecretDomain = "FedCore/CKKS/secret-key-share/v1";
    private const string ErrorDomain = "FedCore/CKKS/public-key-share-error/v1";
    private const string FloodingDomain = "FedCore/CKKS/noise-flooding/v1";

    private readonly byte[] _secretSeed;
    private readonly RnsPolynomial _secretNtt;     // s_i over all moduli, NTT form
    private readonly ulong[] _wireSecretShoup;     // Shoup companions of s_i mod q_0 (NTT form)

    private SecretKeyShare(CkksParameters parameters, byte[] crsSeed, byte[] secretSeed)
    {
        Parameters = parameters;
        _secretSeed = secretSeed;
        CkksContext context = parameters.Context;
        RnsRing ring = context.Ring;
        int n = parameters.RingDimension;

        var small = new long[n];
        using (var secretStream = new AesCtrRandom(secretSeed, SecretDomain))
            Sampling.Ternary(secretStream, small);
        _secretNtt = ring.NewPolynomial(ring.Moduli.Count);
        ring.SetSmall(_secretNtt, small);
        ring.ForwardNtt(_secretNtt);
        Modulus q0 = context.WireModulus;
        _wireSecretShoup = new ulong[n];
        Span<ulong> wireSecret = _secretNtt.Residue(0);
        for (int j = 0; j < n; j++)
            _wireSecretShoup[j] = q0.ShoupPrecompute(wireSecret[j]);

        // p_i = −(a·s_i) + e_i over the whole chain, coefficient form.
        CommonReferencePolynomial crs = CommonReferencePolynomial.Expand(parameters, crsSeed);
        RnsPolynomial p = ring.NewPolynomial(ring.Moduli.Count);
        ring.MultiplyNtt(crs.NttForm, _secretNtt, p);
        ring.InverseNtt(p);
        ring.NegateInPlace(p);
        using (var errorStream = new AesCtrRandom(secretSeed, ErrorDomain))
            context.Errors.Sample(errorStream, small);
        ring.AddSmallInPlace(p, small);
        Array.Clear(small);
        PublicKeyShare = new PublicKeyShare(parameters, crsSeed, p);
    }

    public CkksParameters Parameters { get; }

    public PublicKeyShare PublicKeyShare { get; }

    public Guid ShareId => PublicKeyShare.ShareId;

    public ReadOnlySpan<byte> CrsSeed => PublicKeyShare.CrsSeed;

    /// <summary>A new share for the key generation whose common reference polynomial comes from <paramref name="crsSeed"/>.</summary>
    public static SecretKeyShare Generate(CkksParameters parameters, ReadOnlySpan<byte> crsSeed)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        RequireCrsSeed(crsSeed);
        return new SecretKeyShare(parameters, crsSeed.ToArray(), RandomNumberGenerator.GetBytes(AesCtrRandom.SeedLength));
    }

    /// <summary>
    /// h_i = s_i·c1 + e_flood (mod q_0) for every ciphertext of <paramref name="vector"/>, with e_flood drawn from the
    /// discrete Gaussian of σ = <see cref="CkksParameters.FloodingStandardDeviation"/> (<see cref="CkksContext.Flooding"/>).
    /// Give shares only for the aggregate the protocol expects, once: see NoiseFlooding.md for why the number of ciphertexts one key decrypts is budgeted (enforced by CkksProtection).
    /// </summary>
    public DecryptionShare CreateDecryptionShare(CollectivePublicKey key, EncryptedVector vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        return CreateDecryptionShare(key, CiphertextMasks.Of(vector));
    }

    /// <summary>The share from the masks (c1 halves) alone, which is all it depends on.</summary>
    public DecryptionShare CreateDecryptionShare(CollectivePublicKey key, CiphertextMasks masks)
    {
        RequireShareOf(key, masks);
        var writer = DecryptionShare.NewWriter(Parameters, ShareId, masks);
        ShareChunks(key, masks, (_, h) => RoundedPolynomial.Write(writer, Parameters, h));
        return DecryptionShare.Finish(Parameters, writer);
    }

    /// <summary>
    /// Hands <paramref name="consume"/> the share of each ciphertext of <paramref name="masks"/> in turn, not rounded, in a
    /// buffer it may change and that is cleared afterwards. <see cref="CreateDecryptionShare(CollectivePublicKey, CiphertextMasks)"/>
    /// writes them out; a member's part of an opening adds them to its c0 as it goes (<see cref="OpenedPlaintext.Part(EncryptedVector, SecretKeyShare, CollectivePublicKey, CiphertextMasks)"/>),
    /// so the share is never a model-sized object of its own.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void ShareChunks(CollectivePublicKey key, CiphertextMasks masks, Action<int, ulong[]> consume)
    {
        RequireShareOf(key, masks);
        CkksContext context = Parameters.Context;
        Modulus q0 = context.WireModulus;
        NegacyclicNtt ntt = context.WireTransform;
        int n = Parameters.RingDimension;
        ReadOnlySpan<ulong> secret = _secretNtt.Residue(0);
        var h = new ulong[n];
        var flooding = new long[n];
        using var floodingStream = AesCtrRandom.FromSystemEntropy(FloodingDomain);
        try
        {
            for (int chunk = 0; chunk < masks.ChunkCount; chunk++)
            {
                masks.ReadC1(chunk, h);
                ntt.Forward(h);
                VectorArithmetic.MultiplyShoup(q0, h, secret, _wireSecretShoup, h);
                ntt.Inverse(h);
                context.Flooding.Sample(floodingStream, flooding);
                RnsRing.AddSmallInPlace(q0, h, flooding);
                consume(chunk, h);
            }
        }
        finally
        {
            // The flooding noise is as secret as s_i: h_i minus it would be s_i·c1.
            Array.Clear(flooding);
            Array.Clear(h);
        }
    }

    private void RequireShareOf(CollectivePublicKey key, CiphertextMasks masks)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(masks);
        if (key.Parameters != Parameters || masks.Parameters != Parameters)
            throw new ArgumentException($"Key, vector and share must use one parameter set ({Parameters.Name}).");
        if (!key.ShareIds.Contains(ShareId) || !key.CrsSeed.SequenceEqual(CrsSeed))
            throw new ArgumentException($"Share {ShareId} is not part of collective key {Convert.ToHexString(key.KeyId.Span)[..16]}….", nameof(key));
        if (!masks.KeyId.Span.SequenceEqual(key.KeyId.Span))
            throw new ArgumentException("The vector was encrypted under a different collective key.", nameof(masks));
    }

    /// <summary>For the owner's local storage only: header, CRS seed (32 bytes), secret seed (32 bytes).</summary>
    public byte[] ToBytes()
    {
        var writer = new WireWriter(WireKind.SecretKeyShare, Parameters, 2 * AesCtrRandom.SeedLength);
        writer.WriteBytes(CrsSeed);
        writer.WriteBytes(_secretSeed);
        return writer.ToArray();
    }

    public static SecretKeyShare FromBytes(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        var reader = new WireReader(data, WireKind.SecretKeyShare, parameters);
        reader.RequireExactly(2 * AesCtrRandom.SeedLength, "body");
        byte[] crsSeed = reader.ReadBytes(AesCtrRandom.SeedLength, "CRS seed").ToArray();
        byte[] secretSeed = reader.ReadBytes(AesCtrRandom.SeedLength, "secret seed").ToArray();
        return new SecretKeyShare(parameters, crsSeed, secretSeed);
    }

    /// <summary>s_i·c1 of one ciphertext without flooding; tests use it to measure the bare ciphertext noise.</summary>
    internal ulong[] PartialDecryptionWithoutFlooding(EncryptedVector vector, int chunk) =>
        PartialDecryptionWithoutFlooding(CiphertextMasks.Of(vector), chunk);

    /// <summary>s_i·c1 of one ciphertext of <paramref name="masks"/> without flooding (for tests).</summary>
    internal ulong[] PartialDecryptionWithoutFlooding(CiphertextMasks masks, int chunk)
    {
        CkksContext context = Parameters.Context;
        var h = new ulong[Parameters.RingDimension];
        masks.ReadC1(chunk, h);
        context.WireTransform.Forward(h);
        VectorArithmetic.MultiplyShoup(context.WireModulus, h, _secretNtt.Residue(0), _wireSecretShoup, h);
        context.WireTransform.Inverse(h);
        return h;
    }

    /// <summary>Overwrites the secret (its seed and expanded forms) in memory; the share cannot be used afterwards.</summary>
    public void Erase()
    {
        CryptographicOperations.ZeroMemory(_secretSeed);
        _secretNtt.Clear();
        Array.Clear(_wireSecretShoup);
    }

    internal static void RequireCrsSeed(ReadOnlySpan<byte> crsSeed)
    {
        if (crsSeed.Length != CommonReferencePolynomial.SeedLength)
            throw new ArgumentException($"A CRS seed has {CommonReferencePolynomial.SeedLength} bytes; got {crsSeed.Length}.", nameof(crsSeed));
    }
}
