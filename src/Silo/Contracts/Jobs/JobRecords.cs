using Federation.Contracts.Participants;

namespace Federation.Contracts.Jobs;

/// <summary>One participant of a job and the dataset it trains on.</summary>
[GenerateSerializer, Immutable]
public sealed record JobParticipant(
    [property: Id(0)] string ParticipantId,
    [property: Id(1)] string DatasetName);

/// <summary>Server-side strategy: FedAvg, or an adaptive optimiser (Reddi et al. 2021) over the mean update.</summary>
[GenerateSerializer, Immutable]
public sealed record StrategySettings(
    [property: Id(0)] string Name,
    [property: Id(1)] double ServerLearningRate,
    [property: Id(2)] double Beta1,
    [property: Id(3)] double Beta2,
    [property: Id(4)] double Tau);

/// <summary>
/// A training job as planned: immutable once started. Its id is "&lt;aggregator country&gt;/&lt;name&gt;": the job grain runs,
/// and the updates go, only in that country; it runs under one active agreement, which every participant checks itself.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record JobSpecification(
    [property: Id(0)] string JobId,
    [property: Id(1)] string Name,
    [property: Id(2)] string ModelSpecJson,
    [property: Id(3)] IReadOnlyList<JobParticipant> Participants,
    [property: Id(4)] int Rounds,
    [property: Id(5)] StrategySettings Strategy,
    [property: Id(6)] LocalTrainingSettings Training,
    [property: Id(7)] double TrainFraction,
    [property: Id(8)] int Seed,
    [property: Id(9)] ProtectionSettings Protection,
    [property: Id(10)] string AgreementId);

public enum JobPhase
{
    Pending,
    Running,
    Completed,
    Failed,
}

[GenerateSerializer, Immutable]
public sealed record ParticipantRoundMetrics(
    [property: Id(0)] string ParticipantId,
    [property: Id(1)] int TrainSamples,
    [property: Id(2)] double MeanTrainLoss,
    [property: Id(3)] double TrainSeconds,
    [property: Id(4)] ModelMetrics Test,
    [property: Id(5)] int UpdateBytes,
    [property: Id(6)] double SealSeconds,
    [property: Id(7)] double CryptoCpuSeconds,
    [property: Id(8)] long ProtocolBytes);

/// <summary>
/// What one completed round produced: a new global model version and its metrics. <see cref="ProtocolRound"/> is the
/// round number the participants saw (a new one for every attempt: a participant seals once per protocol round);
/// <see cref="Dropouts"/> says who was left out of this round, and why; <see cref="AggregatorCpuSeconds"/> is the CPU time
/// of the job's own protocol work (checks, sums, opening) in the attempt that completed.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RoundSummary(
    [property: Id(0)] int Round,
    [property: Id(1)] int ModelVersion,
    [property: Id(2)] IReadOnlyList<ParticipantRoundMetrics> Participants,
    [property: Id(3)] double MeanLocalTestAccuracy,
    [property: Id(4)] double MeanLocalTestLoss,
    [property: Id(5)] double PooledTestAccuracy,
    [property: Id(6)] double Seconds,
    [property: Id(7)] DateTimeOffset CompletedAt,
    [property: Id(8)] IReadOnlyList<PhaseTiming> Phases,
    [property: Id(9)] int ProtocolRound,
    [property: Id(10)] IReadOnlyList<string> Dropouts,
    [property: Id(11)] double AggregatorCpuSeconds);

/// <summary>Wall time of one phase of a round, as the job saw it (e.g. "key", "train", "reveal-and-add", "decryption-shares", "open").</summary>
[GenerateSerializer, Immutable]
public sealed record PhaseTiming(
    [property: Id(0)] string Phase,
    [property: Id(1)] double Seconds);

[GenerateSerializer, Immutable]
public sealed record JobStatus(
    [property: Id(0)] string JobId,
    [property: Id(1)] string Name,
    [property: Id(2)] JobPhase Phase,
    [property: Id(3)] int CompletedRounds,
    [property: Id(4)] int TotalRounds,
    [property: Id(5)] IReadOnlyList<RoundSummary> Rounds,
    [property: Id(6)] string? Error,
    [property: Id(7)] DateTimeOffset CreatedAt,
    [property: Id(8)] DateTimeOffset UpdatedAt,
    [property: Id(9)] int LatestModelVersion,
    [property: Id(10)] IReadOnlyList<string> Notes,
    [property: Id(11)] IReadOnlyList<PolicyDecisionRecord> PolicyDecisions);

/// <summary>
/// A policy decision the job took before it ran something (the job itself, or one round), stored before it ran: allow or
/// deny, the policy set by hash, the reasons of a deny, and the SHA-256 of the whole decision as canonical JSON
/// (policies/README.md), which <c>ITrainingJobGrain.GetPolicyDecision</c> returns.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PolicyDecisionRecord(
    [property: Id(0)] int? Round,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] bool Allowed,
    [property: Id(3)] string PolicySetHash,
    [property: Id(4)] IReadOnlyList<string> DenyReasons,
    [property: Id(5)] string DecisionSha256);
