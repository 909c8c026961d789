using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FedCore.Learning.Optimization;

/// <summary>
/// Adam as PyTorch documents it (no AMSGrad), with weight decay as an L2 term added to the gradient: at step t,
/// g ← ∇ + λ·w; m ← β₁·m + (1 − β₁)·g; v ← β₂·v + (1 − β₂)·g²;
/// w ← w − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε). Same operations in the same order as torch.optim.Adam.
/// </summary>
internal sealed class AdamOptimizer : Optimizer
{
    public const double Beta1 = 0.9;
    public const double Beta2 = 0.999;
    public const double Epsilon = 1e-8;

    private readonly double learningRate;
    private readonly Scalar beta1 = Beta1.ToScalar();
    private readonly Scalar oneMinusBeta1 = (1 - Beta1).ToScalar();
    private readonly Scalar beta2 = Beta2.ToScalar();
    private readonly Scalar oneMinusBeta2 = (1 - Beta2).ToScalar();
    private readonly Scalar epsilon = Epsilon.ToScalar();
    private readonly Scalar? weightDecay;
    private readonly Tensor[] expAvg;
    private readonly Tensor[] expAvgSq;
    private readonly long[] steps;

    public AdamOptimizer(IEnumerable<Parameter> parameters, double learningRate, double weightDecay = 0)
        : base(parameters)
    {
        if (!(learningRate > 0))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be positive.");
        if (!(weightDecay >= 0))
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Weight decay must be at least 0.");

        this.learningRate = learningRate;
        this.weightDecay = weightDecay != 0 ? weightDecay.ToScalar() : null;
        expAvg = [.. Parameters.Select(StateLike)];
        expAvgSq = [.. Parameters.Select(StateLike)];
        steps = new long[Parameters.Count];
    }

    protected override void Update(int index, Parameter parameter, Tensor grad)
    {
        long step = ++steps[index];
        double biasCorrection1 = 1 - Math.Pow(Beta1, step);
        double biasCorrection2 = 1 - Math.Pow(Beta2, step);
        using var biasCorrection2Sqrt = Math.Sqrt(biasCorrection2).ToScalar();
        using var negativeStepSize = (-(learningRate / biasCorrection1)).ToScalar();

        if (weightDecay is not null)
            grad = grad.add(parameter, weightDecay);
        expAvg[index].mul_(beta1).add_(grad, oneMinusBeta1);
        expAvgSq[index].mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
        var denominator = expAvgSq[index].sqrt().div_(biasCorrection2Sqrt).add_(epsilon, Scalars.One);
        parameter.addcdiv_(expAvg[index], denominator, negativeStepSize);
    }

    protected override void Release()
    {
        foreach (var tensor in expAvg.Concat(expAvgSq))
            tensor.Dispose();
        foreach (var scalar in new[] { beta1, oneMinusBeta1, beta2, oneMinusBeta2, epsilon, weightDecay })
            scalar?.Dispose();
    }
}
