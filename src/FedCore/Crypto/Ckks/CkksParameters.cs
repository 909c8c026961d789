using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using FedCore.Crypto.Ring;

namespace FedCore.Crypto.Ckks;

/// <summary>
/// One CKKS parameter set for aggregation: ring dimension N, the modulus chain q_0 · q_1 (q_0 is the wire
/// modulus a ciphertext is switched down to before it leaves its owner; q_1 exists only during encryption,
/// to divide the fresh encryption noise away), the error and flooding widths, and the scale rule.
/// The <see cref="Fingerprint"/> (SHA-256 over a canonical encoding of all of these) travels with every
/// serialised object so that nothing made under one set is read under another.
/// </summary>
public sealed class CkksParameters
{
    /// <summary>σ of the RLWE error distribution (HomomorphicEncryption.org standard).</summary>
    public const double StandardErrorDeviation = 3.2;

    /// <summary>The error distribution is cut at 6σ, as in the standard's reference implementations.</summary>
    public const int StandardErrorBound = 19;

    /// <summary>
    /// σ of each participant's flooding noise in a decryption share: 2^21. NoiseFlooding.md (next to the
    /// multiparty code) derives why, and what it buys; <see cref="Multiparty.NoiseFloodingBudget"/> holds the formulas.
    /// </summary>
    public const double StandardFloodingDeviation = 2097152.0;

    /// <summary>Supported range of declared bounds on |slot value|: Δ stays between 2^26 and 2^74.</summary>
    public const double MinimumBound = 1.0 / 65536, MaximumBound = 4294967296.0;

    private const int SecretDistributionUniformTernary = 1;
    private const int ScaleRulePowerOfTwoBelowWireModulus = 1;
    private const int PackingFoldedComplexSlots = 1;

    private readonly ulong[] _moduli;
    private readonly Lazy<CkksContext> _context;

    private CkksParameters(string name, int ringDimension, ulong[] moduli, bool isInsecure)
    {
        NttPrimes.RequirePowerOfTwo(ringDimension);
        if (ringDimension < 16)
            throw new ArgumentOutOfRangeException(nameof(ringDimension), ringDimension, "CKKS here needs N ≥ 16.");
        foreach (ulong q in moduli)
        {
            if (!NttPrimes.IsPrime(q) || q % (2UL * (ulong)ringDimension) != 1 || q >= 1UL << Modulus.MaxBitLength)
                throw new ArgumentException($"Modulus {q} is not an NTT-friendly prime below 2^62 for N = {ringDimension}.", nameof(moduli));
        }
        Name = name;
        RingDimension = ringDimension;
        _moduli = moduli;
        IsInsecure = isInsecure;
        ErrorStandardDeviation = StandardErrorDeviation;
        ErrorBound = StandardErrorBound;
        FloodingStandardDeviation = StandardFloodingDeviation;
        BigInteger product = moduli.Aggregate(BigInteger.One, (acc, q) => acc * q);
        LogQ = (int)product.GetBitLength();
        if (!isInsecure && LogQ > HeStandard.MaxLogQ(ringDimension))
            throw new ArgumentException($"log2 Q = {LogQ} exceeds the 128-bit bound {HeStandard.MaxLogQ(ringDimension)} for N = {ringDimension}.");
        Fingerprint = ComputeFingerprint();
        _context = new Lazy<CkksContext>(() => new CkksContext(this));
    }

    /// <summary>Default: N = 4096, q_0 ≈ 2^61 (wire), q_1 ≈ 2^48; log2 Q = 109, the 128-bit limit for N = 4096.</summary>
    public static CkksParameters N4096 { get; } = new("N4096", 4096, [2305843009213554689, 281474976694273], isInsecure: false);

    /// <summary>N = 8192 with the same 109-bit Q: far inside the 218-bit limit; 8192 values per ciphertext.</summary>
    public static CkksParameters N8192 { get; } = new("N8192", 8192, [2305843009213317121, 281474976694273], isInsecure: false);

    /// <summary>N = 16384 with the same 109-bit Q: far inside the 438-bit limit; 16384 values per ciphertext.</summary>
    public static CkksParameters N16384 { get; } = new("N16384", 16384, [2305843009211662337, 281474976546817], isInsecure: false);

    public static CkksParameters Default => N4096;

    /// <summary>The sets meant for use, smallest first.</summary>
    public static IReadOnlyList<CkksParameters> Standard { get; } = [N4096, N8192, N16384];

    private static readonly Dictionary<int, CkksParameters> InsecureSets = new()
    {
        [16] = new("INSECURE-N16", 16, [2305843009213693921, 281474976709249], isInsecure: true),
        [64] = new("INSECURE-N64", 64, [2305843009213689601, 281474976709249], isInsecure: true),
        [256] = new("INSECURE-N256", 256, [2305843009213687297, 281474976694273], isInsecure: true),
    };

    /// <summary>
    /// INSECURE small rings (N = 16, 64 or 256) with the real moduli, so tests exercise every code path fast.
    /// A lattice this small offers no security whatsoever; never use these outside tests.
    /// </summary>
    public static CkksParameters InsecureForTesting(int ringDimension) =>
        InsecureSets.TryGetValue(ringDimension, out CkksParameters? p)
            ? p
            : throw new ArgumentOutOfRangeException(nameof(ringDimension), ringDimension, "Insecure test sets exist for N = 16, 64 and 256.");

