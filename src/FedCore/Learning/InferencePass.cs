using FedCore.Data;
using static TorchSharp.torch;

namespace FedCore.Learning;

/// <summary>
/// How a model is read without training (<see cref="ModelEvaluator"/>, <see cref="ModelPredictor"/>): in evaluation
/// mode (no dropout), without gradients, <see cref="Batch"/> rows per forward pass, on <see cref="TorchDevices.Current"/>.
/// </summary>
internal static class InferencePass
{
    /// <summary>Rows per forward pass; bounds memory on large datasets without affecting the result.</summary>
    public const int Batch = 1024;

    /// <summary>
    /// Calls <paramref name="visit"/> with each batch's output, its first row and its row count, in row order; the batch's
    /// tensors are freed when it returns. Cancellation is checked before every batch.
    /// </summary>
    public static void Run(ModelSpec spec, ReadOnlySpan<float> parameters, TabularData data, CancellationToken cancellationToken, Action<Tensor, int, int> visit)
    {
        using var model = ModelFactory.Create(spec, parameters, TorchDevices.Current);
        Run(model, data, cancellationToken, visit);
    }

    /// <summary><see cref="Run(ModelSpec, ReadOnlySpan{float}, TabularData, CancellationToken, Action{Tensor, int, int})"/> with a model the caller built (and disposes): for reading one model on several datasets.</summary>
    public static void Run(TorchModel model, TabularData data, CancellationToken cancellationToken, Action<Tensor, int, int> visit)
    {
        var device = model.Device;
        model.Module.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var features = tensor(data.Features, data.RowCount, data.FeatureCount, device: device);
        for (int first = 0; first < data.RowCount; first += Batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(Batch, data.RowCount - first);
            using var batchScope = NewDisposeScope();
            visit(model.Module.call(features.narrow(0, first, count)), first, count);
        }
    }
}
