using System.Globalization;
using System.Text;

namespace FedCore.Audit.Reports;

/// <summary>
/// The CSV form of a report (RFC 4180, UTF-8 without a byte-order mark, CRLF line ends): a header, then one row per cited
/// entry in index order with the columns <see cref="Columns"/>:
/// <list type="bullet">
/// <item><c>index</c>: the entry's position in the log (0-based), the one the report's lines cite;</item>
/// <item><c>time</c>: the entry's time, UTC, e.g. <c>2025-03-01T09:00:00.250Z</c>;</item>
/// <item><c>kind</c>: its wire name (<c>round.finished</c>);</item>
/// <item><c>actor</c>, <c>country</c>: who recorded it, and where;</item>
/// <item><c>summary</c>: one line saying what it records (numbers rounded to 4 places; the entry holds them exactly);</item>
/// <item><c>sections</c>: the ids of the report sections that cite it, separated by spaces;</item>
/// <item><c>leaf_hash</c>: SHA-256(0x00 ‖ the entry's canonical bytes) in hex, its leaf in the log's Merkle tree.</item>
/// </list>
/// A field holding a comma, a quote or a line break is quoted, quotes doubled. The CSV carries no proof: the JSON form does.
/// </summary>
public static class AuditReportCsv
{
    public static readonly string[] Columns = ["index", "time", "kind", "actor", "country", "summary", "sections", "leaf_hash"];

    public static byte[] Write(AuditReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var citedBy = new Dictionary<long, List<string>>();
        foreach (var section in report.Sections)
        {
            if (section.Id == AuditReportSections.Evidence)
                continue;
            foreach (var cite in section.Lines.SelectMany(l => l.Cites).Concat(section.Tables.SelectMany(t => t.Rows).SelectMany(r => r.Cites)))
            {
                var list = citedBy.TryGetValue(cite, out var l) ? l : citedBy[cite] = [];
                if (!list.Contains(section.Id))
                    list.Add(section.Id);
            }
        }
        var text = new StringBuilder();
        text.Append(string.Join(",", Columns)).Append("\r\n");
        foreach (var e in report.Entries)
        {
            string[] fields =
            [
                e.Index.ToString(CultureInfo.InvariantCulture), TreeHead.FormatTime(e.Entry.Time), e.Entry.WireName, e.Entry.Actor.Name, e.Entry.Country,
                AuditReportSummary.Of(e.Entry), string.Join(" ", citedBy.GetValueOrDefault(e.Index) ?? []), Convert.ToHexStringLower(e.LeafHash),
            ];
            text.Append(string.Join(",", fields.Select(Quote))).Append("\r\n");
        }
        return new UTF8Encoding(false).GetBytes(text.ToString());
    }

    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"") + "\"";
}
