namespace Federation.Contracts.Participants;

/// <summary>Who a participant is. Travels freely: it holds no data.</summary>
[GenerateSerializer, Immutable]
public sealed record ParticipantProfile(
    [property: Id(0)] string Id,
    [property: Id(1)] string Country,
    [property: Id(2)] string Organisation,
    [property: Id(3)] string DisplayName);

/// <summary>Asks a participant to register a CSV file that lies on its own silo.</summary>
[GenerateSerializer, Immutable]
public sealed record DatasetRegistration(
    [property: Id(0)] string Name,
    [property: Id(1)] string CsvPath,
    [property: Id(2)] string SchemaJson,
    [property: Id(3)] string SchemaSource);

/// <summary>What leaves the participant about a dataset: metadata, never rows.</summary>
[GenerateSerializer, Immutable]
public sealed record DatasetSummary(
    [property: Id(0)] string Name,
    [property: Id(1)] string FileName,
    [property: Id(2)] long RowCount,
    [property: Id(3)] long RawRowCount,
    [property: Id(4)] long DroppedRowCount,
    [property: Id(5)] IReadOnlyList<string> FeatureNames,
    [property: Id(6)] string SchemaHash,
    [property: Id(7)] string FileSha256,
    [property: Id(8)] DateTimeOffset RegisteredAt);

/// <summary>How a participant divides its dataset for a job (the same split in every round).</summary>
[GenerateSerializer, Immutable]
public sealed record DataSplit(
    [property: Id(0)] string DatasetName,
    [property: Id(1)] double TrainFraction,
    [property: Id(2)] int Seed);

/// <summary>Per-feature count, sums and sums of squares of a participant's training rows.</summary>
[GenerateSerializer, Immutable]
public sealed record FeatureMomentsMessage(
    [property: Id(0)] string[] FeatureNames,
    [property: Id(1)] long Count,
    [property: Id(2)] double[] Sum,
    [property: Id(3)] double[] SumOfSquares);

/// <summary>Federation-wide standardisation, computed from every participant's moments.</summary>
[GenerateSerializer, Immutable]
public sealed record FeatureScalingMessage(
    [property: Id(0)] string[] FeatureNames,
    [property: Id(1)] double[] Mean,
    [property: Id(2)] double[] StandardDeviation);

[GenerateSerializer, Immutable]
public sealed record LocalTrainingSettings(
    [property: Id(0)] int Epochs,
    [property: Id(1)] int BatchSize,
    [property: Id(2)] string Optimizer,
    [property: Id(3)] double LearningRate,
    [property: Id(4)] double Momentum,
    [property: Id(5)] double WeightDecay,
    [property: Id(6)] double ProximalMu);

[GenerateSerializer, Immutable]
public sealed record ModelMetrics(
    [property: Id(0)] double Loss,
    [property: Id(1)] double? Accuracy,
    [property: Id(2)] double? Auc,
    [property: Id(3)] int Samples);

/// <summary>Everything a participant needs to train one round from the current global model.</summary>
[GenerateSerializer, Immutable]
public sealed record RoundAssignment(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] int GlobalVersion,
    [property: Id(3)] float[] GlobalParameters,
    [property: Id(4)] string ModelSpecJson,
    [property: Id(5)] LocalTrainingSettings Training,
    [property: Id(6)] DataSplit Split,
    [property: Id(7)] FeatureScalingMessage Scaling,
    [property: Id(8)] int Seed,
    [property: Id(9)] double WeightNormaliser,
    [property: Id(10)] string ProtectionScheme);

/// <summary>
/// A participant's model update as it leaves the participant: sealed by the update protection scheme
/// (plaintext only in the logged simulation mode). The payload is opaque to everyone but that scheme.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SealedUpdate(
    [property: Id(0)] string ParticipantId,
    [property: Id(1)] string JobId,
    [property: Id(2)] int Round,
    [property: Id(3)] string Scheme,
    [property: Id(4)] byte[] Payload);

[GenerateSerializer, Immutable]
public sealed record LocalTrainingReport(
    [property: Id(0)] string ParticipantId,
    [property: Id(1)] int Round,
    [property: Id(2)] int TrainSamples,
    [property: Id(3)] double MeanTrainLoss,
    [property: Id(4)] SealedUpdate Update,
    [property: Id(5)] double TrainSeconds);

/// <summary>Asks a participant to score a global model version on its own test split.</summary>
[GenerateSerializer, Immutable]
public sealed record EvaluationAssignment(
    [property: Id(0)] string JobId,
    [property: Id(1)] int GlobalVersion,
    [property: Id(2)] float[] Parameters,
    [property: Id(3)] string ModelSpecJson,
    [property: Id(4)] DataSplit Split,
    [property: Id(5)] FeatureScalingMessage Scaling);
