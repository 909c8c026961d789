using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FedCore.Learning.DpSgd;

/// <summary>
/// One DP-SGD step's gradient: each sampled row's gradient clipped to norm C, summed, Gaussian noise of deviation σ·C
/// added to every coordinate, divided by the expected batch size (not the sample's size, which would tell how many rows
/// were drawn). Per-row gradients come from one backward pass per row: the models are small and every layer is
/// per-row (no batch normalisation), so this is exact and needs no per-sample-gradient machinery.
/// </summary>
internal static class NoisyGradient
{
    /// <summary>The gradients, one per parameter tensor, owned by the caller's dispose scope; and the sampled rows' summed loss (local only).</summary>
    public static (Tensor[] Gradients, double LossSum) Compute(TorchModel model, ModelHead head, Tensor features, Tensor targets,
        long[] sample, DpSgdOptions dp, double expectedBatchSize, Generator noise)
    {
        var parameters = model.Parameters;
        var sums = parameters.Select(p => zeros_like(p)).ToArray();
        double lossSum = 0;
        foreach (long row in sample)
        {
            using var rowScope = NewDisposeScope();
            foreach (var p in parameters)
                p.grad?.zero_();
            var loss = head.Losses(model.Module.call(features.narrow(0, row, 1)), targets.narrow(0, row, 1)).sum();
            double rowLoss = loss.item<float>();
            loss.backward();
            double norm = Math.Sqrt(parameters.Sum(p => p.grad is { } g ? g.Squared().sum().item<float>() : 0.0));
            // A row whose loss or gradient is not finite contributes nothing (a zero gradient is within the clipping norm
            // like any other): a failure that a model of the job's making could provoke for chosen rows would tell the job
            // about those rows without noise.
            if (!double.IsFinite(norm) || !double.IsFinite(rowLoss))
                continue;
            lossSum += rowLoss;
            using var factor = (norm > dp.ClippingNorm ? dp.ClippingNorm / norm : 1.0).ToScalar();
            for (int i = 0; i < parameters.Count; i++)
                if (parameters[i].grad is { } grad)
                    sums[i].add_(grad, factor);
        }
        foreach (var p in parameters)
            p.grad?.zero_();

        using var deviation = (dp.NoiseMultiplier * dp.ClippingNorm).ToScalar();
        using var scale = (1.0 / expectedBatchSize).ToScalar();
        using (no_grad())
            foreach (var sum in sums)
                sum.add_(randn(sum.shape, generator: noise, device: sum.device), deviation).mul_(scale);
        return (sums, lossSum);
    }

    /// <summary>Poisson sampling: each of <paramref name="rows"/> rows independently with probability <paramref name="rate"/>.</summary>
    public static long[] Sample(int rows, double rate, Generator noise)
    {
        using var scope = NewDisposeScope();
        // In double precision: float draws come in steps of 2⁻²⁴, which would sample rows above the charged rate for q
        // near that step (datasets of millions of rows).
        var draws = rand(rows, dtype: ScalarType.Float64, generator: noise).data<double>().ToArray();
        var sample = new List<long>();
        for (int i = 0; i < rows; i++)
            if (draws[i] < rate)
                sample.Add(i);
        return [.. sample];
    }
}
