using FedCore.Data;
using FedCore.Learning;
using FedCore.Learning.DpSgd;

namespace FedCore.Tests.Learning;

public class DpSgdTests
{
    private static readonly ModelSpec Mlp = ModelSpec.Parse("""{"type":"mlp","inputs":6,"hidden":[64],"classes":2}""", "test");

    private static TrainingOptions OneFullStep(double clippingNorm, double noiseMultiplier, ulong? seed) => new()
    {
        Epochs = 1, BatchSize = 1000, LearningRate = 1, Seed = 3,
        Privacy = new DpSgdOptions(clippingNorm, noiseMultiplier) { NoiseSeed = seed },
    };

    private static float[] Train(TabularData data, TrainingOptions options) =>
        LocalTrainer.Train(Mlp, ModelFactory.InitialParameters(Mlp, 1), data, options).Parameters;

    /// <summary>The same rows with row 0's features multiplied by <paramref name="factor"/>: a neighbouring dataset.</summary>
    private static TabularData WithOutlier(TabularData data, float factor)
    {
        var features = (float[])data.Features.Clone();
        for (int j = 0; j < data.FeatureCount; j++)
            features[j] *= factor;
        return new TabularData(features, data.Labels, data.FeatureNames);
    }

    private static double MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();

    [Fact]
    public void One_row_moves_a_step_by_at_most_twice_the_clipping_norm_over_the_expected_batch()
    {
        // Same seed, so the same sample and noise: two neighbouring datasets differ only in row 0's gradient, which
        // clipping bounds to norm C in both, so the step differs by at most 2C/B (learning rate 1). Unclipped, it does not.
        var data = SyntheticData.Blobs(200, 6, 2, seed: 1);
        var outlier = WithOutlier(data, 1000);
        double bound = 2 * 0.5 / 200;
        double clipped = MaxDifference(Train(data, OneFullStep(0.5, 1, 9)), Train(outlier, OneFullStep(0.5, 1, 9)));
        double unclipped = MaxDifference(Train(data, OneFullStep(1e6, 1e-9, 9)), Train(outlier, OneFullStep(1e6, 1e-9, 9)));

        Assert.InRange(clipped, 1e-7, bound * (1 + 1e-3));
        Assert.True(unclipped > 10 * bound, $"unclipped, the outlier moved the step by {unclipped}");
    }

    [Fact]
    public void The_noise_has_deviation_sigma_times_the_clipping_norm_over_the_expected_batch()
    {
        // Two runs that differ only in their noise differ, per coordinate, by a normal of deviation √2·σC/B.
        var data = SyntheticData.Blobs(100, 6, 2, seed: 2);
        var a = Train(data, OneFullStep(2, 1.5, 1));
        var b = Train(data, OneFullStep(2, 1.5, 2));
        double expected = Math.Sqrt(2) * 1.5 * 2 / 100;
        double measured = Math.Sqrt(a.Zip(b, (x, y) => ((double)x - y) * ((double)x - y)).Average());
        Assert.InRange(measured / expected, 0.92, 1.08); // 513 coordinates: the estimate's relative error is ≈ 3 %
    }

    [Fact]
    public void Without_a_seed_the_noise_is_fresh_each_time_and_with_one_a_run_replays()
    {
        var data = SyntheticData.Blobs(100, 6, 2, seed: 3);
        var options = OneFullStep(1, 1, null) with { Epochs = 2, BatchSize = 10 };
        Assert.True(MaxDifference(Train(data, options), Train(data, options)) > 1e-3);
        var seeded = options with { Privacy = options.Privacy! with { NoiseSeed = 5 } };
        Assert.Equal(Train(data, seeded), Train(data, seeded));
    }

