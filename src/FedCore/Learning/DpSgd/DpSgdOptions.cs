namespace FedCore.Learning.DpSgd;

/// <summary>
/// Differentially private local training (DP-SGD, Abadi et al. 2016): every step samples each row with probability
/// q (Poisson), clips each sampled row's gradient to L2 norm <see cref="ClippingNorm"/> C, adds Gaussian noise of
/// deviation σ·C to their sum and divides by the expected batch size. What one training spends is the RDP of
/// <see cref="DpSgdSchedule"/>'s steps at q and σ (FedCore.Privacy.Accounting).
/// </summary>
/// <param name="ClippingNorm">C: the most one row can move a step's summed gradient; positive.</param>
/// <param name="NoiseMultiplier">σ: the noise's deviation in units of C; positive.</param>
public sealed record DpSgdOptions(double ClippingNorm, double NoiseMultiplier)
{
    /// <summary>
    /// Seeds the sampling and the noise. Null (the default, and the only setting a participant uses) draws the seed
    /// from the operating system's CSPRNG: whoever knows the seed can subtract the noise, so a fixed seed voids the
    /// guarantee and serves only to replay a run in a test.
    /// </summary>
    public ulong? NoiseSeed { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!(double.IsFinite(ClippingNorm) && ClippingNorm > 0))
            throw new ArgumentException($"DP-SGD clipping norm must be a positive finite number, got {ClippingNorm}.", nameof(ClippingNorm));
        if (!(double.IsFinite(NoiseMultiplier) && NoiseMultiplier > 0))
            throw new ArgumentException($"DP-SGD noise multiplier must be a positive finite number, got {NoiseMultiplier}.", nameof(NoiseMultiplier));
    }
}
