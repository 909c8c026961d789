using System.Collections.Immutable;
using System.Globalization;
using FedCore.Audit.Entries;
using FedCore.Governance.Canonical;

namespace FedCore.Audit.Reports;

/// <summary>The sections of every report, in order, with where the EU AI Act asks for what each holds.</summary>
public static class AuditReportSections
{
    public const string Scope = "scope";
    public const string Participants = "participants";
    public const string Datasets = "datasets";
    public const string Agreement = "agreement";
    public const string Decisions = "decisions";
    public const string Protection = "protection";
    public const string Privacy = "privacy";
    public const string Rounds = "rounds";
    public const string Models = "models";
    public const string Dropouts = "dropouts";
    public const string Explanation = "explanation";
    public const string Other = "other";
    public const string Evidence = "evidence";

    /// <summary>The fixed paragraph on how a <c>model.explained</c> entry's importance is computed.</summary>
    public const string ExplanationMethod =
        "How it is computed: after the model version is made, each participant takes its own test split, shuffles one feature's " +
        "column at a time and measures the model's accuracy on the shuffled rows. The drops in accuracy, weighted by the number " +
        "of rows, are summed over the participants under the same protection as the model updates (encrypted under the " +
        "round's key when the job uses CKKS); only the sum is decrypted, so no participant's own figure leaves its country. " +
        "Importance is that sum divided by all participants' test rows: the mean drop in accuracy when the feature is shuffled.";

    /// <summary>The fixed paragraph on what the explanation does not say.</summary>
    public const string ExplanationLimits =
        "Limits: correlated features share importance (shuffling one leaves the other to carry the signal, so both can look " +
        "unimportant); importance measured on small test splits is noisy, and a small or negative value may be chance; it " +
        "explains what this model relies on, not how the world works or what causes the outcome; it measures the drop in " +
        "accuracy only, not in loss, calibration or fairness between groups.";

    internal static readonly (string Id, string Title, string Act)[] All =
    [
        (Scope, "Scope, log and period of use",
            "Art. 12(1) automatic logging over the lifetime; Art. 12(3)(a) period of each use (by analogy)"),
        (Participants, "Who took part, from which country",
            "Art. 12(3)(d) persons involved (by analogy); Annex IV 1 general description"),
        (Datasets, "Datasets, by id and hash (never contents)",
            "Art. 10 and Annex IV 2(d) data and data governance; Art. 12(3)(b)-(c) reference and input data (by analogy)"),
        (Agreement, "Agreement: terms, signatures and transitions",
            "Annex IV 2(d) how the data was obtained; Art. 12(2)(c) monitoring of the operation"),
        (Decisions, "Policy decisions that allowed it",
            "Art. 12(2)(a) events relevant to identifying risk; Art. 9 and Annex IV 5 risk management"),
        (Protection, "Protection, encryption and design choices",
            "Annex IV 2(b) design choices; Annex IV 2(h) and Art. 15(5) cybersecurity"),
        (Privacy, "Differential-privacy budget per dataset",
            "Art. 10(5) safeguards for personal data; Annex IV 2(d) data governance"),
        (Rounds, "Metrics per round",
            "Annex IV 2(g) and Art. 15(1)-(3) accuracy and robustness metrics; Art. 12(2)(b) post-market monitoring"),
        (Models, "Model versions, exports and predictions",
            "Art. 12(2)(a) substantial modification; Annex IV 6 changes over the lifecycle"),
        (Dropouts, "Dropouts and refusals",
            "Art. 12(2)(a) events relevant to identifying risk; Annex IV 3 limitations of the system"),
        (Explanation, "Model explanation",
            "Art. 13(1) interpretability of the output; Annex IV 2(b) general logic of the system"),
        (Other, "Other events in scope",
            "Art. 12(1) automatic logging of events"),
        (Evidence, "Evidence: signed tree head and cited entries",
            "Art. 12(1) logging; Art. 19(1) keeping the automatically generated logs"),
    ];
}

/// <summary>
/// Builds a report's sections from its cited entries alone: a pure function of the scope, the head and the entries, so that
/// the verifier rebuilds the same sections from what a report carries.
/// </summary>
internal sealed class AuditReportComposer
{
    private readonly AuditReportScope _scope;
    private readonly SignedTreeHead _head;
    private readonly IReadOnlyList<CitedEntry> _entries;
    private readonly HashSet<long> _used = [];
    private readonly bool _manyJobs;

    private AuditReportComposer(AuditReportScope scope, SignedTreeHead head, IReadOnlyList<CitedEntry> entries)
    {
        _scope = scope;
        _head = head;
        _entries = entries;
        _manyJobs = scope.Kind is AuditReportScopeKind.Agreement or AuditReportScopeKind.Period;
    }

