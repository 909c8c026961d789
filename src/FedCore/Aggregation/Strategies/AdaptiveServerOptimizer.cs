namespace FedCore.Aggregation.Strategies;

public enum AdaptiveRule
{
    Adagrad,
    Adam,
    Yogi,
}

/// <summary>
/// FedAdagrad, FedAdam and FedYogi from Reddi et al., "Adaptive Federated Optimization" (ICLR 2021),
/// Algorithm 2. With Δ the weighted mean update:
///   m ← β1·m + (1 − β1)·Δ
///   Adagrad: v ← v + Δ²
///   Adam:    v ← β2·v + (1 − β2)·Δ²
///   Yogi:    v ← v − (1 − β2)·Δ²·sign(v − Δ²)
///   x ← x + η·m / (√v + τ)
/// with m₀ = 0 and v₀ = τ² (the paper requires v₀ ≥ τ²). No bias correction, as in the paper.
/// </summary>
public sealed class AdaptiveServerOptimizer : ServerStrategy
{
    private readonly AdaptiveRule _rule;
    private readonly StrategyOptions _options;

    public AdaptiveServerOptimizer(AdaptiveRule rule, StrategyOptions options)
    {
        options.Validate();
        _rule = rule;
        _options = options;
    }

    public override string Name => _rule switch
    {
        AdaptiveRule.Adagrad => "fedadagrad",
        AdaptiveRule.Adam => "fedadam",
        _ => "fedyogi",
    };

    public override ServerStepResult Step(ReadOnlySpan<float> global, ReadOnlySpan<float> meanUpdate, ServerOptimizerState? state)
    {
        CheckLengths(global, meanUpdate);
        int n = global.Length;
        double beta1 = _options.Beta1, beta2 = _options.Beta2, tau = _options.Tau, eta = _options.ServerLearningRate;

        float[] m = new float[n];
        float[] v = new float[n];
        if (state is null)
        {
            Array.Fill(v, (float)(tau * tau));
        }
        else
        {
            if (state.FirstMoment.Length != n || state.SecondMoment.Length != n)
                throw new ArgumentException(
                    $"{Name}: optimiser state has {state.FirstMoment.Length}/{state.SecondMoment.Length} values; the model has {n}.");
            state.FirstMoment.CopyTo(m, 0);
            state.SecondMoment.CopyTo(v, 0);
        }

        var next = new float[n];
        for (int i = 0; i < n; i++)
        {
            double delta = meanUpdate[i];
            double d2 = delta * delta;
            double mi = beta1 * m[i] + (1 - beta1) * delta;
            double vi = v[i];
            vi = _rule switch
            {
                AdaptiveRule.Adagrad => vi + d2,
                AdaptiveRule.Adam => beta2 * vi + (1 - beta2) * d2,
                _ => vi - (1 - beta2) * d2 * Math.Sign(vi - d2),
            };
            m[i] = (float)mi;
            v[i] = (float)vi;
            next[i] = (float)(global[i] + eta * mi / (Math.Sqrt(vi) + tau));
        }
        return new ServerStepResult(next, new ServerOptimizerState(m, v));
    }
}
