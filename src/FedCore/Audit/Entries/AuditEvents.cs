using FedCore.Governance.Agreements;

namespace FedCore.Audit.Entries;

/// <summary>
/// One factory per <see cref="AuditEventKind"/>, so that no caller builds a field map by hand. Each is a thin call
/// through <see cref="AuditSchema"/>: the table checks types, ranges, words and actors (once, for all kinds). Every
/// factory takes the time (truncated to the millisecond and taken to UTC), the actor and the country where it happened,
/// then the kind's fields; a null optional argument leaves the field out. Bytes enter only as <see cref="AuditDigest"/>s
/// (compute one with <see cref="AuditDigest.Hash"/>, e.g. a key's fingerprint from its public key).
/// </summary>
/// <remarks>Every problem throws an <see cref="AuditEntryException"/> naming the kind and the field.</remarks>
public static class AuditEvents
{
    private static AuditEntry Make(AuditEventKind kind, DateTimeOffset time, AuditActor actor, string country, params (string, object?)[] fields) =>
        AuditEntry.FromValues(kind, time, actor, country, fields);

    // ---- Membership -----------------------------------------------------------------------------------------------

    /// <param name="keyFingerprint">SHA-256 of the organisation's public signing key (SubjectPublicKeyInfo DER), never the key.</param>
    /// <param name="entryDigest">SHA-256 of the organisation's signed entry as the membership record holds it.</param>
    public static AuditEntry OrganisationAdmitted(DateTimeOffset time, AuditActor actor, string country,
        string organisation, long serial, AuditDigest keyFingerprint, int members, AuditDigest entryDigest) =>
        Make(AuditEventKind.OrganisationAdmitted, time, actor, country,
            ("organisation", organisation), ("serial", serial), ("keyFingerprint", keyFingerprint), ("members", members), ("entryDigest", entryDigest));

    public static AuditEntry OrganisationChanged(DateTimeOffset time, AuditActor actor, string country,
        string organisation, long serial, AuditDigest keyFingerprint, int members, bool keyChanged, bool membersChanged, AuditDigest entryDigest) =>
        Make(AuditEventKind.OrganisationChanged, time, actor, country,
            ("organisation", organisation), ("serial", serial), ("keyFingerprint", keyFingerprint), ("members", members),
            ("keyChanged", keyChanged), ("membersChanged", membersChanged), ("entryDigest", entryDigest));

    public static AuditEntry OrganisationRemoved(DateTimeOffset time, AuditActor actor, string country,
        string organisation, AuditDigest removalDigest, string? reason = null) =>
        Make(AuditEventKind.OrganisationRemoved, time, actor, country,
            ("organisation", organisation), ("removalDigest", removalDigest), ("reason", reason));

    /// <param name="recordDigest">SHA-256 of the signed membership record.</param>
    public static AuditEntry MembershipIssued(DateTimeOffset time, AuditActor actor, string country,
        long serial, AuditDigest recordDigest, int organisations) =>
        Make(AuditEventKind.MembershipIssued, time, actor, country,
            ("serial", serial), ("recordDigest", recordDigest), ("organisations", organisations));

    // ---- Datasets -------------------------------------------------------------------------------------------------

    public static AuditEntry DatasetRegistered(DateTimeOffset time, AuditActor actor, string country,
        string organisation, string dataset, AuditDigest fileSha256, AuditDigest schemaDigest, long rows, AuditDigest? entryDigest = null) =>
        Make(AuditEventKind.DatasetRegistered, time, actor, country,
            ("organisation", organisation), ("dataset", dataset), ("fileSha256", fileSha256), ("schemaDigest", schemaDigest),
            ("rows", rows), ("entryDigest", entryDigest));

    // ---- Agreements -----------------------------------------------------------------------------------------------

    public static AuditEntry AgreementDrafted(DateTimeOffset time, AuditActor actor, string country,
        string agreement, AuditDigest termsDigest, IEnumerable<string> parties) =>
        Make(AuditEventKind.AgreementDrafted, time, actor, country, ("agreement", agreement), ("termsDigest", termsDigest), ("parties", parties));

    public static AuditEntry AgreementProposed(DateTimeOffset time, AuditActor actor, string country, string agreement, AuditDigest termsDigest) =>
        Make(AuditEventKind.AgreementProposed, time, actor, country, ("agreement", agreement), ("termsDigest", termsDigest));

