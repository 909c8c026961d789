using FedCore.Governance;
using FedCore.Governance.Datasets;
using FedCore.Governance.Membership;
using Federation.Contracts.Directory;
using Federation.Contracts.Errors;
using Federation.Contracts.Jobs;
using Federation.Contracts.Participants;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Grains;

[GenerateSerializer]
public sealed class FederationDirectoryState
{
    // Id 0 held participant profiles that any caller could add or overwrite; membership comes from the signed chain now.

    [Id(1)]
    public List<JobListing> Jobs { get; set; } = [];

    [Id(2)]
    public HashSet<string> UnfinishedJobs { get; set; } = [];

    /// <summary>The membership chain as the operator issued it (membership.json), kept only if it verified.</summary>
    [Id(3)]
    public byte[]? Membership { get; set; }

    /// <summary>The dataset catalog (catalog JSON), each entry verified against the membership when it arrived.</summary>
    [Id(4)]
    public byte[]? Catalog { get; set; }
}

public sealed class FederationDirectoryGrain(
    [PersistentState("directory", StorageNames.Cluster)] IPersistentState<FederationDirectoryState> state,
    FederationRecords records,
    AuditTrail audit,
    ILogger<FederationDirectoryGrain> logger) : Grain, IFederationDirectoryGrain
{
    public async Task<long> PublishMembership(byte[] chain)
    {
        var offered = records.Verify(chain);
        long heldSerial = 0;
        if (state.State.Membership is { } held)
        {
            var current = records.Verify(held);
            // Only a chain that contains the one held (same record at its serial) replaces it: no rollback, no fork.
            try
            {
                _ = records.Verify(chain, current.Pin);
            }
            catch (FederationOperationException e)
            {
                throw new FederationOperationException("membership.refused", $"The directory keeps membership record {current.Serial}: {e.Message}");
            }
            if (offered.Serial == current.Serial)
                return current.Serial;
            heldSerial = current.Serial;
        }
        // Recorded first: a membership the log could not take is not relayed.
        await audit.RecordAsync([.. MembershipAudit.Entries(MembershipJson.Parse(chain, "the published membership"), heldSerial, audit.Now, audit.Country)]);
        state.State.Membership = chain;
        await state.WriteStateAsync();
        logger.LogInformation("Directory relays membership record {Serial} of {Federation} ({Organisations} organisations)",
            offered.Serial, offered.Federation, offered.Organisations.Count());
        return offered.Serial;
    }

    public Task<byte[]?> GetMembership() => Task.FromResult(state.State.Membership);

    public async Task PublishDatasets(byte[] catalog)
    {
        var membership = Membership();
        try
        {
            var offered = DatasetCatalogJson.Parse(catalog, "the published datasets");
            DatasetCatalog.Verify(offered, membership);
            var held = state.State.Catalog is { } bytes ? DatasetCatalogJson.Parse(bytes, "the directory's catalog") : [];
            var replaced = offered.Select(e => (e.Entry.Organisation, e.Entry.Name)).ToHashSet();
            var merged = held.Where(e => !replaced.Contains((e.Entry.Organisation, e.Entry.Name))).Concat(offered).ToList();
            state.State.Catalog = DatasetCatalogJson.Write(merged);
        }
        catch (GovernanceException e)
        {
            throw new FederationOperationException("catalog.refused", e.Message);
        }
        await state.WriteStateAsync();
    }

    public Task<byte[]> GetCatalog() => Task.FromResult(state.State.Catalog ?? DatasetCatalogJson.Write([]));

    public Task<IReadOnlyList<ParticipantProfile>> GetParticipants()
    {
        if (state.State.Membership is null)
            return Task.FromResult<IReadOnlyList<ParticipantProfile>>([]);
        return Task.FromResult<IReadOnlyList<ParticipantProfile>>(Membership().Organisations.OrderBy(o => o.Id, StringComparer.Ordinal)
            .Select(o => new ParticipantProfile(o.Id, o.Country, o.Id[(o.Id.IndexOf('/') + 1)..], o.LegalName, [.. o.SigningKey]))
            .ToList());
    }

    // From its own state: a grain calling itself through the records service would wait on itself.
    private VerifiedMembership Membership() =>
        records.Verify(state.State.Membership ?? throw new FederationOperationException("membership.none",
            "The federation has no membership record yet: the operator has not published one."));

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
