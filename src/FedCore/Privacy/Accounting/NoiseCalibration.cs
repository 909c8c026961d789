namespace FedCore.Privacy.Accounting;

/// <summary>Planning: how much noise a run of steps needs to stay within a budget.</summary>
public static class NoiseCalibration
{
    /// <summary>
    /// The smallest noise multiplier σ, to within <paramref name="tolerance"/>, with which <paramref name="steps"/> steps at
    /// sampling rate <paramref name="q"/> stay within (<paramref name="epsilon"/>, <paramref name="delta"/>): the returned σ
    /// always meets the budget, and σ − tolerance may not. ε falls as σ grows, so a bisection finds it. Returns 0 when
    /// nothing is spent (q = 0 or no steps).
    /// </summary>
    public static double SmallestSigma(double q, long steps, double epsilon, double delta, double tolerance = 1e-3, IReadOnlyList<double>? orders = null)
    {
        Check.SamplingRate(q);
        Check.Steps(steps);
        Check.Delta(delta);
        if (!(epsilon > 0 && double.IsFinite(epsilon)))
            throw new ArgumentException($"must be a finite budget > 0, not {Check.Show(epsilon)}", nameof(epsilon));
        if (!(tolerance > 0 && double.IsFinite(tolerance)))
            throw new ArgumentException($"must be finite and > 0, not {Check.Show(tolerance)}", nameof(tolerance));
        orders ??= RdpOrders.Default;
        Check.Orders(orders);
        if (q == 0 || steps == 0)
            return 0;

        bool Meets(double sigma) => SampledGaussian.Epsilon(q, sigma, steps, delta, orders).Epsilon <= epsilon;
        double low = 0, high = 1;
        while (!Meets(high))
        {
            low = high;
            high *= 2;
            if (high > MaxSigma)
                throw new ArgumentException($"{Check.Show(epsilon)} cannot be met at δ = {Check.Show(delta)} with σ ≤ {MaxSigma} over {steps} steps at q = {Check.Show(q)}", nameof(epsilon));
        }
        while (high - low > tolerance)
        {
            double middle = (low + high) / 2;
            if (Meets(middle))
                high = middle;
            else
                low = middle;
        }
        return high;
    }

    private const double MaxSigma = 1e6;
}
