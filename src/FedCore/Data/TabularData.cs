namespace FedCore.Data;

/// <summary>
/// Rows of a dataset as the learning layer consumes them: a dense row-major feature matrix
/// (categorical columns already one-hot expanded) and one label per row.
/// Labels are class indices (0, 1, …) for classification and real targets for regression.
/// </summary>
public sealed class TabularData
{
    public TabularData(float[] features, float[] labels, IReadOnlyList<string> featureNames)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(featureNames);
        if (featureNames.Count == 0)
            throw new ArgumentException("A dataset needs at least one feature.", nameof(featureNames));
        if (features.Length != labels.Length * featureNames.Count)
            throw new ArgumentException(
                $"Feature matrix has {features.Length} values; {labels.Length} rows × {featureNames.Count} features need {labels.Length * featureNames.Count}.",
                nameof(features));
        Features = features;
        Labels = labels;
        FeatureNames = featureNames;
    }

    /// <summary>Row-major: value of feature j in row i is at i * FeatureCount + j.</summary>
    public float[] Features { get; }

    public float[] Labels { get; }

    public IReadOnlyList<string> FeatureNames { get; }

    public int RowCount => Labels.Length;

    public int FeatureCount => FeatureNames.Count;

    public ReadOnlySpan<float> Row(int i) => Features.AsSpan(i * FeatureCount, FeatureCount);

    /// <summary>The rows at the given indices, in that order.</summary>
    public TabularData Select(IReadOnlyList<int> rows)
    {
        var features = new float[rows.Count * FeatureCount];
        var labels = new float[rows.Count];
        for (int k = 0; k < rows.Count; k++)
        {
            Row(rows[k]).CopyTo(features.AsSpan(k * FeatureCount, FeatureCount));
            labels[k] = Labels[rows[k]];
        }
        return new TabularData(features, labels, FeatureNames);
    }
}