    public static (ImmutableArray<ReportSection> Sections, ImmutableArray<RoundMetric> Rounds, ImmutableArray<ModelExplanation> Explanations) Compose(
        AuditReportScope scope, SignedTreeHead head, IReadOnlyList<CitedEntry> entries)
    {
        var composer = new AuditReportComposer(scope, head, entries);
        var sections = new Dictionary<string, ReportSection>(StringComparer.Ordinal);
        var rounds = ImmutableArray<RoundMetric>.Empty;
        var explanations = ImmutableArray<ModelExplanation>.Empty;
        // Every section but "other" first: "other" takes what none of them cited.
        foreach (var (id, title, act) in AuditReportSections.All)
        {
            if (id == AuditReportSections.Other)
                continue;
            var (lines, tables) = id switch
            {
                AuditReportSections.Scope => composer.ScopeSection(),
                AuditReportSections.Participants => composer.ParticipantsSection(),
                AuditReportSections.Datasets => composer.DatasetsSection(),
                AuditReportSections.Agreement => composer.AgreementSection(),
                AuditReportSections.Decisions => composer.DecisionsSection(),
                AuditReportSections.Protection => composer.ProtectionSection(),
                AuditReportSections.Privacy => composer.PrivacySection(),
                AuditReportSections.Rounds => composer.RoundsSection(out rounds),
                AuditReportSections.Models => composer.ModelsSection(),
                AuditReportSections.Dropouts => composer.DropoutsSection(),
                AuditReportSections.Explanation => composer.ExplanationSection(out explanations),
                _ => composer.EvidenceSection(),
            };
            sections[id] = new ReportSection(id, title, act, [.. lines], [.. tables]);
        }
        var (otherId, otherTitle, otherAct) = AuditReportSections.All.Single(s => s.Id == AuditReportSections.Other);
        var (otherLines, otherTables) = composer.OtherSection();
        sections[otherId] = new ReportSection(otherId, otherTitle, otherAct, [.. otherLines], [.. otherTables]);
        return ([.. AuditReportSections.All.Select(s => sections[s.Id])], rounds, explanations);
    }

    // ---- Helpers ------------------------------------------------------------------------------------------------------

    private IEnumerable<CitedEntry> Of(params AuditEventKind[] kinds) => _entries.Where(e => kinds.Contains(e.Entry.Kind));

    private ReportLine Line(string text, IEnumerable<long> cites) => new(text, Cite(cites));

    private ReportRow Row(IEnumerable<long> cites, params string[] cells) => new([.. cells], Cite(cites));

    private ImmutableArray<long> Cite(IEnumerable<long> cites)
    {
        var sorted = cites.Distinct().Order().ToImmutableArray();
        _used.UnionWith(sorted);
        return sorted;
    }

    private static ReportTable Table(string title, string[] columns, IEnumerable<ReportRow> rows) => new(title, [.. columns], [.. rows]);

    private string[] WithJob(params string[] columns) => _manyJobs ? ["Job", .. columns] : columns;

    private string[] JobCells(string job, params string[] cells) => _manyJobs ? [job, .. cells] : cells;

    internal static string Time(DateTimeOffset time) => TreeHead.FormatTime(time);

    /// <summary>A number as shown: rounded to <paramref name="decimals"/> places, no trailing zeros (the cited entry holds it exactly).</summary>
    internal static string Number(double? value, int decimals = 4) =>
        value is { } v ? Math.Round(v, decimals, MidpointRounding.AwayFromZero).ToString("0." + new string('#', decimals), CultureInfo.InvariantCulture) : "";

