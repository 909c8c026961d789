using FedCore.Aggregation.Protection;

namespace FedCore.Tests.Aggregation;

public class PlaintextSimulationTests
{
    [Fact]
    public void The_opened_sum_is_the_weighted_sum_and_its_mean_the_weighted_mean()
    {
        var random = new Random(3);
        var updates = Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, 17).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        double[] weights = [0.1, 0.4, 0.2, 0.25, 0.05];

        var aggregate = new PlaintextSimulation.Aggregate();
        for (int k = 0; k < updates.Length; k++)
            aggregate.Add($"p{k}", PlaintextSimulation.Seal(updates[k], weights[k]));
        var opened = aggregate.Open();

        Assert.Equal(weights.Sum(), opened.TotalWeight, 12);
        var mean = opened.Mean();
        for (int i = 0; i < 17; i++)
        {
            double expected = Enumerable.Range(0, 5).Sum(k => weights[k] * updates[k][i]) / weights.Sum();
            Assert.Equal(expected, mean[i], 6);
        }
    }

    [Fact]
    public void Foreign_truncated_mismatched_and_repeated_payloads_are_refused()
    {
        var one = PlaintextSimulation.Seal([1f, 2f], 1);
        var three = PlaintextSimulation.Seal([1f, 2f, 3f], 1);
        var aggregate = new PlaintextSimulation.Aggregate();
        Assert.Contains("bad header", Assert.Throws<SealedUpdateFormatException>(() => aggregate.Add("a", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])).Message);
        Assert.Contains("declares 2 values", Assert.Throws<SealedUpdateFormatException>(() => aggregate.Add("a", one[..^1])).Message);
        aggregate.Add("a", one);
        Assert.Contains("from b has 3 values", Assert.Throws<SealedUpdateFormatException>(() => aggregate.Add("b", three)).Message);
        Assert.Contains("second sealed update from a", Assert.Throws<SealedUpdateFormatException>(() => aggregate.Add("a", one)).Message);
        Assert.Throws<UpdateOutOfBoundsException>(() => PlaintextSimulation.Seal([1f], 0));
        Assert.Throws<UpdateOutOfBoundsException>(() => PlaintextSimulation.Seal([1f], double.NaN));
    }
}
