namespace FedCore.Privacy.Accounting;

/// <summary>The Rényi orders at which the accountant tracks privacy loss.</summary>
public static class RdpOrders
{
    /// <summary>
    /// Opacus' <c>RDPAccountant.DEFAULT_ALPHAS</c>, also the list of TF-Privacy's tutorials: 1.1, 1.2, …, 10.9 and 12, 13, …, 63.
    /// They cover ε from about 0.2 to 100 at δ ≈ 1e-5; the reported optimal order tells when the range was too narrow.
    /// Computed as 1 + x/10 so that the orders are the same doubles those libraries use.
    /// </summary>
    public static IReadOnlyList<double> Default { get; } =
        [.. Enumerable.Range(1, 99).Select(x => 1 + x / 10.0), .. Enumerable.Range(12, 52).Select(a => (double)a)];
}
