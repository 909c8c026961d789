using System.Text.Json;
using FedCore.Privacy.Accounting;

namespace FedCore.Tests.Privacy;

/// <summary>Properties of the accountant that a wrong formula, a wrong branch or a sloppy composition would break.</summary>
public sealed class SampledGaussianTests
{
    [Theory]
    [InlineData(0.5, 2.0)]
    [InlineData(1.1, 7.5)]
    [InlineData(3.0, 32.0)]
    public void Without_subsampling_it_is_the_gaussian_mechanism(double sigma, double order) =>
        Assert.Equal(order / (2 * sigma * sigma), SampledGaussian.Rdp(1, sigma, order), 1e-15);

    [Fact]
    public void Without_data_nothing_is_spent_and_without_noise_everything_is()
    {
        Assert.All(SampledGaussian.Curve(0, 1, 1000).Values, v => Assert.Equal(0, v));
        Assert.Equal(0, SampledGaussian.Epsilon(0.01, 1, steps: 0, 1e-5).Epsilon);

        Assert.Equal(double.PositiveInfinity, SampledGaussian.Rdp(0.01, 0, 2.5));
        var spent = SampledGaussian.Epsilon(0.01, 0, 10, 1e-5);
        Assert.Equal(double.PositiveInfinity, spent.Epsilon);
        Assert.True(double.IsNaN(spent.Order));
    }

    /// <summary>The fractional method is exact at integer orders too (its binomial coefficients vanish past α).</summary>
    [Theory]
    [InlineData(0.01, 1.0, 2)]
    [InlineData(0.01, 1.0, 5)]
    [InlineData(0.2, 0.7, 12)]
    [InlineData(0.001, 4.0, 63)]
    public void The_two_series_agree_with_the_binomial_sum_at_integer_orders(double q, double sigma, long order) =>
        Assert.Equal(SampledGaussian.LogAInteger(q, sigma, order), SampledGaussian.LogAFractional(q, sigma, order), Relative(SampledGaussian.LogAInteger(q, sigma, order), 1e-9));

    /// <summary>Either side of an integer order the fractional method must join the integer one without a step.</summary>
    [Theory]
    [InlineData(0.01, 1.0, 5)]
    [InlineData(0.05, 0.8, 3)]
    [InlineData(0.004, 1.1, 12)]
    public void Rdp_is_continuous_across_integer_orders(double q, double sigma, double order)
    {
        double at = SampledGaussian.Rdp(q, sigma, order);
        Assert.Equal(at, SampledGaussian.Rdp(q, sigma, order - 1e-7), Relative(at, 1e-5));
        Assert.Equal(at, SampledGaussian.Rdp(q, sigma, order + 1e-7), Relative(at, 1e-5));
    }

    /// <summary>
    /// A_α = ∫ μ₀(z) (μ(z)/μ₀(z))^α dz computed by brute-force quadrature, independent of both series (the check
    /// TF-Privacy makes with mpmath).
    /// </summary>
    [Theory]
    [InlineData(0.1, 1.0, 3.5)]
    [InlineData(0.01, 2.0, 10.5)]
    [InlineData(0.3, 1.5, 2.25)]
    [InlineData(0.05, 0.8, 6.0)]
    [InlineData(0.02, 1.2, 17.0)]
    public void Log_a_matches_numerical_integration(double q, double sigma, double order)
    {
        double logA = SampledGaussian.Rdp(q, sigma, order) * (order - 1);
        Assert.Equal(LogAByQuadrature(q, sigma, order), logA, Relative(logA, 1e-7));
    }

    [Fact]
    public void Epsilon_grows_with_steps_and_falls_with_noise()
    {
        double[] bySteps = [.. new long[] { 1, 10, 100, 1000, 10000 }.Select(t => SampledGaussian.Epsilon(0.01, 1.1, t, 1e-5).Epsilon)];
        Assert.True(bySteps.Zip(bySteps.Skip(1)).All(p => p.First < p.Second), string.Join(", ", bySteps));

        double[] bySigma = [.. new[] { 0.6, 0.8, 1.0, 1.5, 3.0 }.Select(s => SampledGaussian.Epsilon(0.01, s, 1000, 1e-5).Epsilon)];
        Assert.True(bySigma.Zip(bySigma.Skip(1)).All(p => p.First > p.Second), string.Join(", ", bySigma));
    }

