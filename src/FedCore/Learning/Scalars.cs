using TorchSharp;
using static TorchSharp.torch;

namespace FedCore.Learning;

/// <summary>
/// Tensor arithmetic with constants, written so that no <see cref="Scalar"/> can be freed while libtorch reads it.
/// </summary>
/// <remarks>
/// A TorchSharp <see cref="Scalar"/> owns a native c10::Scalar and has a finalizer that frees it. TorchSharp's implicit
/// conversions (<c>t + 1</c>, <c>t * 0.5</c>, <c>t.gt(0)</c>, and overloads that fill in a default such as
/// <c>add(Tensor)</c>, which passes alpha = 1, or <c>square()</c>, which calls <c>pow(2)</c>) create a temporary
/// Scalar and pass only its handle to native code, without keeping the managed object alive. The temporary is then
/// unreachable during the native call; under GC pressure (many trainings in one process) its finalizer can free the
/// native scalar while libtorch reads it: a use-after-free, seen as "value cannot be converted to type float
/// without overflow" or as silently wrong numbers. TorchSharp's own optimisers do this on every step, which is
/// why training uses <see cref="Optimization.Optimizer"/> instead.
/// <para>
/// The rule in FedCore.Learning: every Scalar that reaches a Torch call is created explicitly and stays reachable
/// until the call returns — a static constant here, a field disposed with its owner (the optimisers), or a
/// <c>using var s = x.ToScalar();</c> local (disposed, hence alive, at the end of its scope). Tensor operators with
/// numbers and the Scalar-defaulting overloads above are not used.
/// </para>
/// </remarks>
internal static class Scalars
{
    // Process-lifetime constants: static fields keep them reachable, so they are never finalized. A c10::Scalar is
    // only read by the operations, so concurrent trainings may share them.
    public static readonly Scalar Zero = 0.ToScalar();
    public static readonly Scalar One = 1.ToScalar();
    public static readonly Scalar Two = 2.ToScalar();

    /// <summary><paramref name="left"/> + <paramref name="right"/> (the <c>+</c> operator passes an implicit alpha).</summary>
    public static Tensor Plus(this Tensor left, Tensor right) => left.add(right, One);

    /// <summary>1 − <paramref name="tensor"/>, computed as Torch computes <c>1 - tensor</c>.</summary>
    public static Tensor OneMinus(this Tensor tensor) => tensor.neg().add(One, One);

    /// <summary>Element-wise square, as <c>square()</c> computes it (<c>pow(2)</c>, with the same gradient).</summary>
    public static Tensor Squared(this Tensor tensor) => tensor.pow(Two);

    /// <summary><paramref name="tensor"/> · <paramref name="factor"/>.</summary>
    public static Tensor Times(this Tensor tensor, double factor)
    {
        using var scalar = factor.ToScalar();
        return tensor.mul(scalar);
    }
}
