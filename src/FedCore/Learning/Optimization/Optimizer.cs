using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FedCore.Learning.Optimization;

/// <summary>
/// A first-order optimiser over a fixed list of parameters: <see cref="ZeroGrad"/>, backward, <see cref="Step"/>.
/// Ours rather than TorchSharp's because those pass implicitly converted Scalars to native code, which a finalizer can
/// free mid-call (see <see cref="Scalars"/>). Here every Scalar is created explicitly and held by the optimiser (or by
/// a <c>using</c> local while one step needs it), and disposed with it.
/// </summary>
/// <remarks>
/// The optimiser owns its state tensors (momentum buffers, moment estimates): they belong to no dispose scope and are
/// freed by <see cref="Dispose"/>. Each step runs under <c>no_grad</c> in a dispose scope of its own, so its temporaries
/// are freed when it returns, whatever scope the caller has open. One optimiser serves one thread.
/// </remarks>
internal abstract class Optimizer : IDisposable
{
    private readonly Parameter[] parameters;
    private bool disposed;

    protected Optimizer(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        this.parameters = [.. parameters];
    }

    /// <summary>The optimiser <paramref name="options"/> ask for (their validity is the caller's to check).</summary>
    public static Optimizer Create(IEnumerable<Parameter> parameters, TrainingOptions options) => options.Optimizer switch
    {
        OptimizerKind.Sgd => new SgdOptimizer(parameters, options.LearningRate, options.Momentum, options.WeightDecay),
        OptimizerKind.Adam => new AdamOptimizer(parameters, options.LearningRate, options.WeightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, "Unknown optimiser."),
    };

    protected IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>Sets every existing gradient to zero (in place, as TorchSharp's optimisers do).</summary>
    public void ZeroGrad()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var scope = NewDisposeScope();
        foreach (var parameter in parameters)
            parameter.grad?.zero_();
    }

    /// <summary>Updates every parameter that has a gradient; parameters without one are left alone, their state too.</summary>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < parameters.Length; i++)
        {
            var grad = parameters[i].grad;
            if (grad is not null)
                Update(i, parameters[i], grad);
        }
    }

    /// <summary>
    /// Updates every parameter with the gradient given for it, in parameter order: for gradients computed outside
    /// autograd's accumulation (DP-SGD's clipped, noised sums).
    /// </summary>
    public void Step(IReadOnlyList<Tensor> gradients)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (gradients.Count != parameters.Length)
            throw new ArgumentException($"{gradients.Count} gradients for {parameters.Length} parameters.", nameof(gradients));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < parameters.Length; i++)
            Update(i, parameters[i], gradients[i]);
    }

    /// <summary>
    /// One update of parameter <paramref name="index"/>, under no_grad; tensors it creates are freed after the step.
    /// </summary>
    protected abstract void Update(int index, Parameter parameter, Tensor grad);

    /// <summary>A zero tensor shaped like <paramref name="parameter"/>, owned by the optimiser (outside any dispose scope).</summary>
    protected static Tensor StateLike(Parameter parameter) => zeros_like(parameter).DetachFromDisposeScope();

    /// <summary>Frees the state tensors and the Scalars.</summary>
    protected abstract void Release();

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        Release();
    }
}
