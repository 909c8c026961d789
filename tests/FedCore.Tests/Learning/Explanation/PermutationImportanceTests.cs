using FedCore.Data;
using FedCore.Learning;
using FedCore.Learning.Explanation;

namespace FedCore.Tests.Learning.Explanation;

public sealed class PermutationImportanceTests
{
    // Label = (x0 > 0); x1 is noise the model ignores: a logistic model with weight 8 on x0 and 0 on x1.
    private static (TabularData Data, float[] Parameters) Separable(int rows = 400)
    {
        var random = new Random(7);
        var features = new float[rows * 2];
        var labels = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            features[2 * r] = (float)(random.NextDouble() * 2 - 1);
            features[2 * r + 1] = (float)(random.NextDouble() * 2 - 1);
            labels[r] = features[2 * r] > 0 ? 1 : 0;
        }
        return (new TabularData(features, labels, ["x0", "x1"]), [8f, 0f, 0f]); // weight [1×2], bias [1]
    }

    [Fact]
    public void The_column_the_label_depends_on_loses_about_half_the_accuracy_when_shuffled_and_an_ignored_one_loses_none()
    {
        var (data, parameters) = Separable();
        var share = PermutationImportance.Compute(ModelSpec.Logistic(2, classes: 2), parameters, data, seed: 1);

        Assert.Equal(400, share.Rows);
        Assert.Equal(1.0, share.BaselineAccuracy, 6);
        Assert.InRange(share.Drops[0], 0.4, 0.6); // a shuffled x0 agrees with the label half the time
        Assert.Equal(0.0, share.Drops[1], 6);
    }

    [Fact]
    public void The_same_model_rows_and_seed_give_the_same_share_and_another_seed_another_shuffle()
    {
        var (data, parameters) = Separable();
        var spec = ModelSpec.Logistic(2, classes: 2);
        var a = PermutationImportance.Compute(spec, parameters, data, seed: 5);
        var b = PermutationImportance.Compute(spec, parameters, data, seed: 5);
        var c = PermutationImportance.Compute(spec, parameters, data, seed: 6);
        Assert.Equal(a.Drops, b.Drops);
        Assert.NotEqual(a.Drops[0], c.Drops[0]);
    }

    [Fact]
    public void The_vector_a_round_sums_opens_to_the_row_weighted_mean_of_the_shares()
    {
        var small = new ImportanceShare(100, 0.9, [0.2, 0.0]);
        var large = new ImportanceShare(300, 0.7, [0.1, 0.05]);
        // What the round's opened mean is: Σ (rows/N)·v / Σ rows/N.
        var mean = small.ToVector().Zip(large.ToVector(), (s, l) => (100 * s + 300 * l) / 400f).ToArray();
        var (baseline, importance) = ImportanceShare.FromMean(mean);
        Assert.Equal(0.75, baseline, 6);
        Assert.Equal(0.125, importance[0], 6);
        Assert.Equal(0.0375, importance[1], 6);
    }

    [Fact]
    public void A_regression_model_has_no_accuracy_to_lose_and_is_refused()
    {
        var (data, _) = Separable();
        Assert.Throws<ArgumentException>(() => PermutationImportance.Compute(ModelSpec.LinearRegression(2), [1f, 0f, 0f], data, seed: 1));
    }

    [Fact]
    public void A_binary_logistic_regression_has_its_weights_as_coefficients_and_other_models_none()
    {
        var coefficients = ModelCoefficients.Of(ModelSpec.Logistic(2, classes: 2), [8f, -0.5f, 0.25f]);
        Assert.NotNull(coefficients);
        Assert.Equal([8.0, -0.5], coefficients.Value.Coefficients);
        Assert.Equal(0.25, coefficients.Value.Intercept);
        Assert.Null(ModelCoefficients.Of(ModelSpec.Logistic(2, classes: 3), new float[9]));
    }
}
