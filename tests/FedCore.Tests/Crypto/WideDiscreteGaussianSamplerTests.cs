using System.Numerics;
using FedCore.Crypto.Rlwe;

namespace FedCore.Tests.Crypto;

public class WideDiscreteGaussianSamplerTests
{
    private const double Flooding = 2097152; // 2^21
    private const int Samples = 1_000_000;
    private static readonly byte[] Seed = Enumerable.Range(7, 32).Select(i => (byte)i).ToArray();

    private static long[] Draw(WideDiscreteGaussianSampler sampler, int count, string domain = "wide-gaussian")
    {
        using var random = new AesCtrRandom(Seed, domain);
        var values = new long[count];
        sampler.Sample(random, values);
        return values;
    }

    [Theory]
    [InlineData(1024.0)]           // one level: the table is D_{Z,σ} itself
    [InlineData(Flooding)]         // two levels, the flooding width
    [InlineData(1073741824.0)]     // 2^30, three levels
    public void Mean_and_variance_match_sigma_and_no_value_passes_the_tail_bound(double sigma)
    {
        var sampler = WideDiscreteGaussianSampler.For(sigma);
        long[] values = Draw(sampler, Samples);
        double mean = values.Average(v => (double)v);
        double variance = values.Average(v => ((double)v - mean) * ((double)v - mean));
        // Five standard errors: σ/√n for the mean, σ²·√(2/n) for the variance of a Gaussian (kurtosis 3). A correct
        // sampler fails either with probability below 10^−6 over the seed; the seed is fixed, so the test is deterministic.
        Assert.InRange(mean, -5 * sigma / Math.Sqrt(Samples), 5 * sigma / Math.Sqrt(Samples));
        Assert.InRange(variance / (sigma * sigma), 1 - 5 * Math.Sqrt(2.0 / Samples), 1 + 5 * Math.Sqrt(2.0 / Samples));
        Assert.True(values.Max(Math.Abs) <= sampler.TailBound);
    }

    [Theory]
    [InlineData(1024.0)]
    [InlineData(Flooding)]
    public void Binned_counts_pass_a_chi_squared_test_against_the_exact_pmf(double sigma)
    {
        var sampler = WideDiscreteGaussianSampler.For(sigma);
        long[] values = Draw(sampler, Samples, "wide-gaussian-fit");

        // Bins [q·w, (q+1)·w), w = σ/4, for q = −16 … 15, and one for each tail beyond ±4σ: every count expected is above 30.
        const int Quarters = 16;
        long w = (long)(sigma / 4);
        var counts = new long[2 * Quarters + 2];
        foreach (long v in values)
        {
            long q = (long)Math.Floor((double)v / w);
            counts[q < -Quarters ? 0 : q >= Quarters ? counts.Length - 1 : (int)q + Quarters + 1]++;
        }

        // Exact probabilities: Σ exp(−x²/2σ²)/ρ_σ(Z) over each bin, with ρ_σ(Z) = √(2π)σ (Poisson summation; the
        // correction, exp(−2π²σ²), is nothing in double).
        double Mass(long from, long to) // over [from, to)
        {
            double sum = 0;
            for (long x = from; x < to; x++)
                sum += Math.Exp(-(double)x * x / (2 * sigma * sigma));
            return sum / (Math.Sqrt(2 * Math.PI) * sigma);
        }
        var expected = new double[counts.Length];
        for (int q = 0; q < Quarters; q++)
        {
            expected[q + Quarters + 1] = Mass(q * w, (q + 1) * w);
            // [−(q+1)w, −qw) is the mirror of [qw + 1, (q+1)w + 1).
            expected[-q - 1 + Quarters + 1] = Mass(q * w + 1, (q + 1) * w + 1);
        }
        expected[0] = expected[^1] = (1 - expected.Sum()) / 2;

        double chiSquared = 0;
        for (int b = 0; b < counts.Length; b++)
        {
            double e = expected[b] * Samples;
            Assert.True(e > 30, $"bin {b} expects only {e:F1}");
            chiSquared += (counts[b] - e) * (counts[b] - e) / e;
        }
        // Critical value at significance 10^−4 for ν = bins − 1 degrees of freedom, by Wilson–Hilferty (accurate to a
        // fraction of a unit here; ν = 33 gives about 72). A sampler off by 1 % in σ adds about 2n·0.01² = 200.
        int nu = counts.Length - 1;
        double z = 3.719; // upper 10^−4 point of the standard normal
        double critical = nu * Math.Pow(1 - 2.0 / (9 * nu) + z * Math.Sqrt(2.0 / (9 * nu)), 3);
        Assert.True(chiSquared < critical, $"χ² = {chiSquared:F1} ≥ {critical:F1} (ν = {nu})");
    }

