using FedCore.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace FedCore.Learning;

/// <summary>Scores a parameter vector on a dataset. Synchronous; run it off a grain's turn like training.</summary>
public static class ModelEvaluator
{
    /// <summary>
    /// Loss, accuracy, AUC (two classes) or R² (regression) of the model <paramref name="spec"/> with
    /// <paramref name="parameters"/> on <paramref name="data"/>, in evaluation mode (no dropout), on
    /// <see cref="TorchDevices.Current"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A parameter vector that does not fit the spec, or data that does not.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested; checked before every batch.</exception>
    public static ModelMetrics Evaluate(ModelSpec spec, ReadOnlySpan<float> parameters, TabularData data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ModelHead.CheckData(spec, data, nameof(data));
        using var model = ModelFactory.Create(spec, parameters, TorchDevices.Current);
        return Evaluate(model, data, cancellationToken);
    }

    /// <summary><see cref="Evaluate(ModelSpec, ReadOnlySpan{float}, TabularData, CancellationToken)"/> with a model the caller built and disposes (one model scored on several datasets).</summary>
    internal static ModelMetrics Evaluate(TorchModel model, TabularData data, CancellationToken cancellationToken = default)
    {
        var spec = model.Spec;
        ModelHead.CheckData(spec, data, nameof(data));
        var head = ModelHead.For(spec);
        int rows = data.RowCount;
        using var scope = NewDisposeScope();
        var targets = head.Targets(data.Labels, model.Device);
        double lossSum = 0;
        long correct = 0;
        var scores = spec.IsBinary ? new double[rows] : null;

        InferencePass.Run(model, data, cancellationToken, (output, first, count) =>
        {
            lossSum += head.Losses(output, targets.narrow(0, first, count)).to_type(ScalarType.Float64).sum().item<double>();
            if (spec.IsRegression)
                return;

            var predicted = head.PredictClasses(output).cpu().data<long>();
            for (int k = 0; k < count; k++)
                if (predicted[k] == (long)data.Labels[first + k])
                    correct++;
            if (scores is not null)
            {
                var batchScores = output.squeeze(1).cpu().data<float>();
                for (int k = 0; k < count; k++)
                    scores[first + k] = batchScores[k];
            }
        });

        double loss = lossSum / rows;
        if (spec.IsRegression)
            return new ModelMetrics(loss, null, null, RSquared(sumSquaredErrors: lossSum, data.Labels), rows);

        double? auc = scores is null ? null : BinaryAuc.Compute(scores, Array.ConvertAll(data.Labels, label => label == 1));
        return new ModelMetrics(loss, (double)correct / rows, auc, null, rows);
    }

    private static double? RSquared(double sumSquaredErrors, float[] targets)
    {
        double mean = targets.Average(t => (double)t);
        double totalSquares = targets.Sum(t => (t - mean) * (t - mean));
        return totalSquares > 0 ? 1 - sumSquaredErrors / totalSquares : null;
    }
}
