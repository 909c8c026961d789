using System.Numerics;
using FedCore.Crypto.Ring;
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
    [InlineData(Flooding)]
    [InlineData(1073741824.0)]
    public void Vector_and_scalar_paths_give_identical_values(double sigma)
    {
        var sampler = WideDiscreteGaussianSampler.For(sigma);
        long[] Run(bool vectors)
        {
            bool saved = VectorArithmetic.Enabled;
            VectorArithmetic.Enabled = vectors;
            try
            {
                return Draw(sampler, 1003); // chunks with a vector body and a scalar tail
            }
            finally
            {
                VectorArithmetic.Enabled = saved;
            }
        }
        Assert.Equal(Run(false), Run(true));
    }

    /// <summary>
    /// Ties (probability 2^−47 a draw) never happen in a test run, so the path is driven with words made to tie: it must
    /// take 128 more bits from the stream and return the bin's own value exactly when they fall below the cut's low part.
    /// </summary>
    [Fact]
    public void A_tie_draws_128_more_bits_and_compares_them_with_the_cut()
    {
        var sampler = WideDiscreteGaussianSampler.For(Flooding);
        int indexBits = sampler.IndexBits, count = 64;
        int[] split = Enumerable.Range(0, 1 << indexBits).Where(i => sampler.Bin(i).Alias != i).Take(count).ToArray();
        // Value j: level 0 ties in bin split[j] (sign bit j % 2); level 1 is an ordinary word.
        var draws = new ulong[2 * count];
        for (int j = 0; j < count; j++)
        {
            draws[j] = ((ulong)split[j] << (64 - indexBits)) | (sampler.Bin(split[j]).CutHigh << 1) | (uint)(j % 2);
            draws[count + j] = 0x0123_4567_89AB_CDEFUL * (ulong)(j + 1);
        }
        Assert.False(sampler.TrySampleWithoutTies(draws, new long[count]));
        var resolved = new long[count];
        using (var random = new AesCtrRandom(Seed, "ties"))
            sampler.SampleResolvingTies(random, draws, resolved);

        using var again = new AesCtrRandom(Seed, "ties");
        int own = 0;
        for (int j = 0; j < count; j++)
        {
            (_, int alias, UInt128 cutLow) = sampler.Bin(split[j]);
            bool takeOwn = new UInt128(again.NextUInt64(), again.NextUInt64()) < cutLow;
            own += takeOwn ? 1 : 0;
            long z0 = (j % 2 == 1 ? -1 : 1) * (takeOwn ? split[j] : alias);
            Assert.Equal(sampler.Multiplier * z0 + Decode(sampler, draws[count + j]), resolved[j]);
        }
        Assert.InRange(own, 1, count - 1); // both outcomes were exercised

        // Without ties the two paths agree.
        ulong[] ordinary = [.. draws[count..], .. draws[count..]];
        long[] fast = new long[count], slow = new long[count];
        Assert.True(sampler.TrySampleWithoutTies(ordinary, fast));
        using (var unused = new AesCtrRandom(Seed, "unused"))
            sampler.SampleResolvingTies(unused, ordinary, slow);
        Assert.Equal(fast, slow);
    }

    /// <summary>One base draw from a word that does not tie: the bin from the top bits, then its value or its alias, then the sign.</summary>
    private static long Decode(WideDiscreteGaussianSampler sampler, ulong word)
    {
        int bits = sampler.IndexBits;
        int index = (int)(word >> (64 - bits));
        ulong compare = (word << bits) >> (bits + 1);
        (ulong cutHigh, int alias, _) = sampler.Bin(index);
        Assert.NotEqual(cutHigh, compare);
        long magnitude = compare < cutHigh ? index : alias;
        return (word & 1) == 1 ? -magnitude : magnitude;
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