    private static string Whole(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    private static string CountryOf(string organisation) => organisation.Length > 2 && organisation[2] == '/' ? organisation[..2] : "";

    // ---- Sections -----------------------------------------------------------------------------------------------------

    private (IEnumerable<ReportLine>, IEnumerable<ReportTable>) ScopeSection()
    {
        var lines = new List<ReportLine>
        {
            new($"This report covers {_scope.Describe()}, as the audit log records it in its first {_head.Head.Size} entries " +
                $"(signed tree head of {Time(_head.Head.Time)}). It cites {_entries.Count} of them; every line names the entries it comes from.", []),
        };
        var jobs = new List<ReportRow>();
        foreach (var started in Of(AuditEventKind.JobStarted))
        {
            string job = started.Entry.Str("job")!;
            var finished = Of(AuditEventKind.JobFinished).Where(f => f.Entry.Str("job") == job).ToList();
            var last = finished.LastOrDefault();
            jobs.Add(Row([started.Index, .. finished.Select(f => f.Index)],
                job, started.Entry.Str("agreement")!, Time(started.Entry.Time), last is null ? "not finished in this log" : Time(last.Entry.Time),
                last?.Entry.Str("outcome") ?? "", $"{Whole(last?.Entry.Int("rounds"))} of {Whole(started.Entry.Int("rounds"))}".Trim(),
                last?.Entry.Str("reason") ?? ""));
        }
        if (jobs.Count == 0)
            lines.Add(new("No job.started entry is in scope.", []));
        return (lines, [Table("Jobs: period of each use", ["Job", "Agreement", "Started", "Finished", "Outcome", "Rounds done of planned", "Reason"], jobs)]);
    }

    private (IEnumerable<ReportLine>, IEnumerable<ReportTable>) ParticipantsSection()
    {
        var rows = new List<ReportRow>();
        var seen = new HashSet<(string Job, string Org)>();
        foreach (var e in _entries)
        {
            string? job = e.Entry.Str("job");
            if (job is null)
                continue;
            IEnumerable<string> orgs = e.Entry.Kind == AuditEventKind.JobStarted ? e.Entry.List("participants")
                : e.Entry.Kind == AuditEventKind.PrivacyReserved ? [e.Entry.Str("organisation")!]
                : e.Entry.Str("participant") is { } p ? [p] : [];
            foreach (var org in orgs)
                seen.Add((job, org));
        }
        foreach (var (job, org) in seen.OrderBy(s => s.Job, StringComparer.Ordinal).ThenBy(s => s.Org, StringComparer.Ordinal))
        {
            var mine = _entries.Where(e => e.Entry.Str("job") == job && (e.Entry.Str("participant") == org || e.Entry.Str("organisation") == org)).ToList();
            var named = Of(AuditEventKind.JobStarted).Where(e => e.Entry.Str("job") == job && e.Entry.List("participants").Contains(org));
            var consents = mine.Where(e => e.Entry.Kind == AuditEventKind.ParticipantConsented).ToList();
            // The rounds whose model version holds its update: the completed rounds that name it among their members.
            var inModel = Of(AuditEventKind.RoundFinished).Where(e => e.Entry.Str("job") == job && e.Entry.Str("outcome") == "completed"
                && e.Entry.List("participants").Contains(org)).ToList();
            var joined = mine.Where(e => e.Entry.Kind == AuditEventKind.ParticipantJoined).ToList();
            var dropped = mine.Where(e => e.Entry.Kind == AuditEventKind.ParticipantDropped).ToList();
            var admitted = Of(AuditEventKind.OrganisationAdmitted, AuditEventKind.OrganisationChanged).Where(e => e.Entry.Str("organisation") == org).ToList();
            rows.Add(Row([.. named.Select(e => e.Index), .. consents.Select(e => e.Index), .. joined.Select(e => e.Index), .. inModel.Select(e => e.Index), .. dropped.Select(e => e.Index),
                    .. admitted.Select(e => e.Index)],
                JobCells(job, org, CountryOf(org),
                    string.Join(", ", consents.Select(c => c.Entry.Str("dataset"))),
                    Whole(inModel.Count), string.Join(", ", dropped.Select(d => d.Entry.Str("round"))),
                    admitted.LastOrDefault()?.Entry.Str("keyFingerprint") ?? "")));
        }
        return ([], [Table("Participants", WithJob("Organisation", "Country", "Consented datasets", "Rounds in the model", "Dropped in rounds",
            "Key fingerprint (SHA-256 of its public key)"), rows)]);
    }

    private (IEnumerable<ReportLine>, IEnumerable<ReportTable>) DatasetsSection()
    {
        var keys = new HashSet<(string Org, string Dataset)>();
        foreach (var e in _entries)
        {
            (string?, string?) key = e.Entry.Kind switch
            {
                AuditEventKind.DatasetRegistered or AuditEventKind.PrivacyReserved => (e.Entry.Str("organisation"), e.Entry.Str("dataset")),
                AuditEventKind.ParticipantConsented => (e.Entry.Str("participant"), e.Entry.Str("dataset")),
                _ => (null, null),
            };
            if (key is (string org, string dataset))
                keys.Add((org, dataset));
        }
        var rows = new List<ReportRow>();
        foreach (var (org, dataset) in keys.OrderBy(k => k.Org, StringComparer.Ordinal).ThenBy(k => k.Dataset, StringComparer.Ordinal))
        {
            var registrations = Of(AuditEventKind.DatasetRegistered).Where(e => e.Entry.Str("organisation") == org && e.Entry.Str("dataset") == dataset).ToList();
            var consents = Of(AuditEventKind.ParticipantConsented).Where(e => e.Entry.Str("participant") == org && e.Entry.Str("dataset") == dataset).ToList();
            var last = registrations.LastOrDefault();
            rows.Add(Row([.. registrations.Select(e => e.Index), .. consents.Select(e => e.Index)],
                org, dataset, last is null ? "" : Whole(last.Entry.Int("rows")), last?.Entry.Str("fileSha256") ?? "not registered in this log",
                last?.Entry.Str("schemaDigest") ?? "", last is null ? "" : Time(last.Entry.Time)));
        }
        return ([new("The log holds datasets by identifier and by SHA-256 of their file and schema; no record, column or value of a dataset is in it.", [])],
            [Table("Datasets", ["Organisation", "Dataset", "Rows", "File SHA-256", "Schema digest", "Registered"], rows)]);
    }

    private (IEnumerable<ReportLine>, IEnumerable<ReportTable>) AgreementSection()
    {
        var lines = new List<ReportLine>();
        var rows = new List<ReportRow>();
        var transitions = _entries.Where(e => AuditReportSelection.IsAgreementKind(e.Entry.Kind)).ToList();
        foreach (var e in transitions)
        {
            var entry = e.Entry;
            string detail = entry.Kind switch
            {
                AuditEventKind.AgreementDrafted => "parties " + string.Join(", ", entry.List("parties")),
                AuditEventKind.AgreementExpired => "valid until " + entry.Str("validUntil"),
                AuditEventKind.AgreementSuspended or AuditEventKind.AgreementResumed or AuditEventKind.AgreementTerminated =>
                    $"change {entry.Str("sequence")}{(entry.Str("reason") is { } reason ? ": " + reason : "")}",
                _ => "",
            };
            rows.Add(Row([e.Index], entry.Str("agreement")!, Time(entry.Time), entry.WireName["agreement.".Length..],
                entry.Str("party") ?? entry.Actor.Name, entry.Str("termsDigest")!, detail));
        }
        foreach (var started in Of(AuditEventKind.JobStarted))
        {
            string agreement = started.Entry.Str("agreement")!, terms = started.Entry.Str("termsDigest")!;
            var mine = transitions.Where(t => t.Entry.Str("agreement") == agreement).ToList();
            var signed = mine.Where(t => t.Entry.Kind == AuditEventKind.AgreementSigned && t.Entry.Str("termsDigest") == terms).ToList();
            var parties = mine.Where(t => t.Entry.Kind == AuditEventKind.AgreementDrafted).SelectMany(t => t.Entry.List("parties")).Distinct().Order(StringComparer.Ordinal).ToList();
            var signers = signed.Select(t => t.Entry.Str("party")!).Distinct().Order(StringComparer.Ordinal).ToList();
            var missing = parties.Except(signers).ToList();
            var activated = mine.Where(t => t.Entry.Kind == AuditEventKind.AgreementActivated && t.Entry.Time <= started.Entry.Time).ToList();
            lines.Add(Line($"Job {started.Entry.Str("job")} started under agreement {agreement} with terms digest {terms}. " +
                (signers.Count == 0 ? "No signature of these terms is in scope. " : $"Signed these terms: {string.Join(", ", signers)}. ") +
                (missing.Count == 0 ? "" : $"Parties of the draft that did not sign them: {string.Join(", ", missing)}. ") +
                (activated.Count == 0 ? "No activation before the job started is in scope." : $"Activated at {Time(activated[^1].Entry.Time)}, before the job started."),
                [started.Index, .. signed.Select(s => s.Index), .. mine.Where(t => t.Entry.Kind == AuditEventKind.AgreementDrafted).Select(t => t.Index),
                    .. activated.Select(a => a.Index)]));
        }
        if (transitions.Count == 0)
            lines.Add(new("No agreement entry is in scope.", []));
        return (lines, [Table("Transitions and signatures", ["Agreement", "Time", "Event", "Party or actor", "Terms digest", "Detail"], rows)]);
    }

    private (IEnumerable<ReportLine>, IEnumerable<ReportTable>) DecisionsSection()
    {
        // Policy sets are labelled P1, P2, … in the order they were loaded, so that the tables below can name them briefly.
        var loadedEntries = Of(AuditEventKind.PolicySetLoaded).ToList();
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in loadedEntries)
            labels.TryAdd(e.Entry.Str("setHash")!, $"P{labels.Count + 1}");
        string Label(string setHash) => labels.TryGetValue(setHash, out var label) ? label : setHash;
        var loaded = loadedEntries.Select(e => Row([e.Index], Label(e.Entry.Str("setHash")!), e.Entry.Str("setHash")!, Whole(e.Entry.Int("files")),
            e.Entry.Actor.Name, Time(e.Entry.Time)));

        var decisions = Of(AuditEventKind.PolicyDecided).ToList();
        // In full: every denial, and every decision on a job as a whole. Allowed rounds and steps: one row per round attempt, and
        // one for the allowed steps outside a round's training (feature moments, help decrypt, scoring), which name no round.
        bool InFull(CitedEntry e) => e.Entry.Str("effect") == "deny" || e.Entry.Str("subject") == "job";
        var full = decisions.Where(InFull).Select(e =>
        {
            var d = e.Entry;
            var subject = new List<string> { d.Str("subject")! };
            if (d.Str("round") is { } round)
                subject.Add("round " + round);
            if (d.Str("attempt") is { } attempt)
                subject.Add("attempt " + attempt);
            if (d.Str("participant") is { } participant)
                subject.Add(participant);
            if (d.Str("step") is { } step)
                subject.Add(step);
            return Row([e.Index], JobCells(d.Str("job")!, Time(d.Time), string.Join(", ", subject), d.Actor.Name, d.Str("effect")!,
                string.Join(", ", d.List("rules")), string.Join("; ", d.List("reasons")), Label(d.Str("setHash")!), d.Str("decisionDigest") ?? ""));
        });
        var grouped = decisions.Where(e => !InFull(e))
            .GroupBy(e => (Job: e.Entry.Str("job")!, Round: e.Entry.Int("round"), Attempt: e.Entry.Int("attempt") ?? 1))
            .OrderBy(g => g.Key.Job, StringComparer.Ordinal).ThenBy(g => g.Key.Round ?? long.MaxValue).ThenBy(g => g.Key.Attempt)
            .Select(g => Row(g.Select(e => e.Index), JobCells(g.Key.Job, g.Key.Round is { } round ? Whole(round) : "no round", g.Key.Round is null ? "" : Whole(g.Key.Attempt),
                Time(g.First().Entry.Time), string.Join(", ", g.Select(e => e.Entry.Str("participant") ?? e.Entry.Str("subject")!).Distinct()),
                string.Join(", ", g.Select(e => e.Entry.Actor.Name).Distinct()),
                string.Join(", ", g.SelectMany(e => e.Entry.List("rules")).Distinct()),
                string.Join(", ", g.Select(e => Label(e.Entry.Str("setHash")!)).Distinct()))));
        int allowed = decisions.Count(d => d.Entry.Str("effect") == "allow");
        var lines = new List<ReportLine>
        {
            Line(decisions.Count == 0 ? "No policy decision is in scope."
                : $"{decisions.Count} policy decisions: {allowed} allowed, {decisions.Count - allowed} denied. Denials and decisions on a job as a whole " +
                  "are listed in full; the allowed decisions on each round attempt and its participants' steps one row per attempt. Each decision's digest " +
                  "(SHA-256 of the decision record: every rule with the facts it read, kept whole by whoever decided) is in its cited entry.",
                decisions.Select(d => d.Index)),
        };
        return (lines,
        [
            Table("Policy sets loaded", ["Set", "Set hash", "Files", "Loaded by", "Time"], loaded),
            Table("Denials and decisions on the job", WithJob("Time", "Subject", "Decided by", "Effect", "Rules", "Reasons", "Policy set", "Decision digest"), full),
            Table("Allowed decisions per round attempt", WithJob("Round", "Attempt", "First at", "Allowed (round attempt, participants' steps)", "Decided by", "Rules", "Policy sets"), grouped),
        ]);
    }

