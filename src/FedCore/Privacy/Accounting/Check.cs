using System.Globalization;

namespace FedCore.Privacy.Accounting;

/// <summary>The accountant's argument checks: each names the parameter and the value it was given.</summary>
internal static class Check
{
    public static void SamplingRate(double q)
    {
        if (!(q >= 0 && q <= 1))
            throw new ArgumentException($"must be a sampling rate in [0, 1], not {Show(q)}", nameof(q));
    }

    /// <summary>σ = 0 is allowed (a step without noise has infinite RDP); negative or non-finite σ is not.</summary>
    public static void NoiseMultiplier(double sigma)
    {
        if (!(sigma >= 0 && double.IsFinite(sigma)))
            throw new ArgumentException($"must be a finite noise multiplier ≥ 0, not {Show(sigma)}", nameof(sigma));
    }

    public static void Steps(long steps)
    {
        if (steps < 0)
            throw new ArgumentException($"must be a number of steps ≥ 0, not {steps}", nameof(steps));
    }

    public static void Delta(double delta)
    {
        if (!(delta > 0 && delta < 1))
            throw new ArgumentException($"must lie in (0, 1), not {Show(delta)}", nameof(delta));
    }

    public static void Order(double order, string name = "order")
    {
        if (!(order > 1 && double.IsFinite(order)))
            throw new ArgumentException($"a Rényi order must be finite and > 1, not {Show(order)}", name);
    }

    public static void Orders(IReadOnlyList<double> orders)
    {
        ArgumentNullException.ThrowIfNull(orders);
        if (orders.Count == 0)
            throw new ArgumentException("must hold at least one Rényi order", nameof(orders));
        foreach (var order in orders)
            Order(order, nameof(orders));
    }

    public static string Show(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
