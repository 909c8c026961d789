using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FedCore.Crypto.Ring;

namespace FedCore.Crypto.Rlwe;

/// <summary>
/// The discrete Gaussian D_{Z,σ} (weights exp(−x²/2σ²)) for wide σ, 2^10 ≤ σ ≤ 2^30, such as the flooding noise of a
/// decryption share. Sampling uses integers only. Each value is x = Σ_{i&lt;L} K^i·z_i, where the z_i are independent
/// draws from one table for D_{Z,s}, s = σ/√(Σ_{i&lt;L} K^{2i}) (L = 2 for σ = 2^21: x = K·z_0 + z_1). The table is an
/// alias table with masses exact to 2^−191, built once per σ with big-integer arithmetic and cached (<see cref="For"/>).
/// <see cref="StatisticalDistanceLog2"/>, <see cref="TailBound"/> and <see cref="TailMass"/> state how close the
/// output is to D_{Z,σ}; NoiseFlooding.md ("The flooding sampler") derives them.
/// Not constant-time: which table entry a draw reads, hence which cache line, depends on the value drawn.
/// </summary>
public sealed class WideDiscreteGaussianSampler
{
    public const double MinimumStandardDeviation = 1024, MaximumStandardDeviation = 1073741824;

    // A base draw is one 64-bit word: IndexBits for the bin, a sign bit, and the top 63 − IndexBits bits of the
    // comparison with the bin's cut; only on a tie (probability 2^−(63 − IndexBits)) are 128 more bits drawn. So the
    // comparison is with 191 − IndexBits bits, and every mass is a multiple of 2^−191.
    internal const int MassBits = 191;
    private const int LowCutBits = 128;

    // At most 2^16 bins (512 KiB, within the second-level cache); wider σ take more levels. At σ = 2^21 two draws
    // from such a table (4.4 ns per value) beat three from one that fits the first-level cache (5.9 ns): each draw
    // costs a 64-bit word of AES (1.4 ns).
    private const int MaxIndexBits = 16;
    // Design targets: each level of the convolution within 2^−170 of D_{Z,σ}; the base table's cut-off tail below 2^−180.
    private const double SmoothingTargetLog2 = -170, BaseTailTargetLog2 = -180;
    // Fractional bits of the fixed-point weights while the table is built.
    private const int FixedPointBits = 256;
    private const int ChunkLength = 256;

    private static readonly ConcurrentDictionary<double, Lazy<WideDiscreteGaussianSampler>> Cache = new();

    private readonly ulong[] _bins;       // per bin: the cut's top 63 − IndexBits bits, shifted up by IndexBits, | alias
    private readonly UInt128[] _cutLows;  // per bin: the cut's low 128 bits, read only on a tie
    private readonly int _indexBits;

    private WideDiscreteGaussianSampler(double standardDeviation)
    {
        StandardDeviation = standardDeviation;
        (Levels, Multiplier) = ChooseConvolution(standardDeviation);
        BaseStandardDeviation = standardDeviation / Math.Sqrt(SumOfSquaredPowers(Multiplier, Levels));
        BaseBound = TableBound(BaseStandardDeviation);
        _indexBits = BitOperations.Log2((uint)BaseBound) + 1;

        BigInteger[] masses = Masses(standardDeviation, Multiplier, Levels, BaseBound, 1 << _indexBits);
        (_bins, _cutLows) = AliasTable(masses, _indexBits);

        long powers = 0;
        for (int i = 0; i < Levels; i++)
            powers = powers * Multiplier + 1;
        TailBound = BaseBound * powers;
        TailMass = Log2TailMass(standardDeviation, TailBound);
        StatisticalDistanceLog2 = Math.Log2(Levels * BaseDistance() + ConvolutionDistance());
    }