    public static AuditEntry AgreementSigned(DateTimeOffset time, AuditActor actor, string country, string agreement, AuditDigest termsDigest, string party) =>
        Make(AuditEventKind.AgreementSigned, time, actor, country, ("agreement", agreement), ("termsDigest", termsDigest), ("party", party));

    public static AuditEntry AgreementActivated(DateTimeOffset time, AuditActor actor, string country, string agreement, AuditDigest termsDigest) =>
        Make(AuditEventKind.AgreementActivated, time, actor, country, ("agreement", agreement), ("termsDigest", termsDigest));

    /// <param name="sequence">The status change's position among the agreement's status changes (1, 2, …).</param>
    public static AuditEntry AgreementSuspended(DateTimeOffset time, AuditActor actor, string country,
        string agreement, AuditDigest termsDigest, string party, int sequence, string reason) =>
        Make(AuditEventKind.AgreementSuspended, time, actor, country,
            ("agreement", agreement), ("termsDigest", termsDigest), ("party", party), ("sequence", sequence), ("reason", reason));

    public static AuditEntry AgreementResumed(DateTimeOffset time, AuditActor actor, string country,
        string agreement, AuditDigest termsDigest, string party, int sequence, string? reason = null) =>
        Make(AuditEventKind.AgreementResumed, time, actor, country,
            ("agreement", agreement), ("termsDigest", termsDigest), ("party", party), ("sequence", sequence), ("reason", reason));

    public static AuditEntry AgreementTerminated(DateTimeOffset time, AuditActor actor, string country,
        string agreement, AuditDigest termsDigest, string party, int sequence, string reason) =>
        Make(AuditEventKind.AgreementTerminated, time, actor, country,
            ("agreement", agreement), ("termsDigest", termsDigest), ("party", party), ("sequence", sequence), ("reason", reason));

    public static AuditEntry AgreementExpired(DateTimeOffset time, AuditActor actor, string country,
        string agreement, AuditDigest termsDigest, DateTimeOffset validUntil) =>
        Make(AuditEventKind.AgreementExpired, time, actor, country, ("agreement", agreement), ("termsDigest", termsDigest), ("validUntil", validUntil));

    // ---- Policies -------------------------------------------------------------------------------------------------

    /// <param name="setHash">The policy set's hash (PolicySet.Hash).</param>
    public static AuditEntry PolicySetLoaded(DateTimeOffset time, AuditActor actor, string country, AuditDigest setHash, int files) =>
        Make(AuditEventKind.PolicySetLoaded, time, actor, country, ("setHash", setHash), ("files", files));

    /// <param name="reasons">The deny reasons as the engine gives them (each one line, at most 1000 characters); empty for allow.</param>
    /// <param name="rules">The ids of the rules that decided (fired, failed or undetermined).</param>
    /// <param name="decisionDigest">SHA-256 of the decision's canonical JSON (DecisionJson): every rule evaluated with the facts it
    /// read, so the plan as the engine saw it. Whoever decided keeps it whole (the job: <c>GetPolicyDecision</c>).</param>
    public static AuditEntry PolicyDecided(DateTimeOffset time, AuditActor actor, string country,
        DecisionSubject subject, string job, DecisionEffect effect, AuditDigest setHash, AuditDigest decisionDigest,
        IEnumerable<string> reasons, IEnumerable<string> rules,
        int? round = null, int? attempt = null, string? participant = null, string? step = null) =>
        Make(AuditEventKind.PolicyDecided, time, actor, country,
            ("subject", subject), ("job", job), ("round", round), ("attempt", attempt), ("participant", participant), ("step", step),
            ("effect", effect), ("setHash", setHash), ("decisionDigest", decisionDigest),
            ("reasons", reasons), ("rules", rules));

    // ---- Jobs and rounds ------------------------------------------------------------------------------------------

