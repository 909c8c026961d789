using System.Collections.Immutable;
using System.Text;
using System.Text.Json.Nodes;
using FedCore.Audit;
using FedCore.Audit.Entries;
using FedCore.Audit.Reports;
using FedCore.Governance.Canonical;

namespace FedCore.Tests.Audit.Reports;

/// <summary>
/// The verifier against someone who edits a report: each test changes an honest report's JSON form the way an attacker
/// would (and writes it back in its one written form, so that only the meaning is wrong) and asserts the refusal names
/// what was changed.
/// </summary>
public sealed class AuditReportAttackTests
{
    private static readonly ReportLog Log = ReportLog.Make();
    private static readonly AuditReport Report = Log.Report(AuditReportScope.ForJob(ReportLog.Job));
    private static readonly byte[] Honest = AuditReportJson.Write(Report);

    private static AuditReportVerification Verify(byte[] json, IReadOnlyList<byte[]>? log = null) =>
        AuditReportVerifier.Verify(json, ReportLog.Operator.PublicKey, ReportLog.CountryKeys, log);

    private static byte[] Edit(Action<JsonObject> change)
    {
        var json = JsonNode.Parse(Honest)!.AsObject();
        change(json);
        return CanonicalJson.WriteIndented(json);
    }

    private static Problem Refused(byte[] json, IReadOnlyList<byte[]>? log = null)
    {
        var verification = Verify(json, log);
        Assert.False(verification.Ok, "the changed report verified");
        return new Problem(verification.Problem!);
    }

    /// <summary>A refusal's sentence; Contains asserts a part of it and shows it whole when the part is not there.</summary>
    private sealed record Problem(string Text)
    {
        public bool Contains(string part) => Text.Contains(part, StringComparison.Ordinal);
    }

    private static void Says(string part, Problem problem) => Assert.True(problem.Contains(part), $"The refusal does not say \"{part}\":\n{problem.Text}");

    private static void Says(string part, string? problem) => Assert.True(problem?.Contains(part, StringComparison.Ordinal) == true, $"The refusal does not say \"{part}\":\n{problem}");

    private static JsonObject SectionOf(JsonObject report, string id) =>
        report["sections"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == id)!.AsObject();

    private static int EntryPosition(JsonObject report, long index) =>
        report["entries"]!.AsArray().Select((e, i) => (e, i)).Single(x => x.e!["index"]!.GetValue<long>() == index).i;

    [Fact]
    public void The_honest_report_verifies_and_editing_helpers_change_nothing_by_themselves()
    {
        Assert.True(Verify(Honest).Ok);
        Assert.Equal(Honest, Edit(_ => { }));
    }

    [Fact]
    public void A_changed_number_in_a_table_is_refused_naming_section_row_column_and_both_values()
    {
        var json = Edit(r =>
        {
            var row = SectionOf(r, AuditReportSections.Rounds)["tables"]![0]!["rows"]![2]!.AsObject();
            string accuracy = row["cells"]![5]!.GetValue<string>();
            row["cells"]![5] = "0.99";
            Assert.NotEqual("0.99", accuracy);
        });
        var problem = Refused(json);
        Says("section \"rounds\"", problem);
        Says("row 3", problem);
        Says("column \"Accuracy\"", problem);
        Says("\"0.99\"", problem);
    }

    [Fact]
    public void A_changed_number_in_a_sentence_is_refused()
    {
        var json = Edit(r =>
        {
            var line = SectionOf(r, AuditReportSections.Explanation)["lines"]![0]!.AsObject();
            line["text"] = line["text"]!.GetValue<string>().Replace("baseline accuracy 0.8512", "baseline accuracy 0.9512", StringComparison.Ordinal);
        });
        var problem = Refused(json);
        Says("section \"explanation\"", problem);
        Says("line 1", problem);
        Says("0.9512", problem);
    }

    [Fact]
    public void A_changed_epsilon_a_dropped_decision_row_and_moved_cites_are_refused()
    {
        Says("column \"ε spent (last)\"", Refused(Edit(r => SectionOf(r, AuditReportSections.Privacy)["tables"]![0]!["rows"]![1]!["cells"]![4] = "0.1")));
        Says("is missing from the report", Refused(Edit(r =>
            SectionOf(r, AuditReportSections.Decisions)["tables"]![2]!["rows"]!.AsArray().RemoveAt(10))));
        Says("cites entries", Refused(Edit(r =>
        {
            var rows = SectionOf(r, AuditReportSections.Models)["tables"]![0]!["rows"]!.AsArray();
            rows[0]!["cites"] = rows[1]!["cites"]!.DeepClone();
        })));
    }

