using System.Globalization;
using System.Text.RegularExpressions;
using PdfSharp;
using PdfSharp.Drawing;
using PdfSharp.Pdf;

namespace FedCore.Audit.Reports.Pdf;

/// <summary>
/// A report as a PDF for people (A4 landscape): a title page with the signed head and how to check the report, the
/// sections in order with their EU AI Act references, each line and row with the entries it cites, a chart of accuracy
/// and loss per round and of feature importance, and an appendix with every cited entry's inclusion proof. Rendering only:
/// the JSON form is what <see cref="AuditReportVerifier"/> checks.
/// </summary>
public static partial class AuditReportPdf
{
    /// <summary>Renders <paramref name="report"/>.</summary>
    /// <param name="includeProofs">Whether the appendix lists every cited entry's inclusion proof (one to three lines of hashes per entry).</param>
    public static byte[] Write(AuditReport report, bool includeProofs = true)
    {
        ArgumentNullException.ThrowIfNull(report);
        ReportFonts.Install();
        using var document = new PdfDocument();
        document.Info.Title = report.Title;
        document.Info.Subject = $"Audit log report; signed tree head size {report.Head.Head.Size}, root {report.Head.Head.RootHex}";
        document.Info.Creator = "Federation audit report";
        document.Info.CreationDate = report.Head.Head.Time.UtcDateTime;
        document.Info.ModificationDate = report.Head.Head.Time.UtcDateTime;
        var writer = new PageWriter(document, report, includeProofs);
        writer.TitlePage();
        foreach (var section in report.Sections)
            writer.Section(section);
        if (includeProofs)
            writer.Proofs();
        writer.Finish();
        using var stream = new MemoryStream();
        document.Save(stream, false);
        return stream.ToArray();
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    internal static partial Regex Digest();

    /// <summary>Citations as ranges: 3, 5–9, 12.</summary>
    internal static string Ranges(IReadOnlyList<long> cites, int max = int.MaxValue)
    {
        var parts = new List<string>();
        for (int i = 0; i < cites.Count;)
        {
            int j = i;
            while (j + 1 < cites.Count && cites[j + 1] == cites[j] + 1)
                j++;
            parts.Add(j == i ? cites[i].ToString(CultureInfo.InvariantCulture)
                : j == i + 1 ? $"{cites[i]}, {cites[j]}" : $"{cites[i]}–{cites[j]}");
            i = j + 1;
        }
        return parts.Count <= max ? string.Join(", ", parts) : string.Join(", ", parts.Take(max)) + $" and {parts.Count - max} more";
    }

    private sealed class PageWriter
    {
        private const double Width = 842, Height = 595, Margin = 36, Top = 50, Bottom = 40;
        private const double ContentWidth = Width - 2 * Margin;
        private const double TextWidth = 640;
        private static readonly XColor Ink = XColor.FromArgb(30, 30, 30);
        private static readonly XColor Grey = XColor.FromArgb(110, 110, 110);
        private static readonly XColor Rule = XColor.FromArgb(200, 200, 200);
        private static readonly XColor HeaderFill = XColor.FromArgb(228, 233, 240);
        private static readonly XColor StripeFill = XColor.FromArgb(246, 247, 249);
        private static readonly XColor Accent = XColor.FromArgb(31, 78, 121);

        private readonly PdfDocument _document;
        private readonly AuditReport _report;
        private readonly List<PdfPage> _pages = [];
        private XGraphics? _gfx;
        private double _y;

        private readonly XFont _title = Font(18, true);
        private readonly XFont _heading = Font(13, true);
        private readonly XFont _subheading = Font(9.5, true);
        private readonly XFont _body = Font(9);
        private readonly XFont _small = Font(7.5);
        private readonly XFont _cell = Font(7);
        private readonly XFont _cellBold = Font(7, true);
        private readonly XFont _cite = Font(6.5);
        private readonly XFont _mono = new(ReportFonts.Mono, 8, XFontStyleEx.Regular, new XPdfFontOptions(PdfFontEncoding.WinAnsi));
        private readonly XFont _monoCell = new(ReportFonts.Mono, 6, XFontStyleEx.Regular, new XPdfFontOptions(PdfFontEncoding.WinAnsi));
        private readonly XFont _monoSmall = new(ReportFonts.Mono, 5.6, XFontStyleEx.Regular, new XPdfFontOptions(PdfFontEncoding.WinAnsi));

        private readonly bool _proofs;

        public PageWriter(PdfDocument document, AuditReport report, bool proofs)
        {
            _document = document;
            _report = report;
            _proofs = proofs;
        }

        /// <summary>Unicode text needs the Unicode encoding; text in Windows-1252 is written as it is, so the PDF's content can be searched for it.</summary>
        private static XFont Font(double size, bool bold = false) =>
            new(ReportFonts.Sans, size, bold ? XFontStyleEx.Bold : XFontStyleEx.Regular, new XPdfFontOptions(PdfFontEncoding.Unicode));

        private static XFont Plain(double size, bool bold = false) =>
            new(ReportFonts.Sans, size, bold ? XFontStyleEx.Bold : XFontStyleEx.Regular, new XPdfFontOptions(PdfFontEncoding.WinAnsi));

        private static bool IsPlain(string text) => text.All(c => c is >= ' ' and <= '~');

        /// <summary>The font to draw <paramref name="text"/> with: the same face, WinAnsi-encoded when the text is ASCII.</summary>
        private static XFont For(XFont font, string text) =>
            IsPlain(text) && font.PdfOptions.FontEncoding == PdfFontEncoding.Unicode ? Plain(font.Size, font.Bold) : font;

        // ---- Pages ------------------------------------------------------------------------------------------------

        private XGraphics G => _gfx ?? NewPage();

        private XGraphics NewPage()
        {
            _gfx?.Dispose();
            var page = _document.AddPage();
            page.Width = XUnit.FromPoint(Width);
            page.Height = XUnit.FromPoint(Height);
            _pages.Add(page);
            _gfx = XGraphics.FromPdfPage(page);
            _y = Top;
            return _gfx;
        }

        private void Need(double height)
        {
            if (_gfx is null || _y + height > Height - Bottom)
                NewPage();
        }

        /// <summary>
        /// Room for a block of <paramref name="whole"/> points: kept whole on the next page when it does not fit here but fits a
        /// page and less than half of this page is left; otherwise started here with at least <paramref name="minimum"/> points.
        /// </summary>
        private void NeedWhole(double whole, double minimum)
        {
            double page = Height - Bottom - Top;
            double left = Height - Bottom - _y;
            if (_gfx is not null && whole <= left)
                return;
            if (whole <= page && left < 0.5 * page)
                NewPage();
            else
                Need(Math.Min(minimum, page));
        }

        public void Finish()
        {
            _gfx?.Dispose();
            _gfx = null;
            string head = $"Signed tree head: size {_report.Head.Head.Size}, root {_report.Head.Head.RootHex[..16]}…";
            for (int i = 0; i < _pages.Count; i++)
            {
                using var gfx = XGraphics.FromPdfPage(_pages[i], XGraphicsPdfPageOptions.Append);
                gfx.DrawLine(new XPen(Rule, 0.5), Margin, Top - 12, Width - Margin, Top - 12);
                Draw(gfx, _report.Title, _small, Grey, Margin, Top - 24);
                var right = $"page {i + 1} of {_pages.Count}";
                Draw(gfx, right, _small, Grey, Width - Margin - gfx.MeasureString(right, For(_small, right)).Width, Top - 24);
                Draw(gfx, head, _small, Grey, Margin, Height - Bottom + 14);
            }
        }

        private static void Draw(XGraphics gfx, string text, XFont font, XColor color, double x, double y)
        {
            if (text.Length > 0)
                gfx.DrawString(text, For(font, text), new XSolidBrush(color), x, y, XStringFormats.TopLeft);
        }

        private double LineHeight(XFont font) => font.Size * 1.3;

        // ---- Text -------------------------------------------------------------------------------------------------

        /// <summary>Words wrapped to <paramref name="width"/>; a word wider than the line is cut by characters.</summary>
        private List<string> Wrap(string text, XFont font, double width)
        {
            var lines = new List<string>();
            var gfx = G;
            foreach (var paragraph in text.Split('\n'))
            {
                string line = "";
                foreach (var raw in paragraph.Split(' '))
                {
                    string word = raw;
                    string candidate = line.Length == 0 ? word : line + " " + word;
                    if (Measure(gfx, candidate, font) <= width)
                    {
                        line = candidate;
                        continue;
                    }
                    if (line.Length > 0)
                        lines.Add(line);
                    while (Measure(gfx, word, font) > width && word.Length > 1)
                    {
                        int fit = 1;
                        while (fit < word.Length && Measure(gfx, word[..(fit + 1)], font) <= width)
                            fit++;
                        lines.Add(word[..fit]);
                        word = word[fit..];
                    }
                    line = word;
                }
                lines.Add(line);
            }
            return lines;
        }

        private static double Measure(XGraphics gfx, string text, XFont font) => text.Length == 0 ? 0 : gfx.MeasureString(text, For(font, text)).Width;

        private void Paragraph(string text, XFont font, XColor color, double width = TextWidth, double indent = 0)
        {
            foreach (var line in Wrap(text, font, width - indent))
            {
                Need(LineHeight(font));
                Draw(G, line, font, color, Margin + indent, _y);
                _y += LineHeight(font);
            }
        }

        // ---- Title page ---------------------------------------------------------------------------------------------

        public void TitlePage()
        {
            NewPage();
            var head = _report.Head.Head;
            Draw(G, _report.Title, _title, Accent, Margin, _y);
            _y += 30;
            Paragraph($"Built only from the Federation audit log: {_report.Entries.Length} entries cited, all under the signed tree head below. " +
                "Every line and table row names the entries it comes from (\"entries 12, 40–44\", their indices in the log).", _body, Ink);
            _y += 8;
            KeyValues("Signed tree head",
            [
                ("Log size", head.Size.ToString(CultureInfo.InvariantCulture)),
                ("Root (SHA-256)", head.RootHex),
                ("Time", TreeHead.FormatTime(head.Time)),
                ("Operator's signature", Convert.ToBase64String(_report.Head.Signature.AsSpan())),
                ("Co-signed by", _report.Head.Cosignatures.Count == 0 ? "no country" : string.Join(", ", _report.Head.Cosignatures.Keys)),
            ]);
            _y += 6;
            Text("How to check this report", _subheading, Ink);
            Paragraph("1. Obtain the operator's public key and each country's silo key from them, not from this report. " +
                "2. Take the JSON form of this report (`federation audit report --format json`) and run `federation audit report-verify` on it with those keys: " +
                "it checks the head's signatures, every cited entry's inclusion proof against the root above, and rebuilds every section from the cited entries. " +
                "3. To check that nothing in scope was left out, verify it against an export of the log (`--export DIR`). " +
                "This PDF shows the same content; numbers are rounded to four decimal places, the cited entries hold them exactly.", _body, Ink);
            _y += 8;
            Text("Sections and the EU AI Act", _subheading, Ink);
            _y += 2;
            Table(new ReportTable("", ["Section", "What it holds after the Act"],
                [.. _report.Sections.Select((s, i) => new ReportRow([$"{i + 1}. {s.Title}", s.Act], []))]), cites: false);
            Paragraph("Art. 12(3) lists what high-risk remote biometric identification systems must log at a minimum; it is used here by analogy, for the " +
                "period of each use, the data used, and the persons involved. Annex IV lists the technical documentation; these sections give the parts a " +
                "training log can evidence.", _small, Grey);
        }

        private void Text(string text, XFont font, XColor color)
        {
            Need(LineHeight(font) + 4);
            Draw(G, text, font, color, Margin, _y);
            _y += LineHeight(font) + 2;
        }

        private void KeyValues(string title, (string Key, string Value)[] rows)
        {
            Text(title, _subheading, Ink);
            foreach (var (key, value) in rows)
            {
                var font = Digest().IsMatch(value) || value.Length > 60 && !value.Contains(' ') ? _mono : _body;
                var lines = Wrap(value, font, ContentWidth - 140);
                Need(lines.Count * LineHeight(font));
                Draw(G, key, _body, Grey, Margin, _y);
                foreach (var line in lines)
                {
                    Draw(G, line, font, Ink, Margin + 140, _y);
                    _y += LineHeight(font) + 1;
                }
            }
        }

        // ---- Sections -----------------------------------------------------------------------------------------------

        public void Section(ReportSection section)
        {
            int number = _report.Sections.IndexOf(section) + 1;
            // The heading stays with its lines and what comes first after them (a chart, or the first table).
            double start = 70 + section.Lines.Sum(l => Wrap(l.Text, _body, TextWidth).Count * LineHeight(_body) + (l.Cites.Length > 0 ? 14 : 4));
            double first = 0;
            if (section.Id == AuditReportSections.Rounds && _report.Rounds.Any(r => r.Outcome == "completed"))
                first = Math.Min(ContentWidth, 620) * Charts.RoundsSize.Height / Charts.RoundsSize.Width + 20;
            else if (section.Id == AuditReportSections.Explanation && _report.Explanations.Length > 0)
                first = Math.Min(ContentWidth, 620) * Charts.ImportanceSize(_report.Explanations[0]).Height / Charts.ImportanceSize(_report.Explanations[0]).Width + 20;
            else if (section.Tables.Length > 0 && !(_proofs && section.Id == AuditReportSections.Evidence))
                first = section.Tables[0].Rows.Length == 0 ? 30 : TableStart(section.Tables[0], true);
            double page = Height - Bottom - Top;
            if (_gfx is not null && start + first > Height - Bottom - _y && first <= page && Height - Bottom - _y < 0.5 * page)
                NewPage(); // what comes first would move to the next page anyway: the heading goes with it
            else
                NeedWhole(start + first, 150);
            if (_y > Top)
                _y += 10;
            Draw(G, $"{number}. {section.Title}", _heading, Accent, Margin, _y);
            _y += LineHeight(_heading) + 1;
            Paragraph("EU AI Act: " + section.Act, _small, Grey, ContentWidth);
            _y += 4;
            foreach (var line in section.Lines)
            {
                string cites = line.Cites.Length == 0 ? "" : $"  [entries {Ranges(line.Cites, 12)}]";
                Paragraph(line.Text, _body, Ink);
                if (cites.Length > 0)
                {
                    _y -= 1;
                    Paragraph(cites.Trim(), _cite, Grey);
                }
                _y += 3;
            }
            if (section.Id == AuditReportSections.Rounds)
                RoundCharts();
            if (section.Id == AuditReportSections.Explanation)
                ExplanationCharts();
            foreach (var table in section.Tables)
            {
                _y += 3;
                if (_proofs && section.Id == AuditReportSections.Evidence)
                {
                    // The same rows, with each entry's proof, are the appendix.
                    Paragraph($"The {table.Rows.Length} cited entries are listed in the appendix, each with its time, kind, actor, country, leaf hash and inclusion proof.", _body, Ink);
                    continue;
                }
                if (table.Rows.Length == 0)
                {
                    Text(table.Title, _subheading, Ink);
                    Paragraph("None in scope.", _body, Grey);
                    continue;
                }
                Table(table, cites: true);
            }
        }

        // ---- Tables -------------------------------------------------------------------------------------------------

        /// <summary>The height a table asks for before it starts: all of it when it fits on a page, else its title, header and a few rows.</summary>
        private double TableStart(ReportTable table, bool cites)
        {
            var (columns, rows, widths) = Layout(table, cites);
            double header = columns.Select((c, i) => Wrap(c, _cellBold, widths[i] - 6).Count * LineHeight(_cellBold)).Max() + 5;
            double body = rows.Sum(r => r.Select((c, i) => Wrap(c, CellFont(c, false), widths[i] - 6).Count * LineHeight(CellFont(c, false))).Max() + 5);
            double whole = LineHeight(_subheading) + 2 + header + body + 8;
            return whole;
        }

        private (List<string> Columns, List<List<string>> Rows, double[] Widths) Layout(ReportTable table, bool cites)
        {
            var columns = table.Columns.ToList();
            var rows = table.Rows.Select(r => r.Cells.ToList()).ToList();
            if (cites)
            {
                columns.Add("Entries");
                for (int i = 0; i < rows.Count; i++)
                    rows[i].Add(Ranges(table.Rows[i].Cites, 6));
            }
            return (columns, rows, ColumnWidths(columns, rows));
        }

        private void Table(ReportTable table, bool cites)
        {
            var (columns, rows, widths) = Layout(table, cites);
            const double pad = 3;

            List<List<string>> Lines(IReadOnlyList<string> cells, bool header) =>
                [.. cells.Select((cell, c) => Wrap(cell, CellFont(cell, header), widths[c] - 2 * pad))];
            double RowHeight(List<List<string>> lines, IReadOnlyList<string> cells, bool header) =>
                lines.Select((l, c) => l.Count * LineHeight(CellFont(cells[c], header))).DefaultIfEmpty(0).Max() + 2 * pad - 1;

            var headerLines = Lines(columns, true);
            double headerHeight = RowHeight(headerLines, columns, true);
            void Header()
            {
                G.DrawRectangle(new XSolidBrush(HeaderFill), Margin, _y, widths.Sum(), headerHeight);
                DrawRow(columns, headerLines, widths, true);
                _y += headerHeight;
            }

            // A table that fits on one page is kept on one page; a longer one starts with room for a few rows.
            NeedWhole(TableStart(table, cites), LineHeight(_subheading) + 60);
            if (table.Title.Length > 0)
                Text(table.Title, _subheading, Ink);
            Header();
            for (int r = 0; r < rows.Count; r++)
            {
                var lines = Lines(rows[r], false);
                double height = RowHeight(lines, rows[r], false);
                if (_y + height > Height - Bottom)
                {
                    NewPage();
                    Draw(G, $"{table.Title} (continued)".Trim(), _small, Grey, Margin, _y);
                    _y += LineHeight(_small) + 2;
                    Header();
                }
                if (r % 2 == 1)
                    G.DrawRectangle(new XSolidBrush(StripeFill), Margin, _y, widths.Sum(), height);
                DrawRow(rows[r], lines, widths, false);
                _y += height;
            }
            G.DrawLine(new XPen(Rule, 0.5), Margin, _y, Margin + widths.Sum(), _y);
            _y += 6;
        }

        private void DrawRow(IReadOnlyList<string> cells, List<List<string>> lines, double[] widths, bool header)
        {
            double x = Margin;
            for (int c = 0; c < cells.Count; c++)
            {
                var font = CellFont(cells[c], header);
                bool last = !header && c == cells.Count - 1 && cells.Count > 2;
                double y = _y + 3;
                foreach (var line in lines[c])
                {
                    Draw(G, line, font, last && widths.Length == cells.Count ? Grey : Ink, x + 3, y);
                    y += LineHeight(font);
                }
                x += widths[c];
            }
        }

        private XFont CellFont(string cell, bool header) => header ? _cellBold : Digest().IsMatch(cell) ? _monoCell : _cell;

        /// <summary>Natural widths when they fit; otherwise narrow columns keep theirs and the wide ones share the rest by their natural width.</summary>
        private double[] ColumnWidths(List<string> columns, List<List<string>> rows)
        {
            var gfx = G;
            int n = columns.Count;
            var natural = new double[n];
            var minimum = new double[n];
            for (int c = 0; c < n; c++)
            {
                double header = columns[c].Split(' ').Max(w => Measure(gfx, w, _cellBold)) + 6;
                natural[c] = Measure(gfx, columns[c], _cellBold) + 6;
                minimum[c] = Math.Max(header, 28);
                foreach (var row in rows)
                {
                    string cell = row[c];
                    var font = CellFont(cell, false);
                    if (Digest().IsMatch(cell))
                    {
                        double half = Measure(gfx, cell[..32], font) + 6;
                        natural[c] = Math.Max(natural[c], half);
                        minimum[c] = Math.Max(minimum[c], half);
                        continue;
                    }
                    natural[c] = Math.Max(natural[c], Math.Min(Measure(gfx, cell, font) + 6, 320));
                    double longestWord = cell.Split(' ').Select(w => Measure(gfx, w, font)).DefaultIfEmpty(0).Max() + 6;
                    minimum[c] = Math.Max(minimum[c], Math.Min(longestWord, 110));
                }
                minimum[c] = Math.Min(minimum[c], natural[c]);
            }
            if (natural.Sum() <= ContentWidth)
                return natural;
            var widths = (double[])minimum.Clone();
            double spare = ContentWidth - widths.Sum();
            if (spare <= 0)
                return [.. widths.Select(w => w * ContentWidth / widths.Sum())];
            double want = natural.Zip(minimum, (a, b) => a - b).Sum();
            for (int c = 0; c < n; c++)
                widths[c] += (natural[c] - minimum[c]) * spare / want;
            return widths;
        }

        // ---- Charts -------------------------------------------------------------------------------------------------

        private void RoundCharts()
        {
            foreach (var job in _report.Rounds.Select(r => r.Job).Distinct().Take(8))
            {
                var done = _report.Rounds.Where(r => r.Job == job && r.Outcome == "completed").ToList();
                if (done.Count == 0)
                    continue;
                byte[] png = Charts.RoundsPng(job, done);
                Image(png, Charts.RoundsSize, $"Accuracy and loss of each completed round of {job} (entries {Ranges([.. done.Select(d => d.Index)], 8)})");
            }
        }

        private void ExplanationCharts()
        {
            foreach (var explanation in _report.Explanations.Take(8))
            {
                byte[] png = Charts.ImportancePng(explanation);
                Image(png, Charts.ImportanceSize(explanation), $"Permutation importance of version {explanation.Version} of {explanation.Job} (entry {explanation.Index})");
            }
        }

        private void Image(byte[] png, (int Width, int Height) pixels, string caption)
        {
            double width = Math.Min(ContentWidth, 620);
            double height = width * pixels.Height / pixels.Width;
            Need(height + 20);
            using (var stream = new MemoryStream(png))
            {
                using var image = XImage.FromStream(stream);
                G.DrawImage(image, Margin, _y, width, height);
            }
            _y += height + 2;
            Paragraph(caption, _small, Grey);
            _y += 6;
        }

        // ---- Appendix -------------------------------------------------------------------------------------------------

        public void Proofs()
        {
            NewPage();
            Draw(G, "Appendix: inclusion proofs", _heading, Accent, Margin, _y);
            _y += LineHeight(_heading) + 2;
            Paragraph($"For each cited entry: its index, its leaf hash SHA-256(0x00 ‖ entry) and its inclusion proof for a tree of {_report.Head.Head.Size} " +
                $"entries with root {_report.Head.Head.RootHex} (RFC 9162 §2.1.3, hashes from the leaf up). The entries' bytes are in the JSON form of this report.", _small, Grey, ContentWidth);
            _y += 4;
            double lineHeight = LineHeight(_monoSmall);
            foreach (var entry in _report.Entries)
            {
                var e = entry.Entry;
                var hashes = entry.Proof.Select(h => Convert.ToHexStringLower(h.AsSpan())).ToList();
                string heading = $"#{entry.Index}  {TreeHead.FormatTime(e.Time)}  {e.WireName}  {e.Actor.Name}  {e.Country}";
                var lines = new List<(string Text, bool Heading)> { ($"{heading,-78} leaf {Convert.ToHexStringLower(entry.LeafHash)}", true) };
                for (int i = 0; i < hashes.Count; i += 3)
                    lines.Add(("    " + string.Join("  ", hashes.Skip(i).Take(3)), false));
                Need(lines.Count * lineHeight + 2);
                foreach (var (line, isHeading) in lines)
                {
                    Draw(G, line, _monoSmall, isHeading ? Ink : Grey, Margin, _y);
                    _y += lineHeight;
                }
                _y += 2;
            }
        }
    }
}
