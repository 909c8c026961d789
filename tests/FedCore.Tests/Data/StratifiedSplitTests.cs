using FedCore.Data;

namespace FedCore.Tests.Data;

public class StratifiedSplitTests
{
    [Fact]
    public void SplitMix64_matches_the_reference_sequence()
    {
        // First outputs of the reference C implementation (Vigna, splitmix64.c) for seed 1234567.
        var random = new SplitMix64(1234567);
        ulong[] expected = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821];
        Assert.Equal(expected, Enumerable.Range(0, 5).Select(_ => random.Next()));
    }

    [Fact]
    public void NextBelow_reaches_every_value_and_nothing_else()
    {
        var random = new SplitMix64(7);
        var counts = new int[6];
        for (int i = 0; i < 6000; i++)
            counts[random.NextBelow(6)]++;
        // Each value expected 1000 times; ±200 is over six standard deviations for this fixed seed's draw.
        Assert.All(counts, count => Assert.InRange(count, 800, 1200));
    }

    [Fact]
    public void Each_class_keeps_its_share_on_both_sides()
    {
        float[] labels = [.. Enumerable.Repeat(0f, 164), .. Enumerable.Repeat(1f, 139), .. Enumerable.Repeat(2f, 5)];
        var shuffled = Shuffled(labels, seed: 3);

        var split = StratifiedSplit.Split(shuffled, 2.0 / 3, seed: 42);

        Assert.Equal(Enumerable.Range(0, shuffled.Length), split.Train.Concat(split.Test).Order());
        Assert.Equal(split.Train.Order(), split.Train);
        Assert.Equal(split.Test.Order(), split.Test);
        foreach (var (label, rows) in new[] { (0f, 164), (1f, 139), (2f, 5) })
        {
            int expectedTrain = (int)Math.Round(rows * 2.0 / 3, MidpointRounding.AwayFromZero);
            Assert.Equal(expectedTrain, split.Train.Count(i => shuffled[i] == label));
            Assert.Equal(rows - expectedTrain, split.Test.Count(i => shuffled[i] == label));
        }
    }

    [Fact]
    public void Same_seed_same_split_and_another_seed_another_split()
    {
        var labels = Shuffled([.. Enumerable.Repeat(0f, 100), .. Enumerable.Repeat(1f, 100)], seed: 5);

        var first = StratifiedSplit.Split(labels, 2.0 / 3, seed: 42);
        var again = StratifiedSplit.Split(labels, 2.0 / 3, seed: 42);
        var other = StratifiedSplit.Split(labels, 2.0 / 3, seed: 43);

        Assert.Equal(first.Train, again.Train);
        Assert.Equal(first.Test, again.Test);
        Assert.NotEqual(first.Train, other.Train);
        // Not simply the first rows of each class in file order.
        var firstRowsOfEachClass = Enumerable.Range(0, labels.Length)
            .GroupBy(i => labels[i]).SelectMany(g => g.Take(67)).Order();
        Assert.NotEqual(firstRowsOfEachClass, first.Train);
    }

    [Theory]
    [InlineData(2, 0.9, 1)]
    [InlineData(2, 0.1, 1)]
    [InlineData(5, 0.9, 4)]
    [InlineData(1, 2.0 / 3, 1)]
    [InlineData(1, 0.3, 0)]
    public void Small_classes_appear_on_both_sides_when_they_can(int rows, double fraction, int expectedTrain)
    {
        var split = StratifiedSplit.Split(Enumerable.Repeat(1f, rows).ToArray(), fraction, seed: 1);
        Assert.Equal(expectedTrain, split.Train.Length);
        Assert.Equal(rows - expectedTrain, split.Test.Length);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    public void Fraction_must_lie_strictly_between_zero_and_one(double fraction)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StratifiedSplit.Split([0f, 1f, 0f, 1f], fraction, seed: 1));
    }

    [Fact]
    public void Labels_that_are_not_numbers_cannot_be_stratified()
    {
        var error = Assert.Throws<ArgumentException>(() => StratifiedSplit.Split([0f, float.NaN], 0.5, seed: 1));
        Assert.Contains("row 1", error.Message);
    }

    private static float[] Shuffled(float[] labels, ulong seed)
    {
        var random = new SplitMix64(seed);
        var copy = (float[])labels.Clone();
        for (int i = copy.Length - 1; i > 0; i--)
        {
            int j = random.NextBelow(i + 1);
            (copy[i], copy[j]) = (copy[j], copy[i]);
        }
        return copy;
    }
}
