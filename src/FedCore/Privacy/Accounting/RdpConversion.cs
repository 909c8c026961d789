namespace FedCore.Privacy.Accounting;

/// <summary>From Rényi DP to (ε, δ)-DP.</summary>
public static class RdpConversion
{
    /// <summary>
    /// ε = min over orders α of  rdp(α) + log((α − 1)/α) − (log δ + log α)/(α − 1)  (Balle et al. 2020, "Hypothesis
    /// testing interpretations and Rényi DP", Theorem 21; Canonne, Kamath, Steinke 2020, Proposition 12), the conversion
    /// Opacus and TF-Privacy (dp_accounting) use now. As in dp_accounting: an order gives ε = 0 outright when
    /// δ² > 1 − e^{−rdp(α)} (the KL bound), orders ≤ 1.01 are skipped (the bound is unstable and useless there), and ε is
    /// never negative. Ties go to the smallest order listed first.
    /// </summary>
    public static PrivacySpent Epsilon(RdpCurve curve, double delta) =>
        Minimum(curve, delta, (order, rdp) =>
            delta * delta + LogMath.Expm1(-rdp) > 0 ? 0
            : order > 1.01 ? rdp + LogMath.Log1p(-1 / order) - (Math.Log(delta) + Math.Log(order)) / (order - 1)
            : double.PositiveInfinity);

    /// <summary>
    /// The classic conversion ε = min rdp(α) + log(1/δ)/(α − 1) (Mironov 2017, "Rényi Differential Privacy", Proposition 3),
    /// which Abadi et al.'s moments accountant and TF-Privacy before 2020 used; only to check figures published with it.
    /// It is looser than <see cref="Epsilon"/> at every order.
    /// </summary>
    internal static PrivacySpent ClassicEpsilon(RdpCurve curve, double delta) =>
        Minimum(curve, delta, (order, rdp) => rdp - Math.Log(delta) / (order - 1));

    private static PrivacySpent Minimum(RdpCurve curve, double delta, Func<double, double, double> epsilonAt)
    {
        ArgumentNullException.ThrowIfNull(curve);
        Check.Delta(delta);
        var best = new PrivacySpent(double.PositiveInfinity, double.NaN);
        for (int i = 0; i < curve.Orders.Count; i++)
        {
            double epsilon = double.IsPositiveInfinity(curve.Values[i]) ? double.PositiveInfinity : epsilonAt(curve.Orders[i], curve.Values[i]);
            if (epsilon < best.Epsilon)
                best = new PrivacySpent(epsilon, curve.Orders[i]);
        }
        return best with { Epsilon = Math.Max(0, best.Epsilon) };
    }
}