    private (IEnumerable<ReportLine>, IEnumerable<ReportTable>) ProtectionSection()
    {
        var rows = new List<ReportRow>();
        foreach (var started in Of(AuditEventKind.JobStarted))
        {
            var s = started.Entry;
            string job = s.Str("job")!;
            var keys = Of(AuditEventKind.RoundKey).Where(e => e.Entry.Str("job") == job).ToList();
            var sealedUpdates = Of(AuditEventKind.UpdateSealed).Where(e => e.Entry.Str("job") == job).ToList();
            void Add(string what, string value, IEnumerable<long> cites) => rows.Add(Row(cites, JobCells(job, what, value)));
            Add("Protection of the updates", s.Str("protection")!, [started.Index]);
            Add("Update bound (clipping norm)", s.Num("updateBound") is { } bound ? Number(bound, 6) : "not recorded", [started.Index]);
            Add("Encryption parameters", s.Str("encryption") ?? "not recorded", [started.Index]);
            Add("Model specification digest", s.Str("modelSpecDigest") ?? "not recorded", [started.Index]);
            Add("Rounds planned", s.Str("rounds") ?? "not recorded", [started.Index]);
            Add("Round keys logged (round.key)", Whole(keys.Count), keys.Select(k => k.Index));
            Add("Sealed updates logged (update.sealed)", Whole(sealedUpdates.Count), sealedUpdates.Select(u => u.Index));
        }
        return ([new("Each round's collective public key and every sealed update are logged by SHA-256 only; the keys' secret parts and the updates never enter the log.", [])],
            [Table("Protection used", WithJob("What", "Value"), rows)]);
    }

