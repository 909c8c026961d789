using FedCore.Aggregation.Protection;

namespace FedCore.Tests.Aggregation;

public class PlaintextSimulationTests
{
    private readonly PlaintextSimulation _scheme = new();

    [Fact]
    public void The_opened_sum_is_the_weighted_sum_and_its_mean_the_weighted_mean()
    {
        var random = new Random(3);
        var updates = Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, 17).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        double[] weights = [0.1, 0.4, 0.2, 0.25, 0.05];

        var sealedUpdates = updates.Select((u, k) => _scheme.Seal(u, weights[k], []).Bytes).ToList();
        var aggregate = _scheme.Aggregate([], sealedUpdates);
        Assert.Empty(aggregate.DecryptionInput());
        var opened = aggregate.Open([]);

        Assert.Equal(weights.Sum(), opened.TotalWeight, 12);
        var mean = opened.Mean();
        for (int i = 0; i < 17; i++)
        {
            double expected = Enumerable.Range(0, 5).Sum(k => weights[k] * updates[k][i]) / weights.Sum();
            Assert.Equal(expected, mean[i], 6);
        }
        Assert.False(_scheme.ProtectsUpdates);
    }

    [Fact]
    public void Foreign_truncated_and_mismatched_payloads_are_refused()
    {
        var one = _scheme.Seal([1f, 2f], 1, []).Bytes;
        var three = _scheme.Seal([1f, 2f, 3f], 1, []).Bytes;
        Assert.Contains("bad header", Assert.Throws<SealedUpdateFormatException>(() => _scheme.Aggregate([], [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]])).Message);
        Assert.Contains("declares 2 values", Assert.Throws<SealedUpdateFormatException>(() => _scheme.Aggregate([], [one[..^1]])).Message);
        Assert.Contains("#1 has 3 values", Assert.Throws<SealedUpdateFormatException>(() => _scheme.Aggregate([], [one, three])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => _scheme.Seal([1f], 0, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => _scheme.Seal([1f], double.NaN, []));
    }
}
