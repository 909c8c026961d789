using Federation.Contracts.Transfer;

namespace Federation.Contracts.Participants;

/// <summary>Who a participant is and the public key it signs with. Travels freely: it holds no data.</summary>
[GenerateSerializer, Immutable]
public sealed record ParticipantProfile(
    [property: Id(0)] string Id,
    [property: Id(1)] string Country,
    [property: Id(2)] string Organisation,
    [property: Id(3)] string DisplayName,
    [property: Id(4)] byte[] SigningPublicKey);

/// <summary>
/// Asks a participant to register a CSV file that lies on its own silo. With <see cref="Catalog"/>, the participant also
/// signs a catalog entry for it (metadata only) and publishes it, so that agreements can name the dataset; with
/// <see cref="ExpectedSha256"/>, the file must have that hash (the data steward's attestation of which file it is).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record DatasetRegistration(
    [property: Id(0)] string Name,
    [property: Id(1)] string CsvPath,
    [property: Id(2)] string SchemaJson,
    [property: Id(3)] string SchemaSource,
    [property: Id(4)] DatasetCatalogDetails? Catalog = null,
    [property: Id(5)] string? ExpectedSha256 = null);

/// <summary>What the federation's catalog says of a dataset besides what the participant computes from the file itself.</summary>
[GenerateSerializer, Immutable]
public sealed record DatasetCatalogDetails(
    [property: Id(0)] string Description,
    [property: Id(1)] IReadOnlyList<string> Categories,
    [property: Id(2)] string Jurisdiction,
    [property: Id(3)] string Licence,
    [property: Id(4)] string PrivacyUnit,
    [property: Id(5)] decimal EpsilonCap);

/// <summary>An organisation's entry in the federation's membership, as its admin gives it: legal name and members with roles.</summary>
[GenerateSerializer, Immutable]
public sealed record OrganisationDetails(
    [property: Id(0)] string LegalName,
    [property: Id(1)] IReadOnlyList<MemberDetails> Members);

/// <summary>A person of an organisation in one role: organisation-admin, data-steward, data-scientist or auditor.</summary>
[GenerateSerializer, Immutable]
public sealed record MemberDetails(
    [property: Id(0)] string Name,
    [property: Id(1)] string Role);

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

/// <summary>
/// Per-feature count, sums and sums of squares of a participant's training rows; <see cref="Statement"/> is the same,
/// signed by the participant for the job (FedCore's SignedMoments), from which every party derives the job's scaling.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record FeatureMomentsMessage(
    [property: Id(0)] string[] FeatureNames,
    [property: Id(1)] long Count,
    [property: Id(2)] double[] Sum,
    [property: Id(3)] double[] SumOfSquares,
    [property: Id(4)] SignedPayload? Statement = null);

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
    [property: Id(6)] double ProximalMu,
    [property: Id(7)] PrivacySettings? Privacy = null);

/// <summary>A dataset's privacy ledger in figures: its DP rounds, its rounds without DP, the ε they spent at δ, and its own cap.</summary>
[GenerateSerializer, Immutable]
public sealed record PrivacyBudgetSummary(
    [property: Id(0)] string Dataset,
    [property: Id(1)] int PrivateRounds,
    [property: Id(2)] int UnprotectedRounds,
    [property: Id(3)] double Epsilon,
    [property: Id(4)] double Delta,
    [property: Id(5)] decimal? EpsilonCap);

