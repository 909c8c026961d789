using System.Collections.Immutable;
using FedCore.Aggregation.Integrity;
using FedCore.Audit;
using FedCore.Audit.Entries;
using FedCore.Audit.Reports;
using FedCore.Governance.Agreements;

namespace FedCore.Tests.Audit.Reports;

/// <summary>
/// A synthetic but realistic log, made with <see cref="AuditEvents"/> as the silos would: four organisations in US, HU and
/// CH admitted, their datasets registered, an agreement drafted, signed by all four and activated, policy sets loaded,
/// job <see cref="Job"/> of <see cref="Rounds"/> rounds under CKKS with DP (a dropout in round 7, a failed first attempt
/// at round 12, a denied step with a long reason in round 15), a model explanation, and around it another job under
/// another agreement and some portal events. The head is signed by <see cref="Operator"/> and co-signed by every silo.
/// </summary>
internal sealed class ReportLog
{
    public const string Job = "US/heart-2025";
    public const string Agreement = "transatlantic-heart-study";
    public const string OtherJob = "HU/diabetes-pilot";
    public const string OtherAgreement = "eu-diabetes-pilot";
    public const int Rounds = 20;

    public static readonly string[] Participants = ["CH/zurich", "HU/budapest", "US/boston", "US/seattle"];
    public static readonly string[] Features = ["age", "sex", "chest_pain", "resting_bp", "cholesterol", "fasting_sugar", "max_heart_rate", "st_depression"];

    public static readonly DateTimeOffset T0 = new(2025, 3, 1, 9, 0, 0, TimeSpan.Zero);
    public static readonly ParticipantSigningKey Operator = ParticipantSigningKey.Generate();
    public static readonly ParticipantSigningKey Intruder = ParticipantSigningKey.Generate();
    public static readonly SortedDictionary<string, ParticipantSigningKey> Silos = new(StringComparer.Ordinal)
    {
        ["CH"] = ParticipantSigningKey.Generate(),
        ["HU"] = ParticipantSigningKey.Generate(),
        ["US"] = ParticipantSigningKey.Generate(),
    };
    public static readonly Dictionary<string, byte[]> CountryKeys = Silos.ToDictionary(s => s.Key, s => s.Value.PublicKey);

    public List<byte[]> Entries { get; } = [];
    public List<AuditEntry> Read { get; } = [];

    private DateTimeOffset _time = T0;

    private void Add(AuditEntry entry)
    {
        Entries.Add(AuditEntryJson.Write(entry));
        Read.Add(entry);
    }

    private DateTimeOffset Next(double seconds = 1) => _time = _time.AddSeconds(seconds);

    public static AuditDigest D(string what) => AuditDigest.Hash(System.Text.Encoding.UTF8.GetBytes(what));

    private static AuditActor SiloOf(string org) => AuditActor.Silo(org[..2]);

    /// <param name="explain">Whether the log holds a model.explained entry for the last version.</param>
    public static ReportLog Make(bool explain = true)
    {
        var log = new ReportLog();
        log.Build(explain);
        return log;
    }

