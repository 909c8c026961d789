namespace FedCore.Learning;

public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent, optionally with (heavy-ball) momentum.</summary>
    Sgd,
    /// <summary>Adam with β₁ = 0.9, β₂ = 0.999, ε = 1e-8. Its moment estimates start fresh at every local training.</summary>
    Adam,
}

/// <summary>How one participant trains locally in one round.</summary>
public sealed record TrainingOptions
{
    /// <summary>Full passes over the local data.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Rows per optimiser step; the last batch of an epoch may be smaller.</summary>
    public int BatchSize { get; init; } = 32;

    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    public double LearningRate { get; init; } = 0.01;

    /// <summary>SGD momentum in [0, 1); must stay 0 with Adam.</summary>
    public double Momentum { get; init; }

    /// <summary>L2 penalty coefficient added to the gradient by the optimiser (0 = none).</summary>
    public double WeightDecay { get; init; }

    /// <summary>
    /// FedProx μ: the loss gains μ/2·‖w − w_start‖², with w_start the parameters training began from (the
    /// global model), which pulls the local model towards it on heterogeneous data. 0 is plain FedAvg training.
    /// </summary>
    public double ProximalMu { get; init; }

    /// <summary>
    /// DP-SGD instead of shuffled mini-batches: Poisson-sampled steps, per-row clipping and Gaussian noise (see
    /// <see cref="DpSgd.DpSgdOptions"/>). Null trains without differential privacy.
    /// </summary>
    public DpSgd.DpSgdOptions? Privacy { get; init; }

    /// <summary>Seeds the batch order and the dropout masks; same seed, data and start ⇒ same result on CPU.</summary>
    public long Seed { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Epochs < 1)
            Fail(nameof(Epochs), $"must be at least 1, got {Epochs}");
        if (BatchSize < 1)
            Fail(nameof(BatchSize), $"must be at least 1, got {BatchSize}");
        if (!Enum.IsDefined(Optimizer))
            Fail(nameof(Optimizer), $"unknown optimiser {(int)Optimizer}");
        if (!(double.IsFinite(LearningRate) && LearningRate > 0))
            Fail(nameof(LearningRate), $"must be a positive finite number, got {LearningRate}");
        if (!(Momentum >= 0 && Momentum < 1))
            Fail(nameof(Momentum), $"must be at least 0 and below 1, got {Momentum}");
        if (Momentum != 0 && Optimizer != OptimizerKind.Sgd)
            Fail(nameof(Momentum), $"applies to SGD only; {Optimizer} keeps its own moment estimates");
        if (!(double.IsFinite(WeightDecay) && WeightDecay >= 0))
            Fail(nameof(WeightDecay), $"must be a finite number ≥ 0, got {WeightDecay}");
        if (!(double.IsFinite(ProximalMu) && ProximalMu >= 0))
            Fail(nameof(ProximalMu), $"must be a finite number ≥ 0, got {ProximalMu}");
        Privacy?.Validate();
    }

    private static void Fail(string option, string problem) =>
        throw new ArgumentException($"Training option {option} {problem}.", option);
}