    private (IEnumerable<ReportLine>, IEnumerable<ReportTable>) PrivacySection()
    {
        var reservations = Of(AuditEventKind.PrivacyReserved).ToList();
        var rows = reservations.GroupBy(e => (Org: e.Entry.Str("organisation")!, Dataset: e.Entry.Str("dataset")!))
            .OrderBy(g => g.Key.Org, StringComparer.Ordinal).ThenBy(g => g.Key.Dataset, StringComparer.Ordinal)
            .Select(g =>
            {
                var first = g.First().Entry;
                var last = g.Last().Entry;
                return Row(g.Select(e => e.Index), g.Key.Org, g.Key.Dataset, Whole(g.Count()), Number(first.Num("epsilonSpent")), Number(last.Num("epsilonSpent")),
                    last.Num("epsilonCap") is { } cap ? Number(cap) : "none", last.Str("delta")!, Number(last.Num("noiseMultiplier")),
                    Number(last.Num("samplingRate"), 6), Whole(g.Sum(e => e.Entry.Int("steps") ?? 0)),
                    g.Max(e => e.Entry.Int("unprotectedRounds")) is { } unprotected ? $"{Whole(unprotected)} (ε unbounded)" : "none");
            });
        return ([Line(reservations.Count == 0 ? "No dp.reserved entry is in scope: no differential-privacy budget was reserved."
                : "ε is the dataset's budget spent so far at δ as its own silo's accountant reported it, this reservation included: " +
                  "the first and last reservation in scope, so spending by other jobs before or between them is part of it.", reservations.Select(r => r.Index))],
            [Table("Budget per dataset", ["Organisation", "Dataset", "Reservations", "ε at first", "ε spent (last)", "ε cap", "δ", "Noise multiplier", "Sampling rate", "Steps", "Rounds without DP"], rows)]);
    }

