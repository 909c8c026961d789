using FedCore.Crypto.Ring;
using FedCore.Crypto.Rlwe;

namespace FedCore.Crypto.Ckks;

/// <summary>The precomputed machinery of one parameter set (NTT tables, encoder tables, error and flooding samplers); built once, shared, immutable.</summary>
internal sealed class CkksContext
{
    public CkksContext(CkksParameters parameters)
    {
        Parameters = parameters;
        Ring = new RnsRing(parameters.RingDimension, parameters.Moduli);
        Encoder = new CkksEncoder(parameters.RingDimension);
        Errors = new DiscreteGaussianSampler(parameters.ErrorStandardDeviation, parameters.ErrorBound);
        Flooding = WideDiscreteGaussianSampler.For(parameters.FloodingStandardDeviation);
    }

    public CkksParameters Parameters { get; }

    public RnsRing Ring { get; }

    public CkksEncoder Encoder { get; }

    public DiscreteGaussianSampler Errors { get; }

    public WideDiscreteGaussianSampler Flooding { get; }

    public Modulus WireModulus => Ring.Moduli[0];

    public NegacyclicNtt WireTransform => Ring.Transform(0);
}
