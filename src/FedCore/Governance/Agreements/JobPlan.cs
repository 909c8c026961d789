using System.Collections.Immutable;
using FedCore.Learning;
using FedCore.Privacy;

namespace FedCore.Governance.Agreements;

/// <summary>An organisation taking part in a job with one of its datasets.</summary>
public sealed record PlannedParticipant(string Organisation, string Dataset);

/// <summary>
/// What a participant is asked to take part in, as the job's coordinator (untrusted) describes it; the participant
/// checks it against the agreement with <see cref="JobPlanCheck.Check"/> before it does anything for the job.
/// </summary>
/// <param name="UpdateBound">The bound the round's protection is built with (a double, as <c>CkksProtection</c> takes it).</param>
/// <param name="AggregatorCountry">ISO 3166-1 alpha-2 code of the country the updates are sent to.</param>
/// <param name="Self">The id of the participant running the check.</param>
/// <param name="Privacy">The DP-SGD the job trains with, or null for none.</param>
/// <param name="Training">The server strategy and the local learning rate the job trains with (null: not stated).</param>
public sealed record JobPlan(
    string JobId,
    string AgreementId,
    ImmutableArray<PlannedParticipant> Participants,
    ProtectionScheme Scheme,
    double UpdateBound,
    ModelKind ModelClass,
    string AggregatorCountry,
    string Self,
    DpSgdParameters? Privacy = null,
    TrainingPlan? Training = null);

/// <summary>How a job trains, as far as an agreement's <see cref="TrainingTerms"/> bound it.</summary>
public sealed record TrainingPlan(Aggregation.Strategies.StrategyOptions Strategy, double LearningRate);
