using Federation.Contracts.Participants;

namespace Federation.Contracts.Directory;

[GenerateSerializer, Immutable]
public sealed record JobListing(
    [property: Id(0)] string JobId,
    [property: Id(1)] string Name,
    [property: Id(2)] DateTimeOffset CreatedAt);

/// <summary>
/// The cluster-wide index: which participants exist and which jobs were started. Holds no data and no secrets.
/// One instance, key 0.
/// </summary>
public interface IFederationDirectoryGrain : IGrainWithIntegerKey
{
    Task AddParticipant(ParticipantProfile profile);

    Task<IReadOnlyList<ParticipantProfile>> GetParticipants();

    Task AddJob(JobListing job);

    Task<IReadOnlyList<JobListing>> GetJobs();

    /// <summary>Asks every job that has not finished to continue (after a restart).</summary>
    Task<int> ResumeUnfinishedJobs();

    /// <summary>Marks a job finished so that restarts no longer resume it.</summary>
    Task MarkJobFinished(string jobId);
}
