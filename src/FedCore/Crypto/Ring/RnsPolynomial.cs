namespace FedCore.Crypto.Ring;

/// <summary>
/// An element of Z_Q[X]/(X^N + 1) with Q = q_0·…·q_{k−1}, stored as its k residue polynomials
/// (residue i holds the N coefficients, or N NTT evaluations, modulo q_i). Which of the two domains a
/// polynomial is in is the caller's knowledge; the ring's methods say which one they expect.
/// </summary>
public sealed class RnsPolynomial
{
    private readonly ulong[] _values;

    public RnsPolynomial(int ringDimension, int modulusCount)
    {
        NttPrimes.RequirePowerOfTwo(ringDimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(modulusCount);
        RingDimension = ringDimension;
        ModulusCount = modulusCount;
        _values = new ulong[checked(ringDimension * modulusCount)];
    }

    public int RingDimension { get; }

    public int ModulusCount { get; }

    /// <summary>The N values modulo q_i.</summary>
    public Span<ulong> Residue(int i)
    {
        if ((uint)i >= (uint)ModulusCount)
            throw new ArgumentOutOfRangeException(nameof(i), i, $"This polynomial has {ModulusCount} residues.");
        return _values.AsSpan(i * RingDimension, RingDimension);
    }

    public RnsPolynomial Clone()
    {
        var copy = new RnsPolynomial(RingDimension, ModulusCount);
        _values.CopyTo(copy._values, 0);
        return copy;
    }

    public void Clear() => Array.Clear(_values);
}
