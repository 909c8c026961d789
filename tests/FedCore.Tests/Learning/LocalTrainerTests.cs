using FedCore.Data;
using FedCore.Learning;

namespace FedCore.Tests.Learning;

public class LocalTrainerTests
{
    private static (ModelMetrics Before, ModelMetrics After, LocalTrainingResult Result) TrainAndEvaluate(
        ModelSpec spec, TabularData train, TabularData test, TrainingOptions options, long initSeed = 1)
    {
        var start = ModelFactory.InitialParameters(spec, initSeed);
        var before = ModelEvaluator.Evaluate(spec, start, test);
        var result = LocalTrainer.Train(spec, start, train, options);
        return (before, ModelEvaluator.Evaluate(spec, result.Parameters, test), result);
    }

    [Fact]
    public void Linear_regression_fits_a_linear_target()
    {
        var spec = ModelSpec.LinearRegression(8);
        var (before, after, result) = TrainAndEvaluate(spec,
            SyntheticData.LinearTarget(300, 8, seed: 1), SyntheticData.LinearTarget(200, 8, seed: 2),
            new TrainingOptions { Epochs = 30, BatchSize = 16, LearningRate = 0.1 });

        Assert.True(after.Loss < 0.05 * before.Loss, $"MSE {before.Loss} → {after.Loss}");
        Assert.True(after.RSquared > 0.98, $"R² {after.RSquared}");
        Assert.Null(after.Accuracy);
        Assert.Null(after.Auc);
        Assert.Equal(300, result.SampleCount);
        Assert.Equal(30 * 19, result.Steps);
        Assert.True(result.EpochLosses[^1] < result.EpochLosses[0]);
        Assert.Equal(result.EpochLosses[^1], result.MeanTrainLoss);
    }

    [Theory]
    [InlineData("""{"type":"logistic","inputs":15,"classes":2}""", 2)]
    [InlineData("""{"type":"logistic","inputs":6,"classes":3}""", 3)]
    [InlineData("""{"type":"svm","inputs":15,"classes":2}""", 2)]
    [InlineData("""{"type":"svm","inputs":6,"classes":4}""", 4)]
    [InlineData("""{"type":"mlp","inputs":15,"hidden":[16,8],"classes":2}""", 2)]
    public void Linear_classifiers_and_mlp_separate_gaussian_blobs(string json, int classes)
    {
        var spec = ModelSpec.Parse(json, "test");
        int features = spec.Inputs;
        var (before, after, _) = TrainAndEvaluate(spec,
            SyntheticData.Blobs(300, features, classes, seed: 1), SyntheticData.Blobs(200, features, classes, seed: 2),
            new TrainingOptions { Epochs = 10, BatchSize = 16, LearningRate = 0.05, Momentum = 0.9 });

        Assert.True(after.Accuracy >= 0.95, $"accuracy {before.Accuracy} → {after.Accuracy}");
        Assert.True(after.Loss < 0.5 * before.Loss, $"loss {before.Loss} → {after.Loss}");
        if (classes == 2)
            Assert.True(after.Auc > 0.98, $"AUC {before.Auc} → {after.Auc}");
        else
            Assert.Null(after.Auc);
    }

    [Fact]
    public void Mlp_learns_xor_which_a_linear_model_cannot()
    {
        var train = SyntheticData.Xor(400, seed: 1);
        var test = SyntheticData.Xor(300, seed: 2);
        var options = new TrainingOptions { Epochs = 60, BatchSize = 32, Optimizer = OptimizerKind.Adam, LearningRate = 0.02 };

        var (_, mlp, _) = TrainAndEvaluate(ModelSpec.Mlp(2, [16, 16], classes: 2), train, test, options);
        var (_, logistic, _) = TrainAndEvaluate(ModelSpec.Logistic(2, classes: 2), train, test, options);

        Assert.True(mlp.Accuracy >= 0.9, $"MLP accuracy {mlp.Accuracy}");
        Assert.True(logistic.Accuracy < 0.75, $"logistic accuracy {logistic.Accuracy}");
    }

    [Fact]
    public void Cnn_tells_horizontal_from_vertical_bars_in_8x8_images()
    {
        var spec = ModelSpec.Parse("""{"type":"cnn","image":{"channels":1,"height":8,"width":8},"classes":2}""", "test");
        var (before, after, _) = TrainAndEvaluate(spec,
            SyntheticData.Bars(240, 8, seed: 1), SyntheticData.Bars(200, 8, seed: 2),
            new TrainingOptions { Epochs = 12, BatchSize = 16, Optimizer = OptimizerKind.Adam, LearningRate = 0.005 });

        Assert.True(after.Accuracy >= 0.95, $"accuracy {before.Accuracy} → {after.Accuracy}");
        Assert.True(after.Loss < 0.5 * before.Loss, $"loss {before.Loss} → {after.Loss}");
    }

