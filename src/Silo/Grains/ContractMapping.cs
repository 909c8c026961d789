using FedCore.Learning;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;

namespace Federation.Silo.Grains;

/// <summary>Turns contract records into FedCore's own types (FedCore knows nothing of Orleans).</summary>
internal static class ContractMapping
{
    public static FedCore.Privacy.DpSgdParameters ToParameters(this PrivacySettings s) => new(s.ClippingNorm, s.NoiseMultiplier, s.Delta);

    public static FedCore.Aggregation.Strategies.StrategyOptions ToOptions(this Federation.Contracts.Jobs.StrategySettings s) =>
        new(s.Name, s.ServerLearningRate, s.Beta1, s.Beta2, s.Tau);

    public static TrainingOptions ToTrainingOptions(this LocalTrainingSettings s, int seed)
    {
        if (!Enum.TryParse<OptimizerKind>(s.Optimizer, ignoreCase: true, out var optimizer) || !Enum.IsDefined(optimizer))
            throw new FederationOperationException("job.invalid",
                $"Optimizer '{s.Optimizer}' is not known (known: {string.Join(", ", Enum.GetNames<OptimizerKind>().Select(n => n.ToLowerInvariant()))}).");
        var options = new TrainingOptions
        {
            Epochs = s.Epochs,
            BatchSize = s.BatchSize,
            Optimizer = optimizer,
            LearningRate = s.LearningRate,
            Momentum = s.Momentum,
            WeightDecay = s.WeightDecay,
            ProximalMu = s.ProximalMu,
            Seed = seed,
            // The noise seed stays unset: it comes from the CSPRNG, so no one else can take the noise out.
            Privacy = s.Privacy is { } dp ? new FedCore.Learning.DpSgd.DpSgdOptions(dp.ClippingNorm, dp.NoiseMultiplier) : null,
        };
        if (s.Privacy?.ToParameters().Problem() is { } problem)
            throw new FederationOperationException("job.invalid", $"Training privacy: {problem}.");
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new FederationOperationException("job.invalid", e.Message);
        }
        return options;
    }
}
