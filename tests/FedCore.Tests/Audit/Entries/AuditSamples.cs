using FedCore.Audit.Entries;
using FedCore.Governance.Agreements;

namespace FedCore.Tests.Audit.Entries;

/// <summary>One entry (or more) of every kind, made by the factories as the silo would, with optional fields both set and left out.</summary>
internal static class AuditSamples
{
    public static readonly DateTimeOffset At = new(2025, 3, 1, 9, 0, 0, 250, TimeSpan.Zero);

    public static AuditDigest D(byte n) => AuditDigest.Hash([n]);

    public static readonly AuditActor Hu = AuditActor.Organisation("HU/budapest");
    public static readonly AuditActor Ch = AuditActor.Organisation("CH/zurich");
    public static readonly AuditActor SiloHu = AuditActor.Silo("HU");
    public static readonly AuditActor SiloCh = AuditActor.Silo("CH");
    public static readonly AuditActor Operator = AuditActor.Federation;
    public static readonly AuditActor Alice = AuditActor.User("auth0|5f2b8c9d0e1a2b3c4d5e6f70");

    public static IEnumerable<AuditEntry> All()
    {
        const string job = "HU/diabetes-2025";
        const string agreement = "eu-diabetes-study";
        string[] parties = ["CH/zurich", "HU/budapest"];
        yield return AuditEvents.OrganisationAdmitted(At, Operator, "CH", "HU/budapest", 1, D(1), 3, D(2));
        yield return AuditEvents.OrganisationChanged(At, Hu, "HU", "HU/budapest", 2, D(3), 4, keyChanged: true, membersChanged: false, D(4));
        yield return AuditEvents.OrganisationRemoved(At, Operator, "CH", "HU/budapest", D(5), "left the federation");
        yield return AuditEvents.OrganisationRemoved(At, Hu, "HU", "HU/budapest", D(5));
        yield return AuditEvents.MembershipIssued(At, Operator, "CH", 7, D(6), 2);
        yield return AuditEvents.DatasetRegistered(At, Hu, "HU", "HU/budapest", "diabetes-cohort", D(7), D(8), 12_345, D(9));
        yield return AuditEvents.AgreementDrafted(At, Alice, "HU", agreement, D(10), parties);
        yield return AuditEvents.AgreementProposed(At, Hu, "HU", agreement, D(10));
        yield return AuditEvents.AgreementSigned(At, Ch, "CH", agreement, D(10), "CH/zurich");
        yield return AuditEvents.AgreementActivated(At, SiloHu, "HU", agreement, D(10));
        yield return AuditEvents.AgreementSuspended(At, Ch, "CH", agreement, D(10), "CH/zurich", 1, "Data protection review under way.");
        yield return AuditEvents.AgreementResumed(At, Ch, "CH", agreement, D(10), "CH/zurich", 2);
        yield return AuditEvents.AgreementTerminated(At, Hu, "HU", agreement, D(10), "HU/budapest", 3, "Study ended — «fin».");
        yield return AuditEvents.AgreementExpired(At, Operator, "CH", agreement, D(10), new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        yield return AuditEvents.PolicySetLoaded(At, SiloHu, "HU", D(11), 6);
        yield return AuditEvents.PolicyDecided(At, SiloHu, "HU", DecisionSubject.Job, job, DecisionEffect.Allow, D(11), D(12), [], ["gdpr-art45-adequacy"]);
        yield return AuditEvents.PolicyDecided(At, Hu, "HU", DecisionSubject.ParticipantStep, job, DecisionEffect.Deny, D(11), D(13),
            ["transfer HU→CN: pipl-art38 (pipl, PIPL Art. 38): no security assessment", "no lawful basis"], ["pipl-art38", "gdpr-art46"],
            round: 4, attempt: 2, participant: "HU/budapest", step: "train in round 4");
        yield return AuditEvents.JobStarted(At, SiloHu, "HU", job, agreement, D(10), parties, ProtectionScheme.Ckks, rounds: 10);
        yield return AuditEvents.JobStarted(At, Alice, "HU", job, agreement, D(10), parties, ProtectionScheme.PlaintextSimulation);
        yield return AuditEvents.JobFinished(At, SiloHu, "HU", job, JobOutcome.Completed, 10);
        yield return AuditEvents.JobFinished(At, SiloHu, "HU", job, JobOutcome.Failed, 3, "too few participants reachable after 5 attempts");
        yield return AuditEvents.RoundStarted(At, SiloHu, "HU", job, 4, parties, attempt: 2, planDigest: D(15));
        yield return AuditEvents.RoundStarted(At, Operator, "CH", job, 1, parties);
        yield return AuditEvents.RoundFinished(At, SiloHu, "HU", job, 4, RoundOutcome.Completed, version: 3);
        yield return AuditEvents.RoundFinished(At, SiloHu, "HU", job, 5, RoundOutcome.Abandoned, reason: "CH/zurich unreachable");
        yield return AuditEvents.ParticipantConsented(At, Ch, "CH", job, "CH/zurich", "cohort-2024");
        yield return AuditEvents.ParticipantRefused(At, SiloCh, "CH", job, "CH/zurich", "ε cap of cohort-2024 reached", round: 6);
        yield return AuditEvents.ParticipantJoined(At, SiloHu, "HU", job, 4, "CH/zurich");
        yield return AuditEvents.ParticipantDropped(At, SiloHu, "HU", job, 4, "CH/zurich", "no key statement within 60 s");
        yield return AuditEvents.RoundKey(At, SiloHu, "HU", job, 4, D(16), parties, [D(17), D(18)]);
        yield return AuditEvents.UpdateSealed(At, Ch, "CH", job, 4, "CH/zurich", D(19));
        yield return AuditEvents.ModelVersion(At, SiloHu, "HU", job, 4, 3, D(20));
        yield return AuditEvents.PrivacyReserved(At, Ch, "CH", "CH/zurich", "cohort-2024", job, 4, 1.2345678901234567, 1e-7, 1.1, 0.01, 500, epsilonCap: 8);
        yield return AuditEvents.PrivacyReserved(At, SiloCh, "CH", "CH/zurich", "cohort-2024", job, 5, 0, 0.0000033333333333333335, 0.5, 1, 0);
        yield return AuditEvents.ModelExported(At, Alice, "HU", job, 3, D(20), "CH", party: "CH/zurich");
        yield return AuditEvents.ModelExported(At, Operator, "CH", job, 3, D(20), "HU");
        yield return AuditEvents.PredictionsMade(At, Alice, "HU", D(20), 1_000, job: job, version: 3);
        yield return AuditEvents.PredictionsMade(At, Hu, "HU", D(20), 0);
        yield return AuditEvents.ModelExplained(At, SiloCh, "CH", job, 20, D(21), 101, 0.8125, ["age", "chol", "thalach"], [0.0625, 0, -0.0125],
            coefficients: [0.41, 0.12, -0.73], intercept: -0.2);
        yield return AuditEvents.ModelExplained(At, Operator, "CH", job, 3, D(22), 30, 1, ["age"], [0.5]);
        yield return AuditEvents.SignedIn(At, Alice, "HU", "oidc");
        yield return AuditEvents.AccessDenied(At, Alice, "HU", "/api/jobs/HU/diabetes-2025/model", "oidc", "not a member of HU/budapest");
        yield return AuditEvents.AccessDenied(At, SiloHu, "HU", "/api/agreements");
    }
}
