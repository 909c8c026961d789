namespace FedCore.Privacy.Accounting;

/// <summary>
/// Rényi differential privacy of the Poisson-subsampled Gaussian mechanism (Mironov, Talwar, Zhang 2019, "Rényi
/// Differential Privacy of the Sampled Gaussian Mechanism"): each record joins a step with probability q, and the sum of
/// the clipped contributions gets Gaussian noise of standard deviation σ times the clipping norm. Neighbouring datasets
/// differ by adding or removing one record.
/// </summary>
public static class SampledGaussian
{
    /// <summary>
    /// The RDP ε(α) of one step: (1/(α−1)) log A_α with A_α = E_{z∼μ₀}[(μ(z)/μ₀(z))^α], μ₀ = N(0, σ²), μ = (1−q)μ₀ + qN(1, σ²).
    /// q = 0 gives 0, σ = 0 (no noise) +∞, q = 1 the Gaussian mechanism's α/(2σ²).
    /// </summary>
    public static double Rdp(double q, double sigma, double order)
    {
        Check.SamplingRate(q);
        Check.NoiseMultiplier(sigma);
        Check.Order(order);
        if (q == 0)
            return 0;
        if (sigma == 0)
            return double.PositiveInfinity;
        if (q == 1)
            return order / (2 * sigma * sigma);
        double logA = order == Math.Floor(order) ? LogAInteger(q, sigma, (long)order) : LogAFractional(q, sigma, order);
        return logA / (order - 1);
    }

    /// <summary>The RDP of <paramref name="steps"/> identical steps at each order: RDP composes by addition.</summary>
    public static RdpCurve Curve(double q, double sigma, long steps, IReadOnlyList<double>? orders = null)
    {
        Check.SamplingRate(q);
        Check.NoiseMultiplier(sigma);
        Check.Steps(steps);
        orders ??= RdpOrders.Default;
        Check.Orders(orders);
        // Zero steps spend nothing, even without noise (0 × ∞ would be NaN).
        return new RdpCurve(orders, [.. orders.Select(a => steps == 0 ? 0 : steps * Rdp(q, sigma, a))]);
    }

    /// <summary>The (ε, δ) guarantee of <paramref name="steps"/> steps, with the optimal order.</summary>
    public static PrivacySpent Epsilon(double q, double sigma, long steps, double delta, IReadOnlyList<double>? orders = null)
    {
        Check.Delta(delta);
        return Curve(q, sigma, steps, orders).Epsilon(delta);
    }

    /// <summary>
    /// log A_α for integer α by the binomial expansion (paper, section 3.3, first case):
    /// A_α = Σ_{i=0}^{α} C(α, i) (1−q)^{α−i} q^i exp((i² − i)/(2σ²)). Every term is positive.
    /// </summary>
    internal static double LogAInteger(double q, double sigma, long alpha)
    {
        double logQ = Math.Log(q), log1MinusQ = LogMath.Log1p(-q), twoSigmaSquared = 2 * sigma * sigma;
        double logA = double.NegativeInfinity, logBinomial = 0;
        for (long i = 0; i <= alpha; i++)
        {
            logA = LogMath.Add(logA, logBinomial + i * logQ + (alpha - i) * log1MinusQ + (i * (double)i - i) / twoSigmaSquared);
            logBinomial += Math.Log(alpha - i) - Math.Log(i + 1);
        }
        return logA;
    }

    /// <summary>
    /// log A_α for real α by the paper's two series (section 3.3, fractional case): split the integral at
    /// z₀ = σ² log(1/q − 1) + ½, where μ₀ and μ cross, and expand each part binomially; each term of either series is
    /// C(α, i) times a power of q and 1−q, exp((k² − k)/(2σ²)), and a Gaussian tail ½ erfc(·/(√2σ)). C(α, i) changes
    /// sign past i = α, so the partial sums are kept as log-magnitudes and subtracted where the sign is negative.
    /// </summary>
    internal static double LogAFractional(double q, double sigma, double alpha)
    {
        double logQ = Math.Log(q), log1MinusQ = LogMath.Log1p(-q), twoSigmaSquared = 2 * sigma * sigma;
        double z0 = sigma * sigma * (log1MinusQ - logQ) + 0.5, sqrt2Sigma = Math.Sqrt(2) * sigma, logHalf = Math.Log(0.5);
        double logA0 = double.NegativeInfinity, logA1 = double.NegativeInfinity;
        double logBinomial = 0;
        bool positive = true;
        for (long i = 0; ; i++)
        {
            double j = alpha - i;
            double logS0 = logBinomial + i * logQ + j * log1MinusQ + (i * (double)i - i) / twoSigmaSquared
                           + logHalf + LogMath.LogErfc((i - z0) / sqrt2Sigma);
            double logS1 = logBinomial + j * logQ + i * log1MinusQ + (j * j - j) / twoSigmaSquared
                           + logHalf + LogMath.LogErfc((z0 - j) / sqrt2Sigma);
            if (positive)
            {
                logA0 = LogMath.Add(logA0, logS0);
                logA1 = LogMath.Add(logA1, logS1);
            }
            else
            {
                logA0 = LogMath.Subtract(logA0, logS0);
                logA1 = LogMath.Subtract(logA1, logS1);
            }
            // Past i = α the terms shrink; A_α ≥ 1, so terms below e^-30 no longer change it in double precision.
            if (i > alpha && Math.Max(logS0, logS1) < -30)
                return LogMath.Add(logA0, logA1);
            if (i > MaxTerms)
                throw new InvalidOperationException($"the series for A_α did not converge (q = {Check.Show(q)}, σ = {Check.Show(sigma)}, α = {Check.Show(alpha)})");
            // C(α, i+1) = C(α, i) (α − i)/(i + 1): the sign flips each time α − i is negative.
            logBinomial += Math.Log(Math.Abs(alpha - i)) - Math.Log(i + 1);
            if (alpha - i < 0)
                positive = !positive;
        }
    }

    private const long MaxTerms = 10_000_000;
}
