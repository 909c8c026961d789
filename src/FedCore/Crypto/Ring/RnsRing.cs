using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FedCore.Crypto.Ring;

/// <summary>
/// Z_Q[X]/(X^N + 1) in residue-number-system form over NTT-friendly primes q_0, …, q_{L−1}.
/// Polynomials may use any prefix q_0..q_{k−1} of the chain; modulus switching drops the last prime.
/// </summary>
public sealed class RnsRing
{
    private readonly NegacyclicNtt[] _transforms;
    // For switching from k to k−1 primes: q_{k−1}^{-1} mod q_i (i &lt; k−1) and its Shoup companion.
    private readonly ulong[][] _inverseOfDropped;
    private readonly ulong[][] _inverseOfDroppedShoup;

    public RnsRing(int ringDimension, IReadOnlyList<ulong> moduli)
    {
        NttPrimes.RequirePowerOfTwo(ringDimension);
        ArgumentNullException.ThrowIfNull(moduli);
        if (moduli.Count == 0)
            throw new ArgumentException("An RNS ring needs at least one modulus.", nameof(moduli));
        if (moduli.Distinct().Count() != moduli.Count)
            throw new ArgumentException("RNS moduli must be distinct.", nameof(moduli));

        RingDimension = ringDimension;
        Moduli = moduli.Select(q => new Modulus(q)).ToArray();
        _transforms = Moduli.Select(m => new NegacyclicNtt(m, ringDimension)).ToArray();
        _inverseOfDropped = new ulong[Moduli.Count][];
        _inverseOfDroppedShoup = new ulong[Moduli.Count][];
        for (int dropped = 1; dropped < Moduli.Count; dropped++)
        {
            _inverseOfDropped[dropped] = new ulong[dropped];
            _inverseOfDroppedShoup[dropped] = new ulong[dropped];
            for (int i = 0; i < dropped; i++)
            {
                Modulus qi = Moduli[i];
                ulong inverse = qi.Inverse(qi.Reduce(Moduli[dropped].Value));
                _inverseOfDropped[dropped][i] = inverse;
                _inverseOfDroppedShoup[dropped][i] = qi.ShoupPrecompute(inverse);
            }
        }
    }

    public int RingDimension { get; }

    public IReadOnlyList<Modulus> Moduli { get; }

    public NegacyclicNtt Transform(int modulusIndex) => _transforms[modulusIndex];

