namespace FedCore.Audit.Entries;

/// <summary>
/// Every kind of event the audit log records: a closed set. Each kind's wire name (<c>job.started</c>), the actors that
/// may record it and its fields are in one table, <see cref="AuditSchema"/>; the entries are made by <see cref="AuditEvents"/>.
/// </summary>
public enum AuditEventKind
{
    OrganisationAdmitted,
    OrganisationChanged,
    OrganisationRemoved,
    MembershipIssued,
    DatasetRegistered,
    AgreementDrafted,
    AgreementProposed,
    AgreementSigned,
    AgreementActivated,
    AgreementSuspended,
    AgreementResumed,
    AgreementTerminated,
    AgreementExpired,
    PolicySetLoaded,
    PolicyDecided,
    JobStarted,
    JobFinished,
    RoundStarted,
    RoundFinished,
    ParticipantConsented,
    ParticipantRefused,
    ParticipantJoined,
    ParticipantDropped,
    RoundKey,
    UpdateSealed,
    ModelVersion,
    PrivacyReserved,
    ModelExported,
    PredictionsMade,
    ModelExplained,
    SignedIn,
    AccessDenied,
}

/// <summary>How a model's features were weighed. Wire: permutation.</summary>
public enum ExplanationMethod
{
    /// <summary>Permutation importance: the drop in accuracy when one feature's column is shuffled, on each participant's own test split, summed.</summary>
    Permutation,
}

/// <summary>What a policy decision was taken on. Wire: job, round-attempt, participant-step.</summary>
public enum DecisionSubject
{
    /// <summary>The job's plan as a whole, before it starts.</summary>
    Job,
    /// <summary>One attempt at a model round.</summary>
    RoundAttempt,
    /// <summary>A participant's step that sends something of its rows (train, help decrypt, …), decided under its own law.</summary>
    ParticipantStep,
}

/// <summary>A policy decision's effect. Wire: allow, deny.</summary>
public enum DecisionEffect
{
    Allow,
    Deny,
}

/// <summary>How a job ended. Wire: completed, failed, cancelled.</summary>
public enum JobOutcome
{
    Completed,
    Failed,
    Cancelled,
}

/// <summary>How a round (one attempt) ended. Wire: completed, failed, abandoned.</summary>
public enum RoundOutcome
{
    Completed,
    Failed,
    /// <summary>Given up for a new attempt (members unreachable) or when the job stopped.</summary>
    Abandoned,
}
