using FedCore.Data;

namespace FedCore.Learning.Explanation;

/// <summary>One participant's share of a federated permutation importance: its test accuracy, and the drop of it when each input column is shuffled.</summary>
/// <param name="Rows">The test rows it was measured on.</param>
/// <param name="Drops">Per input column (the model's inputs, after encoding), baseline accuracy minus the accuracy with that column shuffled.</param>
public sealed record ImportanceShare(int Rows, double BaselineAccuracy, double[] Drops)
{
    /// <summary>
    /// The vector a round sums for it: baseline accuracy, then the drops (each in [−1, 1]), weighed in the round by rows over
    /// the job's normaliser, so the opened mean is the row-weighted mean over all participants' test rows.
    /// </summary>
    public float[] ToVector() => [(float)BaselineAccuracy, .. Drops.Select(d => (float)d)];

    /// <summary>The length of <see cref="ToVector"/> for a model of <paramref name="inputColumns"/> input columns.</summary>
    public static int VectorLength(int inputColumns) => 1 + inputColumns;

    /// <summary>The federation-wide figures from an opened mean of <see cref="ToVector"/>s.</summary>
    public static (double BaselineAccuracy, double[] Importance) FromMean(ReadOnlySpan<float> mean) =>
        (mean[0], [.. mean[1..].ToArray().Select(v => (double)v)]);
}

/// <summary>
/// Permutation importance (Breiman 2001; Fisher, Rudin and Dominici 2019) of a classifier on one participant's own test
/// split: for each input column, the accuracy lost when that column's values are shuffled among the rows, which breaks
/// its link to the label and keeps its distribution. Each column is shuffled once, with a generator seeded from
/// <paramref name="seed"/>, so the same model on the same rows gives the same share (asked again, it tells nothing new).
/// </summary>
public static class PermutationImportance
{
    /// <exception cref="ArgumentException">A regression model (no accuracy), or data that does not fit the model.</exception>
    public static ImportanceShare Compute(ModelSpec spec, ReadOnlySpan<float> parameters, TabularData scaledTest, ulong seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(scaledTest);
        if (spec.IsRegression)
            throw new ArgumentException("Permutation importance here measures lost accuracy; a regression model has none.", nameof(spec));
        using var model = ModelFactory.Create(spec, parameters, TorchDevices.Current); // one model for every shuffle
        double baseline = ModelEvaluator.Evaluate(model, scaledTest, cancellationToken).Accuracy!.Value;
        int rows = scaledTest.RowCount, columns = scaledTest.FeatureCount;
        var drops = new double[columns];
        var random = new Random(unchecked((int)(seed ^ (seed >> 32))));
        var shuffled = new float[scaledTest.Features.Length];
        for (int column = 0; column < columns; column++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Array.Copy(scaledTest.Features, shuffled, shuffled.Length);
            var order = Enumerable.Range(0, rows).ToArray();
            random.Shuffle(order);
            for (int r = 0; r < rows; r++)
                shuffled[r * columns + column] = scaledTest.Features[order[r] * columns + column];
            var permuted = new TabularData(shuffled, scaledTest.Labels, scaledTest.FeatureNames);
            drops[column] = baseline - ModelEvaluator.Evaluate(model, permuted, cancellationToken).Accuracy!.Value;
        }
        return new ImportanceShare(rows, baseline, drops);
    }
}

/// <summary>The coefficients of a binary logistic regression: what a linear model's explanation shows beside importance.</summary>
public static class ModelCoefficients
{
    /// <summary>
    /// Per input column, the change in the log-odds of class 1 for one standard deviation more of it (inputs are
    /// standardised), and the intercept; null for any other model (several logits, or layers in between).
    /// </summary>
    public static (double[] Coefficients, double Intercept)? Of(ModelSpec spec, ReadOnlySpan<float> parameters)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Kind != ModelKind.Logistic || !spec.IsBinary)
            return null;
        var layout = ParameterLayout.For(spec);
        layout.Validate(parameters, nameof(parameters));
        var weight = layout.Tensors.Single(t => t.Name.EndsWith(".weight", StringComparison.Ordinal));
        var bias = layout.Tensors.Single(t => t.Name.EndsWith(".bias", StringComparison.Ordinal));
        return ([.. parameters.Slice(weight.Offset, weight.Length).ToArray().Select(v => (double)v)], parameters[bias.Offset]);
    }
}
