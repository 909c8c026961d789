using System.Collections.Concurrent;
using System.Reflection;
using PdfSharp.Fonts;
using SkiaSharp;

namespace FedCore.Audit.Reports.Pdf;

/// <summary>
/// The fonts a report uses, shipped inside this assembly (DejaVu Sans, Sans Bold and Sans Mono; Fonts/LICENSE): a bare
/// Linux has no system fonts PDFsharp can find, and the Skia natives ScottPlot uses here read no fontconfig.
/// </summary>
internal static class ReportFonts
{
    public const string Sans = "DejaVu Sans";
    public const string Mono = "DejaVu Sans Mono";

    private static readonly ConcurrentDictionary<string, byte[]> Files = new(StringComparer.Ordinal);
    private static readonly object Gate = new();
    private static bool _installed;

    public static byte[] File(string name) => Files.GetOrAdd(name, n =>
    {
        using var stream = typeof(ReportFonts).Assembly.GetManifestResourceStream($"FedCore.Audit.Reports.Pdf.Fonts.{n}")
            ?? throw new InvalidOperationException($"The font {n} is not embedded in {typeof(ReportFonts).Assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    private static string FileFor(string family, bool bold) =>
        family.StartsWith(Mono, StringComparison.OrdinalIgnoreCase) ? "DejaVuSansMono.ttf" : bold ? "DejaVuSans-Bold.ttf" : "DejaVuSans.ttf";

    /// <summary>Installs the resolvers once per process. PDFsharp's is global: when another resolver is already set, it is kept and asked first.</summary>
    public static void Install()
    {
        lock (Gate)
        {
            if (_installed)
                return;
            if (GlobalFontSettings.FontResolver is null)
                GlobalFontSettings.FontResolver = new PdfResolver();
            else
                GlobalFontSettings.FallbackFontResolver ??= new PdfResolver();
            ScottPlot.Fonts.FontResolvers.Add(new PlotResolver());
            _installed = true;
        }
    }

    private sealed class PdfResolver : IFontResolver
    {
        public FontResolverInfo? ResolveTypeface(string familyName, bool bold, bool italic) =>
            familyName.StartsWith("DejaVu", StringComparison.OrdinalIgnoreCase)
                ? new FontResolverInfo(FileFor(familyName, bold), false, italic)
                : new FontResolverInfo(FileFor(Sans, bold), false, italic);

        public byte[]? GetFont(string faceName) => File(faceName);
    }

    private sealed class PlotResolver : ScottPlot.IFontResolver
    {
        private readonly ConcurrentDictionary<string, SKTypeface> _typefaces = new(StringComparer.Ordinal);

        public SKTypeface? CreateTypeface(string fontName, ScottPlot.FontWeight weight, ScottPlot.FontSlant slant, ScottPlot.FontSpacing spacing) =>
            CreateTypeface(fontName, weight >= ScottPlot.FontWeight.SemiBold, slant != ScottPlot.FontSlant.Upright);

        public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic)
        {
            if (!fontName.StartsWith("DejaVu", StringComparison.OrdinalIgnoreCase))
                return null;
            string file = FileFor(fontName, bold);
            return _typefaces.GetOrAdd(file, f => SKTypeface.FromData(SKData.CreateCopy(File(f))));
        }
    }
}
