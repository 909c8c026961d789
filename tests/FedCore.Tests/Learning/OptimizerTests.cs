using FedCore.Learning;
using FedCore.Learning.Optimization;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace FedCore.Tests.Learning;

/// <summary>Our optimisers against TorchSharp's, which they replace (see <see cref="Scalars"/> for why).</summary>
public class OptimizerTests(ITestOutputHelper output)
{
    private const int Steps = 20;

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.9, 0.0)]
    [InlineData(0.0, 0.01)]
    [InlineData(0.9, 0.01)]
    public void Sgd_follows_torch_sgd(double momentum, double weightDecay)
    {
        var options = new TrainingOptions { Optimizer = OptimizerKind.Sgd, LearningRate = 0.05, Momentum = momentum, WeightDecay = weightDecay };
        var (ours, reference) = TrainBoth(options,
            parameters => optim.SGD(parameters, options.LearningRate, momentum: momentum, weight_decay: weightDecay));
        AssertClose(reference, ours);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)]
    public void Adam_follows_torch_adam(double weightDecay)
    {
        var options = new TrainingOptions { Optimizer = OptimizerKind.Adam, LearningRate = 0.01, WeightDecay = weightDecay };
        var (ours, reference) = TrainBoth(options,
            parameters => optim.Adam(parameters, options.LearningRate, weight_decay: weightDecay));
        AssertClose(reference, ours);
    }

    [Fact]
    public void Disposing_frees_the_state_and_the_optimiser_refuses_further_steps()
    {
        var spec = ModelSpec.Mlp(4, [5], classes: 3);
        using var model = ModelFactory.Create(spec, seed: 5);
        var statistics = DisposeScopeManager.Statistics;
        long live = statistics.ThreadTotalLiveCount;
        var optimizer = Optimizer.Create(model.Parameters, new TrainingOptions { Optimizer = OptimizerKind.Adam });
        optimizer.Dispose();
        Assert.Equal(live, statistics.ThreadTotalLiveCount);
        Assert.Throws<ObjectDisposedException>(optimizer.Step);
    }

    /// <summary>
    /// Trains two copies of a small MLP (tanh, three classes, a fixed start) for <see cref="Steps"/> mini-batch steps,
    /// one with our optimiser for <paramref name="options"/>, the other with <paramref name="torchOptimizer"/>. Both step
    /// with the same gradients, those of our copy: two copies computing their own can differ in the last bit (the BLAS
    /// kernels depend on where the tensors lie in memory), which would blur the comparison.
    /// </summary>
    private static (float[] Ours, float[] Reference) TrainBoth(TrainingOptions options, Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer> torchOptimizer)
    {
        var spec = ModelSpec.Mlp(4, [6], classes: 3, activation: Activation.Tanh);
        var data = SyntheticData.Blobs(40, 4, 3, seed: 11);
        using var ours = ModelFactory.Create(spec, seed: 2);
        using var reference = ModelFactory.Create(spec, seed: 2);
        using var ourOptimizer = Optimizer.Create(ours.Parameters, options);
        using var referenceOptimizer = torchOptimizer(reference.Parameters);
        using var scope = NewDisposeScope();
        var features = tensor(data.Features, data.RowCount, data.FeatureCount);
        var targets = tensor(data.Labels.Select(l => (long)l).ToArray());
        ours.Module.train();
        const int batch = 8;
        for (int step = 0; step < Steps; step++)
        {
            using var batchScope = NewDisposeScope();
            long first = step * batch % data.RowCount;
            var loss = nn.functional.cross_entropy(ours.Module.call(features.narrow(0, first, batch)), targets.narrow(0, first, batch));
            ourOptimizer.ZeroGrad();
            loss.backward();
            for (int i = 0; i < ours.Parameters.Count; i++)
                reference.Parameters[i].grad = ours.Parameters[i].grad!.clone();
            ourOptimizer.Step();
            referenceOptimizer.step();
        }

        var trained = reference.GetParameters();
        var start = ModelFactory.InitialParameters(spec, seed: 2);
        Assert.True(start.Zip(trained, (a, b) => Math.Abs(a - b)).Max() > 1e-2, "the reference barely moved the parameters");
        return (ours.GetParameters(), trained);
    }

    /// <summary>Largest difference within 1e-6 of the largest parameter magnitude (the parameters move by far more than that).</summary>
    private void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs((double)v));
        double worst = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
        output.WriteLine($"largest difference {worst:E3}, parameter scale {scale:G4}, {expected.Zip(actual).Count(p => p.First != p.Second)} of {expected.Length} values differ");
        Assert.True(worst <= 1e-6 * scale, $"largest difference {worst:E3} against parameter scale {scale:G4}");
    }
}
