using System.Security.Cryptography;
using FedCore.Data;
using FedCore.Learning.DpSgd;
using FedCore.Learning.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FedCore.Learning;

/// <summary>
/// One participant's local training in a round. Synchronous and CPU/GPU-bound: a grain must run it off its
/// turn (e.g. Task.Run). Safe to call concurrently from several threads; each call owns its model and tensors.
/// </summary>
public static class LocalTrainer
{
    /// <summary>
    /// Trains the model given by <paramref name="spec"/> and <paramref name="startParameters"/> on
    /// <paramref name="train"/> with mini-batch SGD or Adam, shuffling the rows every epoch, and returns the new
    /// parameter vector. Runs on <see cref="TorchDevices.Current"/>; on the CPU the result is bit-for-bit
    /// repeatable for the same inputs, seed and intra-op thread count.
    /// </summary>
    /// <param name="progress">Told after every epoch, synchronously on the training thread.</param>
    /// <exception cref="ArgumentException">Invalid options, a parameter vector that does not fit the spec, or data that does not (wrong column count, no rows, non-finite values, labels that are not class indices).</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested; checked before every batch.</exception>
    /// <exception cref="TrainingDivergedException">The loss or the parameters became non-finite.</exception>
    public static LocalTrainingResult Train(ModelSpec spec, ReadOnlySpan<float> startParameters, TabularData train,
        TrainingOptions options, CancellationToken cancellationToken = default, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ModelHead.CheckData(spec, train, nameof(train));
        cancellationToken.ThrowIfCancellationRequested();

        var device = TorchDevices.Current;
        var random = new SplitMix64((ulong)options.Seed);
        using var dropoutNoise = new Generator(random.Next(), device);
        using var model = ModelFactory.Create(spec, startParameters, device, dropoutNoise);
        using var optimizer = Optimizer.Create(model.Parameters, options);
        using var scope = NewDisposeScope();

        var head = ModelHead.For(spec);
        int rows = train.RowCount;
        var features = tensor(train.Features, rows, train.FeatureCount, device: device);
        var targets = head.Targets(train.Labels, device);
        Tensor[]? anchor = options.ProximalMu > 0 ? [.. model.Parameters.Select(p => p.detach().clone())] : null;

        model.Module.train();
        var privacy = options.Privacy is { } dp ? new PrivateSteps(dp, DpSgdSchedule.For(rows, options.BatchSize, options.Epochs), options.Epochs, device) : null;
        using var _ = privacy;
        var order = Enumerable.Range(0, rows).ToArray();
        var epochLosses = new double[options.Epochs];
        int steps = 0;
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            double lossSum = 0;
            if (privacy is not null)
            {
                for (int step = 0; step < privacy.StepsPerEpoch; step++, steps++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var stepScope = NewDisposeScope();
                    var sample = NoisyGradient.Sample(rows, privacy.Schedule.SamplingRate, privacy.Noise);
                    // No loss check: under DP a step fails on no row (NoisyGradient drops non-finite rows); only the noisy
                    // parameters, checked at the end, can stop the training.
                    var (gradients, sampleLoss) = NoisyGradient.Compute(model, head, features, targets, sample, privacy.Options, privacy.Schedule.ExpectedBatchSize, privacy.Noise);
                    if (anchor is not null)
                        AddProximalGradient(gradients, model.Parameters, anchor, options.ProximalMu);
                    optimizer.Step(gradients);
                    lossSum += sampleLoss;
                }
                // The rows seen are random; their count stands in for the epoch's (a local figure, never released under DP).
                epochLosses[epoch] = lossSum / Math.Max(1.0, privacy.Schedule.ExpectedBatchSize * privacy.StepsPerEpoch);
            }
            else
            {
                Shuffle(order, random);
                for (int first = 0, batch = 0; first < rows; first += options.BatchSize, batch++, steps++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int count = Math.Min(options.BatchSize, rows - first);
                    using var batchScope = NewDisposeScope();
                    var index = tensor(Array.ConvertAll(order[first..(first + count)], i => (long)i), device: device);
                    var output = model.Module.call(features.index_select(0, index));
                    var dataLoss = head.Losses(output, targets.index_select(0, index)).mean();
                    double batchLoss = dataLoss.item<float>();
                    CheckFinite(batchLoss, epoch, batch, options);

                    optimizer.ZeroGrad();
                    var loss = anchor is null ? dataLoss : dataLoss.Plus(ProximalTerm(model.Parameters, anchor, options.ProximalMu));
                    loss.backward();
                    optimizer.Step();
                    lossSum += batchLoss * count;
                }
                epochLosses[epoch] = lossSum / rows;
            }
            progress?.Report(new TrainingProgress(epoch + 1, options.Epochs, epochLosses[epoch]));
        }

        var trained = model.GetParameters();
        int bad = Array.FindIndex(trained, v => !float.IsFinite(v));
        if (bad >= 0)
            throw new TrainingDivergedException(
                $"Training left parameter {model.Layout.Locate(bad)} at {trained[bad]} (learning rate {options.LearningRate}); no update was produced.");
        return new LocalTrainingResult(trained, rows, epochLosses[^1], epochLosses, steps);
    }

    private static void CheckFinite(double loss, int epoch, int batch, TrainingOptions options)
    {
        if (!double.IsFinite(loss))
            throw new TrainingDivergedException(
                $"The training loss became {loss} in epoch {epoch + 1}, batch {batch + 1} (learning rate {options.LearningRate}); no update was produced.");
    }

    /// <summary>What DP-SGD keeps through a training: its settings, its schedule and its secret source of samples and noise.</summary>
    private sealed class PrivateSteps(DpSgdOptions options, DpSgdSchedule schedule, int epochs, Device device) : IDisposable
    {
        public DpSgdOptions Options { get; } = options;
        public DpSgdSchedule Schedule { get; } = schedule;
        public int StepsPerEpoch { get; } = schedule.StepsPerEpoch(epochs);
        public Generator Noise { get; } = new(options.NoiseSeed ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)), device);
        public void Dispose() => Noise.Dispose();
    }

    /// <summary>The FedProx term's gradient, μ·(w − w_start), added to each noisy gradient: it reads no row, so it needs no noise.</summary>
    private static void AddProximalGradient(Tensor[] gradients, IReadOnlyList<Parameter> parameters, Tensor[] anchor, double mu)
    {
        using var noGrad = no_grad();
        using var scalar = mu.ToScalar();
        for (int i = 0; i < gradients.Length; i++)
            gradients[i].add_(parameters[i] - anchor[i], scalar);
    }

    /// <summary>Fisher–Yates, so the batch order depends only on the seed.</summary>
    private static void Shuffle(int[] rows, SplitMix64 random)
    {
        for (int i = rows.Length - 1; i > 0; i--)
        {
            int j = random.NextBelow(i + 1);
            (rows[i], rows[j]) = (rows[j], rows[i]);
        }
    }

    /// <summary>FedProx: μ/2 · Σ‖w − w_start‖² over all parameter tensors. No implicit Scalars: see <see cref="Scalars"/>.</summary>
    private static Tensor ProximalTerm(IReadOnlyList<Parameter> parameters, Tensor[] anchor, double mu)
    {
        Tensor squaredDistance = (parameters[0] - anchor[0]).Squared().sum();
        for (int i = 1; i < parameters.Count; i++)
            squaredDistance = squaredDistance.Plus((parameters[i] - anchor[i]).Squared().sum());
        return squaredDistance.Times(mu / 2);
    }
}
