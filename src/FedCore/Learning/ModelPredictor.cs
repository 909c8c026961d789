using FedCore.Data;
using static TorchSharp.torch;

namespace FedCore.Learning;

/// <summary>
/// One row's prediction: for a classifier the class and, when its loss is probabilistic (logistic, MLP, CNN; not an SVM's
/// hinge), the probability of that class; for a regression model the value.
/// </summary>
public sealed record Prediction(int? Class, double? Probability, double? Value);

/// <summary>Scores rows with a parameter vector, in evaluation mode (no dropout). Synchronous; run it off a grain's turn.</summary>
public static class ModelPredictor
{
    /// <summary>A prediction per row of <paramref name="data"/> (its labels are ignored: they may be NaN), in row order.</summary>
    /// <exception cref="ArgumentException">A parameter vector or features that do not fit the spec.</exception>
    public static IReadOnlyList<Prediction> Predict(ModelSpec spec, ReadOnlySpan<float> parameters, TabularData data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ModelHead.CheckFeatures(spec, data, nameof(data));
        var head = ModelHead.For(spec);
        var predictions = new List<Prediction>(data.RowCount);
        InferencePass.Run(spec, parameters, data, cancellationToken, (output, first, count) =>
        {
            if (spec.IsRegression)
            {
                var values = output.squeeze(1).cpu().data<float>();
                for (int k = 0; k < count; k++)
                    predictions.Add(new Prediction(null, null, values[k]));
                return;
            }
            var classes = head.PredictClasses(output).cpu().data<long>().ToArray();
            var probabilities = head.Probabilities(output)?.cpu().data<float>().ToArray();
            int width = probabilities is null ? 0 : probabilities.Length / count;
            for (int k = 0; k < count; k++)
                predictions.Add(new Prediction((int)classes[k], probabilities is null ? null : probabilities[k * width + (int)classes[k]], null));
        });
        return predictions;
    }
}
