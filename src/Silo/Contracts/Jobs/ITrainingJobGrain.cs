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

    /// <summary>The whole decision (canonical JSON) of <see cref="JobStatus.PolicyDecisions"/>[<paramref name="index"/>].</summary>
    Task<string> GetPolicyDecision(int index);

    /// <summary>Continues a running job after a restart. Harmless when it is already running or finished.</summary>
    Task Resume();
}
