using FedCore.Crypto.Ckks;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// The formulas of NoiseFlooding.md: how much a key's decryption shares leak about a participant's secret
/// (Rényi-divergence bound for search problems) and how much error flooding adds to decrypted values.
/// "participants" assumes the aggregate is a plain sum of one fresh vector per participant; for an aggregate
/// Σ k_j·ct_j pass Σ k_j² as <c>noiseWeight</c>.
/// </summary>
public static class NoiseFloodingBudget
{
    /// <summary>Security of ternary RLWE at the HomomorphicEncryption.org parameters, in bits.</summary>
    public const double BaseSecurityBits = 128;

    /// <summary>Default tolerated loss: keys keep at least 120-bit security for search problems.</summary>
    public const double DefaultMaxLossBits = 8;

    /// <summary>E‖T·s_i‖² for one decrypted ciphertext: N²·ν/18 (rounding terms of variance ν/12, ternary s_i of variance 2/3).</summary>
    public static double LeakagePerCiphertext(CkksParameters parameters, double noiseWeight)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(noiseWeight);
        double n = parameters.RingDimension;
        return n * n * noiseWeight / 18.0;
    }

    /// <summary>Bits of security lost once <paramref name="decryptedCiphertexts"/> aggregates have been decrypted under one key: 2√(λx) − x.</summary>
    public static double SecurityLossBits(CkksParameters parameters, double noiseWeight, long decryptedCiphertexts)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(decryptedCiphertexts);
        double x = decryptedCiphertexts * LeakagePerCiphertext(parameters, noiseWeight) / DivergenceScale(parameters);
        return x >= BaseSecurityBits ? BaseSecurityBits : 2 * Math.Sqrt(BaseSecurityBits * x) - x;
    }

    /// <summary>How many aggregate ciphertexts one key may decrypt before the loss exceeds <paramref name="maxLossBits"/>.</summary>
    public static long MaxDecryptedCiphertexts(CkksParameters parameters, double noiseWeight, double maxLossBits = DefaultMaxLossBits)
    {
        if (!(maxLossBits > 0 && maxLossBits < BaseSecurityBits))
            throw new ArgumentOutOfRangeException(nameof(maxLossBits), maxLossBits, $"Allowed loss must lie in (0, {BaseSecurityBits}).");
        // Solve 2√(λx) − x = ℓ for the smaller root: √x = √λ − √(λ − ℓ).
        double root = Math.Sqrt(BaseSecurityBits) - Math.Sqrt(BaseSecurityBits - maxLossBits);
        double maxX = root * root;
        return (long)Math.Floor(maxX * DivergenceScale(parameters) / LeakagePerCiphertext(parameters, noiseWeight));
    }

    /// <summary>
    /// Standard deviation of the error in each decrypted value of a plain sum of <paramref name="participants"/> vectors
    /// encrypted with <paramref name="bound"/>: √(N/2)·√(P·(σ_f² + 2·4^r/12) + v_ct)/Δ with v_ct = P/12 + N·(P/12)·(2P/3)
    /// and r = <see cref="CkksParameters.RoundingBits"/> (each vector's c0 and each share is rounded to a multiple of 2^r).
    /// </summary>
    public static double ErrorStandardDeviation(CkksParameters parameters, int participants, double bound)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(participants);
        double n = parameters.RingDimension, p = participants, sigma = parameters.FloodingStandardDeviation;
        double ciphertextNoise = p / 12 + n * (p / 12) * (2 * p / 3);
        double rounding = 2 * Math.Pow(4, CkksParameters.RoundingBits) / 12;
        return Math.Sqrt(n / 2) * Math.Sqrt(p * (sigma * sigma + rounding) + ciphertextNoise) / parameters.ScaleForBound(bound);
    }

    // x = L / (2σ_f² ln 2): the Rényi exponent in bits per unit of a.
    private static double DivergenceScale(CkksParameters parameters) =>
        2 * parameters.FloodingStandardDeviation * parameters.FloodingStandardDeviation * Math.Log(2);
}
