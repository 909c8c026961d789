namespace FedCore.Aggregation.Strategies;

/// <summary>
/// The server side of a round: turns the current global model and the weighted mean of the participants'
/// updates (local model − global model) into the next global model.
/// </summary>
public abstract class ServerStrategy
{
    public abstract string Name { get; }

    /// <summary>Applies one round. <paramref name="state"/> is the optimiser state from the previous round (null at first).</summary>
    public abstract ServerStepResult Step(ReadOnlySpan<float> global, ReadOnlySpan<float> meanUpdate, ServerOptimizerState? state);

    /// <summary>Builds a strategy from its settings; names are case-insensitive.</summary>
    public static ServerStrategy Create(StrategyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options.Name.ToLowerInvariant() switch
        {
            "fedavg" => new FedAvg(options.ServerLearningRate),
            "fedprox" => new FedAvg(options.ServerLearningRate), // FedProx is FedAvg on the server; μ acts on the client.
            "fedadam" => new AdaptiveServerOptimizer(AdaptiveRule.Adam, options),
            "fedyogi" => new AdaptiveServerOptimizer(AdaptiveRule.Yogi, options),
            "fedadagrad" => new AdaptiveServerOptimizer(AdaptiveRule.Adagrad, options),
            _ => throw new ArgumentException(
                $"Unknown strategy '{options.Name}'. Known: {string.Join(", ", StrategyOptions.KnownNames)}.", nameof(options)),
        };
    }

    protected static void CheckLengths(ReadOnlySpan<float> global, ReadOnlySpan<float> meanUpdate)
    {
        if (global.Length != meanUpdate.Length)
            throw new ArgumentException($"The mean update has {meanUpdate.Length} values; the global model has {global.Length}.");
    }
}

/// <summary>First and second moments of an adaptive server optimiser; null for FedAvg.</summary>
public sealed record ServerOptimizerState(float[] FirstMoment, float[] SecondMoment);

public sealed record ServerStepResult(float[] Global, ServerOptimizerState? State);

/// <summary>
/// Settings of the server strategy. Defaults follow Reddi et al., "Adaptive Federated Optimization" (ICLR 2021):
/// β1 = 0.9, β2 = 0.99, τ = 1e-3; FedAvg's server learning rate is 1 (plain weighted mean of local models).
/// </summary>
public sealed record StrategyOptions(
    string Name,
    double ServerLearningRate = 1.0,
    double Beta1 = 0.9,
    double Beta2 = 0.99,
    double Tau = 1e-3)
{
    public static readonly IReadOnlyList<string> KnownNames = ["fedavg", "fedprox", "fedadam", "fedyogi", "fedadagrad"];

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name) || !KnownNames.Contains(Name.ToLowerInvariant()))
            throw new ArgumentException($"Unknown strategy '{Name}'. Known: {string.Join(", ", KnownNames)}.");
        if (!(ServerLearningRate > 0) || double.IsInfinity(ServerLearningRate))
            throw new ArgumentException($"Strategy '{Name}': server learning rate must be a positive number, not {ServerLearningRate}.");
        if (!(Beta1 >= 0 && Beta1 < 1))
            throw new ArgumentException($"Strategy '{Name}': beta1 must lie in [0, 1), not {Beta1}.");
        if (!(Beta2 >= 0 && Beta2 < 1))
            throw new ArgumentException($"Strategy '{Name}': beta2 must lie in [0, 1), not {Beta2}.");
        if (!(Tau > 0) || double.IsInfinity(Tau))
            throw new ArgumentException($"Strategy '{Name}': tau must be a positive number, not {Tau}.");
    }
}
