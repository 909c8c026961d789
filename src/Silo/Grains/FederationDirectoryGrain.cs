using Federation.Contracts.Directory;
using Federation.Contracts.Jobs;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Grains;

[GenerateSerializer]
public sealed class FederationDirectoryState
{
    [Id(0)]
    public Dictionary<string, ParticipantProfile> Participants { get; set; } = [];

    [Id(1)]
    public List<JobListing> Jobs { get; set; } = [];

    [Id(2)]
    public HashSet<string> UnfinishedJobs { get; set; } = [];
}

public sealed class FederationDirectoryGrain(
    [PersistentState("directory", StorageNames.Cluster)] IPersistentState<FederationDirectoryState> state,
    ILogger<FederationDirectoryGrain> logger) : Grain, IFederationDirectoryGrain
{
    public async Task AddParticipant(ParticipantProfile profile)
    {
        if (state.State.Participants.TryGetValue(profile.Id, out var known) && known == profile)
            return;
        state.State.Participants[profile.Id] = profile;
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<ParticipantProfile>> GetParticipants() =>
        Task.FromResult<IReadOnlyList<ParticipantProfile>>(state.State.Participants.Values.OrderBy(p => p.Id, StringComparer.Ordinal).ToList());

    public async Task AddJob(JobListing job)
    {
        if (state.State.Jobs.Any(j => j.JobId == job.JobId))
            return;
        state.State.Jobs.Add(job);
        state.State.UnfinishedJobs.Add(job.JobId);
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<JobListing>> GetJobs() =>
        Task.FromResult<IReadOnlyList<JobListing>>(state.State.Jobs.OrderByDescending(j => j.CreatedAt).ToList());

    public async Task<int> ResumeUnfinishedJobs()
    {
        var jobs = state.State.UnfinishedJobs.ToList();
        foreach (var jobId in jobs)
        {
            logger.LogInformation("Resuming unfinished job {JobId}", jobId);
            await GrainFactory.GetGrain<ITrainingJobGrain>(jobId).Resume();
        }
        return jobs.Count;
    }

    public async Task MarkJobFinished(string jobId)
    {
        if (state.State.UnfinishedJobs.Remove(jobId))
            await state.WriteStateAsync();
    }
}
