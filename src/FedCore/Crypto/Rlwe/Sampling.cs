using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using FedCore.Crypto.Ring;

namespace FedCore.Crypto.Rlwe;

/// <summary>The distributions RLWE needs, drawn from an <see cref="AesCtrRandom"/> stream.</summary>
public static class Sampling
{
    /// <summary>Uniform residues modulo q, by rejection of masked 64-bit words (no modulo bias).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Uniform(AesCtrRandom random, Modulus modulus, Span<ulong> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        ulong mask = (1UL << modulus.BitLength) - 1;
        for (int j = 0; j < destination.Length; j++)
        {
            ulong candidate;
            do
                candidate = random.NextUInt64() & mask;
            while (candidate >= modulus.Value);
            destination[j] = candidate;
        }
    }

    // ⌈2^64/3⌉ and ⌈2^65/3⌉: floor(3r/2^64) = [r ≥ OneThird] + [r ≥ TwoThirds].
    private const ulong OneThird = 0x5555_5555_5555_5556, TwoThirds = 0xAAAA_AAAA_AAAA_AAAB;

    /// <summary>
    /// Uniform ternary coefficients in {−1, 0, 1}: floor(3r / 2^64) − 1 for a uniform 64-bit r, uniform up to a bias
    /// below 2^−62, with no data-dependent branch. Each draw overwrites the random word it came from.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Ternary(AesCtrRandom random, Span<long> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        random.Fill(MemoryMarshal.AsBytes(destination));
        Span<ulong> words = MemoryMarshal.Cast<long, ulong>(destination);
        int j = 0;
        if (VectorArithmetic.Use512)
        {
            Vector512<ulong> oneThird = Vector512.Create(OneThird), twoThirds = Vector512.Create(TwoThirds);
            for (; j + 8 <= words.Length; j += 8)
            {
                Vector512<ulong> r = Vector512.Create((ReadOnlySpan<ulong>)words.Slice(j, 8));
                // Comparison masks are all-ones (−1) where true, so subtracting them counts.
                Vector512<long> value = Vector512<long>.Zero - Vector512.GreaterThanOrEqual(r, oneThird).AsInt64()
                    - Vector512.GreaterThanOrEqual(r, twoThirds).AsInt64() - Vector512<long>.One;
                value.CopyTo(destination.Slice(j, 8));
            }
        }
        for (; j < words.Length; j++)
            destination[j] = (long)Math.BigMul(words[j], 3UL, out _) - 1;
    }
}

/// <summary>
/// Discrete Gaussian on Z with parameter σ, cut at |x| ≤ bound, by inversion of a cumulative table. The thresholds
/// are 63-bit integers but are computed in double precision, so each cumulative probability carries the rounding of
/// double arithmetic, not 2^−63: up to 2^−50.6 for σ = 3.2 cut at 19 (against an exact computation), more for longer
/// tables. Every table entry is compared on each draw so the time does not depend on the value. For wide σ see
/// <see cref="WideDiscreteGaussianSampler"/>.
/// </summary>
public sealed class DiscreteGaussianSampler
{
    // _thresholds[k] ≈ 2^63 · P(|X| ≤ k) for k = 0 .. bound−1; |X| is the number of thresholds ≤ a uniform 63-bit draw.
    private readonly ulong[] _thresholds;

    public DiscreteGaussianSampler(double standardDeviation, int bound)
    {
        if (!(standardDeviation > 0) || standardDeviation > 1000)
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "The table sampler is for small σ (0, 1000].");
        if (bound < 1 || bound > 20 * standardDeviation + 1)
            throw new ArgumentOutOfRangeException(nameof(bound), bound, "Bound must be between 1 and 20σ.");
        StandardDeviation = standardDeviation;
        Bound = bound;
        // Weight of |X| = k: ρ(0) for zero, 2ρ(k) otherwise (both signs), ρ(k) = exp(−k²/2σ²).
        var weights = new double[bound + 1];
        for (int k = 0; k <= bound; k++)
            weights[k] = (k == 0 ? 1.0 : 2.0) * Math.Exp(-(double)k * k / (2 * standardDeviation * standardDeviation));
        double total = weights.Sum();
        _thresholds = new ulong[bound];
        double cumulative = 0;
        for (int k = 0; k < bound; k++)
        {
            cumulative += weights[k] / total;
            _thresholds[k] = (ulong)Math.Min(cumulative * 9223372036854775808.0, 9223372036854775807.0);
        }
    }

    public double StandardDeviation { get; }

    public int Bound { get; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Sample(AesCtrRandom random, Span<long> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        random.Fill(MemoryMarshal.AsBytes(destination));
        Span<ulong> words = MemoryMarshal.Cast<long, ulong>(destination);
        ulong[] thresholds = _thresholds;
        int j = 0;
        if (VectorArithmetic.Use512)
        {
            for (; j + 8 <= words.Length; j += 8)
            {
                Vector512<ulong> r = Vector512.Create((ReadOnlySpan<ulong>)words.Slice(j, 8));
                Vector512<ulong> draw = Vector512.ShiftRightLogical(r, 1);
                Vector512<long> magnitude = Vector512<long>.Zero;
                foreach (ulong threshold in thresholds)
                    magnitude -= Vector512.LessThanOrEqual(Vector512.Create(threshold), draw).AsInt64(); // −(−1) where threshold ≤ draw
                // Negate where the low bit is set: (m ^ s) − s with s = 0 or −1.
                Vector512<long> sign = Vector512<long>.Zero - (r & Vector512<ulong>.One).AsInt64();
                ((magnitude ^ sign) - sign).CopyTo(destination.Slice(j, 8));
            }
        }
        for (; j < words.Length; j++)
        {
            ulong r = words[j];
            ulong draw = r >> 1;
            long magnitude = 0;
            foreach (ulong threshold in thresholds)
                magnitude += (long)((threshold - draw - 1) >> 63); // 1 when threshold ≤ draw
            long sign = -(long)(r & 1);
            destination[j] = (magnitude ^ sign) - sign;
        }
    }
}
