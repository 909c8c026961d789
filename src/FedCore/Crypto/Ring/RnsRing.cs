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

    public void ForwardNtt(RnsPolynomial p)
    {
        RequireShape(p);
        for (int i = 0; i < p.ModulusCount; i++)
            _transforms[i].Forward(p.Residue(i));
    }

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

    public static void AddInPlace(Modulus modulus, Span<ulong> target, ReadOnlySpan<ulong> addend)
    {
        if (target.Length != addend.Length)
            throw new ArgumentException("Residue lengths differ.", nameof(addend));
        for (int j = 0; j < target.Length; j++)
            target[j] = modulus.Add(target[j], addend[j]);
    }

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
    public void AddSmallInPlace(RnsPolynomial target, ReadOnlySpan<long> small)
    {
        RequireShape(target);
        if (small.Length != RingDimension)
            throw new ArgumentException($"Expected {RingDimension} coefficients, got {small.Length}.", nameof(small));
        for (int i = 0; i < target.ModulusCount; i++)
        {
            Modulus m = Moduli[i];
            Span<ulong> r = target.Residue(i);
            for (int j = 0; j < r.Length; j++)
                r[j] = m.Add(r[j], m.FromSigned(small[j]));
        }
    }

    /// <summary>Writes a small signed polynomial into every residue of <paramref name="target"/> (coefficient domain).</summary>
    public void SetSmall(RnsPolynomial target, ReadOnlySpan<long> small)
    {
        target.Clear();
        AddSmallInPlace(target, small);
    }

    /// <summary>
    /// Modulus switching: from a coefficient-domain polynomial c modulo q_0·…·q_{k−1}, the polynomial
    /// round(c / q_{k−1}) modulo q_0·…·q_{k−2}. It subtracts the centred residue [c]_{q_{k−1}}, which makes
    /// c exactly divisible by q_{k−1}, and multiplies by q_{k−1}^{-1} in each remaining residue.
    /// </summary>
    public RnsPolynomial DropLastModulus(RnsPolynomial c)
    {
        RequireShape(c);
        int last = c.ModulusCount - 1;
        if (last == 0)
            throw new ArgumentException("A polynomial with one modulus cannot be switched down further.", nameof(c));
        var result = new RnsPolynomial(RingDimension, last);
        Modulus dropped = Moduli[last];
        ReadOnlySpan<ulong> droppedResidue = c.Residue(last);
        for (int i = 0; i < last; i++)
        {
            Modulus qi = Moduli[i];
            ulong inverse = _inverseOfDropped[last][i], inverseShoup = _inverseOfDroppedShoup[last][i];
            ReadOnlySpan<ulong> source = c.Residue(i);
            Span<ulong> target = result.Residue(i);
            for (int j = 0; j < target.Length; j++)
            {
                ulong correction = qi.FromSigned(dropped.ToCentered(droppedResidue[j]));
                target[j] = qi.MultiplyShoup(qi.Subtract(source[j], correction), inverse, inverseShoup);
            }
        }
        return result;
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
