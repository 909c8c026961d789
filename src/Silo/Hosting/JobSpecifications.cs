using FedCore.Jobs;
using Federation.Contracts.Jobs;
using Federation.Contracts.Participants;

namespace Federation.Silo.Hosting;

public static class JobSpecifications
{
    /// <summary>The grain-level specification of a job file.</summary>
    public static JobSpecification From(JobDefinition job, string jobId) => new(
        jobId,
        job.Name,
        job.ModelJson,
        job.ParticipantIds.Select(id => new JobParticipant(id, job.DatasetName)).ToList(),
        job.Rounds,
        new StrategySettings(job.Strategy.Name, job.Strategy.ServerLearningRate, job.Strategy.Beta1, job.Strategy.Beta2, job.Strategy.Tau),
        new LocalTrainingSettings(job.Training.Epochs, job.Training.BatchSize, job.Training.Optimizer, job.Training.LearningRate,
            job.Training.Momentum, job.Training.WeightDecay, job.Training.ProximalMu,
            job.Training.Privacy is { } dp ? new PrivacySettings(dp.ClippingNorm, dp.NoiseMultiplier, dp.Delta) : null),
        job.TrainFraction,
        job.Seed,
        new ProtectionSettings(job.Protection, job.UpdateBound),
        job.Agreement);

    /// <summary>The countries whose silos a job needs: those of its federation's participants (all are set up) and the aggregator's.</summary>
    public static IReadOnlyList<string> CountriesOf(JobDefinition job) =>
        job.Federation.Participants.Select(p => ParticipantKey.TryParse(p.Id, out var country, out _, out var error)
                ? country
                : throw new JobFileException(job.Federation.FilePath, $"participant '{p.Id}'", error))
            .Append(job.AggregatorCountry)
            .Distinct()
            .ToList();

    /// <summary>A fresh job id: the aggregator's country, then the job's name and the time ("CH/heart-logistic-20261130-183000").</summary>
    public static string NewJobId(JobDefinition job) => $"{job.AggregatorCountry}/{job.Name}-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}";

}
