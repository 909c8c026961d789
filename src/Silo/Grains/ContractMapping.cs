using FedCore.Learning;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;

namespace Federation.Silo.Grains;

/// <summary>Turns contract records into FedCore's own types (FedCore knows nothing of Orleans).</summary>
internal static class ContractMapping
{
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
        };
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