/// <summary>DP-SGD: each row's gradient clipped to the norm, Gaussian noise of the multiplier times it, ε stated at δ.</summary>
[GenerateSerializer, Immutable]
public sealed record PrivacySettings(
    [property: Id(0)] double ClippingNorm,
    [property: Id(1)] double NoiseMultiplier,
    [property: Id(2)] double Delta);

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
/// Asks a participant to take part in a job (its id is "&lt;aggregator country&gt;/&lt;name&gt;": the job runs, and the updates
/// go, only in that country). The participant checks the plan against the agreement it cites, as it reads and verifies
/// it itself, and pins the terms in its own country's storage, with how it trains (model, local training, split, seed):
/// every later request is judged against what it pinned, never against what a request says (FedCore/Rounds/README.md).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record JobInvitation(
    [property: Id(0)] string JobId,
    [property: Id(1)] string AgreementId,
    [property: Id(2)] IReadOnlyList<Jobs.JobParticipant> Participants,
    [property: Id(3)] ProtectionSettings Protection,
    [property: Id(4)] string ModelSpecJson,
    [property: Id(5)] LocalTrainingSettings Training,
    [property: Id(6)] double TrainFraction,
    [property: Id(7)] int Seed,
    [property: Id(8)] Jobs.StrategySettings? Strategy = null);

/// <summary>Step 7 of the round protocol: the SHA-256 of the round's opened plaintext.</summary>
[GenerateSerializer, Immutable]
public sealed record RoundOpeningCheckRequest(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] byte[] OpenedDigest);

/// <summary>
/// How a model version was opened: the protocol round, its members, the opened plaintext, and every member's signed part
/// commitment, step-7 answer (nonce and fingerprint) and opened leaves (FedCore/Rounds/README.md, steps 6–8).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ModelOpening(
    [property: Id(0)] int Round,
    [property: Id(1)] IReadOnlyList<string> Participants,
    [property: Id(2)] Transfer.Payload Opened,
    [property: Id(3)] IReadOnlyList<SignedPayload> Fingerprints,
    [property: Id(4)] IReadOnlyList<SignedPayload> PartCommitments,
    [property: Id(5)] IReadOnlyList<SignedPayload> OpenedLeaves);

/// <summary>Step 6b: every member's signed part commitment; the participant answers with its part.</summary>
[GenerateSerializer, Immutable]
public sealed record RoundPartRevealRequest(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] IReadOnlyList<SignedPayload> PartCommitments);

/// <summary>A participant's part of the opening (its bytes in <see cref="PartBytes"/>; the signature over them in <see cref="Part"/>, whose payload is left empty).</summary>
[GenerateSerializer, Immutable]
public sealed record PartReply(
    [property: Id(0)] SignedPayload Part,
    [property: Id(1)] Payload PartBytes);

/// <summary>Step 7b: every member's signed step-7 answer; the participant opens its part at the spot checks they draw.</summary>
[GenerateSerializer, Immutable]
public sealed record RoundSpotCheckRequest(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] IReadOnlyList<SignedPayload> OpeningFingerprints);

/// <summary>
/// Step 8 (or a party catching up): the opening that made version <paramref name="FromVersion"/> + 1, and version
/// <paramref name="FromVersion"/>'s model and optimiser moments, from which the party computes the next itself.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ModelChainAdvance(
    [property: Id(0)] string JobId,
    [property: Id(1)] int FromVersion,
    [property: Id(2)] ModelOpening Opening,
    [property: Id(3)] Transfer.Payload Global,
    [property: Id(4)] Transfer.Payload? FirstMoment,
    [property: Id(5)] Transfer.Payload? SecondMoment);


/// <summary>Step 1: make a key share for a round over its members.</summary>
[GenerateSerializer, Immutable]
public sealed record RoundKeyRequest(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] IReadOnlyList<string> Participants);

/// <summary>Step 2: every member's signed key commitment.</summary>
[GenerateSerializer, Immutable]
public sealed record RoundKeyRevealRequest(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] IReadOnlyList<SignedPayload> Commitments);

/// <summary>A member's signed key statement and its public key share.</summary>
[GenerateSerializer, Immutable]
public sealed record RoundKeyReveal(
    [property: Id(0)] SignedPayload Statement,
    [property: Id(1)] byte[] PublicShare);