    [Fact]
    public void T_steps_spend_t_times_one_step_and_runs_add_up()
    {
        var one = SampledGaussian.Curve(0.02, 1.3, 1);
        var many = SampledGaussian.Curve(0.02, 1.3, 750);
        for (int i = 0; i < one.Orders.Count; i++)
            Assert.Equal(750 * one.Values[i], many.Values[i], Relative(many.Values[i], 1e-12));

        var split = SampledGaussian.Curve(0.02, 1.3, 300) + SampledGaussian.Curve(0.02, 1.3, 450);
        Assert.Equal(many.Values, split.Values, (a, b) => Math.Abs(a - b) <= Relative(a, 1e-12));
    }

    /// <summary>
    /// Rounds with different q and σ compose by adding their curves in any order. TF-Privacy's
    /// test_compute_heterogeneous_rdp_different_sampling_probabilities: (q, σ) = (0, 10) then (1, 10), one step each, at
    /// order 20 → 0.1.
    /// </summary>
    [Fact]
    public void Heterogeneous_rounds_compose_by_addition()
    {
        var tf = SampledGaussian.Curve(0, 10, 1, [20]) + SampledGaussian.Curve(1, 10, 1, [20]);
        Assert.Equal(0.1, tf.Values[0], 1e-15);

        var rounds = new[] { (Q: 0.01, Sigma: 1.0, Steps: 500L), (Q: 0.05, Sigma: 2.0, Steps: 40L), (Q: 0.002, Sigma: 0.9, Steps: 3000L) };
        var ledger = rounds.Aggregate(RdpCurve.Zero(), (spent, r) => spent + SampledGaussian.Curve(r.Q, r.Sigma, r.Steps));
        var reversed = rounds.Reverse().Aggregate(RdpCurve.Zero(), (spent, r) => spent + SampledGaussian.Curve(r.Q, r.Sigma, r.Steps));
        for (int i = 0; i < ledger.Orders.Count; i++)
        {
            double expected = rounds.Sum(r => r.Steps * SampledGaussian.Rdp(r.Q, r.Sigma, ledger.Orders[i]));
            Assert.Equal(expected, ledger.Values[i], Relative(expected, 1e-12));
            Assert.Equal(ledger.Values[i], reversed.Values[i], Relative(expected, 1e-12));
        }
        double total = ledger.Epsilon(1e-5).Epsilon;
        Assert.All(rounds, r => Assert.True(SampledGaussian.Epsilon(r.Q, r.Sigma, r.Steps, 1e-5).Epsilon < total));
    }

    [Fact]
    public void Curves_at_other_orders_do_not_add()
    {
        var e = Assert.Throws<ArgumentException>(() => SampledGaussian.Curve(0.01, 1, 1) + SampledGaussian.Curve(0.01, 1, 1, [2, 4, 8]));
        Assert.Equal("other", e.ParamName);
    }

    [Fact]
    public void A_curve_survives_json_as_two_lists_of_numbers()
    {
        var curve = SampledGaussian.Curve(0.01, 1.1, 1234);
        string json = JsonSerializer.Serialize(curve);
        var back = JsonSerializer.Deserialize<RdpCurve>(json)!;

        Assert.Equal(curve.Orders, back.Orders);
        Assert.Equal(curve.Values, back.Values);
        Assert.Equal(curve.Epsilon(1e-5), back.Epsilon(1e-5));
    }

    [Fact]
    public void The_current_conversion_is_never_looser_than_the_classic_one()
    {
        foreach (var (q, sigma, steps) in new[] { (0.01, 1.0, 1000L), (0.1, 0.7, 50L), (0.004, 1.1, 14000L), (1.0, 5.0, 3L) })
        {
            var curve = SampledGaussian.Curve(q, sigma, steps);
            Assert.True(curve.Epsilon(1e-5).Epsilon < RdpConversion.ClassicEpsilon(curve, 1e-5).Epsilon);
        }
    }

    [Fact]
    public void The_default_orders_are_opacus_alphas()
    {
        Assert.Equal(151, RdpOrders.Default.Count);
        Assert.Equal([1.1, 1.2, 1.3], RdpOrders.Default.Take(3));
        Assert.Equal([10.9, 12, 13], RdpOrders.Default.Skip(98).Take(3));
        Assert.Equal(63, RdpOrders.Default[^1]);
    }