    public RnsPolynomial NewPolynomial(int modulusCount) => new(RingDimension, RequireModulusCount(modulusCount));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ForwardNtt(RnsPolynomial p)
    {
        RequireShape(p);
        for (int i = 0; i < p.ModulusCount; i++)
            _transforms[i].Forward(p.Residue(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void InverseNtt(RnsPolynomial p)
    {
        RequireShape(p);
        for (int i = 0; i < p.ModulusCount; i++)
            _transforms[i].Inverse(p.Residue(i));
    }

    /// <summary>target += addend, residue by residue (either domain, same for both).</summary>
    public void AddInPlace(RnsPolynomial target, RnsPolynomial addend)
    {
        RequireSameShape(target, addend);
        for (int i = 0; i < target.ModulusCount; i++)
            AddInPlace(Moduli[i], target.Residue(i), addend.Residue(i));
    }

    public static void AddInPlace(Modulus modulus, Span<ulong> target, ReadOnlySpan<ulong> addend) =>
        VectorArithmetic.Add(modulus, target, addend);

    public void NegateInPlace(RnsPolynomial p)
    {
        RequireShape(p);
        for (int i = 0; i < p.ModulusCount; i++)
        {
            Span<ulong> r = p.Residue(i);
            for (int j = 0; j < r.Length; j++)
                r[j] = Moduli[i].Negate(r[j]);
        }
    }

    /// <summary>target = a ⊙ b: pointwise product of two NTT-domain polynomials.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void MultiplyNtt(RnsPolynomial a, RnsPolynomial b, RnsPolynomial target)
    {
        RequireSameShape(a, b);
        RequireSameShape(a, target);
        for (int i = 0; i < a.ModulusCount; i++)
        {
            Modulus m = Moduli[i];
            Span<ulong> x = a.Residue(i), y = b.Residue(i), z = target.Residue(i);
            for (int j = 0; j < z.Length; j++)
                z[j] = m.Multiply(x[j], y[j]);
        }
    }

    /// <summary>Adds a small signed polynomial (e.g. an error term) to every residue of a coefficient-domain polynomial.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddSmallInPlace(RnsPolynomial target, ReadOnlySpan<long> small)
    {
        RequireShape(target);
        if (small.Length != RingDimension)
            throw new ArgumentException($"Expected {RingDimension} coefficients, got {small.Length}.", nameof(small));
        for (int i = 0; i < target.ModulusCount; i++)
            AddSmallInPlace(Moduli[i], target.Residue(i), small);
    }

    /// <summary>Writes a small signed polynomial into every residue of <paramref name="target"/> (coefficient domain).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SetSmall(RnsPolynomial target, ReadOnlySpan<long> small)
    {
        target.Clear();
        AddSmallInPlace(target, small);
    }

    /// <summary>target[j] += small[j] mod q, for signed values of any size (fast when all |small[j]| &lt; q).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddSmallInPlace(Modulus modulus, Span<ulong> target, ReadOnlySpan<long> small)
    {
        if (target.Length != small.Length)
            throw new ArgumentException("Operand lengths differ.", nameof(small));
        ulong q = modulus.Value;
        long limit = (long)q;
        int j = 0;
        if (VectorArithmetic.Use512)
        {
            Vector512<ulong> q512 = Vector512.Create(q);
            Vector512<long> upper = Vector512.Create(limit), lower = Vector512.Create(-limit);
            for (; j + 8 <= target.Length; j += 8)
            {
                Vector512<long> v = Vector512.Create(small.Slice(j, 8));
                if (!Vector512.LessThanAll(v, upper) || !Vector512.GreaterThanAll(v, lower))
                    break; // rare large values: finish with the general scalar path
                // v + q for negative v, then the sum of two residues below q needs one conditional subtraction.
                Vector512<ulong> residue = (v + (Vector512.ShiftRightArithmetic(v, 63) & upper)).AsUInt64();
                Vector512<ulong> sum = Vector512.Create((ReadOnlySpan<ulong>)target.Slice(j, 8)) + residue;
                VectorArithmetic.SubtractIfNotBelow(sum, q512).CopyTo(target.Slice(j, 8));
            }
        }
        for (; j < target.Length; j++)
        {
            long v = small[j];
            ulong residue = v > -limit && v < limit ? (ulong)v + ((ulong)(v >> 63) & q) : modulus.FromSigned(v);
            target[j] = modulus.Add(target[j], residue);
        }
    }

    /// <summary>
    /// Modulus switching: from a coefficient-domain polynomial c modulo q_0·…·q_{k−1}, the polynomial
    /// round(c / q_{k−1}) modulo q_0·…·q_{k−2}. It subtracts the centred residue [c]_{q_{k−1}}, which makes
    /// c exactly divisible by q_{k−1}, and multiplies by q_{k−1}^{-1} in each remaining residue.
    /// </summary>
    public RnsPolynomial DropLastModulus(RnsPolynomial c)
    {
        RequireShape(c);
        if (c.ModulusCount == 1)
            throw new ArgumentException("A polynomial with one modulus cannot be switched down further.", nameof(c));
        RnsPolynomial copy = c.Clone();
        DropLastModulusInPlace(copy, c.ModulusCount);
        var result = new RnsPolynomial(RingDimension, c.ModulusCount - 1);
        for (int i = 0; i < result.ModulusCount; i++)
            copy.Residue(i).CopyTo(result.Residue(i));
        return result;
    }

    /// <summary>
    /// The same switch without allocating: <paramref name="c"/> holds <paramref name="modulusCount"/> meaningful residues,
    /// and residues 0 … modulusCount−2 are overwritten with the result (each depends only on itself and the dropped one).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void DropLastModulusInPlace(RnsPolynomial c, int modulusCount)
    {
        RequireShape(c);
        if (modulusCount < 2 || modulusCount > c.ModulusCount)
            throw new ArgumentOutOfRangeException(nameof(modulusCount), modulusCount, $"Need 2..{c.ModulusCount} residues to drop one.");
        int last = modulusCount - 1;
        Modulus dropped = Moduli[last];
        ReadOnlySpan<ulong> droppedResidue = c.Residue(last);
        for (int i = 0; i < last; i++)
        {
            Modulus qi = Moduli[i];
            ulong inverse = _inverseOfDropped[last][i], inverseShoup = _inverseOfDroppedShoup[last][i];
            Span<ulong> target = c.Residue(i);
            int j = 0;
            if (VectorArithmetic.Use512 && dropped.Value < qi.Value)
            {
                // [c]_{q_last} mod q_i is r itself, or r − q_last + q_i when r is above q_last/2.
                Vector512<ulong> q = Vector512.Create(qi.Value), half = Vector512.Create(dropped.Value >> 1);
                Vector512<ulong> shift = Vector512.Create(qi.Value - dropped.Value);
                Vector512<ulong> inv = Vector512.Create(inverse), invShoup = Vector512.Create(inverseShoup), invShoupHigh = Vector512.Create(inverseShoup >> 32);
                for (; j + 8 <= target.Length; j += 8)
                {
                    Vector512<ulong> r = Vector512.Create(droppedResidue.Slice(j, 8));
                    Vector512<ulong> correction = r + (Vector512.GreaterThan(r, half) & shift);
                    Vector512<ulong> difference = VectorArithmetic.SubtractIfNotBelow(Vector512.Create((ReadOnlySpan<ulong>)target.Slice(j, 8)) + q - correction, q);
                    Vector512<ulong> product = VectorArithmetic.MultiplyShoupLazy(difference, inv, invShoup, invShoupHigh, q);
                    VectorArithmetic.SubtractIfNotBelow(product, q).CopyTo(target.Slice(j, 8));
                }
            }
            for (; j < target.Length; j++)
            {
                ulong correction = qi.FromSigned(dropped.ToCentered(droppedResidue[j]));
                target[j] = qi.MultiplyShoup(qi.Subtract(target[j], correction), inverse, inverseShoup);
            }
        }
    }

    private int RequireModulusCount(int modulusCount)
    {
        if (modulusCount < 1 || modulusCount > Moduli.Count)
            throw new ArgumentOutOfRangeException(nameof(modulusCount), modulusCount, $"This ring has {Moduli.Count} moduli.");
        return modulusCount;
    }

    private void RequireShape(RnsPolynomial p)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (p.RingDimension != RingDimension)
            throw new ArgumentException($"Polynomial has dimension {p.RingDimension}; the ring has {RingDimension}.", nameof(p));
        RequireModulusCount(p.ModulusCount);
    }

    private void RequireSameShape(RnsPolynomial a, RnsPolynomial b)
    {
        RequireShape(a);
        RequireShape(b);
        if (a.ModulusCount != b.ModulusCount)
            throw new ArgumentException($"Polynomials have {a.ModulusCount} and {b.ModulusCount} residues.");
    }
}