    [Fact]
    public void Same_seed_gives_the_same_values_and_the_sampler_is_built_once_per_sigma()
    {
        var sampler = WideDiscreteGaussianSampler.For(Flooding);
        Assert.Same(sampler, WideDiscreteGaussianSampler.For(Flooding));
        long[] first = Draw(sampler, 10_001), again = Draw(sampler, 10_001), other = Draw(sampler, 10_001, "other");
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Theory]
    [InlineData(1023.5)]
    [InlineData(1073741824.5)]
    [InlineData(0.0)]
    [InlineData(-2097152.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Sigma_outside_2_to_the_10_to_2_to_the_30_is_refused(double sigma)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => WideDiscreteGaussianSampler.For(sigma));
        Assert.Equal("standardDeviation", error.ParamName);
        Assert.Throws<ArgumentNullException>(() => WideDiscreteGaussianSampler.For(Flooding).Sample(null!, new long[1]));
    }

    [Theory]
    [InlineData(1024.0)]
    [InlineData(5000.0)]
    [InlineData(Flooding)]
    [InlineData(33554432.0)]
    [InlineData(1073741824.0)]
    public void Stated_bounds_hold_across_the_range(double sigma)
    {
        var sampler = WideDiscreteGaussianSampler.For(sigma);
        Assert.True(sampler.StatisticalDistanceLog2 < -165, $"SD 2^{sampler.StatisticalDistanceLog2:F1}");
        Assert.True(sampler.TailMass < -175, $"tail 2^{sampler.TailMass:F1}");
        // σ² = s²·Σ K^{2i}, and the tail bound is B·Σ K^i.
        double sumOfSquares = 0;
        long sum = 0;
        for (int i = 0; i < sampler.Levels; i++)
        {
            sumOfSquares = sumOfSquares * sampler.Multiplier * sampler.Multiplier + 1;
            sum = sum * sampler.Multiplier + 1;
        }
        Assert.Equal(sigma, sampler.BaseStandardDeviation * Math.Sqrt(sumOfSquares), sigma * 1e-12);
        Assert.Equal(sampler.BaseBound * sum, sampler.TailBound);
        // The tail mass is P(|X| > τσ) for τ = TailBound/σ; the Gaussian tail 2φ(τ)/τ (Mills ratio) is within 1/τ² of it.
        double tau = sampler.TailBound / sigma;
        double estimate = Math.Log2(2 / (Math.Sqrt(2 * Math.PI) * tau)) - tau * tau / 2 / Math.Log(2);
        Assert.InRange(sampler.TailMass, estimate - 0.05, estimate + 0.05);
    }

    [Fact]
    public void Flooding_sampler_is_two_levels_smoothed_far_below_2_to_the_minus_160()
    {
        var sampler = WideDiscreteGaussianSampler.For(Flooding);
        Assert.Equal(2, sampler.Levels);
        // x = K·z_0 + z_1 is within ε/(1 − ε) of D_{Z,σ}, ε ≈ 2·exp(−2π²s'²), s' = s/√(1 + K²) = σ/(1 + K²).
        double smoothed = Flooding / (1 + (double)sampler.Multiplier * sampler.Multiplier);
        double convolutionLog2 = 1 - 2 * Math.PI * Math.PI * smoothed * smoothed / Math.Log(2);
        Assert.True(convolutionLog2 < -169, $"convolution term 2^{convolutionLog2:F1}");
        // The stated distance adds the two base draws' distance (tail, weights, rounding), which is smaller.
        Assert.InRange(sampler.StatisticalDistanceLog2, convolutionLog2, convolutionLog2 + 0.2);
        Assert.InRange(sampler.TailBound / Flooding, 15, 16);
    }