/// <summary>
/// Step 3: every member's signed statement and public key share, from which each member sums the round key itself, and
/// the digest of the round's plan (FedCore.Rounds.RoundPlan). The shares travel as one payload, one after another in
/// member order (<see cref="JoinShares"/>): 56 KB each, they outgrow one message at about a thousand members.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RoundKeyCheckRequest(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] Payload PublicShares,
    [property: Id(3)] IReadOnlyList<SignedPayload> Statements,
    [property: Id(4)] byte[] PlanDigest)
{
    public static byte[] JoinShares(IReadOnlyList<byte[]> shares) => [.. shares.SelectMany(s => s)];

    /// <summary>The joined shares cut into one per statement, all of one length (a parameter set's shares are).</summary>
    public IReadOnlyList<byte[]> SplitShares(byte[] joined)
    {
        int members = Statements.Count;
        if (members == 0 || joined.Length % members != 0)
            throw new Errors.FederationOperationException("round.refused",
                $"Job {JobId} round {Round}: {joined.Length} bytes of public key shares do not split into one share for each of {members} statements.");
        int length = joined.Length / members;
        return [.. Enumerable.Range(0, members).Select(i => joined[(i * length)..((i + 1) * length)])];
    }
}

/// <summary>
/// Step 4: the round's plan (global model and version, feature scaling, weight normaliser: each member's update is its
/// pinned training from it, weighted by its samples over the normaliser) and every member's signed key acceptance (empty
/// in the plaintext simulation), which it checks, against the plan too, before it trains.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RoundAssignment(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] int GlobalVersion,
    [property: Id(3)] Payload GlobalParameters,
    [property: Id(4)] FeatureScalingMessage Scaling,
    [property: Id(5)] double WeightNormaliser,
    [property: Id(6)] IReadOnlyList<string> Participants,
    [property: Id(7)] IReadOnlyList<SignedPayload> KeyAcceptances);

/// <summary>Step 5: the aggregate's masks and every member's signed commitment.</summary>
[GenerateSerializer, Immutable]
public sealed record RoundAggregateCheckRequest(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] Payload AggregateMasks,
    [property: Id(3)] IReadOnlyList<SignedPayload> Commitments);

/// <summary>Step 6: every member's signed aggregate fingerprint, and optionally step 1 of the next round.</summary>
[GenerateSerializer, Immutable]
public sealed record DecryptionRequest(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] IReadOnlyList<SignedPayload> AggregateFingerprints,
    [property: Id(3)] RoundKeyRequest? NextRound = null);

/// <summary>
/// A participant's signed commitment to its part of the opening and, if asked for, its signed key commitment for the next
/// round; with the CPU seconds it spent on the round's cryptography (for benchmarks).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record DecryptionReply(
    [property: Id(0)] SignedPayload PartCommitment,
    [property: Id(1)] SignedPayload? NextRoundCommitment,
    [property: Id(2)] double CryptoCpuSeconds);

/// <summary>
/// Something a participant sends out of its country for a round, signed by it (ECDSA P-256 over the purpose, job, round,
/// participant, scheme and payload hash). The payload is opaque to everyone but the protocol (FedCore.Rounds).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SignedPayload(
    [property: Id(0)] string ParticipantId,
    [property: Id(1)] string JobId,
    [property: Id(2)] int Round,
    [property: Id(3)] string Scheme,
    [property: Id(4)] byte[] Payload,
    [property: Id(5)] byte[] Signature);

/// <summary>A participant's round result: its sealed update, the signed commitment to it, and what it reports of its training.</summary>
[GenerateSerializer, Immutable]
public sealed record LocalTrainingReport(
    [property: Id(0)] string ParticipantId,
    [property: Id(1)] int Round,
    [property: Id(2)] int TrainSamples,
    [property: Id(3)] double MeanTrainLoss,
    [property: Id(4)] Payload SealedUpdate,
    [property: Id(5)] SignedPayload Commitment,
    [property: Id(6)] double TrainSeconds,
    [property: Id(7)] double SealSeconds);

/// <summary>Asks a participant to score a global model version of a job it accepted on its own test split (model and split as it pinned them).</summary>
[GenerateSerializer, Immutable]
public sealed record EvaluationAssignment(
    [property: Id(0)] string JobId,
    [property: Id(1)] int GlobalVersion,
    [property: Id(2)] Payload Parameters,
    [property: Id(3)] FeatureScalingMessage Scaling);
