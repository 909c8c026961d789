using Federation.Contracts.Errors;
using Federation.Contracts.Models;
using Federation.Silo.Hosting;
using Federation.Silo.Transfer;

namespace Federation.Silo.Grains;

[GenerateSerializer]
public sealed class ModelVersionState
{
    [Id(1)]
    public StoredModelVersion? Version { get; set; }
}

/// <summary>A model version as stored: the vectors as bytes (<see cref="Federation.Contracts.Transfer.FloatBytes"/>).</summary>
[GenerateSerializer, Immutable]
public sealed record StoredModelVersion(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Version,
    [property: Id(2)] byte[] Parameters,
    [property: Id(3)] byte[]? FirstMoment,
    [property: Id(4)] byte[]? SecondMoment,
    [property: Id(5)] string ParametersSha256,
    [property: Id(6)] DateTimeOffset CreatedAt,
    [property: Id(7)] ModelLineage? Lineage,
    [property: Id(8)] StoredOpening? Opening = null);

/// <summary>A version's <see cref="Federation.Contracts.Participants.ModelOpening"/> as stored: the opened plaintext as bytes.</summary>
[GenerateSerializer, Immutable]
public sealed record StoredOpening(
    [property: Id(0)] int Round,
    [property: Id(1)] IReadOnlyList<string> Participants,
    [property: Id(2)] byte[] Opened,
    [property: Id(3)] IReadOnlyList<Federation.Contracts.Participants.SignedPayload> Fingerprints,
    [property: Id(4)] IReadOnlyList<Federation.Contracts.Participants.SignedPayload> PartCommitments,
    [property: Id(5)] IReadOnlyList<Federation.Contracts.Participants.SignedPayload> OpenedLeaves);

/// <summary>
/// One global model version (key: <see cref="ModelVersionKey"/>). Only its job writes it, once per round. Under encryption
/// it keeps the opening it was made from, which parties that missed the round advance their model chains by; a round
/// interrupted after storing its model is taken up by the job as it is (parties may stand on it already). In the
/// simulation such a round is run again and stores anew.
/// </summary>
public sealed class ModelVersionGrain(
    [PersistentState("model", StorageNames.Cluster)] IPersistentState<ModelVersionState> state,
    PayloadTransfers transfers) : Grain, IModelVersionGrain
{
    public async Task Store(ModelVersion version)
    {
        var expectedKey = ModelVersionKey.Format(version.JobId, version.Version);
        if (expectedKey != this.GetPrimaryKeyString())
            throw new FederationOperationException("model.key",
                $"Model version {expectedKey} cannot be stored under key '{this.GetPrimaryKeyString()}'.");
        byte[]? Take(Federation.Contracts.Transfer.Payload? payload) => payload is null ? null : transfers.Take(GrainContext, payload);
        var opening = version.Opening is { } o ? new StoredOpening(o.Round, o.Participants, Take(o.Opened)!, o.Fingerprints, o.PartCommitments, o.OpenedLeaves) : null;
        var stored = new StoredModelVersion(version.JobId, version.Version, Take(version.Parameters)!, Take(version.FirstMoment), Take(version.SecondMoment),
            version.ParametersSha256, version.CreatedAt, version.Lineage, opening);
        if (state.State.Version?.ParametersSha256 == version.ParametersSha256)
            return;
        state.State.Version = stored;
        await state.WriteStateAsync();
    }

    public Task<ModelVersion?> Get()
    {
        if (state.State.Version is not { } v)
            return Task.FromResult<ModelVersion?>(null);
        Federation.Contracts.Transfer.Payload? Offer(byte[]? bytes) => bytes is null ? null : transfers.Offer(GrainContext, bytes);
        return Task.FromResult<ModelVersion?>(new ModelVersion(v.JobId, v.Version, Offer(v.Parameters)!, Offer(v.FirstMoment), Offer(v.SecondMoment),
            v.ParametersSha256, v.CreatedAt, v.Lineage, v.Opening is { } o ? new Federation.Contracts.Participants.ModelOpening(o.Round, o.Participants, Offer(o.Opened)!, o.Fingerprints, o.PartCommitments, o.OpenedLeaves) : null));
    }
}
