namespace Federation.Contracts.Jobs;

/// <summary>
/// Runs a job's rounds over its participants. State is durable: after a restart the job continues from its
/// last completed round.
/// </summary>
public interface ITrainingJobGrain : IGrainWithStringKey
{
    /// <summary>Starts the job; starting the same specification again is a no-op that returns its status.</summary>
    Task<JobStatus> Start(JobSpecification specification);

    Task<JobStatus> GetStatus();

    /// <summary>Continues a running job after a restart. Harmless when it is already running or finished.</summary>
    Task Resume();
}