    /// <summary>The parameter set whose fingerprint this is, among the standard and test sets.</summary>
    public static CkksParameters? FindByFingerprint(ReadOnlySpan<byte> fingerprint)
    {
        foreach (CkksParameters p in Standard.Concat(InsecureSets.Values))
            if (fingerprint.SequenceEqual(p.Fingerprint.Span))
                return p;
        return null;
    }

    public string Name { get; }

    public int RingDimension { get; }

    /// <summary>Real values carried by one ciphertext: N (real and imaginary parts of N/2 slots).</summary>
    public int ValuesPerCiphertext => RingDimension;

    /// <summary>q_0, q_1, …: q_0 is the wire modulus; the others are used only while encrypting.</summary>
    public IReadOnlyList<ulong> Moduli => _moduli;

    public ulong WireModulus => _moduli[0];

    /// <summary>⌈log2 q_0⌉: bits per serialised ciphertext coefficient.</summary>
    public int WireModulusBits => 64 - BitOperations.LeadingZeroCount(_moduli[0]);

    /// <summary>
    /// Low bits rounded away from every coefficient that joint decryption simply adds — a ciphertext's c0 and a
    /// decryption share — before it leaves its author: they lie far below the flooding noise (2^16 against σ_f = 2^21),
    /// so these polynomials shrink by a quarter at no cost in precision or security (rounding is post-processing by the
    /// author, independent of any secret; NoiseFlooding.md). c1 is never rounded: its error would be multiplied by s.
    /// </summary>
    public const int RoundingBits = 16;

    /// <summary>Largest rounded coefficient, ⌊(q_0 − 1 + 2^15) / 2^16⌋.</summary>
    public ulong MaxRoundedCoefficient => (_moduli[0] - 1 + (1UL << (RoundingBits - 1))) >> RoundingBits;

    /// <summary>Bits per serialised rounded coefficient (c0, decryption shares).</summary>
    public int RoundedBits => 64 - BitOperations.LeadingZeroCount(MaxRoundedCoefficient);

    /// <summary>Bit length of Q = Π q_i, the modulus of the keys (compare with the HomomorphicEncryption.org table).</summary>
    public int LogQ { get; }

    public bool IsInsecure { get; }

    public double ErrorStandardDeviation { get; }

    public int ErrorBound { get; }

    public double FloodingStandardDeviation { get; }

    /// <summary>SHA-256 of the canonical encoding of this set.</summary>
    public ReadOnlyMemory<byte> Fingerprint { get; }

    /// <summary>Wire bytes per encrypted real value: c0 (rounded) and c1 (⌈log2 q_0⌉ bits) of N coefficients for N values.</summary>
    public double WireBytesPerValue => (RoundedBits + WireModulusBits) / 8.0;

    internal CkksContext Context => _context.Value;

    /// <summary>
    /// The scale Δ for values whose aggregate stays within ±<paramref name="bound"/> in every slot:
    /// Δ = 2^(⌊log2 q_0⌋ − 2 − ⌈log2 bound⌉). An encoded coefficient is at most √2·bound·Δ, which then stays below
    /// q_0/2 by a factor of at least 2.8 (so an aggregate that overshoots the bound by that much still decodes).
    /// </summary>
    public double ScaleForBound(double bound)
    {
        if (!double.IsFinite(bound) || bound < MinimumBound || bound > MaximumBound)
            throw new ArgumentOutOfRangeException(nameof(bound), bound, $"The declared bound must lie in [2^-16, 2^32].");
        int floorLogQ0 = WireModulusBits - 1;
        int ceilLogBound = (int)Math.Ceiling(Math.Log2(bound));
        return Math.ScaleB(1.0, floorLogQ0 - 2 - ceilLogBound);
    }

    public override string ToString() => $"{Name} (N = {RingDimension}, log2 Q = {LogQ}, wire q0 = {WireModulusBits} bits)";

    private ReadOnlyMemory<byte> ComputeFingerprint()
    {
        using var stream = new MemoryStream();
        stream.Write(Encoding.ASCII.GetBytes("FedCore/CKKS-parameters/v1\0"));
        var word = new byte[8];
        void WriteUInt64(ulong v)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(word, v);
            stream.Write(word);
        }
        WriteUInt64((ulong)RingDimension);
        WriteUInt64((ulong)_moduli.Length);
        foreach (ulong q in _moduli)
            WriteUInt64(q);
        WriteUInt64(0); // index of the wire modulus
        WriteUInt64(BitConverter.DoubleToUInt64Bits(ErrorStandardDeviation));
        WriteUInt64((ulong)ErrorBound);
        WriteUInt64(BitConverter.DoubleToUInt64Bits(FloodingStandardDeviation));
        WriteUInt64(RoundingBits);
        WriteUInt64(SecretDistributionUniformTernary);
        WriteUInt64(ScaleRulePowerOfTwoBelowWireModulus);
        WriteUInt64(PackingFoldedComplexSlots);
        return SHA256.HashData(stream.ToArray());
    }
}

/// <summary>
/// The HomomorphicEncryption.org security standard (2018), table for 128-bit classical security with a uniform
/// ternary secret and error σ ≈ 3.2: the largest log2 Q per ring dimension.
/// </summary>
public static class HeStandard
{
    public static int MaxLogQ(int ringDimension) => ringDimension switch
    {
        1024 => 27,
        2048 => 54,
        4096 => 109,
        8192 => 218,
        16384 => 438,
        32768 => 881,
        _ => throw new ArgumentOutOfRangeException(nameof(ringDimension), ringDimension, "The standard tabulates N = 1024 … 32768."),
    };
}