    /// <summary>The sampler for <paramref name="standardDeviation"/>, built on first use (tens of milliseconds) and then shared.</summary>
    public static WideDiscreteGaussianSampler For(double standardDeviation)
    {
        if (!(standardDeviation >= MinimumStandardDeviation && standardDeviation <= MaximumStandardDeviation))
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation,
                $"The wide sampler covers σ from {MinimumStandardDeviation} (2^10) to {MaximumStandardDeviation} (2^30).");
        return Cache.GetOrAdd(standardDeviation, sigma => new Lazy<WideDiscreteGaussianSampler>(() => new(sigma))).Value;
    }

    public double StandardDeviation { get; }

    /// <summary>L: base draws per value.</summary>
    public int Levels { get; }

    /// <summary>K, the factor between successive levels (1 when L = 1).</summary>
    public long Multiplier { get; }

    /// <summary>s, the width of the base table: σ² = s²·Σ_{i&lt;L} K^{2i}.</summary>
    public double BaseStandardDeviation { get; }

    /// <summary>B: the base table holds |z| = 0 … B.</summary>
    public int BaseBound { get; }

    /// <summary>The largest |x| the sampler can return: B·Σ_{i&lt;L} K^i.</summary>
    public long TailBound { get; }

    /// <summary>An upper bound on log2 of the mass of D_{Z,σ} beyond ±<see cref="TailBound"/>.</summary>
    public double TailMass { get; }

    /// <summary>An upper bound on log2 of the statistical distance between one output and D_{Z,σ}.</summary>
    public double StatisticalDistanceLog2 { get; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Sample(AesCtrRandom random, Span<long> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        Span<ulong> words = stackalloc ulong[ChunkLength * Levels];
        for (int start = 0; start < destination.Length; start += ChunkLength)
        {
            Span<long> chunk = destination.Slice(start, Math.Min(ChunkLength, destination.Length - start));
            Span<ulong> draws = words[..(chunk.Length * Levels)];
            random.Fill(draws);
            // A tie needs more random bits; it is rare enough (at most 2^−47 a draw) to redo the whole chunk when one occurs,
            // which keeps calls, and with them register spills, out of the common loop.
            if (!TrySampleWithoutTies(draws, chunk))
                SampleResolvingTies(random, draws, chunk);
        }
        // The words determine the noise, which is as secret as the key it floods.
        words.Clear();
    }

    /// <summary>
    /// Every value of the chunk, x = x·K + z over the levels, where level ℓ of value j draws word ℓ·count + j; false if
    /// some draw tied with its bin's cut.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal unsafe bool TrySampleWithoutTies(ReadOnlySpan<ulong> draws, Span<long> chunk)
    {
        int count = chunk.Length, levels = Levels, indexBits = _indexBits;
        long multiplier = Multiplier;
        ulong aliasMask = (1UL << indexBits) - 1, ties = 0;
        int j = 0;
        fixed (ulong* bins = _bins)
        {
            if (VectorArithmetic.Use512)
            {
                Vector512<ulong> vectorTies = Vector512<ulong>.Zero;
                for (; j + 8 <= count; j += 8)
                {
                    Vector512<long> x = Vector512<long>.Zero;
                    for (int level = 0; level < levels; level++)
                    {
                        Vector512<ulong> word = Vector512.Create(draws.Slice(level * count + j, 8));
                        Vector512<ulong> index = Vector512.ShiftRightLogical(word, 64 - indexBits);
                        Vector512<ulong> compare = Vector512.ShiftRightLogical(Vector512.ShiftLeft(word, indexBits), indexBits + 1);
                        Vector512<ulong> bin = Vector512.Create(
                            Avx2.GatherVector256(bins, index.GetLower().AsInt64(), sizeof(ulong)),
                            Avx2.GatherVector256(bins, index.GetUpper().AsInt64(), sizeof(ulong)));
                        Vector512<ulong> cut = Vector512.ShiftRightLogical(bin, indexBits);
                        Vector512<long> magnitude = Vector512.ConditionalSelect(Vector512.LessThan(compare, cut), index, bin & Vector512.Create(aliasMask)).AsInt64();
                        vectorTies |= Vector512.Equals(compare, cut);
                        Vector512<long> sign = Vector512<long>.Zero - (word & Vector512<ulong>.One).AsInt64();
                        x = x * multiplier + ((magnitude ^ sign) - sign);
                    }
                    x.CopyTo(chunk.Slice(j, 8));
                }
                ties = vectorTies == Vector512<ulong>.Zero ? 0UL : 1UL;
            }
            for (; j < count; j++)
            {
                long x = 0;
                for (int level = 0; level < levels; level++)
                {
                    ulong word = draws[level * count + j];
                    // Bin from the top bits, sign from the lowest, the comparison with the bin's cut from the rest.
                    ulong index = word >> (64 - indexBits);
                    ulong compare = (word << indexBits) >> (indexBits + 1);
                    ulong bin = bins[index]; // index < 2^indexBits = _bins.Length
                    ulong cut = bin >> indexBits, alias = bin & aliasMask;
                    // Both are below 2^63, so a difference's top bit is a comparison: select without a branch.
                    ulong takeIndex = 0 - ((compare - cut) >> 63);
                    ulong magnitude = alias ^ ((index ^ alias) & takeIndex);
                    ties |= ((compare ^ cut) - 1) >> 63;
                    long sign = -(long)(word & 1);
                    x = x * multiplier + (((long)magnitude ^ sign) - sign);
                }
                chunk[j] = x;
            }
        }
        return ties == 0;
    }

    /// <summary>The same values, drawing 128 more bits for each tie, in the order of the values and levels.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void SampleResolvingTies(AesCtrRandom random, ReadOnlySpan<ulong> draws, Span<long> chunk)
    {
        for (int j = 0; j < chunk.Length; j++)
        {
            long x = 0;
            for (int level = 0; level < Levels; level++)
            {
                ulong word = draws[level * chunk.Length + j];
                int index = (int)(word >> (64 - _indexBits));
                ulong compare = (word << _indexBits) >> (_indexBits + 1);
                (ulong cut, int alias, UInt128 cutLow) = Bin(index);
                bool takeIndex = compare == cut
                    ? new UInt128(random.NextUInt64(), random.NextUInt64()) < cutLow
                    : compare < cut;
                long magnitude = (long)(takeIndex ? index : alias);
                x = x * Multiplier + ((word & 1) == 1 ? -magnitude : magnitude);
            }
            chunk[j] = x;
        }
    }

    /// <summary>Bits of a draw that pick the bin: 2^IndexBits bins.</summary>
    internal int IndexBits => _indexBits;

    /// <summary>Bin i returns i when the draw's comparison bits, then 128 more, fall below (CutHigh, CutLow); Alias otherwise.</summary>
    internal (ulong CutHigh, int Alias, UInt128 CutLow) Bin(int index) =>
        (_bins[index] >> _indexBits, (int)(_bins[index] & ((1UL << _indexBits) - 1)), _cutLows[index]);

    /// <summary>m_k·2^−191 = P(|z| = k) as the table gives it, for every bin k (zero beyond B); tests check it independently.</summary>
    internal BigInteger[] BaseMasses()
    {
        BigInteger capacity = BigInteger.One << (MassBits - _indexBits);
        var masses = new BigInteger[_bins.Length];
        for (int i = 0; i < _bins.Length; i++)
        {
            (ulong cutHigh, int alias, UInt128 cutLow) = Bin(i);
            BigInteger cut = ((BigInteger)cutHigh << LowCutBits) + cutLow;
            masses[i] += cut;
            masses[alias] += capacity - cut;
        }
        return masses;
    }

    /// <summary>
    /// The fewest levels whose base table fits 2^16 bins, and for them the largest K that keeps each level within
    /// 2^−170 of D_{Z,σ}: the first, worst, level needs s/√(1 + K²) ≥ √(171·ln 2/(2π²)) ≈ 2.45.
    /// </summary>
    private static (int Levels, long Multiplier) ChooseConvolution(double sigma)
    {
        double minimumSmoothedWidth = Math.Sqrt((1 - SmoothingTargetLog2) * Math.Log(2) / (2 * Math.PI * Math.PI));
        for (int levels = 1; ; levels++)
        {
            long multiplier = 1;
            if (levels > 1)
            {
                multiplier = (long)Math.Pow(sigma / minimumSmoothedWidth, 1.0 / levels) + 2;
                while (multiplier > 1 && sigma / Math.Sqrt(SumOfSquaredPowers(multiplier, levels) * (1.0 + multiplier * multiplier)) < minimumSmoothedWidth)
                    multiplier--;
                if (multiplier < 2)
                    continue;
            }
            double width = sigma / Math.Sqrt(SumOfSquaredPowers(multiplier, levels));
            // B is about 15.6·s: the first test only keeps far too wide tables from overflowing an int.
            if (width < 1 << (MaxIndexBits - 3) && TableBound(width) < 1 << MaxIndexBits)
                return (levels, multiplier);
        }
    }

    private static double SumOfSquaredPowers(long multiplier, int levels)
    {
        double sum = 0;
        for (int i = 0; i < levels; i++)
            sum = sum * multiplier * multiplier + 1;
        return sum;
    }

    /// <summary>The smallest B whose two-sided tail beyond ±B, for width s, is below 2^−180 (by the bound below).</summary>
    private static int TableBound(double width)
    {
        int bound = (int)(width * Math.Sqrt(-2 * BaseTailTargetLog2 * Math.Log(2)));
        while (bound > 1 && Log2TailMass(width, bound - 1) <= BaseTailTargetLog2)
            bound--;
        while (Log2TailMass(width, bound) > BaseTailTargetLog2)
            bound++;
        return bound;
    }

    /// <summary>
    /// log2 of an upper bound on D_{Z,w}(|x| > bound): the weights beyond fall faster than the geometric series
    /// ρ(b+1)·Σ e^{−jy}, y = (2b+3)/2w², which is at most ρ(b+1)·(1+y)/y; and ρ_w(Z) ≥ √(2π)·w (Poisson summation).
    /// </summary>
    private static double Log2TailMass(double width, long bound)
    {
        double y = (2.0 * bound + 3) / (2 * width * width);
        double log2Rho = -((double)(bound + 1) * (bound + 1)) / (2 * width * width) / Math.Log(2);
        return 1 + log2Rho + Math.Log2((1 + y) / y) - Math.Log2(Math.Sqrt(2 * Math.PI) * width);
    }

    /// <summary>
    /// Base table versus D_{Z,s}: its cut-off tail, plus the fixed-point error of the weights (each ρ(k) within
    /// 3k²·2^−256, so at most 2(B+1)³·2^−256 in all), plus the rounding of each mass to 2^−191 (half of (B+1)·2^−191).
    /// </summary>
    private double BaseDistance()
    {
        double tail = Math.Pow(2, Log2TailMass(BaseStandardDeviation, BaseBound));
        double entries = BaseBound + 1.0;
        double weights = 2 * entries * entries * entries * Math.Pow(2, -FixedPointBits);
        double rounding = entries / 2 * Math.Pow(2, -MassBits);
        return tail + weights + rounding;
    }

    /// <summary>
    /// Σ over levels of ε/(1 − ε), ε = 2·Σ_{j≥1} exp(−2π²s'²j²) ≤ 2e^{−A}/(1 − e^{−A}), A = 2π²s'², where
    /// s' = s·t/√(s² + K²t²) and t is the width reached so far (t = s after the first draw).
    /// </summary>
    private double ConvolutionDistance()
    {
        double s = BaseStandardDeviation, reached = s, total = 0;
        for (int level = 1; level < Levels; level++)
        {
            double smoothed = s * reached / Math.Sqrt(s * s + Multiplier * Multiplier * reached * reached);
            double a = 2 * Math.PI * Math.PI * smoothed * smoothed;
            double epsilon = 2 * Math.Exp(-a) / (1 - Math.Exp(-a));
            total += epsilon / (1 - epsilon);
            reached = Math.Sqrt(s * s + Multiplier * Multiplier * reached * reached);
        }
        return total;
    }

    /// <summary>
    /// m_k for k = 0 … B, zero beyond: P(|z| = k) = w_k / Σw with w_0 = 1, w_k = 2ρ(k), ρ(k) = exp(−k²/2s²), rounded so
    /// that Σ m_k = 2^191 exactly (cumulative sums rounded down, so each m_k is within one unit).
    /// </summary>
    private static BigInteger[] Masses(double sigma, long multiplier, int levels, int bound, int bins)
    {
        // 1/(2s²) = Σ K^{2i} / (2σ²), exactly: σ is a double, m·2^e.
        long bits = BitConverter.DoubleToInt64Bits(sigma);
        var mantissa = new BigInteger((bits & 0xF_FFFF_FFFF_FFFF) | (1L << 52));
        int exponent = (int)((bits >> 52) & 0x7FF) - 1075;
        BigInteger numerator = 0;
        for (int i = 0; i < levels; i++)
            numerator = numerator * multiplier * multiplier + 1;
        BigInteger denominator = 2 * mantissa * mantissa;
        if (exponent >= 0)
            denominator <<= 2 * exponent;
        else
            numerator <<= -2 * exponent;

        BigInteger[] rho = GaussianWeights(numerator, denominator, bound);
        BigInteger total = 2 * rho.Aggregate(BigInteger.Zero, (sum, r) => sum + r) - rho[0];
        var masses = new BigInteger[bins];
        BigInteger cumulative = 0, previous = 0;
        for (int k = 0; k <= bound; k++)
        {
            cumulative += k == 0 ? rho[0] : 2 * rho[k];
            BigInteger rounded = (cumulative << MassBits) / total;
            masses[k] = rounded - previous;
            previous = rounded;
        }
        return masses;
    }

    /// <summary>
    /// ρ(k) = exp(−a·k²) for k = 0 … bound, a = numerator/denominator ≤ 1, with 256 fractional bits, by
    /// ρ(k+1) = ρ(k)·g_k, g_k = c^{2k+1}, c = exp(−a). Every product is rounded down, which keeps ρ(k) within 3k²·2^−256.
    /// </summary>
    private static BigInteger[] GaussianWeights(BigInteger numerator, BigInteger denominator, int bound)
    {
        const int F = FixedPointBits;
        BigInteger c = ExpOfNegative(numerator, denominator);
        BigInteger cSquared = c * c >> F;
        var rho = new BigInteger[bound + 1];
        rho[0] = BigInteger.One << F;
        BigInteger g = c;
        for (int k = 0; k < bound; k++)
        {
            rho[k + 1] = rho[k] * g >> F;
            g = g * cSquared >> F;
        }
        return rho;
    }

    /// <summary>exp(−a) for 0 ≤ a = numerator/denominator ≤ 1, 256 fractional bits, within 2^−255: Taylor series with 64 guard bits.</summary>
    private static BigInteger ExpOfNegative(BigInteger numerator, BigInteger denominator)
    {
        const int Bits = FixedPointBits + 64;
        BigInteger x = (numerator << Bits) / denominator;
        if (x.Sign < 0 || x > BigInteger.One << Bits)
            throw new ArgumentOutOfRangeException(nameof(numerator), "The series is used for 0 ≤ a ≤ 1 only.");
        BigInteger term = BigInteger.One << Bits, sum = term;
        for (int n = 1; !term.IsZero; n++)
        {
            term = (term * x >> Bits) / n;
            sum += n % 2 == 1 ? -term : term;
        }
        return sum >> 64;
    }

    /// <summary>
    /// Walker's alias table for masses summing to 2^191 over 2^indexBits bins of capacity 2^(191 − indexBits), in exact
    /// integers (Vose's construction): bin i returns i with probability cut_i/capacity and its alias otherwise. A full bin
    /// is stored as cut 0 with itself as alias.
    /// </summary>
    private static (ulong[] Bins, UInt128[] CutLows) AliasTable(BigInteger[] masses, int indexBits)
    {
        int count = masses.Length;
        BigInteger capacity = BigInteger.One << (MassBits - indexBits);
        var remaining = (BigInteger[])masses.Clone();
        var cuts = new BigInteger[count];
        var aliases = new int[count];
        var small = new Stack<int>();
        var large = new Stack<int>();
        for (int i = 0; i < count; i++)
            (remaining[i] < capacity ? small : large).Push(i);
        while (small.Count > 0 && large.Count > 0)
        {
            int lesser = small.Pop(), greater = large.Pop();
            cuts[lesser] = remaining[lesser];
            aliases[lesser] = greater;
            remaining[greater] -= capacity - remaining[lesser];
            (remaining[greater] < capacity ? small : large).Push(greater);
        }
        // With exact masses the bins left over are exactly full; anything else would mean Σ m_k ≠ 2^191.
        if (small.Count > 0 || large.Any(i => remaining[i] != capacity))
            throw new InvalidOperationException("Alias table: the masses do not sum to the bins' capacity.");
        foreach (int i in large)
            aliases[i] = i; // cut 0: always the alias, itself

        var bins = new ulong[count];
        var cutLows = new UInt128[count];
        BigInteger lowMask = (BigInteger.One << LowCutBits) - 1;
        for (int i = 0; i < count; i++)
        {
            bins[i] = ((ulong)(cuts[i] >> LowCutBits) << indexBits) | (uint)aliases[i];
            cutLows[i] = (UInt128)(cuts[i] & lowMask);
        }
        return (bins, cutLows);
    }
}
