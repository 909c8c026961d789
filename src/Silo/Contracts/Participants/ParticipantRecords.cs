namespace Federation.Contracts.Participants;

/// <summary>Who a participant is and the public key it signs with. Travels freely: it holds no data.</summary>
[GenerateSerializer, Immutable]
public sealed record ParticipantProfile(
    [property: Id(0)] string Id,
    [property: Id(1)] string Country,
    [property: Id(2)] string Organisation,
    [property: Id(3)] string DisplayName,
    [property: Id(4)] byte[] SigningPublicKey);

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

/// <summary>How a job's updates are protected: the scheme ("ckks", or "plaintext-simulation") and the bound on update values.</summary>
[GenerateSerializer, Immutable]
public sealed record ProtectionSettings(
    [property: Id(0)] string Scheme,
    [property: Id(1)] double UpdateBound);

/// <summary>
/// Asks a participant to make its share of a round's key over the public round seed and commit to it: the reply is the
/// signed SHA-256 of its public share; the share itself comes with <see cref="RoundKeyRevealRequest"/>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RoundKeyRequest(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] ProtectionSettings Protection,
    [property: Id(3)] byte[] RoundSeed);

/// <summary>
/// Shows a participant every participant's signed key-share digest for a round and asks for its public key share.
/// Commit, then reveal: no key share can be chosen to cancel another's (a rogue key whose secret its maker knows).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RoundKeyRevealRequest(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] ProtectionSettings Protection,
    [property: Id(3)] IReadOnlyList<SignedPayload> Digests);

/// <summary>
/// Everything a participant needs to train one round from the current global model. Under a scheme that protects
/// updates, <see cref="RoundKeyShares"/> are every participant's signed public key share for the round: the participant
/// combines the round key from them itself, after checking them against the digests it saw before it revealed its own.
/// </summary>
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
    [property: Id(10)] ProtectionSettings Protection,
    [property: Id(11)] IReadOnlyList<SignedPayload> RoundKeyShares);

/// <summary>
/// Shows a participant every participant's signed commitment digest and asks for its sealed update. Commit, then
/// reveal: no update, and no commitment, can be chosen after seeing another participant's.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RevealRequest(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] ProtectionSettings Protection,
    [property: Id(3)] IReadOnlyList<SignedPayload> Digests);

/// <summary>A participant's sealed update and, signed, its commitment to it (whose SHA-256 it committed to before).</summary>
[GenerateSerializer, Immutable]
public sealed record RevealedUpdate(
    [property: Id(0)] byte[] SealedUpdate,
    [property: Id(1)] SignedPayload Commitment);

/// <summary>
/// Asks a participant for its decryption share of a round's aggregate: what the scheme shows of the aggregate (for
/// ckks, its masks — the c1 halves, all a share depends on) and the signed commitments of the updates it claims to sum.
/// The participant decrypts under the round key it checked when it sealed its update, never one it is sent.
/// With <see cref="NextRoundSeed"/> it also makes its key share for the next round and commits to it in the same call,
/// which saves the next round a message exchange.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record DecryptionRequest(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] ProtectionSettings Protection,
    [property: Id(3)] byte[] Aggregate,
    [property: Id(4)] IReadOnlyList<SignedPayload> Commitments,
    [property: Id(5)] byte[]? NextRoundSeed = null);

/// <summary>A participant's signed decryption share and, if asked for, the signed digest of its key share for the next round.</summary>
[GenerateSerializer, Immutable]
public sealed record DecryptionReply(
    [property: Id(0)] SignedPayload Share,
    [property: Id(1)] SignedPayload? NextRoundKeyDigest);

/// <summary>
/// Something a participant sends out of its country for a round — a key share or its digest, the commitment to a
/// sealed update or its digest, a decryption share — signed by it (ECDSA P-256 over the purpose, job, round, participant, scheme and payload hash).
/// The payload is opaque to everyone but the protection scheme.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SignedPayload(
    [property: Id(0)] string ParticipantId,
    [property: Id(1)] string JobId,
    [property: Id(2)] int Round,
    [property: Id(3)] string Scheme,
    [property: Id(4)] byte[] Payload,
    [property: Id(5)] byte[] Signature);

/// <summary>
/// A participant's round result. Under a scheme that protects updates it is only a commitment — the signed SHA-256
/// of the commitment to its sealed update — and the update itself comes with <see cref="RevealedUpdate"/> once
/// every participant has committed; under the plaintext simulation it is the sealed update and its signed commitment.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LocalTrainingReport(
    [property: Id(0)] string ParticipantId,
    [property: Id(1)] int Round,
    [property: Id(2)] int TrainSamples,
    [property: Id(3)] double MeanTrainLoss,
    [property: Id(4)] byte[] SealedUpdate,
    [property: Id(5)] SignedPayload Commitment,
    [property: Id(6)] double TrainSeconds,
    [property: Id(7)] double SealSeconds);

/// <summary>Asks a participant to score a global model version on its own test split.</summary>
[GenerateSerializer, Immutable]
public sealed record EvaluationAssignment(
    [property: Id(0)] string JobId,
    [property: Id(1)] int GlobalVersion,
    [property: Id(2)] float[] Parameters,
    [property: Id(3)] string ModelSpecJson,
    [property: Id(4)] DataSplit Split,
    [property: Id(5)] FeatureScalingMessage Scaling);