    private (IEnumerable<ReportLine>, IEnumerable<ReportTable>) RoundsSection(out ImmutableArray<RoundMetric> metrics)
    {
        var rows = new List<ReportRow>();
        var list = new List<RoundMetric>();
        var starts = Of(AuditEventKind.RoundStarted).ToList();
        var attempts = new Dictionary<(string, long), int>();
        foreach (var e in Of(AuditEventKind.RoundFinished))
        {
            var f = e.Entry;
            string job = f.Str("job")!;
            long round = f.Int("round")!.Value;
            int attempt = attempts[(job, round)] = attempts.GetValueOrDefault((job, round)) + 1;
            var start = starts.Where(s => s.Entry.Str("job") == job && s.Entry.Int("round") == round).Skip(attempt - 1).FirstOrDefault();
            var participants = f.List("participants").ToList();
            rows.Add(Row(start is null ? [e.Index] : [start.Index, e.Index], JobCells(job, Whole(round), Whole(start?.Entry.Int("attempt") ?? attempt), f.Str("outcome")!,
                f.Str("version") ?? "", participants.Count == 0 ? "" : Whole(participants.Count), Number(f.Num("accuracy")), Number(f.Num("loss")),
                Number(f.Num("seconds"), 1), f.Str("reason") ?? "")));
            list.Add(new RoundMetric(job, (int)round, (int)(start?.Entry.Int("attempt") ?? attempt), f.Str("outcome")!, f.Num("accuracy"), f.Num("loss"), f.Num("seconds"), e.Index));
        }
        var unfinished = starts.Where(s => !list.Any(m => m.Job == s.Entry.Str("job") && m.Round == s.Entry.Int("round")
            && m.Attempt == (s.Entry.Int("attempt") ?? 1))).ToList();
        foreach (var s in unfinished)
            rows.Add(Row([s.Index], JobCells(s.Entry.Str("job")!, s.Entry.Str("round")!, Whole(s.Entry.Int("attempt") ?? 1), "started, no end in this log", "",
                Whole(s.Entry.List("participants").Count()), "", "", "", "")));
        metrics = [.. list];
        return ([Line(list.Count == 0 ? "No round.finished entry is in scope."
                : "Accuracy and loss are the model version's mean on the participants' own test splits, weighted by their size, as round.finished records them.",
                list.Select(m => m.Index))],
            [Table("Rounds", WithJob("Round", "Attempt", "Outcome", "Version", "Participants", "Accuracy", "Loss", "Seconds", "Reason"), rows)]);
    }

    private (IEnumerable<ReportLine>, IEnumerable<ReportTable>) ModelsSection()
    {
        var versions = Of(AuditEventKind.ModelVersion).Select(e => Row([e.Index], JobCells(e.Entry.Str("job")!, e.Entry.Str("version")!, e.Entry.Str("round")!,
            e.Entry.Str("modelDigest")!, Time(e.Entry.Time))));
        var exports = Of(AuditEventKind.ModelExported).Select(e => Row([e.Index], JobCells(e.Entry.Str("job")!, e.Entry.Str("version")!,
            e.Entry.Str("destination")!, e.Entry.Str("party") ?? e.Entry.Actor.Name, Time(e.Entry.Time))));
        var predictions = Of(AuditEventKind.PredictionsMade).ToList();
        var lines = new List<ReportLine>();
        if (predictions.Count > 0)
            lines.Add(Line($"{predictions.Count} prediction batches, {predictions.Sum(p => p.Entry.Int("count") ?? 0)} predictions in all " +
                "(the log records how many and with which model digest, never inputs or outputs).", predictions.Select(p => p.Index)));
        return (lines,
        [
            Table("Model versions", WithJob("Version", "Round", "Model digest (SHA-256)", "Time"), versions),
            Table("Exports", WithJob("Version", "Destination", "By", "Time"), exports),
        ]);
    }