    /// <summary>
    /// The masses the alias table realises against exp(−k²/2s²)/(√(2π)·s), computed here per point (not by the
    /// sampler's recurrence) and normalised by √(2π)·s, with π from Machin's formula: cumulative probabilities near the
    /// centre agree to 2^−178 (the table is cut at B and renormalised: 2^−180), tail probabilities to 2^−185.
    /// </summary>
    [Fact]
    public void Base_table_matches_an_independent_high_precision_computation()
    {
        var sampler = WideDiscreteGaussianSampler.For(Flooding);
        int bound = sampler.BaseBound;
        BigInteger[] masses = sampler.BaseMasses();
        Assert.Equal(BigInteger.One << WideDiscreteGaussianSampler.MassBits, masses.Aggregate(BigInteger.Zero, (a, m) => a + m));
        Assert.All(masses[(bound + 1)..], m => Assert.Equal(BigInteger.Zero, m)); // nothing beyond ±B, so nothing beyond TailBound
        Assert.True(masses[bound] > 0);

        // 1/(2s²) = (Σ K^{2i}) / (2σ²), exactly, for σ = 2^21.
        BigInteger k2 = (BigInteger)sampler.Multiplier * sampler.Multiplier;
        BigInteger numerator = 1 + k2, denominator = 2 * (BigInteger.One << 42);
        BigInteger Rho(long k) => HighPrecision.ExpOfNegative(numerator * k * k, denominator);
        // √(2π)·s·2^P = √(2π·σ²/(1 + K²)·2^2P).
        BigInteger normalizer = HighPrecision.Sqrt((HighPrecision.Pi() * 2 * (BigInteger.One << 42) << HighPrecision.Bits) / (1 + k2));

        BigInteger tableUnit = BigInteger.One << WideDiscreteGaussianSampler.MassBits;
        foreach (int k in new[] { 0, 1, 10, (int)sampler.BaseStandardDeviation })
        {
            BigInteger weights = BigInteger.One << HighPrecision.Bits;
            for (long j = 1; j <= k; j++)
                weights += 2 * Rho(j);
            AssertClose(masses[..(k + 1)], tableUnit, weights, normalizer, -178, $"P(|z| ≤ {k})");
        }
        foreach (int k in new[] { bound - 400, bound - 1 })
        {
            BigInteger weights = 0;
            for (long j = k + 1; j <= bound; j++)
                weights += 2 * Rho(j);
            AssertClose(masses[(k + 1)..(bound + 1)], tableUnit, weights, normalizer, -185, $"P({k} < |z| ≤ B)");
        }

        // The cut-off: beyond B the weights fall by at least exp(−(2B+3)/2s²) a step, so 3000 terms and a geometric rest bound the tail.
        BigInteger beyond = 0, last = 0;
        for (long j = bound + 1; j <= bound + 3000; j++)
            beyond += 2 * (last = Rho(j));
        double ratio = Math.Exp(-(2.0 * (bound + 3000) + 1) / (2 * sampler.BaseStandardDeviation * sampler.BaseStandardDeviation));
        double tail = (double)(beyond + (BigInteger)((double)(2 * last) * ratio / (1 - ratio))) / (double)normalizer;
        Assert.True(Math.Log2(tail) < -180, $"D_(Z,s) beyond B: 2^{Math.Log2(tail):F1}");
    }

    private static void AssertClose(BigInteger[] masses, BigInteger tableUnit, BigInteger weights, BigInteger normalizer, int log2Tolerance, string what)
    {
        // |Σm/2^191 − weights/normalizer| < 2^log2Tolerance, in integers scaled by 2^191·normalizer.
        BigInteger table = masses.Aggregate(BigInteger.Zero, (a, m) => a + m);
        BigInteger difference = BigInteger.Abs(table * normalizer - weights * tableUnit);
        BigInteger tolerance = (tableUnit * normalizer) >> -log2Tolerance;
        Assert.True(difference < tolerance, $"{what}: table and reference differ by 2^{BigInteger.Log(difference, 2) - BigInteger.Log(tableUnit * normalizer, 2):F1}");
    }

    /// <summary>The test's own fixed-point arithmetic with 320 fractional bits, by other routes than the sampler's.</summary>
    private static class HighPrecision
    {
        public const int Bits = 320;
        private static readonly BigInteger One = BigInteger.One << Bits;
        private static readonly BigInteger InverseE = Taylor(One);

        /// <summary>e^{−p/q} = e^{−n}·e^{−f}, n = ⌊p/q⌋: a power of 1/e by squaring, and a Taylor series for the fraction.</summary>
        public static BigInteger ExpOfNegative(BigInteger p, BigInteger q)
        {
            BigInteger n = BigInteger.DivRem(p, q, out BigInteger remainder);
            BigInteger result = Taylor((remainder << Bits) / q), power = InverseE;
            for (; n > 0; n >>= 1)
            {
                if (!n.IsEven)
                    result = result * power >> Bits;
                power = power * power >> Bits;
            }
            return result;
        }

        // e^{−x} for 0 ≤ x ≤ 1 (fixed point), with 32 guard bits.
        private static BigInteger Taylor(BigInteger x)
        {
            x <<= 32;
            BigInteger unit = One << 32, term = unit, sum = unit;
            for (int n = 1; !term.IsZero; n++)
            {
                term = term * x / unit / n;
                sum += n % 2 == 1 ? -term : term;
            }
            return sum >> 32;
        }

        /// <summary>π = 16·atan(1/5) − 4·atan(1/239) (Machin).</summary>
        public static BigInteger Pi()
        {
            static BigInteger InverseAtan(int m)
            {
                BigInteger unit = One << 32, power = unit / m, sum = power;
                for (int n = 1; !power.IsZero; n++)
                {
                    power /= m * m;
                    sum += (n % 2 == 1 ? -power : power) / (2 * n + 1);
                }
                return sum;
            }
            return (16 * InverseAtan(5) - 4 * InverseAtan(239)) >> 32;
        }

        /// <summary>⌊√v⌋ by Newton's iteration.</summary>
        public static BigInteger Sqrt(BigInteger v)
        {
            BigInteger x = BigInteger.One << (int)((v.GetBitLength() + 1) / 2);
            while (true)
            {
                BigInteger next = (x + v / x) >> 1;
                if (next >= x)
                    return x;
                x = next;
            }
        }
    }
}