    [Fact]
    public void A_dropped_entry_is_refused_naming_the_line_that_cites_it()
    {
        var dropout = Report.Entries.Single(e => e.Entry.Kind == AuditEventKind.ParticipantDropped).Index;
        var problem = Refused(Edit(r => r["entries"]!.AsArray().RemoveAt(EntryPosition(r, dropout))));
        Says($"cites entry {dropout}, which the report does not carry", problem);
    }

    [Fact]
    public void An_entry_dropped_with_every_line_about_it_verifies_alone_but_not_against_the_log()
    {
        // The attacker rebuilds the whole report without the dropout: every line is then true of what it carries.
        var dropout = Report.Entries.Single(e => e.Entry.Kind == AuditEventKind.ParticipantDropped);
        var without = AuditReportBuilder.Assemble(Report.Scope, Report.Head, [.. Report.Entries.Where(e => e.Index != dropout.Index)]);
        byte[] json = AuditReportJson.Write(without);
        Assert.True(Verify(json).Ok); // the limit: a report proves what it says is in the log, not that it says everything
        var problem = Refused(json, Log.Entries);
        Says($"entry {dropout.Index} (participant.dropped) is in the report's scope but the report leaves it out", problem);
    }

    [Fact]
    public void An_entry_from_another_log_is_refused_by_its_inclusion_proof()
    {
        // Another log with its own honest head and proofs: its job.started says plaintext, not CKKS.
        var other = new List<byte[]>(Log.Entries);
        int started = Log.IndexOf(e => e.Kind == AuditEventKind.JobStarted && e.Str("job") == ReportLog.Job);
        var original = Log.Read[started];
        other[started] = AuditEntryJson.Write(AuditEvents.JobStarted(original.Time, original.Actor, original.Country, ReportLog.Job, ReportLog.Agreement,
            AuditDigest.Parse(original.Str("termsDigest")!), ReportLog.Participants, FedCore.Governance.Agreements.ProtectionScheme.PlaintextSimulation, rounds: ReportLog.Rounds));
        var tree = MerkleTree.FromEntries(other);
        var proof = tree.InclusionProof(started, Report.Head.Head.Size);
        var problem = Refused(Edit(r =>
        {
            var entry = r["entries"]![EntryPosition(r, started)]!.AsObject();
            entry["bytes"] = Encoding.UTF8.GetString(other[started]);
            entry["proof"] = new JsonArray([.. proof.Select(h => (JsonNode)Convert.ToHexStringLower(h))]);
        }));
        Says($"entry {started} (job.started", problem);
        Says("inclusion proof does not lead to the signed head's root", problem);

        // And the whole report of the other log, under the other log's head, passed off with this log's operator and countries: refused by the head.
        var otherLog = ReportLog.Make(explain: false);
        var foreign = AuditReportBuilder.Build(Report.Scope, otherLog.Entries, otherLog.Head(operatorKey: ReportLog.Intruder));
        Says("OperatorSignature", Refused(AuditReportJson.Write(foreign)));
    }

    [Fact]
    public void A_forged_or_altered_head_is_refused_naming_the_signature()
    {
        var forged = AuditReportBuilder.Build(Report.Scope, Log.Entries, Log.Head(operatorKey: ReportLog.Intruder));
        Says("OperatorSignature", Refused(AuditReportJson.Write(forged)));

        var huMissing = AuditReportBuilder.Build(Report.Scope, Log.Entries, Log.Head(silos: ReportLog.Silos.Where(s => s.Key != "HU").ToDictionary()));
        Says("MissingCosignature (HU)", Refused(AuditReportJson.Write(huMissing)));

        var huByUsKey = AuditReportBuilder.Build(Report.Scope, Log.Entries,
            Log.Head(silos: new Dictionary<string, FedCore.Aggregation.Integrity.ParticipantSigningKey> { ["CH"] = ReportLog.Silos["CH"], ["HU"] = ReportLog.Silos["US"], ["US"] = ReportLog.Silos["US"] }));
        Says("Cosignature (HU)", Refused(AuditReportJson.Write(huByUsKey)));

        // The head's time moved an hour: the operator's signature no longer covers it.
        var problem = Refused(Edit(r => r["signedTreeHead"] = r["signedTreeHead"]!.GetValue<string>().Replace("\"time\": \"2025-03-01T", "\"time\": \"2025-03-02T", StringComparison.Ordinal)));
        Says("OperatorSignature", problem);

        // Another layout of the head is not its one written form.
        Says("$.signedTreeHead", Refused(Edit(r => r["signedTreeHead"] = r["signedTreeHead"]!.GetValue<string>().Replace("\n", "\n ", StringComparison.Ordinal))));
    }