    private void Build(bool explain)
    {
        var fed = AuditActor.Federation;
        int serial = 1;
        foreach (var org in Participants.Append("HU/szeged"))
            Add(AuditEvents.OrganisationAdmitted(Next(), fed, "CH", org, serial++, D("key " + org), 3, D("entry " + org)));
        Add(AuditEvents.MembershipIssued(Next(), fed, "CH", serial, D("membership"), Participants.Length + 1));
        foreach (var org in Participants)
            Add(AuditEvents.DatasetRegistered(Next(), AuditActor.Organisation(org), org[..2], org, "heart-" + org[3..], D("file " + org), D("schema heart"),
                200 + 37 * org.Length, D("dataset entry " + org)));
        Add(AuditEvents.SignedIn(Next(), AuditActor.User("analyst-3"), "US", "oidc"));

        // The agreement: drafted, proposed, signed by every party, activated.
        var terms = D("terms v1");
        Add(AuditEvents.AgreementDrafted(Next(), AuditActor.Organisation("US/boston"), "US", Agreement, terms, Participants));
        Add(AuditEvents.AgreementProposed(Next(), AuditActor.Organisation("US/boston"), "US", Agreement, terms));
        foreach (var org in Participants)
            Add(AuditEvents.AgreementSigned(Next(60), AuditActor.Organisation(org), org[..2], Agreement, terms, org));
        Add(AuditEvents.AgreementActivated(Next(), AuditActor.Silo("US"), "US", Agreement, terms));
        foreach (var country in new[] { "CH", "HU", "US" })
            Add(AuditEvents.PolicySetLoaded(Next(), AuditActor.Silo(country), country, D("policies " + country), 6));

        // Another job under another agreement, interleaved: a report on Job must leave it out.
        var otherTerms = D("terms pilot");
        Add(AuditEvents.AgreementDrafted(Next(), AuditActor.Organisation("HU/szeged"), "HU", OtherAgreement, otherTerms, ["HU/budapest", "HU/szeged"]));
        Add(AuditEvents.JobStarted(Next(), AuditActor.Silo("HU"), "HU", OtherJob, OtherAgreement, otherTerms, ["HU/budapest", "HU/szeged"],
            ProtectionScheme.PlaintextSimulation, rounds: 2));

        // The job.
        Add(AuditEvents.PolicyDecided(Next(), AuditActor.Silo("US"), "US", DecisionSubject.Job, Job, DecisionEffect.Allow, D("policies US"), D("decision job"),
            [], ["gdpr-art45-adequacy", "swiss-fadp-art16", "hipaa-deidentified"]));
        Add(AuditEvents.JobStarted(Next(), AuditActor.Silo("US"), "US", Job, Agreement, terms, Participants, ProtectionScheme.Ckks, rounds: Rounds,
            updateBound: 4, encryption: "CKKS N=8192, log2 q=[60,40,40,60], scale 2^40, 128-bit security, threshold 4 of 4", modelSpecDigest: D("logistic regression 8 features")));
        foreach (var org in Participants)
            Add(AuditEvents.ParticipantConsented(Next(), AuditActor.Organisation(org), org[..2], Job, org, "heart-" + org[3..]));

        var epsilon = Participants.ToDictionary(p => p, _ => 0.0);
        int version = 0;
        for (int round = 1; round <= Rounds; round++)
        {
            int attempts = round == 12 ? 2 : 1;
            for (int attempt = 1; attempt <= attempts; attempt++)
            {
                var members = Participants.ToList();
                Add(AuditEvents.RoundStarted(Next(30), AuditActor.Silo("US"), "US", Job, round, members, attempt: attempt, planDigest: D($"plan {round} {attempt}")));
                Add(AuditEvents.PolicyDecided(Next(), AuditActor.Silo("US"), "US", DecisionSubject.RoundAttempt, Job, DecisionEffect.Allow, D("policies US"),
                    D($"decision round {round} {attempt}"), [], ["gdpr-art45-adequacy"], round: round, attempt: attempt));
                Add(AuditEvents.RoundKey(Next(), AuditActor.Silo("US"), "US", Job, round, D($"key {round} {attempt}"), members, members.Select(m => D($"part {m} {round} {attempt}"))));
                foreach (var org in members)
                {
                    bool deny = round == 15 && org == "HU/budapest";
                    Add(AuditEvents.PolicyDecided(Next(), SiloOf(org), org[..2], DecisionSubject.ParticipantStep, Job, deny ? DecisionEffect.Deny : DecisionEffect.Allow,
                        D("policies " + org[..2]), D($"decision {org} {round}"),
                        deny ? ["transfer HU→US of derived model updates: gdpr-art46 (GDPR Art. 46): the standard contractual clauses on file expired on 2025-03-01 and no other appropriate safeguard is recorded for this recipient, so no update may leave HU until they are renewed",
                                "hu-infotv-art8: the Hungarian supervisory authority's prior notice for cross-border processing of health data is not on file"] : [],
                        deny ? ["gdpr-art46", "hu-infotv-art8"] : ["gdpr-art45-adequacy"], round: round, attempt: attempt, participant: org, step: $"train in round {round}"));
                    if (deny)
                    {
                        Add(AuditEvents.ParticipantRefused(Next(), SiloOf(org), org[..2], Job, org, "policy denied the training step (gdpr-art46, hu-infotv-art8)", round: round));
                        continue;
                    }
                    Add(AuditEvents.ParticipantJoined(Next(), AuditActor.Silo("US"), "US", Job, round, org));
                    if (round == 7 && org == "CH/zurich")
                    {
                        Add(AuditEvents.ParticipantDropped(Next(45), AuditActor.Silo("US"), "US", Job, round, org, "no sealed update within 60 s; the round went on with the others"));
                        continue;
                    }
                    if (round == 12 && attempt == 1 && org == "US/seattle")
                        continue;
                    Add(AuditEvents.UpdateSealed(Next(), SiloOf(org), org[..2], Job, round, org, D($"update {org} {round} {attempt}")));
                    epsilon[org] += 0.09 + 0.01 * org.Length / 10.0;
                    Add(AuditEvents.PrivacyReserved(Next(), SiloOf(org), org[..2], org, "heart-" + org[3..], Job, round, epsilon[org], 1e-5, 1.1, 0.02, 50, epsilonCap: 3));
                }
                if (round == 12 && attempt == 1)
                {
                    Add(AuditEvents.RoundFinished(Next(60), AuditActor.Silo("US"), "US", Job, round, RoundOutcome.Abandoned,
                        reason: "US/seattle unreachable for 60 s; a new attempt with the same members"));
                    continue;
                }
                version++;
                Add(AuditEvents.ModelVersion(Next(), AuditActor.Silo("US"), "US", Job, round, version, D($"model {version}")));
                double accuracy = 0.62 + 0.24 * (1 - Math.Exp(-round / 5.0)) + (round == 7 ? -0.015 : 0);
                double loss = 0.69 - 0.3 * (1 - Math.Exp(-round / 4.0));
                var contributors = members.Where(m => !(round == 7 && m == "CH/zurich") && !(round == 15 && m == "HU/budapest"));
                Add(AuditEvents.RoundFinished(Next(), AuditActor.Silo("US"), "US", Job, round, RoundOutcome.Completed, version: version,
                    participants: contributors, accuracy: accuracy, loss: loss, seconds: 41.5 + round % 5 * 3.25));
            }
        }
        if (explain)
            Add(AuditEvents.ModelExplained(Next(120), AuditActor.Silo("US"), "US", Job, version, D($"model {version}"), 412, 0.8512,
                Features, [0.031, 0.0042, 0.0873, 0.0121, 0.0198, -0.0013, 0.0467, 0.0611],
                coefficients: [0.41, 0.22, 0.93, 0.17, 0.26, 0.03, -0.58, 0.71], intercept: -0.137));
        Add(AuditEvents.ModelExported(Next(), AuditActor.Organisation("US/boston"), "US", Job, version, D($"model {version}"), "US", "US/boston"));
        Add(AuditEvents.JobFinished(Next(), AuditActor.Silo("US"), "US", Job, JobOutcome.Completed, Rounds));
        Add(AuditEvents.PredictionsMade(Next(3600), AuditActor.Organisation("US/boston"), "US", D($"model {version}"), 1250, Job, version));
        Add(AuditEvents.JobFinished(Next(), AuditActor.Silo("HU"), "HU", OtherJob, JobOutcome.Completed, 2));
        Add(AuditEvents.SignedIn(Next(), AuditActor.User("auditor-7"), "CH", "oidc"));
    }

    /// <summary>The head over the first <paramref name="size"/> entries (all when null), signed by <paramref name="operatorKey"/> and co-signed by <paramref name="silos"/>.</summary>
    public SignedTreeHead Head(int? size = null, ParticipantSigningKey? operatorKey = null, IReadOnlyDictionary<string, ParticipantSigningKey>? silos = null)
    {
        int n = size ?? Entries.Count;
        var tree = MerkleTree.FromEntries(Entries.Take(n));
        var head = SignedTreeHead.Sign(TreeHead.Create(n, tree.Root, _time.AddSeconds(1)), operatorKey ?? Operator);
        foreach (var (country, key) in silos ?? Silos)
            head = head.WithCosignature(new TreeHeadCosignature(head.Head, country, TreeHeadCosignature.Sign(head.Head, country, key)));
        return head;
    }

    public AuditReport Report(AuditReportScope scope) => AuditReportBuilder.Build(scope, Entries, Head());

    public int IndexOf(Func<AuditEntry, bool> match) => Read.FindIndex(e => match(e));
}
