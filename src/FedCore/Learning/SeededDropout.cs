using TorchSharp;
using static TorchSharp.torch;

namespace FedCore.Learning;

/// <summary>
/// Inverted dropout whose masks come from a caller-owned generator. Torch's own Dropout draws from the
/// process-wide generator, which concurrent trainings would share, so a seed could not make a run repeatable.
/// </summary>
internal sealed class SeededDropout : nn.Module<Tensor, Tensor>
{
    private readonly double keepProbability;
    private readonly Generator? noise;

    public SeededDropout(double dropProbability, Generator? noise) : base(nameof(SeededDropout))
    {
        keepProbability = 1 - dropProbability;
        this.noise = noise;
    }

    public override Tensor forward(Tensor input)
    {
        // A fresh handle even when nothing changes: Sequential disposes intermediate results it receives.
        if (!training)
            return input.alias();
        using var mask = empty_like(input).bernoulli_(keepProbability, noise);
        using var keep = keepProbability.ToScalar();    // not an implicit Scalar: see Scalars
        return input.mul(mask).div_(keep);
    }
}
