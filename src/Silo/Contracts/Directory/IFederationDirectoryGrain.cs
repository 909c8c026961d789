using Federation.Contracts.Participants;
using Orleans.Concurrency;

namespace Federation.Contracts.Directory;

[GenerateSerializer, Immutable]
public sealed record JobListing(
    [property: Id(0)] string JobId,
    [property: Id(1)] string Name,
    [property: Id(2)] DateTimeOffset CreatedAt);

/// <summary>
/// The cluster-wide index: which jobs were started, and a relay for the federation's signed records — the membership
/// chain the operator issues and the dataset entries organisations sign. It is never their source of truth: it keeps
/// only what verifies against the operator's key (a newer chain must extend the one it holds), and every participant
/// verifies what it is handed again, against the key its own silo is configured with. Holds no secrets. One instance, key 0.
/// </summary>
public interface IFederationDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Relays a membership chain (membership.json): kept if it verifies and extends the chain held; returns the latest serial.</summary>
    Task<long> PublishMembership(byte[] chain);

    /// <summary>The membership chain held (null before the operator published one). Interleaves: the audit log reads it while
    /// a publication here waits on the log to record it.</summary>
    [AlwaysInterleave]
    Task<byte[]?> GetMembership();

    /// <summary>Relays signed dataset entries (a catalog file): kept if each verifies against the membership; an entry of the same organisation and name is replaced.</summary>
    Task PublishDatasets(byte[] catalog);

    /// <summary>The catalog held: every organisation's signed dataset entries (metadata only).</summary>
    Task<byte[]> GetCatalog();

    /// <summary>The members of the verified membership, for display.</summary>
    Task<IReadOnlyList<ParticipantProfile>> GetParticipants();

    Task AddJob(JobListing job);

    Task<IReadOnlyList<JobListing>> GetJobs();

    /// <summary>Asks every job that has not finished to continue (after a restart).</summary>
    Task<int> ResumeUnfinishedJobs();

    /// <summary>Marks a job finished so that restarts no longer resume it.</summary>
    Task MarkJobFinished(string jobId);
}
