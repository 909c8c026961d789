using Federation.Contracts.Participants;
using Federation.Contracts.Transfer;

namespace Federation.Contracts.Models;

/// <summary>
/// One global model version. Version 0 is the initial model; version r the model after round r.
/// The server optimiser's moments travel with it so that a resumed job continues exactly. The vectors are payloads of
/// <see cref="FloatBytes"/>: a large model moves in chunks. <see cref="Lineage"/> says what made it (null for versions
/// stored before lineage was kept). <see cref="Opening"/> is how it was opened (null for version 0 and the simulation): what a
/// participant needs to advance its model chain to it.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ModelVersion(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Version,
    [property: Id(2)] Payload Parameters,
    [property: Id(3)] Payload? FirstMoment,
    [property: Id(4)] Payload? SecondMoment,
    [property: Id(5)] string ParametersSha256,
    [property: Id(6)] DateTimeOffset CreatedAt,
    [property: Id(7)] ModelLineage? Lineage = null,
    [property: Id(8)] ModelOpening? Opening = null);

/// <summary>
/// Where a model version comes from, besides its job and version: the agreement the job ran under (id and terms digest),
/// the model spec, the federation-wide feature scaling its inputs need, every participant's dataset (by id and the file's
/// SHA-256 and schema hash, as the verified catalog gave them when the job started) and the participants whose updates
/// made this version (every participant for version 0, the initial model).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ModelLineage(
    [property: Id(0)] string AgreementId,
    [property: Id(1)] string TermsDigest,
    [property: Id(2)] string ModelSpecJson,
    [property: Id(3)] FeatureScalingMessage Scaling,
    [property: Id(4)] IReadOnlyList<ModelDataset> Datasets,
    [property: Id(5)] IReadOnlyList<string> RoundMembers);

/// <summary>A participant's dataset as the federation's catalog describes it.</summary>
[GenerateSerializer, Immutable]
public sealed record ModelDataset(
    [property: Id(0)] string ParticipantId,
    [property: Id(1)] string DatasetName,
    [property: Id(2)] string FileSha256,
    [property: Id(3)] string SchemaHash);

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
