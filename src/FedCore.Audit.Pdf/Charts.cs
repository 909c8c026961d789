using ScottPlot;

namespace FedCore.Audit.Reports.Pdf;

/// <summary>The report's charts, drawn with ScottPlot into PNG at twice the size they are shown.</summary>
internal static class Charts
{
    public static readonly (int Width, int Height) RoundsSize = (1600, 640);

    public static (int Width, int Height) ImportanceSize(ModelExplanation explanation) => (1600, Math.Clamp(160 + 56 * explanation.Features.Length, 360, 1400));

    private static void Style(Plot plot)
    {
        plot.Font.Set(ReportFonts.Sans);
        plot.ScaleFactor = 2;
        plot.Legend.FontName = ReportFonts.Sans;
    }

    public static byte[] RoundsPng(string job, IReadOnlyList<RoundMetric> rounds)
    {
        var plot = new Plot();
        Style(plot);
        var withAccuracy = rounds.Where(r => r.Accuracy is not null).ToList();
        var withLoss = rounds.Where(r => r.Loss is not null).ToList();
        if (withAccuracy.Count > 0)
        {
            var accuracy = plot.Add.Scatter(withAccuracy.Select(r => (double)r.Round).ToArray(), withAccuracy.Select(r => r.Accuracy!.Value).ToArray());
            accuracy.LegendText = "Accuracy (left axis)";
            accuracy.LineWidth = 2;
            accuracy.MarkerSize = 6;
            accuracy.Color = new Color(31, 78, 121);
        }
        if (withLoss.Count > 0)
        {
            var loss = plot.Add.Scatter(withLoss.Select(r => (double)r.Round).ToArray(), withLoss.Select(r => r.Loss!.Value).ToArray());
            loss.LegendText = "Loss (right axis)";
            loss.LineWidth = 2;
            loss.MarkerSize = 6;
            loss.LinePattern = LinePattern.Dashed;
            loss.Color = new Color(192, 80, 0);
            loss.Axes.YAxis = plot.Axes.Right;
        }
        plot.Title($"{job}: accuracy and loss per round");
        plot.XLabel("Round");
        plot.YLabel("Accuracy");
        plot.Axes.Right.Label.Text = "Loss";
        plot.Axes.Right.Label.FontName = ReportFonts.Sans;
        plot.Axes.Right.TickLabelStyle.FontName = ReportFonts.Sans;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Edge.Bottom);
        return plot.GetImageBytes(RoundsSize.Width, RoundsSize.Height, ImageFormat.Png);
    }

    public static byte[] ImportancePng(ModelExplanation explanation)
    {
        var plot = new Plot();
        Style(plot);
        int n = explanation.Features.Length;
        // Largest at the top: bars from the bottom in increasing importance.
        var order = Enumerable.Range(0, n).OrderBy(i => explanation.Importance[i]).ToArray();
        var bars = order.Select((feature, position) => new Bar
        {
            Position = position,
            Value = explanation.Importance[feature],
            FillColor = explanation.Importance[feature] >= 0 ? new Color(31, 78, 121) : new Color(192, 80, 0),
            Orientation = Orientation.Horizontal,
        }).ToList();
        plot.Add.Bars(bars);
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, n).Select(p => (double)p)], [.. order.Select(i => explanation.Features[i])]);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Title($"Permutation importance, version {explanation.Version} (baseline accuracy {explanation.BaselineAccuracy:0.####})");
        plot.XLabel("Mean drop in accuracy when the feature is shuffled");
        plot.YLabel("Feature");
        plot.Axes.Margins(left: 0.05, right: 0.1, bottom: 0.02, top: 0.02);
        var size = ImportanceSize(explanation);
        return plot.GetImageBytes(size.Width, size.Height, ImageFormat.Png);
    }
}
