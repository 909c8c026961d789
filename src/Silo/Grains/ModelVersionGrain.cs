using Federation.Contracts.Errors;
using Federation.Contracts.Models;
using Federation.Silo.Hosting;

namespace Federation.Silo.Grains;

[GenerateSerializer]
public sealed class ModelVersionState
{
    [Id(0)]
    public ModelVersion? Version { get; set; }
}

/// <summary>
/// One global model version (key: <see cref="ModelVersionKey"/>). Only its job writes it, once per round; a
/// round interrupted after storing its model but before the job recorded it is run again and stores anew.
/// </summary>
public sealed class ModelVersionGrain(
    [PersistentState("model", StorageNames.Cluster)] IPersistentState<ModelVersionState> state) : Grain, IModelVersionGrain
{
    public async Task Store(ModelVersion version)
    {
        var expectedKey = ModelVersionKey.Format(version.JobId, version.Version);
        if (expectedKey != this.GetPrimaryKeyString())
            throw new FederationOperationException("model.key",
                $"Model version {expectedKey} cannot be stored under key '{this.GetPrimaryKeyString()}'.");
        if (state.State.Version?.ParametersSha256 == version.ParametersSha256)
            return;
        state.State.Version = version;
        await state.WriteStateAsync();
    }

    public Task<ModelVersion?> Get() => Task.FromResult(state.State.Version);
}