    private (IEnumerable<ReportLine>, IEnumerable<ReportTable>) DropoutsSection()
    {
        var rows = Of(AuditEventKind.ParticipantDropped, AuditEventKind.ParticipantRefused).Select(e => Row([e.Index],
            JobCells(e.Entry.Str("job")!, Time(e.Entry.Time), e.Entry.Str("participant")!, e.Entry.Str("round") ?? "",
                e.Entry.Kind == AuditEventKind.ParticipantDropped ? "dropped" : "refused", e.Entry.Str("reason")!)));
        var denied = Of(AuditEventKind.PolicyDecided).Where(e => e.Entry.Str("effect") == "deny").ToList();
        var lines = new List<ReportLine>();
        if (denied.Count > 0)
            lines.Add(Line($"{denied.Count} policy decisions denied a step (see the decisions above).", denied.Select(d => d.Index)));
        return (lines, [Table("Dropouts and refusals", WithJob("Time", "Participant", "Round", "Event", "Reason"), rows)]);
    }

    private (IEnumerable<ReportLine>, IEnumerable<ReportTable>) ExplanationSection(out ImmutableArray<ModelExplanation> explanations)
    {
        var explained = Of(AuditEventKind.ModelExplained).ToList();
        var list = new List<ModelExplanation>();
        var lines = new List<ReportLine>();
        var tables = new List<ReportTable>();
        if (explained.Count == 0)
            lines.Add(new("The log holds no model.explained entry in scope: no explanation of the model was recorded, so this report gives none.", []));
        foreach (var e in explained)
        {
            var x = e.Entry;
            var features = x.List("features").ToImmutableArray();
            var importance = x.Numbers("importance").ToImmutableArray();
            ImmutableArray<double>? coefficients = x["coefficients"] is null ? null : x.Numbers("coefficients").ToImmutableArray();
            double? intercept = x.Num("intercept");
            list.Add(new ModelExplanation(x.Str("job")!, (int)x.Int("version")!.Value, x.Str("modelDigest")!, x.Int("rows")!.Value,
                x.Num("baselineAccuracy")!.Value, features, importance, coefficients, intercept, e.Index));
            lines.Add(Line($"Job {x.Str("job")}, model version {x.Str("version")} (model digest {x.Str("modelDigest")}): permutation importance over " +
                $"{x.Str("rows")} test rows of all participants; baseline accuracy {Number(x.Num("baselineAccuracy"))}." +
                (intercept is { } b ? $" Linear model: intercept {Number(b)}; coefficients are log-odds of the positive class per standard deviation of the feature." : ""),
                [e.Index]));
            var columns = coefficients is null ? new[] { "Feature", "Importance (accuracy drop)" } : ["Feature", "Importance (accuracy drop)", "Coefficient"];
            var rows = features.Select((feature, i) => Row([e.Index],
                coefficients is { } c ? [feature, Number(importance[i]), Number(c[i])] : [feature, Number(importance[i])]));
            tables.Add(Table($"Feature importance, version {x.Str("version")}{(_manyJobs ? " of " + x.Str("job") : "")}", columns, rows));
        }
        if (explained.Count > 0)
        {
            var all = explained.Select(e => e.Index).ToList();
            lines.Add(Line(AuditReportSections.ExplanationMethod, all));
            lines.Add(Line(AuditReportSections.ExplanationLimits, all));
        }
        explanations = [.. list];
        return (lines, tables);
    }

    private (IEnumerable<ReportLine>, IEnumerable<ReportTable>) OtherSection()
    {
        var rows = _entries.Where(e => !_used.Contains(e.Index)).ToList()
            .Select(e => Row([e.Index], Time(e.Entry.Time), e.Entry.WireName, e.Entry.Actor.Name, e.Entry.Country, AuditReportSummary.Of(e.Entry)));
        return ([], [Table("Entries no section above cites", ["Time", "Kind", "Actor", "Country", "Summary"], rows)]);
    }

