namespace FedCore.Privacy;

/// <summary>
/// The differential privacy a job trains with (DP-SGD, FedCore.Learning.DpSgd): each row's gradient clipped to
/// <see cref="ClippingNorm"/>, Gaussian noise of <see cref="NoiseMultiplier"/> times that, and the δ its ε is stated at.
/// An agreement's DP terms bound all three; the participant's privacy ledger charges what they spend.
/// </summary>
public sealed record DpSgdParameters(double ClippingNorm, double NoiseMultiplier, double Delta)
{
    /// <summary>The first problem with the values, naming the field, or null.</summary>
    public string? Problem() =>
        !(double.IsFinite(ClippingNorm) && ClippingNorm > 0) ? $"clippingNorm must be a positive number, not {ClippingNorm}"
        : !(double.IsFinite(NoiseMultiplier) && NoiseMultiplier > 0) ? $"noiseMultiplier must be a positive number, not {NoiseMultiplier}"
        : !(Delta > 0 && Delta < 1) ? $"delta must lie strictly between 0 and 1, not {Delta}"
        : null;
}