    public static AuditEntry JobStarted(DateTimeOffset time, AuditActor actor, string country,
        string job, string agreement, AuditDigest termsDigest, IEnumerable<string> participants, ProtectionScheme protection, int? rounds = null,
        double? updateBound = null, string? encryption = null, AuditDigest? modelSpecDigest = null) =>
        Make(AuditEventKind.JobStarted, time, actor, country,
            ("job", job), ("agreement", agreement), ("termsDigest", termsDigest), ("participants", participants),
            ("protection", protection), ("rounds", rounds), ("updateBound", updateBound), ("encryption", encryption), ("modelSpecDigest", modelSpecDigest));

    /// <param name="rounds">Rounds completed.</param>
    public static AuditEntry JobFinished(DateTimeOffset time, AuditActor actor, string country,
        string job, JobOutcome outcome, int rounds, string? reason = null) =>
        Make(AuditEventKind.JobFinished, time, actor, country, ("job", job), ("outcome", outcome), ("rounds", rounds), ("reason", reason));

    /// <param name="round">The model round (1 to the job's rounds; round r makes model version r).</param>
    /// <param name="attempt">Which attempt at the model round this is (1, 2, …).</param>
    public static AuditEntry RoundStarted(DateTimeOffset time, AuditActor actor, string country,
        string job, int round, IEnumerable<string> participants, int? attempt = null, AuditDigest? planDigest = null) =>
        Make(AuditEventKind.RoundStarted, time, actor, country,
            ("job", job), ("round", round), ("attempt", attempt), ("participants", participants), ("planDigest", planDigest));

    /// <param name="version">The model version the round produced, when it completed.</param>
    /// <param name="participants">Whose updates are in that version.</param>
    /// <param name="accuracy">Mean accuracy of the version on the participants' own test splits, weighted by their size.</param>
    /// <param name="loss">The same for the loss.</param>
    public static AuditEntry RoundFinished(DateTimeOffset time, AuditActor actor, string country,
        string job, int round, RoundOutcome outcome, int? version = null, string? reason = null,
        IEnumerable<string>? participants = null, double? accuracy = null, double? loss = null, double? seconds = null) =>
        Make(AuditEventKind.RoundFinished, time, actor, country,
            ("job", job), ("round", round), ("outcome", outcome), ("version", version), ("reason", reason),
            ("participants", participants), ("accuracy", accuracy), ("loss", loss), ("seconds", seconds));

    // ---- Participants ---------------------------------------------------------------------------------------------

    public static AuditEntry ParticipantConsented(DateTimeOffset time, AuditActor actor, string country, string job, string participant, string dataset) =>
        Make(AuditEventKind.ParticipantConsented, time, actor, country, ("job", job), ("participant", participant), ("dataset", dataset));

    public static AuditEntry ParticipantRefused(DateTimeOffset time, AuditActor actor, string country,
        string job, string participant, string reason, int? round = null) =>
        Make(AuditEventKind.ParticipantRefused, time, actor, country, ("job", job), ("participant", participant), ("round", round), ("reason", reason));

    public static AuditEntry ParticipantJoined(DateTimeOffset time, AuditActor actor, string country, string job, int round, string participant) =>
        Make(AuditEventKind.ParticipantJoined, time, actor, country, ("job", job), ("round", round), ("participant", participant));

    public static AuditEntry ParticipantDropped(DateTimeOffset time, AuditActor actor, string country, string job, int round, string participant, string reason) =>
        Make(AuditEventKind.ParticipantDropped, time, actor, country, ("job", job), ("round", round), ("participant", participant), ("reason", reason));

    // ---- Keys, updates, models ------------------------------------------------------------------------------------

    /// <param name="keyId">The round key's id (SHA-256 of the collective public key).</param>
    /// <param name="keyParts">SHA-256 of each participant's public key part, in the order of <paramref name="participants"/>.</param>
    public static AuditEntry RoundKey(DateTimeOffset time, AuditActor actor, string country,
        string job, int round, AuditDigest keyId, IEnumerable<string> participants, IEnumerable<AuditDigest> keyParts) =>
        Make(AuditEventKind.RoundKey, time, actor, country,
            ("job", job), ("round", round), ("keyId", keyId), ("participants", participants), ("keyParts", keyParts));

    /// <param name="updateDigest">SHA-256 of the sealed (encrypted) update as sent.</param>
    public static AuditEntry UpdateSealed(DateTimeOffset time, AuditActor actor, string country, string job, int round, string participant, AuditDigest updateDigest) =>
        Make(AuditEventKind.UpdateSealed, time, actor, country, ("job", job), ("round", round), ("participant", participant), ("updateDigest", updateDigest));

