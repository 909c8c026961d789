using System.Runtime.CompilerServices;
using FedCore.Crypto.Ring;

namespace FedCore.Crypto.Rlwe;

/// <summary>
/// RLWE public-key encryption of zero under pk = (p, a), p = −a·s + e, over the whole modulus chain Q,
/// followed by modulus switching down to q_0:
///   (c0, c1) = (p·u + e0, a·u + e1) mod Q, u ternary, e0, e1 Gaussian; then c_j ← round(c_j / (Q/q_0)) mod q_0.
/// c0 + c1·s = e·u + e0 + e1·s at Q; the switch divides that by Q/q_0 and leaves only the rounding terms
/// τ0 + τ1·s (|τ| ≤ 1/2) at q_0. Adding an encoded message to c0 afterwards gives its encryption at q_0.
/// Not thread-safe: it owns scratch buffers so that encrypting many chunks allocates nothing per chunk. They hold the
/// ephemeral u and errors (which would decrypt the last ciphertext), so disposing zeroes them.
/// </summary>
public sealed class PublicKeyEncryptor : IDisposable
{
    private readonly RnsRing _ring;
    private readonly NttPublicKey _key;
    private readonly DiscreteGaussianSampler _errors;
    private readonly long[] _small;
    private readonly RnsPolynomial _u, _c0, _c1;

    public PublicKeyEncryptor(NttPublicKey key, DiscreteGaussianSampler errors)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(errors);
        RnsRing ring = key.Ring;
        int levels = ring.Moduli.Count;
        _ring = ring;
        _key = key;
        _errors = errors;
        _small = new long[ring.RingDimension];
        _u = ring.NewPolynomial(levels);
        _c0 = ring.NewPolynomial(levels);
        _c1 = ring.NewPolynomial(levels);
    }

    /// <summary>Writes a fresh encryption of zero at q_0, in coefficient form, into <paramref name="c0"/> and <paramref name="c1"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void EncryptZero(AesCtrRandom random, Span<ulong> c0, Span<ulong> c1)
    {
        int levels = _ring.Moduli.Count;
        Sampling.Ternary(random, _small);
        _ring.SetSmall(_u, _small);
        _ring.ForwardNtt(_u);
        for (int i = 0; i < levels; i++)
        {
            Modulus m = _ring.Moduli[i];
            VectorArithmetic.MultiplyShoup(m, _u.Residue(i), _key.P.Residue(i), _key.PShoup.Residue(i), _c0.Residue(i));
            VectorArithmetic.MultiplyShoup(m, _u.Residue(i), _key.A.Residue(i), _key.AShoup.Residue(i), _c1.Residue(i));
        }
        _ring.InverseNtt(_c0);
        _ring.InverseNtt(_c1);
        _errors.Sample(random, _small);
        _ring.AddSmallInPlace(_c0, _small);
        _errors.Sample(random, _small);
        _ring.AddSmallInPlace(_c1, _small);

        for (int count = levels; count > 1; count--)
        {
            _ring.DropLastModulusInPlace(_c0, count);
            _ring.DropLastModulusInPlace(_c1, count);
        }
        _c0.Residue(0).CopyTo(c0);
        _c1.Residue(0).CopyTo(c1);
    }

    public void Dispose()
    {
        Array.Clear(_small);
        _u.Clear();
        _c0.Clear();
        _c1.Clear();
    }
}

/// <summary>
/// An RLWE public key (p, a) in NTT form over the whole chain, with the Shoup companion of every value
/// precomputed so that encryption multiplies by it at Shoup speed. Immutable; share it between encryptors.
/// </summary>
public sealed class NttPublicKey
{
    /// <param name="p">p in NTT form over all moduli of <paramref name="ring"/>.</param>
    /// <param name="a">a in NTT form over all moduli of <paramref name="ring"/>.</param>
    public NttPublicKey(RnsRing ring, RnsPolynomial p, RnsPolynomial a)
    {
        ArgumentNullException.ThrowIfNull(ring);
        int levels = ring.Moduli.Count;
        if (p.ModulusCount != levels || a.ModulusCount != levels)
            throw new ArgumentException($"The public key must span all {levels} moduli.");
        Ring = ring;
        P = p;
        A = a;
        PShoup = ShoupCompanions(ring, p);
        AShoup = ShoupCompanions(ring, a);
    }

    public RnsRing Ring { get; }

    public RnsPolynomial P { get; }

    public RnsPolynomial A { get; }

    internal RnsPolynomial PShoup { get; }

    internal RnsPolynomial AShoup { get; }

    internal static RnsPolynomial ShoupCompanions(RnsRing ring, RnsPolynomial values)
    {
        RnsPolynomial companions = ring.NewPolynomial(values.ModulusCount);
        for (int i = 0; i < values.ModulusCount; i++)
        {
            Span<ulong> v = values.Residue(i), s = companions.Residue(i);
            for (int j = 0; j < v.Length; j++)
                s[j] = ring.Moduli[i].ShoupPrecompute(v[j]);
        }
        return companions;
    }
}
