using System.Diagnostics;
using FedCore.Data;

namespace FedCore.Learning;

/// <summary>One model's training throughput, measured by <see cref="LearningBenchmark.Run"/>.</summary>
/// <param name="Spec">Canonical JSON of the model.</param>
/// <param name="ParameterCount">Length of its parameter vector (what each round encrypts).</param>
/// <param name="Rows">Training rows per epoch.</param>
/// <param name="Epochs">Epochs timed.</param>
/// <param name="Seconds">Wall time of the whole <see cref="LocalTrainer.Train"/> call.</param>
/// <param name="SamplesPerSecond">Rows × epochs / seconds.</param>
public sealed record LearningBenchmarkFigure(string Spec, int ParameterCount, int Rows, int Epochs, double Seconds, double SamplesPerSecond)
{
    public override string ToString() =>
        $"{Spec}: {ParameterCount} parameters, {Rows}×{Epochs} samples in {Seconds:F2} s = {SamplesPerSecond:F0} samples/s";
}

/// <summary>
/// Times local training of typical models on random data (batch 32, SGD), so an operator can see what a
/// round costs on a machine. For the host's bench command; not run by the unit tests at full size.
/// </summary>
public static class LearningBenchmark
{
    public static IReadOnlyList<ModelSpec> DefaultModels { get; } =
    [
        ModelSpec.Logistic(15, classes: 2),
        ModelSpec.Mlp(15, [64, 32], classes: 2),
        ModelSpec.Cnn(new ImageShape(1, 28, 28), classes: 10),
    ];

    /// <summary>Trains each model once for <paramref name="epochs"/> over <paramref name="rows"/> random rows (after a one-batch warm-up).</summary>
    public static IReadOnlyList<LearningBenchmarkFigure> Run(IEnumerable<ModelSpec>? models = null, int rows = 2000, int epochs = 1, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        var figures = new List<LearningBenchmarkFigure>();
        foreach (var spec in models ?? DefaultModels)
        {
            var data = RandomData(spec, rows);
            var start = ModelFactory.InitialParameters(spec, seed: 1);
            var options = new TrainingOptions { Epochs = epochs, BatchSize = 32, LearningRate = 0.01 };
            // The first call pays for native initialisation and kernel selection; keep that out of the figure.
            LocalTrainer.Train(spec, start, data.Select([0]), options with { Epochs = 1 }, cancellationToken);

            var clock = Stopwatch.StartNew();
            LocalTrainer.Train(spec, start, data, options, cancellationToken);
            double seconds = clock.Elapsed.TotalSeconds;
            figures.Add(new LearningBenchmarkFigure(spec.ToJson(), ParameterLayout.For(spec).TotalLength, rows, epochs, seconds, (double)rows * epochs / seconds));
        }
        return figures;
    }

    private static TabularData RandomData(ModelSpec spec, int rows)
    {
        var random = new SplitMix64((ulong)rows);
        var features = new float[(long)rows * spec.Inputs];
        for (long i = 0; i < features.LongLength; i++)
            features[i] = (float)ModelFactory.UnitInterval(random.Next());
        var labels = new float[rows];
        for (int i = 0; i < rows; i++)
            labels[i] = spec.Classes is { } classes ? random.NextBelow(classes) : (float)ModelFactory.UnitInterval(random.Next());
        return new TabularData(features, labels, [.. Enumerable.Range(0, spec.Inputs).Select(j => $"x{j}")]);
    }
}
