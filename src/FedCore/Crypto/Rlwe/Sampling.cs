using FedCore.Crypto.Ring;

namespace FedCore.Crypto.Rlwe;

/// <summary>The distributions RLWE needs, drawn from an <see cref="AesCtrRandom"/> stream.</summary>
public static class Sampling
{
    /// <summary>Uniform residues modulo q, by rejection of masked 64-bit words (no modulo bias).</summary>
    public static void Uniform(AesCtrRandom random, Modulus modulus, Span<ulong> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        ulong mask = modulus.BitLength == 64 ? ulong.MaxValue : (1UL << modulus.BitLength) - 1;
        for (int j = 0; j < destination.Length; j++)
        {
            ulong candidate;
            do
                candidate = random.NextUInt64() & mask;
            while (candidate >= modulus.Value);
            destination[j] = candidate;
        }
    }

    /// <summary>
    /// Uniform ternary coefficients in {−1, 0, 1}: the high word of r·3 for a uniform 64-bit r is uniform on
    /// {0, 1, 2} up to a bias below 2^−62, with no data-dependent branch.
    /// </summary>
    public static void Ternary(AesCtrRandom random, Span<long> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        for (int j = 0; j < destination.Length; j++)
            destination[j] = (long)Math.BigMul(random.NextUInt64(), 3UL, out _) - 1;
    }

    /// <summary>
    /// Continuous Gaussian of standard deviation σ rounded to the nearest integer (Box–Muller).
    /// Used for noise flooding, where σ is far above the smoothing parameter and the rounded and the discrete
    /// Gaussian are interchangeable for the Rényi-divergence argument (rounding is post-processing).
    /// </summary>
    public static void RoundedGaussian(AesCtrRandom random, double standardDeviation, Span<long> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (!(standardDeviation > 0) || double.IsInfinity(standardDeviation))
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "σ must be positive and finite.");
        for (int j = 0; j < destination.Length; j += 2)
        {
            // 1 − u lies in (0, 1], so the logarithm is finite.
            double radius = standardDeviation * Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble()));
            (double sin, double cos) = Math.SinCos(2.0 * Math.PI * random.NextDouble());
            destination[j] = (long)Math.Round(radius * cos);
            if (j + 1 < destination.Length)
                destination[j + 1] = (long)Math.Round(radius * sin);
        }
    }
}

/// <summary>
/// Discrete Gaussian on Z with parameter σ, cut at |x| ≤ bound, by inversion of a cumulative table
/// (probabilities to 2^−63). Every table entry is compared on each draw so the time does not depend on the value.
/// </summary>
public sealed class DiscreteGaussianSampler
{
    // _thresholds[k] = 2^63 · P(|X| ≤ k) for k = 0 .. bound−1; |X| is the number of thresholds ≤ a uniform 63-bit draw.
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

    public void Sample(AesCtrRandom random, Span<long> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        ulong[] thresholds = _thresholds;
        for (int j = 0; j < destination.Length; j++)
        {
            ulong r = random.NextUInt64();
            ulong magnitudeDraw = r >> 1;
            long magnitude = 0;
            for (int k = 0; k < thresholds.Length; k++)
                magnitude += (long)((thresholds[k] - magnitudeDraw - 1) >> 63); // 1 when thresholds[k] ≤ draw
            long sign = 1 - 2 * (long)(r & 1);
            destination[j] = sign * magnitude;
        }
    }
}
