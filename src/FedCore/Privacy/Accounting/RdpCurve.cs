namespace FedCore.Privacy.Accounting;

/// <summary>
/// Rényi DP spent so far, one value per order. RDP composes by adding these values order by order, whatever each step's
/// sampling rate and noise were, so a ledger keeps one curve per dataset and adds a round's curve to it. The curve is two
/// lists of numbers and serialises as such (an infinite value, from a step without noise, needs named floating-point
/// literals in JSON).
/// </summary>
public sealed class RdpCurve
{
    private readonly double[] _orders;
    private readonly double[] _values;

    public RdpCurve(IReadOnlyList<double> orders, IReadOnlyList<double> values)
    {
        Check.Orders(orders);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count != orders.Count)
            throw new ArgumentException($"must hold one value per order ({orders.Count}), not {values.Count}", nameof(values));
        foreach (var value in values)
            if (!(value >= 0))
                throw new ArgumentException($"an RDP value must be ≥ 0 (or +∞), not {Check.Show(value)}", nameof(values));
        _orders = [.. orders];
        _values = [.. values];
    }

    public IReadOnlyList<double> Orders => _orders;

    public IReadOnlyList<double> Values => _values;

    /// <summary>Nothing spent yet, at <paramref name="orders"/> (by default <see cref="RdpOrders.Default"/>).</summary>
    public static RdpCurve Zero(IReadOnlyList<double>? orders = null)
    {
        orders ??= RdpOrders.Default;
        return new RdpCurve(orders, new double[orders.Count]);
    }

    /// <summary>The composition of the two mechanisms: RDP adds at each order. Both curves must be at the same orders.</summary>
    public RdpCurve Add(RdpCurve other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!_orders.AsSpan().SequenceEqual(other._orders))
            throw new ArgumentException($"is at orders [{Show(other._orders)}], not at this curve's [{Show(_orders)}]", nameof(other));
        return new RdpCurve(_orders, [.. _values.Select((v, i) => v + other._values[i])]);
    }

    public static RdpCurve operator +(RdpCurve left, RdpCurve right) => left.Add(right);

    /// <summary>The (ε, δ) guarantee of everything composed into this curve (<see cref="RdpConversion.Epsilon"/>).</summary>
    public PrivacySpent Epsilon(double delta) => RdpConversion.Epsilon(this, delta);

    private static string Show(double[] orders) =>
        orders.Length <= 6 ? string.Join(", ", orders.Select(Check.Show)) : $"{Check.Show(orders[0])} … {Check.Show(orders[^1])} ({orders.Length} orders)";
}
