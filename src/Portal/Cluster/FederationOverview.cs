using FedCore.Jobs;
using Federation.Contracts.Directory;
using Federation.Contracts.Jobs;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;

namespace Federation.Portal.Cluster;

/// <summary>What the overview page shows, read from the grains through the contracts only.</summary>
public sealed class FederationOverview(IGrainFactory grains, PortalSamples samples)
{
    private IFederationDirectoryGrain Directory => grains.GetGrain<IFederationDirectoryGrain>(0);

    public Task<IReadOnlyList<ParticipantProfile>> ParticipantsAsync() => Directory.GetParticipants();

    public async Task<IReadOnlyList<DatasetSummary>> DatasetsAsync(string participantId) =>
        await grains.GetGrain<IParticipantGrain>(participantId).GetDatasets();

    public async Task<JobStatus?> LatestJobAsync()
    {
        var latest = (await Directory.GetJobs()).FirstOrDefault();
        return latest is null ? null : await grains.GetGrain<ITrainingJobGrain>(latest.JobId).GetStatus();
    }

    public bool CanStartSampleJob => samples.Job is not null;

    /// <summary>Starts the sample job file under a fresh id.</summary>
    public async Task<JobStatus> StartSampleJobAsync()
    {
        var job = JobDefinition.Load(samples.Job ?? throw new InvalidOperationException("No sample job is configured."));
        var id = JobSpecifications.NewJobId(job);
        return await grains.GetGrain<ITrainingJobGrain>(id).Start(JobSpecifications.From(job, id));
    }
}
