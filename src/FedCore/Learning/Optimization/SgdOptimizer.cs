using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FedCore.Learning.Optimization;

/// <summary>
/// PyTorch's SGD with dampening 0 and without Nesterov: g ← ∇ + λ·w; with momentum μ &gt; 0, b ← g at the first step
/// and b ← μ·b + g after it, then g ← b; finally w ← w − lr·g. Same operations in the same order as torch.optim.SGD.
/// </summary>
internal sealed class SgdOptimizer : Optimizer
{
    private readonly Scalar negativeLearningRate;
    private readonly Scalar? momentum;
    private readonly Scalar? weightDecay;
    private readonly Tensor[]? momentumBuffers;
    private readonly bool[] started;

    public SgdOptimizer(IEnumerable<Parameter> parameters, double learningRate, double momentum = 0, double weightDecay = 0)
        : base(parameters)
    {
        if (!(learningRate > 0))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be positive.");
        if (!(momentum >= 0 && momentum < 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Momentum must be in [0, 1).");
        if (!(weightDecay >= 0))
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Weight decay must be at least 0.");

        negativeLearningRate = (-learningRate).ToScalar();
        this.momentum = momentum != 0 ? momentum.ToScalar() : null;
        this.weightDecay = weightDecay != 0 ? weightDecay.ToScalar() : null;
        momentumBuffers = momentum != 0 ? [.. Parameters.Select(StateLike)] : null;
        started = new bool[Parameters.Count];
    }

    protected override void Update(int index, Parameter parameter, Tensor grad)
    {
        if (weightDecay is not null)
            grad = grad.add(parameter, weightDecay);
        if (momentumBuffers is not null)
        {
            var buffer = momentumBuffers[index];
            if (started[index])
                buffer.mul_(momentum!).add_(grad, Scalars.One);     // 1 − dampening
            else
                buffer.copy_(grad);
            started[index] = true;
            grad = buffer;
        }
        parameter.add_(grad, negativeLearningRate);
    }

    protected override void Release()
    {
        if (momentumBuffers is not null)
            foreach (var buffer in momentumBuffers)
                buffer.Dispose();
        negativeLearningRate.Dispose();
        momentum?.Dispose();
        weightDecay?.Dispose();
    }
}
