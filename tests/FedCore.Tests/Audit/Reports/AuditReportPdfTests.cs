using System.Text;
using FedCore.Audit.Reports;
using FedCore.Audit.Reports.Pdf;
using PdfSharp.Pdf;
using PdfSharp.Pdf.Content;
using PdfSharp.Pdf.Content.Objects;
using PdfSharp.Pdf.IO;

namespace FedCore.Tests.Audit.Reports;

/// <summary>
/// The PDF form, checked without any tool outside the test: it opens with PDFsharp, its page count is in range, and its
/// text holds the job id and the head's root. Set FEDERATION_REPORT_PDF to a path to keep the job report for a look
/// (pdftoppm -png -r 60).
/// </summary>
public sealed class AuditReportPdfTests
{
    private static readonly ReportLog Log = ReportLog.Make();

    /// <summary>The text drawn on a page: the operands of its text operators (ASCII text is written as it is, see AuditReportPdf).</summary>
    private static string PageText(PdfPage page)
    {
        var text = new StringBuilder();
        void Walk(CObject item)
        {
            switch (item)
            {
                case CString s:
                    text.Append(s.Value).Append('\n');
                    break;
                case CSequence sequence:
                    foreach (var inner in sequence)
                        Walk(inner);
                    break;
                case COperator op:
                    foreach (var operand in op.Operands)
                        Walk(operand);
                    break;
            }
        }
        Walk(ContentReader.ReadContent(page));
        return text.ToString();
    }

    private static (PdfDocument Document, string Text) Open(byte[] pdf)
    {
        var document = PdfReader.Open(new MemoryStream(pdf), PdfDocumentOpenMode.Import);
        return (document, string.Join("\n", document.Pages.Cast<PdfPage>().Select(PageText)));
    }

    [Fact]
    public void A_job_report_renders_to_a_pdf_holding_the_job_id_and_the_heads_root()
    {
        var report = Log.Report(AuditReportScope.ForJob(ReportLog.Job));
        byte[] pdf = AuditReportPdf.Write(report);
        if (Environment.GetEnvironmentVariable("FEDERATION_REPORT_PDF") is { Length: > 0 } keep)
            File.WriteAllBytes(keep, pdf);
        var (document, text) = Open(pdf);
        using (document)
        {
            Assert.InRange(document.PageCount, 8, 60);
            Assert.Contains(ReportLog.Job, text);
            Assert.Contains(report.Head.Head.RootHex, text);
            Assert.Contains("Appendix: inclusion proofs", text);
            Assert.Contains(Convert.ToHexStringLower(report.Entries[^1].LeafHash), text);
            Assert.Equal(report.Title, document.Info.Title);
        }
    }

    [Fact]
    public void A_small_report_without_proofs_or_explanation_is_a_few_pages()
    {
        var log = ReportLog.Make(explain: false);
        var report = log.Report(AuditReportScope.ForAgreement(ReportLog.OtherAgreement));
        var (document, text) = Open(AuditReportPdf.Write(report, includeProofs: false));
        using (document)
        {
            Assert.InRange(document.PageCount, 2, 8);
            Assert.Contains(ReportLog.OtherAgreement, text);
            Assert.DoesNotContain("Appendix: inclusion proofs", text);
        }
    }
}
