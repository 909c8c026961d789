namespace FedCore.Data;

/// <summary>
/// What one participant contributes to federation-wide feature statistics: for each named feature the
/// sum and the sum of squares over its training rows, and the row count. Never a row.
/// </summary>
/// <remarks>Plain arrays so the record can travel in messages and be added up (or encrypted) elementwise.</remarks>
public sealed record FeatureMoments(string[] FeatureNames, long Count, double[] Sum, double[] SumOfSquares)
{
    /// <summary>Moments of the given features (by name) over every row of <paramref name="data"/>.</summary>
    public static FeatureMoments Compute(TabularData data, IReadOnlyList<string> featureNames)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(featureNames);
        var columns = ColumnIndices(data, featureNames);
        var sum = new double[columns.Length];
        var sumOfSquares = new double[columns.Length];
        for (int row = 0; row < data.RowCount; row++)
        {
            var values = data.Row(row);
            for (int k = 0; k < columns.Length; k++)
            {
                double value = values[columns[k]];
                sum[k] += value;
                sumOfSquares[k] += value * value;
            }
        }
        return new FeatureMoments(featureNames.ToArray(), data.RowCount, sum, sumOfSquares);
    }

    /// <summary>Moments of the schema's scaled features (numeric, "scale" not false).</summary>
    public static FeatureMoments Compute(TabularData data, DatasetSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        return Compute(data, schema.ScaledFeatureNames);
    }

    /// <summary>The moments of all the participants' rows taken together.</summary>
    /// <exception cref="ArgumentException">None given, or they are not about the same features.</exception>
    public static FeatureMoments Combine(IEnumerable<FeatureMoments> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var list = parts.ToList();
        if (list.Count == 0)
            throw new ArgumentException("Combining moments needs at least one participant's moments.", nameof(parts));
        var names = list[0].FeatureNames;
        var sum = new double[names.Length];
        var sumOfSquares = new double[names.Length];
        long count = 0;
        for (int p = 0; p < list.Count; p++)
        {
            var part = list[p];
            part.Validate($"moments {p}");
            if (!part.FeatureNames.SequenceEqual(names, StringComparer.Ordinal))
                throw new ArgumentException(
                    $"Moments {p} are about features [{string.Join(", ", part.FeatureNames)}], moments 0 about [{string.Join(", ", names)}].",
                    nameof(parts));
            count = checked(count + part.Count);
            for (int k = 0; k < names.Length; k++)
            {
                sum[k] += part.Sum[k];
                sumOfSquares[k] += part.SumOfSquares[k];
            }
        }
        return new FeatureMoments(names.ToArray(), count, sum, sumOfSquares);
    }

    internal void Validate(string what)
    {
        if (FeatureNames is null || Sum is null || SumOfSquares is null)
            throw new ArgumentException($"{what} lack feature names, sums or sums of squares.");
        if (Sum.Length != FeatureNames.Length || SumOfSquares.Length != FeatureNames.Length)
            throw new ArgumentException(
                $"{what} name {FeatureNames.Length} features but carry {Sum.Length} sums and {SumOfSquares.Length} sums of squares.");
        if (Count < 0)
            throw new ArgumentException($"{what} have a negative row count ({Count}).");
    }

    internal static int[] ColumnIndices(TabularData data, IReadOnlyList<string> featureNames)
    {
        var indices = new int[featureNames.Count];
        for (int k = 0; k < featureNames.Count; k++)
        {
            indices[k] = IndexOf(data.FeatureNames, featureNames[k]);
            if (indices[k] < 0)
                throw new ArgumentException(
                    $"Feature '{featureNames[k]}' is not in the data (features: {string.Join(", ", data.FeatureNames)}).", nameof(featureNames));
        }
        return indices;
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
                return i;
        }
        return -1;
    }
}

/// <summary>
/// Standardisation (x − mean) / std for named features, with mean and population standard deviation
/// from federation-wide moments. Features not named (one-hot, unscaled) pass through unchanged.
/// </summary>
public sealed record FeatureScaling(string[] FeatureNames, double[] Mean, double[] StandardDeviation)
{
    /// <summary>
    /// A feature whose variance is this small relative to its squared mean (or zero) is treated as constant
    /// and gets std 1, so it is only centred: dividing by a rounding residue would blow it up.
    /// </summary>
    public const double RelativeVarianceFloor = 1e-12;

    /// <summary>
    /// Scaled values are clipped to ±this: a scaling of someone else's choosing (a tiny deviation) must not turn a cell
    /// into ±∞, whose refusal downstream would tell whether the cell lies near a value of their choosing.
    /// </summary>
    public const double MaxScaledMagnitude = 1e4;

    /// <exception cref="ArgumentException">The moments are inconsistent or count no rows.</exception>
    public static FeatureScaling FromMoments(FeatureMoments moments)
    {
        ArgumentNullException.ThrowIfNull(moments);
        moments.Validate("The moments");
        if (moments.Count == 0)
            throw new ArgumentException("The moments count no rows; scaling needs at least one.", nameof(moments));
        int n = moments.FeatureNames.Length;
        var mean = new double[n];
        var std = new double[n];
        for (int k = 0; k < n; k++)
        {
            mean[k] = moments.Sum[k] / moments.Count;
            // E[x²] − E[x]² can come out slightly negative from rounding.
            double variance = Math.Max(0, moments.SumOfSquares[k] / moments.Count - mean[k] * mean[k]);
            std[k] = variance <= RelativeVarianceFloor * Math.Max(1, mean[k] * mean[k]) ? 1 : Math.Sqrt(variance);
        }
        return new FeatureScaling(moments.FeatureNames.ToArray(), mean, std);
    }

    /// <summary>A new table with the named features standardised (within ±<see cref="MaxScaledMagnitude"/>); every other value and the labels copied as they are.</summary>
    /// <exception cref="ArgumentException">A named feature is not in <paramref name="data"/>.</exception>
    public TabularData Apply(TabularData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (Mean.Length != FeatureNames.Length || StandardDeviation.Length != FeatureNames.Length)
            throw new InvalidOperationException(
                $"The scaling names {FeatureNames.Length} features but has {Mean.Length} means and {StandardDeviation.Length} standard deviations.");
        var columns = FeatureMoments.ColumnIndices(data, FeatureNames);
        var features = (float[])data.Features.Clone();
        int width = data.FeatureCount;
        for (int row = 0; row < data.RowCount; row++)
        {
            int start = row * width;
            for (int k = 0; k < columns.Length; k++)
            {
                int at = start + columns[k];
                features[at] = (float)Math.Clamp((features[at] - Mean[k]) / StandardDeviation[k], -MaxScaledMagnitude, MaxScaledMagnitude);
            }
        }
        return new TabularData(features, (float[])data.Labels.Clone(), data.FeatureNames);
    }
}
