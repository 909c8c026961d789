using System.Text;
using FedCore.Audit;
using FedCore.Audit.Entries;
using FedCore.Audit.Reports;

namespace FedCore.Tests.Audit.Reports;

/// <summary>Reports built from a realistic synthetic log: what each scope takes, what each section says, and that an honest report verifies.</summary>
public sealed class AuditReportTests
{
    private static readonly ReportLog Log = ReportLog.Make();
    private static readonly AuditReport JobReport = Log.Report(AuditReportScope.ForJob(ReportLog.Job));

    private static IEnumerable<long> AllCites(AuditReport report) =>
        report.Sections.SelectMany(s => s.Lines.SelectMany(l => l.Cites).Concat(s.Tables.SelectMany(t => t.Rows).SelectMany(r => r.Cites)));

    private static List<string> Column(ReportTable table, string column) =>
        [.. table.Rows.Select(r => r.Cells[table.Columns.IndexOf(column)])];

    [Fact]
    public void A_job_report_takes_every_entry_of_the_job_and_its_context_and_nothing_of_the_other_job()
    {
        var cited = JobReport.Entries.Select(e => e.Index).ToHashSet();
        for (int i = 0; i < Log.Read.Count; i++)
        {
            var e = Log.Read[i];
            bool expected = e.Str("job") == ReportLog.Job
                || (AuditReportSelection.IsAgreementKind(e.Kind) && e.Str("agreement") == ReportLog.Agreement)
                || e.Kind == AuditEventKind.DatasetRegistered || e.Kind == AuditEventKind.PolicySetLoaded
                || (e.Kind == AuditEventKind.OrganisationAdmitted && e.Str("organisation") != "HU/szeged");
            Assert.True(expected == cited.Contains(i), $"entry {i} ({e.WireName}: {AuditReportSummary.Of(e)}) {(expected ? "left out" : "taken")}");
        }
        Assert.Equal(JobReport.Entries.Select(e => e.Index).Order(), JobReport.Entries.Select(e => e.Index));
    }

    [Fact]
    public void Every_line_cites_entries_the_report_carries_and_every_carried_entry_is_cited_by_a_section_before_the_evidence()
    {
        var carried = JobReport.Entries.Select(e => e.Index).ToHashSet();
        Assert.All(AllCites(JobReport), c => Assert.Contains(c, carried));
        var citedBeforeEvidence = JobReport.Sections.Where(s => s.Id != AuditReportSections.Evidence)
            .SelectMany(s => s.Lines.SelectMany(l => l.Cites).Concat(s.Tables.SelectMany(t => t.Rows).SelectMany(r => r.Cites))).ToHashSet();
        Assert.Equal(carried.Order(), citedBeforeEvidence.Order());
        Assert.Empty(JobReport.Section(AuditReportSections.Other).Tables[0].Rows); // a job's entries all have a section of their own
        Assert.Equal(AuditReportSections.All.Select(s => s.Id), JobReport.Sections.Select(s => s.Id));
        Assert.All(JobReport.Sections, s => Assert.Matches("(Art\\.|Annex)", s.Act));
    }

    [Fact]
    public void Each_cited_entry_carries_its_bytes_and_an_inclusion_proof_under_the_head()
    {
        var head = JobReport.Head.Head;
        foreach (var e in JobReport.Entries)
        {
            Assert.Equal(Log.Entries[(int)e.Index], e.Bytes.ToArray());
            var verdict = MerkleProofs.VerifyInclusion(e.LeafHash, e.Index, head.Size, [.. e.Proof.Select(p => p.ToArray())], head.Root.AsSpan());
            Assert.True(verdict.IsValid, $"entry {e.Index}: {verdict}");
        }
    }