    public static AuditEntry ModelVersion(DateTimeOffset time, AuditActor actor, string country, string job, int round, int version, AuditDigest modelDigest) =>
        Make(AuditEventKind.ModelVersion, time, actor, country, ("job", job), ("round", round), ("version", version), ("modelDigest", modelDigest));

    /// <param name="epsilonSpent">The dataset's ε spent so far, this reservation included, at <paramref name="delta"/>.</param>
    /// <param name="epsilonSpent">ε of the dataset's DP-SGD charges so far, this one included, at <paramref name="delta"/>.</param>
    /// <param name="unprotectedRounds">Rounds the dataset trained in without DP (when any): its ledger's ε is then unbounded.</param>
    public static AuditEntry PrivacyReserved(DateTimeOffset time, AuditActor actor, string country,
        string organisation, string dataset, string job, int round, double epsilonSpent, double delta,
        double noiseMultiplier, double samplingRate, int steps, double? epsilonCap = null, int? unprotectedRounds = null) =>
        Make(AuditEventKind.PrivacyReserved, time, actor, country,
            ("organisation", organisation), ("dataset", dataset), ("job", job), ("round", round), ("epsilonSpent", epsilonSpent),
            ("epsilonCap", epsilonCap), ("delta", delta), ("noiseMultiplier", noiseMultiplier), ("samplingRate", samplingRate), ("steps", steps),
            ("unprotectedRounds", unprotectedRounds));

    public static AuditEntry ModelExported(DateTimeOffset time, AuditActor actor, string country,
        string job, int version, AuditDigest modelDigest, string destination, string? party = null) =>
        Make(AuditEventKind.ModelExported, time, actor, country,
            ("job", job), ("version", version), ("modelDigest", modelDigest), ("destination", destination), ("party", party));

    /// <summary>That predictions were made: how many, with which model. Never the inputs or the outputs.</summary>
    public static AuditEntry PredictionsMade(DateTimeOffset time, AuditActor actor, string country,
        AuditDigest modelDigest, long count, string? job = null, int? version = null) =>
        Make(AuditEventKind.PredictionsMade, time, actor, country, ("modelDigest", modelDigest), ("count", count), ("job", job), ("version", version));

    /// <summary>
    /// How the model's features weigh (README, "Reports"): each feature's permutation importance (the drop in accuracy when its
    /// column is shuffled, over <paramref name="rows"/> test rows of all participants, summed under the round's protection),
    /// and for a linear model its coefficients (log-odds of the positive class per standard deviation of the feature).
    /// </summary>
    public static AuditEntry ModelExplained(DateTimeOffset time, AuditActor actor, string country,
        string job, int version, AuditDigest modelDigest, long rows, double baselineAccuracy, IEnumerable<string> features, IEnumerable<double> importance,
        IEnumerable<double>? coefficients = null, double? intercept = null) =>
        Make(AuditEventKind.ModelExplained, time, actor, country,
            ("job", job), ("version", version), ("modelDigest", modelDigest), ("method", ExplanationMethod.Permutation), ("rows", rows),
            ("baselineAccuracy", baselineAccuracy), ("features", features), ("importance", importance), ("coefficients", coefficients), ("intercept", intercept));

    // ---- Portal ---------------------------------------------------------------------------------------------------

    /// <param name="actor">The user (<see cref="AuditActor.User"/>).</param>
    /// <param name="scheme">The sign-in scheme (e.g. <c>oidc</c>).</param>
    public static AuditEntry SignedIn(DateTimeOffset time, AuditActor actor, string country, string scheme) =>
        Make(AuditEventKind.SignedIn, time, actor, country, ("scheme", scheme));

    /// <param name="actor">The user refused, or the silo (or federation) that refused an unauthenticated request.</param>
    /// <param name="resource">What was asked for, e.g. <c>/api/jobs/HU/diabetes/model</c>.</param>
    public static AuditEntry AccessDenied(DateTimeOffset time, AuditActor actor, string country, string resource, string? scheme = null, string? reason = null) =>
        Make(AuditEventKind.AccessDenied, time, actor, country, ("resource", resource), ("scheme", scheme), ("reason", reason));
}