    [Fact]
    public void Training_takes_exactly_the_steps_its_schedule_charges()
    {
        var data = SyntheticData.Blobs(95, 6, 2, seed: 4);
        var options = OneFullStep(1, 1, 1) with { Epochs = 3, BatchSize = 10 };
        var schedule = DpSgdSchedule.For(95, 10, 3);
        var result = LocalTrainer.Train(Mlp, ModelFactory.InitialParameters(Mlp, 1), data, options);

        Assert.Equal(10.0 / 95, schedule.SamplingRate, 12);
        Assert.Equal(30, schedule.Steps);
        Assert.Equal(10, schedule.ExpectedBatchSize, 9);
        Assert.Equal(schedule.Steps, result.Steps);
        Assert.Equal(1.0, DpSgdSchedule.For(5, 10, 1).SamplingRate);
    }

    [Fact]
    public void With_modest_noise_it_still_learns()
    {
        var train = SyntheticData.Blobs(400, 6, 2, seed: 5);
        var test = SyntheticData.Blobs(200, 6, 2, seed: 6);
        var options = new TrainingOptions { Epochs = 5, BatchSize = 40, LearningRate = 0.5, Privacy = new DpSgdOptions(1, 1) };
        var result = LocalTrainer.Train(Mlp, ModelFactory.InitialParameters(Mlp, 1), train, options);
        Assert.True(ModelEvaluator.Evaluate(Mlp, result.Parameters, test).Accuracy >= 0.9);
    }

    [Fact]
    public void A_model_that_overflows_on_chosen_rows_makes_dp_training_skip_them_rather_than_fail()
    {
        // The attack (security review of the DP work): a job picks a start model whose loss is infinite exactly for rows
        // with a large first feature; a training that failed on them would say whether such a row exists, with no noise.
        var spec = ModelSpec.Logistic(2, 2);
        var rows = 40;
        var features = new float[rows * 2];
        var labels = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            features[2 * r] = r % 4 == 0 ? 1e4f : -1e4f;
            labels[r] = r % 2;
        }
        var data = new TabularData(features, labels, ["x", "y"]);
        float[] start = [2e34f, 0f, 2e38f]; // logit 2e34·x + 2e38: +∞ where x = 1e4
        var plain = new TrainingOptions { Epochs = 1, BatchSize = 8, LearningRate = 0.1 };
        Assert.Throws<TrainingDivergedException>(() => LocalTrainer.Train(spec, start, data, plain));

        var result = LocalTrainer.Train(spec, start, data, plain with { Privacy = new DpSgdOptions(1, 1) });
        Assert.All(result.Parameters, p => Assert.True(float.IsFinite(p)));
    }

    [Fact]
    public void Rows_are_sampled_at_the_charged_rate_even_where_q_sits_just_above_a_float_step()
    {
        // Second security review: float draws come in steps of 2⁻²⁴, so a batch size putting q just above one step
        // sampled rows at about twice the rate the ledger charged. Drawn in double precision, the rate is the charged one.
        const int rows = 16_611_000; // q = 1/rows ≈ 1.01 · 2⁻²⁴
        double q = DpSgdSchedule.For(rows, batchSize: 1, epochs: 1).SamplingRate;
        using var noise = new TorchSharp.torch.Generator(12345);
        long sampled = 0;
        for (int i = 0; i < 40; i++)
            sampled += NoisyGradient.Sample(rows, q, noise).Length;
        Assert.InRange(sampled, 40 - 3 * Math.Sqrt(40), 40 + 3 * Math.Sqrt(40)); // Poisson(40): within three deviations
    }

    [Theory]
    [InlineData(0, 1, "clipping norm")]
    [InlineData(double.NaN, 1, "clipping norm")]
    [InlineData(1, 0, "noise multiplier")]
    [InlineData(1, double.PositiveInfinity, "noise multiplier")]
    public void Bad_settings_are_refused_by_name(double clippingNorm, double noiseMultiplier, string named)
    {
        var options = new TrainingOptions { Privacy = new DpSgdOptions(clippingNorm, noiseMultiplier) };
        Assert.Contains(named, Assert.Throws<ArgumentException>(options.Validate).Message);
    }
}
