using System.Collections.Immutable;

namespace FedCore.Policy.Plans;

/// <summary>How updates are protected on their way to the aggregator. JSON: <c>ckks</c>, <c>plaintext-simulation</c>, <c>none</c>.</summary>
public enum PlanProtection
{
    Ckks,
    PlaintextSimulation,
    None,
}

/// <summary>
/// The facts the policy engine decides on: one job (or one round of it) with its participants, datasets, agreement,
/// protection, DP parameters and destinations. Built in code from a job, its agreement and the catalog, or read from
/// JSON by <see cref="PolicyPlanJson"/>. Optional facts are null when not known; a rule that needs one is
/// undetermined, which denies (policies/README.md, "Closed world").
/// </summary>
/// <param name="At">When the plan is evaluated: rules in force on this UTC day apply.</param>
/// <param name="Round">The round about to run; null before the job starts.</param>
/// <param name="Recurring">More than one round, or a job that repeats.</param>
/// <param name="Strategy">The server strategy; null where whoever builds the plan is not told it (a participant).</param>
/// <param name="MinParticipants">The job's minimum participants per round.</param>
/// <param name="Dp">Differential privacy; null means none (<c>dp.enabled</c> false).</param>
/// <param name="UpdateDestinations">Where model updates go (the aggregator's country, and who receives there).</param>
/// <param name="FinalModelDestinations">Where the final model goes.</param>
public sealed record PolicyPlan(
    DateTimeOffset At,
    string JobId,
    string Purpose,
    int? Round,
    bool Recurring,
    string ModelClass,
    string? Strategy,
    int MinParticipants,
    ImmutableArray<PlanParticipant> Participants,
    PlanAgreement Agreement,
    PlanProtection Protection,
    PlanDifferentialPrivacy? Dp,
    ImmutableArray<PlanRecipient> UpdateDestinations,
    ImmutableArray<PlanRecipient> FinalModelDestinations)
{
    /// <summary>The most rows a plan file may give a dataset: more than any dataset has, and summed they stay exact.</summary>
    public const long MaxRows = 1_000_000_000_000;
}

/// <summary>An organisation taking part, in its country, with the datasets it trains on.</summary>
/// <param name="Sector">commercial, public, non-profit, …; null when not known.</param>
/// <param name="Certifications">Certifications it holds: eu-us-dpf, pipl-certification, …</param>
/// <param name="Attestations">Consents and other attestations it gives: pipl-separate-consent, gdpr-art9-explicit-consent, …</param>
public sealed record PlanParticipant(
    string Organisation,
    string Country,
    string? Sector,
    ImmutableArray<string> Certifications,
    ImmutableArray<string> Attestations,
    ImmutableArray<PlanDataset> Datasets);

/// <param name="Categories">health, genetic, biometric, financial, …</param>
/// <param name="PrivacyUnit">What one DP unit protects (person, record); null when not known.</param>
/// <param name="EpsilonCap">The dataset's own ε budget; null when it has none recorded.</param>
/// <param name="EpsilonSpent">ε already spent from the dataset's ledger; null when not known.</param>
public sealed record PlanDataset(
    string Id,
    ImmutableArray<string> Categories,
    long Rows,
    string? PrivacyUnit,
    decimal? EpsilonCap,
    decimal? EpsilonSpent);

/// <summary>The terms of the agreement the job runs under that policies read.</summary>
/// <param name="EpsilonCap">The agreement's DP cap per dataset; null when the agreement has no DP terms.</param>
/// <param name="Simulation">The agreement is marked for simulation: rehearsals on synthetic data, where updates may travel in plaintext.</param>
public sealed record PlanAgreement(
    string Id,
    int MinParticipants,
    decimal? EpsilonCap,
    decimal? Delta,
    ImmutableArray<string> UpdateDestinations,
    ImmutableArray<string> FinalModelDestinations,
    ImmutableArray<PlanTransferMechanism> TransferMechanisms,
    bool Simulation = false);

/// <summary>A transfer mechanism the agreement puts in place from one country to another (eu-scc-2021, bcr, pipl-standard-contract, …).</summary>
public sealed record PlanTransferMechanism(string From, string To, string Mechanism, bool TransferImpactAssessment);

public sealed record PlanDifferentialPrivacy(bool Enabled, decimal? Epsilon, decimal? Delta, decimal? NoiseMultiplier, decimal? ClippingNorm);

/// <summary>Who receives in a destination country. Only the country may be known; rules reading the rest are then undetermined.</summary>
public sealed record PlanRecipient(string Country, string? Organisation, string? Sector, ImmutableArray<string> Certifications)
{
    public static PlanRecipient InCountry(string country) => new(country, null, null, []);
}
