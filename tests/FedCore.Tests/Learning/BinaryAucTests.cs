using FedCore.Learning;

namespace FedCore.Tests.Learning;

public class BinaryAucTests
{
    [Fact]
    public void Matches_a_hand_computed_example_with_ties()
    {
        // Positives 0.35, 0.8, 0.4; negatives 0.1, 0.4. Pairs (positive beats negative):
        // 0.35: beats 0.1, loses to 0.4 → 1;  0.8: beats both → 2;  0.4: beats 0.1, ties 0.4 → 1.5.
        // AUC = 4.5 / (3·2) = 0.75.
        double[] scores = [0.1, 0.4, 0.35, 0.8, 0.4];
        bool[] positive = [false, false, true, true, true];
        Assert.Equal(0.75, BinaryAuc.Compute(scores, positive));
    }

    [Fact]
    public void All_scores_tied_gives_one_half_and_perfect_or_reversed_order_gives_one_or_zero()
    {
        bool[] positive = [true, false, true, false];
        Assert.Equal(0.5, BinaryAuc.Compute([2.0, 2.0, 2.0, 2.0], positive));
        Assert.Equal(1.0, BinaryAuc.Compute([0.9, 0.1, 0.8, 0.2], positive));
        Assert.Equal(0.0, BinaryAuc.Compute([0.1, 0.9, 0.2, 0.8], positive));
    }

    [Fact]
    public void Agrees_with_pairwise_counting_on_random_scores_with_many_ties()
    {
        var random = new Random(11);
        for (int trial = 0; trial < 20; trial++)
        {
            int n = random.Next(2, 60);
            var scores = Enumerable.Range(0, n).Select(_ => (double)random.Next(6)).ToArray();
            var positive = Enumerable.Range(0, n).Select(_ => random.Next(2) == 1).ToArray();
            if (positive.All(p => p) || positive.All(p => !p))
                positive[0] = !positive[0];

            double wins = 0;
            int pairs = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (positive[i] && !positive[j])
                    {
                        pairs++;
                        wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                    }

            Assert.Equal(wins / pairs, BinaryAuc.Compute(scores, positive)!.Value, precision: 12);
        }
    }

    [Fact]
    public void Is_null_unless_both_classes_are_present()
    {
        Assert.Null(BinaryAuc.Compute([0.1, 0.5], [true, true]));
        Assert.Null(BinaryAuc.Compute([0.1, 0.5], [false, false]));
        Assert.Null(BinaryAuc.Compute([], []));
    }

    [Fact]
    public void Rejects_nan_scores_and_mismatched_lengths()
    {
        Assert.Contains("Score 1 is NaN", Assert.Throws<ArgumentException>(() => BinaryAuc.Compute([0.1, double.NaN], [true, false])).Message);
        Assert.Throws<ArgumentException>(() => BinaryAuc.Compute([0.1, 0.2], [true]));
    }
}