    [Fact]
    public void The_sections_say_what_the_entries_say()
    {
        var participants = JobReport.Section(AuditReportSections.Participants).Tables[0];
        Assert.Equal(ReportLog.Participants, Column(participants, "Organisation"));
        Assert.Equal(["CH", "HU", "US", "US"], Column(participants, "Country"));
        Assert.Equal(["7", "", "", ""], Column(participants, "Dropped in rounds"));
        // The completed rounds whose version holds its update: CH dropped in round 7, HU refused round 15; round 12 completed once, at its second attempt.
        Assert.Equal(["19", "19", "20", "20"], Column(participants, "Rounds in the model"));

        var datasets = JobReport.Section(AuditReportSections.Datasets).Tables[0];
        Assert.Equal(ReportLog.D("file CH/zurich").Hex, Column(datasets, "File SHA-256")[0]);

        var rounds = JobReport.Section(AuditReportSections.Rounds).Tables[0];
        Assert.Equal(21, rounds.Rows.Length);
        var abandoned = rounds.Rows.Single(r => r.Cells[2] == "abandoned");
        Assert.Equal(["12", "1"], abandoned.Cells.Take(2));
        Assert.Equal(20, JobReport.Rounds.Count(m => m.Outcome == "completed"));
        Assert.Equal(JobReport.Rounds.Where(m => m.Accuracy is not null).Select(m => AuditReportComposer.Number(m.Accuracy)), Column(rounds, "Accuracy").Where(a => a != ""));

        var privacy = JobReport.Section(AuditReportSections.Privacy).Tables[0];
        Assert.Equal(4, privacy.Rows.Length);
        var lastZurich = Log.Read.Last(e => e.Kind == AuditEventKind.PrivacyReserved && e.Str("organisation") == "CH/zurich");
        Assert.Equal(AuditReportComposer.Number(lastZurich.Num("epsilonSpent")), Column(privacy, "ε spent (last)")[0]);

        var protection = JobReport.Section(AuditReportSections.Protection).Tables[0];
        Assert.Equal(["ckks", "4"], protection.Rows.Take(2).Select(r => r.Cells[1]));
        Assert.Contains(protection.Rows, r => r.Cells[1].StartsWith("CKKS N=8192", StringComparison.Ordinal));

        var decisions = JobReport.Section(AuditReportSections.Decisions);
        var deny = decisions.Tables[1].Rows.Single(r => r.Cells[3] == "deny");
        Assert.Contains("standard contractual clauses", deny.Cells[5]);
        Assert.Equal(["P1", "P2", "P3"], Column(decisions.Tables[0], "Set")); // the three policy sets loaded
        Assert.Equal(2, decisions.Tables[1].Rows.Length); // the job's decision and the denial
        var perAttempt = decisions.Tables[2];
        Assert.Equal(21, perAttempt.Rows.Length);
        Assert.Equal("round-attempt, CH/zurich, US/boston, US/seattle", perAttempt.Rows.Single(r => r.Cells[0] == "15").Cells[3]);
        Assert.Equal(Log.Read.Count(e => e.Kind == AuditEventKind.PolicyDecided && e.Str("job") == ReportLog.Job),
            decisions.Tables.Skip(1).Sum(t => t.Rows.Sum(r => r.Cites.Length)));

        var agreement = JobReport.Section(AuditReportSections.Agreement);
        Assert.Contains("Signed these terms: CH/zurich, HU/budapest, US/boston, US/seattle.", agreement.Lines[0].Text);
        Assert.Equal(7, agreement.Tables[0].Rows.Length);

        var dropouts = JobReport.Section(AuditReportSections.Dropouts).Tables[0];
        Assert.Equal(["dropped", "refused"], Column(dropouts, "Event"));

        Assert.Equal(20, JobReport.Section(AuditReportSections.Models).Tables[0].Rows.Length);

        var evidence = JobReport.Section(AuditReportSections.Evidence);
        Assert.Contains(JobReport.Head.Head.RootHex, evidence.Lines[0].Text);
        Assert.Contains("CH, HU, US", evidence.Lines[2].Text);
        Assert.Equal(JobReport.Entries.Length, evidence.Tables[0].Rows.Length);
    }

    [Fact]
    public void The_explanation_gives_importance_and_coefficients_with_how_and_its_limits_or_says_there_is_none()
    {
        var section = JobReport.Section(AuditReportSections.Explanation);
        var table = Assert.Single(section.Tables);
        Assert.Equal(["Feature", "Importance (accuracy drop)", "Coefficient"], table.Columns.ToArray());
        Assert.Equal(ReportLog.Features, Column(table, "Feature"));
        Assert.Equal("0.0873", Column(table, "Importance (accuracy drop)")[2]);
        Assert.Equal("-0.58", Column(table, "Coefficient")[6]);
        Assert.Contains("intercept -0.137", section.Lines[0].Text);
        Assert.Contains(section.Lines, l => l.Text == AuditReportSections.ExplanationMethod);
        Assert.Contains(section.Lines, l => l.Text == AuditReportSections.ExplanationLimits);
        Assert.Single(JobReport.Explanations);

        var without = ReportLog.Make(explain: false);
        var report = without.Report(AuditReportScope.ForJob(ReportLog.Job)).Section(AuditReportSections.Explanation);
        Assert.Empty(report.Tables);
        Assert.Contains("no model.explained entry", Assert.Single(report.Lines).Text);
    }

    [Fact]
    public void A_round_report_takes_that_round_and_the_jobs_context()
    {
        var report = Log.Report(AuditReportScope.ForRound(ReportLog.Job, 12));
        foreach (var e in report.Entries.Select(e => e.Entry))
            if (e.Int("round") is { } round)
                Assert.Equal(12, round);
        var rounds = report.Section(AuditReportSections.Rounds).Tables[0];
        Assert.Equal(["abandoned", "completed"], Column(rounds, "Outcome"));
        Assert.Contains(report.Entries, e => e.Entry.Kind == AuditEventKind.JobStarted);
        Assert.Contains(report.Entries, e => e.Entry.Kind == AuditEventKind.AgreementSigned);
        Assert.DoesNotContain(report.Entries, e => e.Entry.Kind == AuditEventKind.ModelExplained); // it explains version 20
        Assert.True(AuditReportVerifier.Verify(AuditReportJson.Write(report), ReportLog.Operator.PublicKey, ReportLog.CountryKeys, Log.Entries).Ok);
    }