    [Fact]
    public void An_entry_outside_the_scope_with_an_honest_proof_is_refused()
    {
        int foreign = Log.IndexOf(e => e.Kind == AuditEventKind.JobFinished && e.Str("job") == ReportLog.OtherJob);
        var extra = new CitedEntry(foreign, [.. Log.Entries[foreign]], Log.Read[foreign],
            [.. MerkleTree.FromEntries(Log.Entries).InclusionProof(foreign).Select(h => ImmutableArray.Create(h))]);
        var padded = AuditReportBuilder.Assemble(Report.Scope, Report.Head, [.. Report.Entries.Append(extra).OrderBy(e => e.Index)]);
        var problem = Refused(AuditReportJson.Write(padded));
        Says($"entry {foreign} (job.finished) is not in the report's scope (job {ReportLog.Job})", problem);
    }

    [Fact]
    public void Changed_indices_proofs_and_entry_bytes_are_refused_naming_the_entry()
    {
        var sample = Report.Entries[5];
        Says($"entry {sample.Index + 1}", Refused(Edit(r => r["entries"]![5]!["index"] = sample.Index + 1)));
        Says("does not come after", Refused(Edit(r => r["entries"]![5]!["index"] = Report.Entries[3].Index)));
        Says("is not under the signed tree head", Refused(Edit(r => r["entries"]![r["entries"]!.AsArray().Count - 1]!["index"] = Report.Head.Head.Size)));
        Says($"entry {sample.Index}", Refused(Edit(r =>
        {
            var proof = r["entries"]![5]!["proof"]!.AsArray();
            string hash = proof[0]!.GetValue<string>();
            proof[0] = (hash[0] == '0' ? "1" : "0") + hash[1..];
        })));
        Says($"entry {sample.Index}", Refused(Edit(r => r["entries"]![5]!["proof"]!.AsArray().RemoveAt(0))));
        // The entry's bytes changed to another valid entry: its proof no longer holds.
        Says($"entry {sample.Index}", Refused(Edit(r => r["entries"]![5]!["bytes"] = Encoding.UTF8.GetString(Log.Entries[(int)Report.Entries[6].Index]))));
        // Not an entry in its one written form.
        Says($"entry {sample.Index} (report: $.entries[5].bytes)", Refused(Edit(r => r["entries"]![5]!["bytes"] = r["entries"]![5]!["bytes"]!.GetValue<string>().Replace(":", ": ", StringComparison.Ordinal))));
    }

    [Fact]
    public void Another_scope_title_format_or_layout_is_refused()
    {
        Says("not in the report's scope", Refused(Edit(r => r["scope"] = new JsonObject { ["kind"] = "job", ["job"] = ReportLog.OtherJob })));
        Says("$.scope.round", Refused(Edit(r => r["scope"]!["round"] = 3)));
        Says("$.title", Refused(Edit(r => r["title"] = "Audit report: all is well")));
        Says("$.format", Refused(Edit(r => r["format"] = "federation/audit/report/v2")));
        Says("$.extra", Refused(Edit(r => r["extra"] = 1)));
        Says("one written form", Refused([.. Honest, (byte)'\n']));
        Says("act", Refused(Edit(r => SectionOf(r, AuditReportSections.Rounds)["act"] = "none")));
        Says("report: $", Refused(Encoding.UTF8.GetBytes("{")));
    }

    [Fact]
    public void Keys_the_auditor_holds_decide_a_report_signed_by_others_fails_with_them()
    {
        var others = ReportLog.CountryKeys.ToDictionary(k => k.Key, k => k.Value);
        others["FR"] = FedCore.Aggregation.Integrity.ParticipantSigningKey.Generate().PublicKey;
        Says("MissingCosignature (FR)", AuditReportVerifier.Verify(Honest, ReportLog.Operator.PublicKey, others).Problem);
        Says("OperatorSignature", AuditReportVerifier.Verify(Honest, ReportLog.Intruder.PublicKey, ReportLog.CountryKeys).Problem);
    }
}