    [Fact]
    public void Same_seed_gives_bit_identical_results_and_another_seed_does_not()
    {
        // Dropout and shuffling both draw from the seed.
        var spec = ModelSpec.Mlp(6, [12], classes: 3, dropout: 0.3);
        var start = ModelFactory.InitialParameters(spec, seed: 3);
        var data = SyntheticData.Blobs(100, 6, 3, seed: 4);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 10, Optimizer = OptimizerKind.Adam, LearningRate = 0.01, Seed = 99 };

        var first = LocalTrainer.Train(spec, start, data, options);
        var second = LocalTrainer.Train(spec, start, data, options);
        var otherSeed = LocalTrainer.Train(spec, start, data, options with { Seed = 100 });

        Assert.Equal(first.Parameters, second.Parameters);
        Assert.Equal(first.EpochLosses, second.EpochLosses);
        Assert.NotEqual(first.Parameters, otherSeed.Parameters);
    }

    [Fact]
    public async Task Concurrent_trainings_do_not_disturb_each_other()
    {
        var spec = ModelSpec.Mlp(6, [12], classes: 3, dropout: 0.3);
        var start = ModelFactory.InitialParameters(spec, seed: 3);
        var data = SyntheticData.Blobs(100, 6, 3, seed: 4);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 10, Optimizer = OptimizerKind.Adam, LearningRate = 0.01, Seed = 7 };
        var alone = LocalTrainer.Train(spec, start, data, options);

        var together = await Task.WhenAll(Enumerable.Range(0, 3)
            .Select(_ => Task.Run(() => LocalTrainer.Train(spec, start, data, options))));

        Assert.All(together, result => Assert.Equal(alone.Parameters, result.Parameters));
    }

    [Fact]
    public void Training_and_evaluation_free_every_tensor_they_create()
    {
        var spec = ModelSpec.Mlp(6, [12], classes: 3, dropout: 0.3);
        var start = ModelFactory.InitialParameters(spec, seed: 3);
        var data = SyntheticData.Blobs(60, 6, 3, seed: 4);
        var options = new TrainingOptions { Epochs = 2, BatchSize = 10, Optimizer = OptimizerKind.Adam, ProximalMu = 0.1 };

        // Counted per thread, so tests running in parallel do not interfere.
        var statistics = TorchSharp.DisposeScopeManager.Statistics;
        long live = statistics.ThreadTotalLiveCount;
        var result = LocalTrainer.Train(spec, start, data, options);
        ModelEvaluator.Evaluate(spec, result.Parameters, data);
        Assert.Equal(live, statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void A_large_proximal_mu_keeps_parameters_near_the_start()
    {
        var spec = ModelSpec.Logistic(5, classes: 2);
        var start = ModelFactory.InitialParameters(spec, seed: 1);
        var data = SyntheticData.Blobs(200, 5, 2, seed: 2);
        var options = new TrainingOptions { Epochs = 5, BatchSize = 20, LearningRate = 0.02 };

        double Drift(double mu)
        {
            var trained = LocalTrainer.Train(spec, start, data, options with { ProximalMu = mu }).Parameters;
            return Math.Sqrt(trained.Zip(start, (a, b) => (double)(a - b) * (a - b)).Sum());
        }

        // With plain SGD the proximal pull is stable while learning rate · μ < 2; at 1 every step restarts from
        // the start vector, so the drift is one step's worth.
        double free = Drift(0), mild = Drift(0.5), strong = Drift(50);
        Assert.True(free > 0.5, $"unconstrained drift {free}");
        Assert.True(mild < free, $"μ=0.5 drift {mild} vs {free}");
        Assert.True(strong < 0.1 * free, $"μ=50 drift {strong} vs {free}");
    }

    [Fact]
    public void Cancellation_before_or_during_training_throws()
    {
        var spec = ModelSpec.Logistic(4, classes: 2);
        var start = ModelFactory.InitialParameters(spec, seed: 1);
        var data = SyntheticData.Blobs(50, 4, 2, seed: 1);
        var options = new TrainingOptions { Epochs = 5, BatchSize = 10 };

        Assert.ThrowsAny<OperationCanceledException>(() => LocalTrainer.Train(spec, start, data, options, new CancellationToken(canceled: true)));

        // Cancel from the progress callback after the first epoch: the next batch must not run.
        using var source = new CancellationTokenSource();
        var seen = new List<TrainingProgress>();
        var progress = new SynchronousProgress(p => { seen.Add(p); source.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => LocalTrainer.Train(spec, start, data, options, source.Token, progress));
        Assert.Equal([new TrainingProgress(1, 5, seen[0].EpochLoss)], seen);

        Assert.ThrowsAny<OperationCanceledException>(() => ModelEvaluator.Evaluate(spec, start, data, new CancellationToken(canceled: true)));
    }

    [Fact]
    public void A_diverging_run_throws_instead_of_returning_non_finite_parameters()
    {
        var spec = ModelSpec.LinearRegression(4);
        var data = SyntheticData.LinearTarget(64, 4, seed: 1);
        var error = Assert.Throws<TrainingDivergedException>(() =>
            LocalTrainer.Train(spec, ModelFactory.InitialParameters(spec, 1), data, new TrainingOptions { Epochs = 50, LearningRate = 1e6 }));
        Assert.Contains("learning rate 1000000", error.Message);
    }

    [Theory]
    [InlineData("Epochs")]
    [InlineData("BatchSize")]
    [InlineData("LearningRate")]
    [InlineData("Momentum")]
    [InlineData("WeightDecay")]
    [InlineData("ProximalMu")]
    [InlineData("Optimizer")]
    public void Invalid_options_are_rejected_naming_the_option(string option)
    {
        var valid = new TrainingOptions();
        var invalid = option switch
        {
            "Epochs" => valid with { Epochs = 0 },
            "BatchSize" => valid with { BatchSize = -1 },
            "LearningRate" => valid with { LearningRate = double.NaN },
            "Momentum" => valid with { Momentum = 1 },
            "WeightDecay" => valid with { WeightDecay = -0.1 },
            "ProximalMu" => valid with { ProximalMu = double.PositiveInfinity },
            _ => valid with { Optimizer = (OptimizerKind)7 },
        };
        var spec = ModelSpec.Logistic(2, classes: 2);
        var error = Assert.Throws<ArgumentException>(() =>
            LocalTrainer.Train(spec, ModelFactory.InitialParameters(spec, 1), SyntheticData.Xor(8, 1), invalid));
        Assert.Equal(option, error.ParamName);
        Assert.StartsWith($"Training option {option} ", error.Message);
    }

    [Fact]
    public void Momentum_with_adam_is_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new TrainingOptions { Optimizer = OptimizerKind.Adam, Momentum = 0.9 }.Validate());
        Assert.Contains("SGD only", error.Message);
    }

    [Fact]
    public void Data_that_does_not_fit_the_spec_is_rejected_with_row_and_feature()
    {
        var spec = ModelSpec.Logistic(2, classes: 2);
        var start = ModelFactory.InitialParameters(spec, 1);
        var options = new TrainingOptions();
        string[] names = ["age", "weight"];

        string Problem(float[] features, float[] labels, ModelSpec? model = null) =>
            Assert.Throws<ArgumentException>(() => LocalTrainer.Train(model ?? spec, model is null ? start : ModelFactory.InitialParameters(model, 1),
                new TabularData(features, labels, names), options)).Message;

        Assert.Contains("has 2 feature columns but model", Problem([1, 2], [0], ModelSpec.Logistic(3, 2)));
        Assert.Contains("no rows", Problem([], []));
        Assert.Contains("Row 1, feature 'weight' is NaN", Problem([1, 2, 3, float.NaN], [0, 1]));
        Assert.Contains("Row 1 has label 2", Problem([1, 2, 3, 4], [0, 2]));
        Assert.Contains("Row 0 has label 0.5", Problem([1, 2, 3, 4], [0.5f, 1]));
        Assert.Contains("Row 0 has label -1", Problem([1, 2, 3, 4], [-1, 1]));
        Assert.Contains("regression targets must be finite", Problem([1, 2, 3, 4], [0, float.PositiveInfinity], ModelSpec.LinearRegression(2)));
        Assert.Contains("pixel columns of a 1×4×4 image", Problem([1, 2], [0], ModelSpec.Cnn(new ImageShape(1, 4, 4), 2)));
    }

    [Fact]
    public void Evaluation_in_batches_equals_the_sample_weighted_mean_of_its_parts()
    {
        // 2100 rows span three evaluation batches; the parts are evaluated separately and recombined.
        var spec = ModelSpec.Logistic(4, classes: 3);
        var parameters = ModelFactory.InitialParameters(spec, seed: 2);
        var data = SyntheticData.Blobs(2100, 4, 3, seed: 3);
        var whole = ModelEvaluator.Evaluate(spec, parameters, data);
        var head = ModelEvaluator.Evaluate(spec, parameters, data.Select([.. Enumerable.Range(0, 1000)]));
        var tail = ModelEvaluator.Evaluate(spec, parameters, data.Select([.. Enumerable.Range(1000, 1100)]));

        Assert.Equal(2100, whole.SampleCount);
        Assert.Equal((head.Loss * 1000 + tail.Loss * 1100) / 2100, whole.Loss, precision: 5);
        Assert.Equal((head.Accuracy!.Value * 1000 + tail.Accuracy!.Value * 1100) / 2100, whole.Accuracy!.Value, precision: 10);
    }

    [Fact]
    public void Binary_auc_is_null_when_the_data_holds_one_class()
    {
        var spec = ModelSpec.Svm(3, classes: 2);
        var data = SyntheticData.Blobs(40, 3, 2, seed: 1);
        var onlyNegatives = data.Select([.. Enumerable.Range(0, 40).Where(i => data.Labels[i] == 0)]);
        var metrics = ModelEvaluator.Evaluate(spec, ModelFactory.InitialParameters(spec, 1), onlyNegatives);
        Assert.Null(metrics.Auc);
        Assert.NotNull(metrics.Accuracy);
    }

    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