    [Fact]
    public void An_agreement_report_takes_its_transitions_and_its_jobs_and_a_period_report_what_happened_in_it()
    {
        var agreement = Log.Report(AuditReportScope.ForAgreement(ReportLog.Agreement));
        Assert.Equal(JobReport.Entries.Select(e => e.Index), agreement.Entries.Select(e => e.Index));
        Assert.Equal("Job", agreement.Section(AuditReportSections.Rounds).Tables[0].Columns[0]);

        var other = Log.Report(AuditReportScope.ForAgreement(ReportLog.OtherAgreement));
        Assert.All(other.Entries, e => Assert.NotEqual(ReportLog.Job, e.Entry.Str("job")));
        Assert.Contains(other.Entries, e => e.Entry.Kind == AuditEventKind.JobFinished);

        var from = Log.Read[10].Time;
        var to = Log.Read[40].Time;
        var period = Log.Report(AuditReportScope.ForPeriod(from, to));
        Assert.Equal(Enumerable.Range(0, Log.Read.Count).Where(i => Log.Read[i].Time >= from && Log.Read[i].Time < to).Select(i => (long)i),
            period.Entries.Select(e => e.Index));
        Assert.Contains(period.Section(AuditReportSections.Other).Tables[0].Rows, r => r.Cells[1] == "user.signed-in" || r.Cells[1] == "membership.issued");
        var verification = AuditReportVerifier.Verify(AuditReportJson.Write(period), ReportLog.Operator.PublicKey, ReportLog.CountryKeys, Log.Entries);
        Assert.True(verification.Ok, verification.Problem);
    }

    [Fact]
    public void An_honest_report_verifies_offline_and_is_complete_against_the_log()
    {
        byte[] json = AuditReportJson.Write(JobReport);
        var verification = AuditReportVerifier.Verify(json, ReportLog.Operator.PublicKey, ReportLog.CountryKeys);
        Assert.True(verification.Ok, verification.Problem);
        Assert.False(verification.Complete);
        var complete = AuditReportVerifier.Verify(json, ReportLog.Operator.PublicKey, ReportLog.CountryKeys, Log.Entries);
        Assert.True(complete.Ok, complete.Problem);
        Assert.True(complete.Complete);
        Assert.Equal(json, AuditReportJson.Write(complete.Report!));
        Assert.Equal(JobReport.Head.Write(), SignedTreeHead.Read(Encoding.UTF8.GetBytes(System.Text.Json.Nodes.JsonNode.Parse(json)!["signedTreeHead"]!.GetValue<string>())).Write());
    }

    [Fact]
    public void A_report_ends_on_its_head_and_refuses_a_head_over_other_entries()
    {
        var shorter = AuditReportBuilder.Build(AuditReportScope.ForJob(ReportLog.Job), Log.Entries, Log.Head(100));
        Assert.All(shorter.Entries, e => Assert.True(e.Index < 100));
        Assert.True(AuditReportVerifier.Verify(AuditReportJson.Write(shorter), ReportLog.Operator.PublicKey, ReportLog.CountryKeys, Log.Entries).Ok);

        var other = ReportLog.Make(explain: false);
        var e = Assert.Throws<ArgumentException>(() => AuditReportBuilder.Build(AuditReportScope.ForJob(ReportLog.Job), Log.Entries, other.Head()));
        Assert.Contains("another log", e.Message);
        Assert.Throws<ArgumentException>(() => AuditReportBuilder.Build(AuditReportScope.ForJob(ReportLog.Job), Log.Entries.Take(10).ToList(), Log.Head()));
    }

    [Fact]
    public void The_csv_has_a_header_and_one_row_per_cited_entry_with_its_leaf_hash()
    {
        string csv = Encoding.UTF8.GetString(AuditReportCsv.Write(JobReport));
        var lines = csv.Split("\r\n");
        Assert.Equal("", lines[^1]);
        Assert.Equal("index,time,kind,actor,country,summary,sections,leaf_hash", lines[0]);
        Assert.Equal(JobReport.Entries.Length + 2, lines.Length);
        var started = JobReport.Entries.Single(e => e.Entry.Kind == AuditEventKind.JobStarted);
        var row = lines.Single(l => l.StartsWith($"{started.Index},", StringComparison.Ordinal));
        Assert.EndsWith("," + Convert.ToHexStringLower(started.LeafHash), row);
        Assert.Contains(",job.started,silo/US,US,", row);
        Assert.Contains("scope participants agreement protection", row);
        // A reason with a comma is quoted.
        Assert.Contains(lines, l => l.Contains(",\"", StringComparison.Ordinal));
    }
}
