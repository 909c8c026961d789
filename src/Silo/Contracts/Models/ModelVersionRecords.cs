using Federation.Contracts.Transfer;

namespace Federation.Contracts.Models;

/// <summary>
/// One global model version. Version 0 is the initial model; version r the model after round r.
/// The server optimiser's moments travel with it so that a resumed job continues exactly. The vectors are payloads of
/// <see cref="FloatBytes"/>: a large model moves in chunks.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ModelVersion(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Version,
    [property: Id(2)] Payload Parameters,
    [property: Id(3)] Payload? FirstMoment,
    [property: Id(4)] Payload? SecondMoment,
    [property: Id(5)] string ParametersSha256,
    [property: Id(6)] DateTimeOffset CreatedAt);

public interface IModelVersionGrain : IGrainWithStringKey
{
    /// <summary>Stores the version; a round that is redone after a failure may store it again with other parameters.</summary>
    Task Store(ModelVersion version);

    Task<ModelVersion?> Get();
}

public static class ModelVersionKey
{
    public static string Format(string jobId, int version) => $"{jobId}@v{version}";
}
