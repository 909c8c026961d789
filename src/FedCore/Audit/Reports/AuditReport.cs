using System.Collections.Immutable;
using FedCore.Audit.Entries;

namespace FedCore.Audit.Reports;

/// <summary>One sentence of a report and the log entries (by index) it comes from; none when it comes from the signed tree head.</summary>
public sealed record ReportLine(string Text, ImmutableArray<long> Cites);

/// <summary>One row of a report table: its cells (text, in column order) and the entries it comes from.</summary>
public sealed record ReportRow(ImmutableArray<string> Cells, ImmutableArray<long> Cites);

/// <summary>A table of a section: a title, its column names, its rows.</summary>
public sealed record ReportTable(string Title, ImmutableArray<string> Columns, ImmutableArray<ReportRow> Rows);

/// <summary>
/// One section of a report: an id (<c>participants</c>, …), a title, where the EU AI Act asks for what it holds
/// (<see cref="Act"/>), its lines and its tables.
/// </summary>
public sealed record ReportSection(string Id, string Title, string Act, ImmutableArray<ReportLine> Lines, ImmutableArray<ReportTable> Tables);

/// <summary>An entry a report cites: its index in the log, its canonical bytes, the entry read from them, and its inclusion proof under the report's head.</summary>
public sealed record CitedEntry(long Index, ImmutableArray<byte> Bytes, AuditEntry Entry, ImmutableArray<ImmutableArray<byte>> Proof)
{
    /// <summary>SHA-256(0x00 ‖ bytes), the entry's leaf in the log's Merkle tree.</summary>
    public byte[] LeafHash => MerkleTree.HashLeaf(Bytes.AsSpan());
}

/// <summary>One attempt at a round as <c>round.finished</c> says (for the chart).</summary>
public sealed record RoundMetric(string Job, int Round, int Attempt, string Outcome, double? Accuracy, double? Loss, double? Seconds, long Index);

/// <summary>A <c>model.explained</c> entry's numbers (for the chart).</summary>
public sealed record ModelExplanation(string Job, int Version, string ModelDigest, long Rows, double BaselineAccuracy,
    ImmutableArray<string> Features, ImmutableArray<double> Importance, ImmutableArray<double>? Coefficients, double? Intercept, long Index);

/// <summary>
/// A report on part of the audit log (a job, a round, an agreement, a period), built only from the log's entries and a
/// signed tree head covering them (<see cref="AuditReportBuilder"/>): each line cites the entries it comes from, and each
/// cited entry carries its inclusion proof under <see cref="Head"/>. <see cref="AuditReportJson"/> writes it so that
/// <see cref="AuditReportVerifier"/> can check it offline.
/// </summary>
public sealed class AuditReport
{
    internal AuditReport(AuditReportScope scope, SignedTreeHead head, ImmutableArray<CitedEntry> entries, ImmutableArray<ReportSection> sections,
        ImmutableArray<RoundMetric> rounds, ImmutableArray<ModelExplanation> explanations)
    {
        Scope = scope;
        Head = head;
        Entries = entries;
        Sections = sections;
        Rounds = rounds;
        Explanations = explanations;
    }

    public AuditReportScope Scope { get; }

    /// <summary>The signed tree head every cited entry is proven under.</summary>
    public SignedTreeHead Head { get; }

    /// <summary>The cited entries in index order.</summary>
    public ImmutableArray<CitedEntry> Entries { get; }

    /// <summary>The sections, in the order <see cref="AuditReportSections"/> lists them.</summary>
    public ImmutableArray<ReportSection> Sections { get; }

    /// <summary>The per-round metrics the <c>rounds</c> section tabulates, for charts.</summary>
    public ImmutableArray<RoundMetric> Rounds { get; }

    /// <summary>The explanations the <c>explanation</c> section tabulates, for charts.</summary>
    public ImmutableArray<ModelExplanation> Explanations { get; }

    public string Title => $"Audit report: {Scope.Describe()}";

    public ReportSection Section(string id) => Sections.Single(s => s.Id == id);
}
