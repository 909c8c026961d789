using System.Runtime.CompilerServices;

namespace FedCore.Crypto.Ring;

/// <summary>
/// A word-sized prime modulus q &lt; 2^62 with the constants for Barrett reduction of 128-bit
/// products and helpers for Shoup multiplication by a fixed operand.
/// The 2^62 limit leaves two spare bits so that the lazy NTT butterflies can keep values in [0, 4q).
/// </summary>
public sealed class Modulus
{
    public const int MaxBitLength = 62;

    // floor(2^128 / q) as two 64-bit words: Barrett constant for reducing values below q^2.
    private readonly ulong _barrettHigh;
    private readonly ulong _barrettLow;

    public Modulus(ulong value)
    {
        if (value < 2 || value >= 1UL << MaxBitLength)
            throw new ArgumentOutOfRangeException(nameof(value), value, $"A modulus must lie in [2, 2^{MaxBitLength}).");
        if ((value & (value - 1)) == 0)
            throw new ArgumentException("A modulus must not be a power of two.", nameof(value));
        Value = value;
        BitLength = 64 - System.Numerics.BitOperations.LeadingZeroCount(value);
        UInt128 ratio = UInt128.MaxValue / value; // equals floor(2^128 / q) because q is not a power of two
        _barrettHigh = (ulong)(ratio >> 64);
        _barrettLow = (ulong)ratio;
    }

    public ulong Value { get; }

    /// <summary>Number of bits needed to write any residue, ⌈log2 q⌉ for a non-power of two.</summary>
    public int BitLength { get; }

    /// <summary>
    /// x − m if x ≥ m, else x, without a branch: for x &lt; m + 2^63 and m &lt; 2^63 the sign bit of x − m tells which.
    /// Branch-free keeps the time independent of secret values and avoids mispredictions on random data.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SubtractIfNotBelow(ulong x, ulong m)
    {
        ulong difference = x - m;
        return difference + (m & (ulong)((long)difference >> 63));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Add(ulong a, ulong b) => SubtractIfNotBelow(a + b, Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Subtract(ulong a, ulong b)
    {
        ulong difference = a - b;
        return difference + (Value & (ulong)((long)difference >> 63));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Negate(ulong a) => a == 0 ? 0 : Value - a;

    /// <summary>a·b mod q for a, b &lt; q, by Barrett reduction of the 128-bit product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Multiply(ulong a, ulong b)
    {
        ulong high = Math.BigMul(a, b, out ulong low);
        return ReduceProduct(high, low);
    }

    /// <summary>
    /// Reduces any 128-bit x = high·2^64 + low modulo q. The quotient estimate floor(x·r / 2^128),
    /// r = floor(2^128/q), is computed exactly and is at most one short of floor(x/q),
    /// so one conditional subtraction finishes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReduceProduct(ulong high, ulong low)
    {
        // Product of (high, low) and (rHigh, rLow), keeping only the words at 2^128 and above.
        ulong carry = Math.BigMul(low, _barrettLow, out _);
        ulong midHigh1 = Math.BigMul(low, _barrettHigh, out ulong midLow1);
        ulong sum1 = midLow1 + carry;
        ulong carry1 = sum1 < carry ? 1UL : 0UL;
        ulong midHigh2 = Math.BigMul(high, _barrettLow, out ulong midLow2);
        ulong sum2 = sum1 + midLow2;
        ulong carry2 = sum2 < midLow2 ? 1UL : 0UL;
        ulong quotient = high * _barrettHigh + midHigh1 + midHigh2 + carry1 + carry2;
        ulong remainder = low - quotient * Value;
        return SubtractIfNotBelow(remainder, Value);
    }

    /// <summary>Reduces any 64-bit value modulo q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Reduce(ulong a) => ReduceProduct(0, a);

    /// <summary>The residue of a signed integer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong FromSigned(long a)
    {
        long q = (long)Value;
        if (a > -q && a < q)
            return (ulong)a + ((ulong)(a >> 63) & Value); // the common case: small values, no reduction
        return a >= 0 ? Reduce((ulong)a) : Negate(Reduce((ulong)(-(a + 1)) + 1));
    }

    /// <summary>Centred representative in (−q/2, q/2].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ToCentered(ulong a)
    {
        ulong above = (ulong)((long)((Value >> 1) - a) >> 63); // all ones when a > q/2
        return (long)a - (long)(Value & above);
    }

    /// <summary>floor(w·2^64 / q): the Shoup companion of a fixed multiplier w &lt; q.</summary>
    public ulong ShoupPrecompute(ulong w)
    {
        if (w >= Value)
            throw new ArgumentOutOfRangeException(nameof(w), "A Shoup multiplier must be reduced below the modulus.");
        return (ulong)(((UInt128)w << 64) / Value);
    }

    /// <summary>x·w mod q in [0, 2q) for any 64-bit x (Harvey's lazy form of Shoup multiplication).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong MultiplyShoupLazy(ulong x, ulong w, ulong wShoup)
    {
        ulong quotient = Math.BigMul(x, wShoup, out _);
        return x * w - quotient * Value;
    }

    /// <summary>x·w mod q in [0, q).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong MultiplyShoup(ulong x, ulong w, ulong wShoup)
    {
        return SubtractIfNotBelow(MultiplyShoupLazy(x, w, wShoup), Value);
    }

    public ulong Power(ulong baseValue, ulong exponent)
    {
        ulong result = 1 % Value;
        ulong b = baseValue % Value;
        while (exponent != 0)
        {
            if ((exponent & 1) != 0)
                result = Multiply(result, b);
            b = Multiply(b, b);
            exponent >>= 1;
        }
        return result;
    }

    /// <summary>Inverse modulo a prime q, by Fermat's little theorem.</summary>
    public ulong Inverse(ulong a)
    {
        if (a % Value == 0)
            throw new ArgumentException($"0 has no inverse modulo {Value}.", nameof(a));
        return Power(a, Value - 2);
    }

    public override string ToString() => $"{Value} ({BitLength} bits)";
}
