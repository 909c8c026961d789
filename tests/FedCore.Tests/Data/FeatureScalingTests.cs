using FedCore.Data;
using static FedCore.Tests.Data.DataTestSupport;

namespace FedCore.Tests.Data;

public class FeatureScalingTests
{
    private static readonly string[] Names = ["age", "sex", "chol", "cp=1"];
    private static readonly string[] Scaled = ["age", "chol"];

    [Fact]
    public void Combined_moments_equal_the_moments_of_the_concatenated_rows()
    {
        var parts = new[] { RandomTable(1, 40, Names), RandomTable(2, 7, Names), RandomTable(3, 123, Names) };
        var concatenated = new TabularData(
            parts.SelectMany(p => p.Features).ToArray(), parts.SelectMany(p => p.Labels).ToArray(), Names);

        var combined = FeatureMoments.Combine(parts.Select(p => FeatureMoments.Compute(p, Scaled)));
        var direct = FeatureMoments.Compute(concatenated, Scaled);

        Assert.Equal(Scaled, combined.FeatureNames);
        Assert.Equal(170, combined.Count);
        Assert.Equal(direct.Count, combined.Count);
        for (int k = 0; k < Scaled.Length; k++)
        {
            Assert.Equal(direct.Sum[k], combined.Sum[k], 1e-9 * Math.Abs(direct.Sum[k]));
            Assert.Equal(direct.SumOfSquares[k], combined.SumOfSquares[k], 1e-9 * direct.SumOfSquares[k]);
        }
    }

    [Fact]
    public void Moments_are_sums_over_the_named_columns()
    {
        var data = new TabularData([1, 10, 2, 20, 3, 30], [0, 1, 0], ["x", "y"]);
        var moments = FeatureMoments.Compute(data, ["y"]);
        Assert.Equal(3, moments.Count);
        Assert.Equal([60.0], moments.Sum);
        Assert.Equal([1400.0], moments.SumOfSquares);
    }

    [Fact]
    public void Scaling_from_pooled_moments_gives_zero_mean_and_unit_std_and_leaves_other_columns()
    {
        var parts = new[] { RandomTable(11, 50, Names), RandomTable(12, 80, Names), RandomTable(13, 9, Names) };
        var scaling = FeatureScaling.FromMoments(FeatureMoments.Combine(parts.Select(p => FeatureMoments.Compute(p, Scaled))));

        var scaledParts = parts.Select(scaling.Apply).ToArray();

        foreach (var column in new[] { 0, 2 })
        {
            var pooled = scaledParts.SelectMany(p => Enumerable.Range(0, p.RowCount).Select(r => (double)p.Row(r)[column])).ToArray();
            double mean = pooled.Average();
            double std = Math.Sqrt(pooled.Select(v => (v - mean) * (v - mean)).Average());
            Assert.InRange(mean, -1e-5, 1e-5);
            Assert.InRange(std, 1 - 1e-5, 1 + 1e-5);
        }
        for (int p = 0; p < parts.Length; p++)
        {
            for (int r = 0; r < parts[p].RowCount; r++)
            {
                Assert.Equal(parts[p].Row(r)[1], scaledParts[p].Row(r)[1]);
                Assert.Equal(parts[p].Row(r)[3], scaledParts[p].Row(r)[3]);
            }
            Assert.Equal(parts[p].Labels, scaledParts[p].Labels);
        }
    }

    [Fact]
    public void Mean_and_population_std_from_moments()
    {
        var scaling = FeatureScaling.FromMoments(new FeatureMoments(["x"], 4, [10], [30]));
        Assert.Equal(2.5, scaling.Mean[0], 12);
        Assert.Equal(Math.Sqrt(30.0 / 4 - 2.5 * 2.5), scaling.StandardDeviation[0], 12);
    }

    [Fact]
    public void Constant_feature_is_centred_not_blown_up()
    {
        var data = new TabularData([250, 1, 250, 2, 250, 3], [0, 1, 0], ["chol", "x"]);
        var scaling = FeatureScaling.FromMoments(FeatureMoments.Compute(data, ["chol"]));

        Assert.Equal(1, scaling.StandardDeviation[0]);
        var scaled = scaling.Apply(data);
        Assert.All(Enumerable.Range(0, 3), r => Assert.Equal(0f, scaled.Row(r)[0]));
    }

    [Fact]
    public void A_scaling_of_someone_elses_choosing_cannot_make_one_cell_dominate_or_overflow()
    {
        // A deviation of 10⁻³⁰⁰ would turn every cell off the mean into ±∞ (and one row into the whole update).
        var data = new TabularData([250, 1, 251, 2, 249, 3], [0, 1, 0], ["chol", "x"]);
        var scaled = new FeatureScaling(["chol"], [250], [1e-300]).Apply(data);
        Assert.Equal([0f, (float)FeatureScaling.MaxScaledMagnitude, -(float)FeatureScaling.MaxScaledMagnitude], Enumerable.Range(0, 3).Select(r => scaled.Row(r)[0]));
    }

    [Fact]
    public void Apply_does_not_change_its_input()
    {
        var data = RandomTable(21, 10, Names);
        var before = data.Features.ToArray();
        FeatureScaling.FromMoments(FeatureMoments.Compute(data, Scaled)).Apply(data);
        Assert.Equal(before, data.Features);
    }

    [Fact]
    public void Moments_about_different_features_do_not_combine()
    {
        var a = FeatureMoments.Compute(RandomTable(1, 5, Names), ["age"]);
        var b = FeatureMoments.Compute(RandomTable(2, 5, Names), ["chol"]);
        var error = Assert.Throws<ArgumentException>(() => FeatureMoments.Combine([a, b]));
        Assert.Contains("chol", error.Message);
        Assert.Throws<ArgumentException>(() => FeatureMoments.Combine([]));
    }

    [Fact]
    public void Inconsistent_or_empty_moments_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => FeatureScaling.FromMoments(new FeatureMoments(["x"], 0, [0], [0])));
        Assert.Throws<ArgumentException>(() => FeatureScaling.FromMoments(new FeatureMoments(["x", "y"], 3, [1], [1])));
    }

    [Fact]
    public void Unknown_feature_name_is_an_error()
    {
        var data = RandomTable(1, 5, Names);
        var error = Assert.Throws<ArgumentException>(() => FeatureMoments.Compute(data, ["trestbps"]));
        Assert.Contains("'trestbps'", error.Message);
        var scaling = new FeatureScaling(["trestbps"], [120], [15]);
        Assert.Throws<ArgumentException>(() => scaling.Apply(data));
    }
}
