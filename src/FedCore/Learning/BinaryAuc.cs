namespace FedCore.Learning;

/// <summary>Area under the ROC curve of a binary scorer, by the rank statistic.</summary>
public static class BinaryAuc
{
    /// <summary>
    /// AUC = U / (n₊·n₋), with U the Mann–Whitney statistic of the positives' scores: the probability that a
    /// random positive scores above a random negative, ties counting one half (tied scores share their mid-rank).
    /// Only the order of the scores matters. O(n log n).
    /// </summary>
    /// <returns>Null unless both classes are present.</returns>
    /// <exception cref="ArgumentException">Lengths differ or a score is NaN.</exception>
    public static double? Compute(ReadOnlySpan<double> scores, ReadOnlySpan<bool> isPositive)
    {
        if (scores.Length != isPositive.Length)
            throw new ArgumentException($"{scores.Length} scores but {isPositive.Length} labels.", nameof(isPositive));
        int nan = scores.IndexOf(double.NaN);
        if (nan >= 0)
            throw new ArgumentException($"Score {nan} is NaN; AUC needs ordered scores.", nameof(scores));

        long positives = 0;
        foreach (bool positive in isPositive)
            if (positive)
                positives++;
        long negatives = scores.Length - positives;
        if (positives == 0 || negatives == 0)
            return null;

        var order = new int[scores.Length];
        for (int i = 0; i < order.Length; i++)
            order[i] = i;
        var keys = scores.ToArray();
        Array.Sort(keys, order);

        // Sum of the positives' 1-based ranks, each tie group getting the mean of the ranks it spans.
        double positiveRankSum = 0;
        for (int start = 0; start < keys.Length;)
        {
            int end = start;
            int positivesInGroup = 0;
            while (end < keys.Length && keys[end] == keys[start])
            {
                if (isPositive[order[end]])
                    positivesInGroup++;
                end++;
            }
            double midRank = (start + 1 + end) / 2.0;
            positiveRankSum += midRank * positivesInGroup;
            start = end;
        }

        double u = positiveRankSum - positives * (positives + 1) / 2.0;
        return u / ((double)positives * negatives);
    }
}