    private (IEnumerable<ReportLine>, IEnumerable<ReportTable>) EvidenceSection()
    {
        var head = _head.Head;
        var lines = new List<ReportLine>
        {
            new($"Signed tree head: size {head.Size}, root {head.RootHex}, time {Time(head.Time)}.", []),
            new($"Operator's signature (ECDSA P-256 over the head's 48-byte encoding, tag {TreeHead.SignatureTag}): {Formats.Base64(_head.Signature)}", []),
            new(_head.Cosignatures.Count == 0 ? "No country co-signed this head."
                : $"Co-signed by {_head.Cosignatures.Count} countries: {string.Join(", ", _head.Cosignatures.Keys)}.", []),
        };
        foreach (var (country, signature) in _head.Cosignatures)
            lines.Add(new($"{country}'s co-signature: {Formats.Base64(signature)}", []));
        lines.Add(new("Each cited entry's leaf hash is SHA-256(0x00 ‖ its canonical bytes); its inclusion proof (RFC 9162 §2.1.3) leads from the leaf " +
            "to the head's root. The JSON form of this report carries every cited entry's bytes and proof; `federation audit report-verify` checks them.", []));
        var rows = _entries.Select(e => new ReportRow([Whole(e.Index), Time(e.Entry.Time), e.Entry.WireName, e.Entry.Actor.Name, e.Entry.Country,
            Convert.ToHexStringLower(e.LeafHash)], [e.Index]));
        return (lines, [Table("Cited entries", ["Index", "Time", "Kind", "Actor", "Country", "Leaf hash"], rows)]);
    }
}

/// <summary>A one-line summary of an entry, for the CSV and the "other" section.</summary>
public static class AuditReportSummary
{
    public static string Of(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var e = entry;
        return e.Kind switch
        {
            AuditEventKind.JobStarted => $"job {e.Str("job")} started under {e.Str("agreement")}, {e.Str("protection")}, participants {string.Join(" ", e.List("participants"))}",
            AuditEventKind.JobFinished => $"job {e.Str("job")} {e.Str("outcome")} after {e.Str("rounds")} rounds",
            AuditEventKind.RoundStarted => $"job {e.Str("job")} round {e.Str("round")} attempt {e.Str("attempt") ?? "1"} started with {e.List("participants").Count()} participants",
            AuditEventKind.RoundFinished => $"job {e.Str("job")} round {e.Str("round")} {e.Str("outcome")}" +
                (e.Num("accuracy") is { } a ? $", accuracy {AuditReportComposer.Number(a)}" : "") + (e.Num("loss") is { } l ? $", loss {AuditReportComposer.Number(l)}" : ""),
            AuditEventKind.PolicyDecided => $"{e.Str("effect")} {e.Str("subject")} of job {e.Str("job")}" + (e.Str("participant") is { } p ? $" for {p}" : "") +
                (e.Str("round") is { } r ? $" round {r}" : ""),
            AuditEventKind.PrivacyReserved => $"{e.Str("organisation")} {e.Str("dataset")} ε {AuditReportComposer.Number(e.Num("epsilonSpent"))} at δ {e.Str("delta")}, round {e.Str("round")}",
            AuditEventKind.ModelVersion => $"job {e.Str("job")} version {e.Str("version")} {e.Str("modelDigest")}",
            AuditEventKind.ModelExplained => $"job {e.Str("job")} version {e.Str("version")} explained: {e.List("features").Count()} features",
            AuditEventKind.DatasetRegistered => $"{e.Str("organisation")} registered {e.Str("dataset")} ({e.Str("rows")} rows) file {e.Str("fileSha256")}",
            AuditEventKind.UpdateSealed => $"{e.Str("participant")} sealed its update for job {e.Str("job")} round {e.Str("round")}",
            AuditEventKind.RoundKey => $"job {e.Str("job")} round {e.Str("round")} key {e.Str("keyId")}",
            AuditEventKind.ParticipantJoined => $"{e.Str("participant")} joined job {e.Str("job")} round {e.Str("round")}",
            AuditEventKind.ParticipantDropped => $"{e.Str("participant")} dropped from job {e.Str("job")} round {e.Str("round")}: {e.Str("reason")}",
            AuditEventKind.ParticipantRefused => $"{e.Str("participant")} refused job {e.Str("job")}: {e.Str("reason")}",
            AuditEventKind.ParticipantConsented => $"{e.Str("participant")} consented to job {e.Str("job")} with {e.Str("dataset")}",
            _ when AuditReportSelection.IsAgreementKind(e.Kind) => $"agreement {e.Str("agreement")} {e.WireName["agreement.".Length..]}" +
                (e.Str("party") is { } party ? $" by {party}" : ""),
            _ => string.Join(", ", e.Fields.Select(f => $"{f.Key} {Short(f.Value)}")),
        };
    }

    private static string Short(AuditValue value)
    {
        string text = value.IsList ? string.Join(" ", value.Items.Select(Short)) : value.Type switch
        {
            AuditValueType.Digest => value.AsDigest.Hex,
            AuditValueType.Time => TreeHead.FormatTime(value.AsTime),
            AuditValueType.Integer or AuditValueType.Number or AuditValueType.Boolean => value.ToString(),
            _ => value.AsString,
        };
        return text;
    }
}
