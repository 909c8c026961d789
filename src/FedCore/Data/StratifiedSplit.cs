namespace FedCore.Data;

/// <summary>Row indices of a dataset split in two, each list sorted ascending.</summary>
public sealed record SplitIndices(int[] Train, int[] Test);

/// <summary>
/// Splits rows into train and test so that every label value keeps its share on both sides,
/// the same way on every machine for a given seed.
/// </summary>
public static class StratifiedSplit
{
    /// <summary>
    /// For each label value with n rows, round(n × trainFraction) rows go to train (halves round up),
    /// kept between 1 and n − 1 when n ≥ 2 so such a class appears on both sides. Label values are visited
    /// in ascending order and each is shuffled with one SplitMix64 stream seeded by <paramref name="seed"/>.
    /// </summary>
    /// <param name="labels">One label per row; rows with equal labels form a stratum.</param>
    /// <param name="trainFraction">Strictly between 0 and 1, e.g. 2/3.</param>
    public static SplitIndices Split(IReadOnlyList<float> labels, double trainFraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (!(trainFraction > 0 && trainFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "The train fraction must lie strictly between 0 and 1.");
        for (int i = 0; i < labels.Count; i++)
        {
            if (!float.IsFinite(labels[i]))
                throw new ArgumentException($"Label of row {i} is {labels[i]}; only finite labels can be stratified.", nameof(labels));
        }

        var random = new SplitMix64(seed);
        var train = new List<int>();
        var test = new List<int>();
        var strata = Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).OrderBy(stratum => stratum.Key);
        foreach (var stratum in strata)
        {
            var rows = stratum.ToArray();
            Shuffle(rows, random);
            int trainCount = TrainCount(rows.Length, trainFraction);
            train.AddRange(rows.AsSpan(0, trainCount));
            test.AddRange(rows.AsSpan(trainCount));
        }
        train.Sort();
        test.Sort();
        return new SplitIndices(train.ToArray(), test.ToArray());
    }

    /// <summary>Splits the rows of <paramref name="data"/> by its labels.</summary>
    public static SplitIndices Split(TabularData data, double trainFraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Split(data.Labels, trainFraction, seed);
    }

    internal static int TrainCount(int rows, double trainFraction)
    {
        int count = (int)Math.Round(rows * trainFraction, MidpointRounding.AwayFromZero);
        return rows >= 2 ? Math.Clamp(count, 1, rows - 1) : count;
    }

    private static void Shuffle(int[] rows, SplitMix64 random)
    {
        // Fisher–Yates from the end.
        for (int i = rows.Length - 1; i > 0; i--)
        {
            int j = random.NextBelow(i + 1);
            (rows[i], rows[j]) = (rows[j], rows[i]);
        }
    }
}
