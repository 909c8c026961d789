using FedCore.Data;
using FedCore.Learning;

namespace FedCore.Tests.Learning;

public class ModelPredictorTests
{
    [Theory]
    [InlineData("""{"type":"logistic","inputs":4,"classes":2}""", 2, true)]
    [InlineData("""{"type":"mlp","inputs":4,"hidden":[8],"classes":3}""", 3, true)]
    [InlineData("""{"type":"svm","inputs":4,"classes":2}""", 2, false)]
    public void Predictions_are_the_evaluators_classes_with_probabilities_where_the_loss_has_them(string json, int classes, bool probabilistic)
    {
        var spec = ModelSpec.Parse(json, "test");
        var train = SyntheticData.Blobs(200, 4, classes, seed: 1);
        var test = SyntheticData.Blobs(100, 4, classes, seed: 2);
        var parameters = LocalTrainer.Train(spec, ModelFactory.InitialParameters(spec, 1), train,
            new TrainingOptions { Epochs = 5, BatchSize = 16, LearningRate = 0.05 }).Parameters;

        var predictions = ModelPredictor.Predict(spec, parameters, test);

        Assert.Equal(test.RowCount, predictions.Count);
        double accuracy = predictions.Select((p, i) => p.Class == (int)test.Labels[i] ? 1.0 : 0.0).Average();
        Assert.Equal(ModelEvaluator.Evaluate(spec, parameters, test).Accuracy!.Value, accuracy, 12);
        Assert.All(predictions, p => Assert.Null(p.Value));
        if (probabilistic)
            Assert.All(predictions, p => Assert.InRange(p.Probability!.Value, 1.0 / classes, 1.0)); // the predicted class is the likeliest
        else
            Assert.All(predictions, p => Assert.Null(p.Probability));
    }

    [Fact]
    public void Rows_without_labels_are_scored_and_regression_gives_values()
    {
        var spec = ModelSpec.LinearRegression(2);
        var data = new TabularData([1f, 2f, 3f, 4f], [float.NaN, float.NaN], ["a", "b"]);
        var predictions = ModelPredictor.Predict(spec, [10f, 100f, 0.5f], data); // weights [10, 100], bias 0.5
        Assert.Equal([210.5, 430.5], predictions.Select(p => p.Value!.Value));
        Assert.All(predictions, p => Assert.Null(p.Class));
    }

    [Fact]
    public void Saved_weights_load_into_the_same_architecture_and_nothing_else()
    {
        var spec = ModelSpec.Parse("""{"type":"mlp","inputs":5,"hidden":[4,3],"classes":2}""", "test");
        var parameters = ModelFactory.InitialParameters(spec, 7);
        var path = Path.GetTempFileName();
        try
        {
            using (var model = ModelFactory.Create(spec, parameters))
                model.Save(path);
            using (var loaded = ModelFactory.Load(spec, path))
                Assert.Equal(parameters, loaded.GetParameters());

            var other = ModelSpec.Parse("""{"type":"mlp","inputs":5,"hidden":[4],"classes":2}""", "test");
            var error = Assert.Throws<ArgumentException>(() => ModelFactory.Load(other, path));
            Assert.Contains(path, error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