    [Theory]
    [InlineData(0.01, 1000, 1.0, 1e-5)]
    [InlineData(0.004, 14000, 3.0, 1e-5)]
    [InlineData(0.1, 100, 8.0, 1e-6)]
    [InlineData(1.0, 5, 2.0, 1e-5)]
    public void The_smallest_sigma_meets_the_budget_and_a_tolerance_less_does_not(double q, long steps, double epsilon, double delta)
    {
        const double Tolerance = 1e-4;
        double sigma = NoiseCalibration.SmallestSigma(q, steps, epsilon, delta, Tolerance);

        Assert.True(SampledGaussian.Epsilon(q, sigma, steps, delta).Epsilon <= epsilon);
        Assert.True(SampledGaussian.Epsilon(q, sigma - Tolerance, steps, delta).Epsilon > epsilon);
    }

    [Fact]
    public void Nothing_to_spend_needs_no_noise() =>
        Assert.Equal(0, NoiseCalibration.SmallestSigma(q: 0, steps: 100, epsilon: 1, delta: 1e-5));

    public static TheoryData<string, string, Action> BadInputs => new()
    {
        { "q", "1.5", () => SampledGaussian.Rdp(1.5, 1, 2) },
        { "q", "-0.1", () => SampledGaussian.Curve(-0.1, 1, 1) },
        { "q", "NaN", () => SampledGaussian.Epsilon(double.NaN, 1, 1, 1e-5) },
        { "sigma", "-1", () => SampledGaussian.Rdp(0.1, -1, 2) },
        { "sigma", "NaN", () => SampledGaussian.Curve(0.1, double.NaN, 1) },
        { "sigma", "Infinity", () => SampledGaussian.Epsilon(0.1, double.PositiveInfinity, 1, 1e-5) },
        { "steps", "-3", () => SampledGaussian.Curve(0.1, 1, -3) },
        { "steps", "-1", () => NoiseCalibration.SmallestSigma(0.1, -1, 1, 1e-5) },
        { "delta", "0", () => SampledGaussian.Epsilon(0.1, 1, 10, 0) },
        { "delta", "1", () => RdpCurve.Zero().Epsilon(1) },
        { "delta", "-1E-05", () => NoiseCalibration.SmallestSigma(0.1, 10, 1, -1e-5) },
        { "order", "1", () => SampledGaussian.Rdp(0.1, 1, 1) },
        { "orders", "0.5", () => SampledGaussian.Curve(0.1, 1, 1, [2, 0.5]) },
        { "orders", "at least one", () => SampledGaussian.Curve(0.1, 1, 1, []) },
        { "epsilon", "0", () => NoiseCalibration.SmallestSigma(0.1, 10, 0, 1e-5) },
        { "values", "-0.5", () => new RdpCurve([2, 3], [0.1, -0.5]) },
        { "values", "one value per order", () => new RdpCurve([2, 3], [0.1]) },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_names_the_parameter_and_the_value(string parameter, string shown, Action call)
    {
        var e = Assert.Throws<ArgumentException>(call);
        Assert.Equal(parameter, e.ParamName);
        Assert.Contains(shown, e.Message);
    }

    private static double Relative(double value, double tolerance) => Math.Max(Math.Abs(value), 1e-300) * tolerance;

    /// <summary>Composite Simpson's rule over [−40, 40] for log ∫ μ₀(z) ((1 − q) + q e^{(2z − 1)/(2σ²)})^α dz.</summary>
    private static double LogAByQuadrature(double q, double sigma, double order)
    {
        const int Intervals = 400_000;
        const double From = -40, To = 40, H = (To - From) / Intervals;
        double sum = 0;
        for (int k = 0; k <= Intervals; k++)
        {
            double z = From + k * H;
            double logRatio = Math.Log((1 - q) + q * Math.Exp((2 * z - 1) / (2 * sigma * sigma)));
            double density = Math.Exp(-z * z / (2 * sigma * sigma)) / (sigma * Math.Sqrt(2 * Math.PI));
            double weight = k == 0 || k == Intervals ? 1 : k % 2 == 1 ? 4 : 2;
            sum += weight * density * Math.Exp(order * logRatio);
        }
        return Math.Log(sum * H / 3);
    }
}
