using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;

namespace FedCore.Tests.Crypto;

public class CkksTests
{
    private static readonly Random Rng = new(7);

    public static TheoryData<int> Dimensions => new() { 16, 64, 256, 4096, 16384 };

    [Theory]
    [MemberData(nameof(Dimensions))]
    public void Encode_then_decode_returns_the_values(int n)
    {
        var encoder = new CkksEncoder(n);
        var modulus = new Modulus(NttPrimes.Generate(61, 1, n)[0]);
        double scale = Math.ScaleB(1, 50);
        double[] values = RandomValues(n, 1.0);
        var coefficients = new ulong[n];
        encoder.Encode(values, scale, modulus, coefficients);
        var decoded = new double[n];
        encoder.Decode(coefficients, modulus, scale, decoded);
        // Only rounding to integers (error ≤ ½ per coefficient, so ≲ √N/Δ per slot) and floating point remain.
        Assert.True(MaxDifference(values, decoded) < 1e-12, $"round-trip error {MaxDifference(values, decoded)}");
    }

    [Fact]
    public void Encoding_is_additive_and_pads_short_inputs_with_zeros()
    {
        const int n = 256;
        var encoder = new CkksEncoder(n);
        var modulus = new Modulus(NttPrimes.Generate(61, 1, n)[0]);
        double scale = Math.ScaleB(1, 40);
        double[] a = RandomValues(100, 2.0), b = RandomValues(100, 2.0);
        var ca = new ulong[n];
        var cb = new ulong[n];
        encoder.Encode(a, scale, modulus, ca);
        encoder.Encode(b, scale, modulus, cb);
        for (int j = 0; j < n; j++)
            ca[j] = modulus.Add(ca[j], cb[j]);
        var decoded = new double[n];
        encoder.Decode(ca, modulus, scale, decoded);
        Assert.True(MaxDifference(a.Zip(b, (x, y) => x + y).ToArray(), decoded[..100]) < 1e-9);
        Assert.True(decoded[100..].Max(Math.Abs) < 1e-9);
    }

    [Fact]
    public void Encoded_coefficients_stay_within_sqrt2_bound_times_scale()
    {
        const int n = 4096;
        var encoder = new CkksEncoder(n);
        var modulus = new Modulus(NttPrimes.Generate(61, 1, n)[0]);
        double scale = Math.ScaleB(1, 30);
        // Worst case for the bound: all slots equal (the energy concentrates in one coefficient).
        double[] values = Enumerable.Repeat(1.0, n).ToArray();
        var coefficients = new ulong[n];
        encoder.Encode(values, scale, modulus, coefficients);
        double largest = coefficients.Max(c => Math.Abs((double)modulus.ToCentered(c)));
        Assert.True(largest <= Math.Sqrt(2) * scale + 1, $"largest coefficient {largest}");
        Assert.True(largest >= 0.5 * scale, "the all-equal input should reach the order of the bound");
    }

    [Fact]
    public void Parameter_sets_meet_the_security_table_and_the_wire_size_target()
    {
        foreach (CkksParameters p in CkksParameters.Standard)
        {
            Assert.False(p.IsInsecure);
            Assert.True(p.LogQ <= HeStandard.MaxLogQ(p.RingDimension), p.ToString());
            Assert.True(p.WireBytesPerValue <= 16, p.ToString());
            Assert.Equal(61, p.WireModulusBits);
            // The hard-coded moduli are the generator's: the largest 61- and 48-bit primes ≡ 1 mod 2N.
            Assert.Equal(NttPrimes.Generate(61, 1, p.RingDimension)[0], p.Moduli[0]);
            Assert.Equal(NttPrimes.Generate(48, 1, p.RingDimension)[0], p.Moduli[1]);
        }
        Assert.Same(CkksParameters.N4096, CkksParameters.Default);
        Assert.True(CkksParameters.InsecureForTesting(16).IsInsecure);
        Assert.Contains("INSECURE", CkksParameters.InsecureForTesting(64).Name);
        Assert.Throws<ArgumentOutOfRangeException>(() => CkksParameters.InsecureForTesting(128));
    }

    [Fact]
    public void Fingerprints_are_distinct_and_resolve_to_their_set()
    {
        var all = CkksParameters.Standard.Concat(new[] { 16, 64, 256 }.Select(CkksParameters.InsecureForTesting)).ToArray();
        Assert.Equal(all.Length, all.Select(p => Convert.ToHexString(p.Fingerprint.Span)).Distinct().Count());
        foreach (CkksParameters p in all)
        {
            Assert.Equal(32, p.Fingerprint.Length);
            Assert.Same(p, CkksParameters.FindByFingerprint(p.Fingerprint.Span));
        }
        Assert.Null(CkksParameters.FindByFingerprint(new byte[32]));
    }

    [Fact]
    public void Scale_follows_the_declared_bound()
    {
        CkksParameters p = CkksParameters.N4096;
        Assert.Equal(Math.ScaleB(1, 54), p.ScaleForBound(16));
        Assert.Equal(Math.ScaleB(1, 54), p.ScaleForBound(9.5));
        Assert.Equal(Math.ScaleB(1, 58), p.ScaleForBound(1));
        // √2·bound·Δ stays a factor of at least 2.8 below q0/2.
        foreach (double bound in new[] { 1.0, 3.0, 16.0, 1000.0 })
            Assert.True(Math.Sqrt(2) * bound * p.ScaleForBound(bound) * 2.8 <= p.WireModulus / 2.0);
        Assert.Throws<ArgumentOutOfRangeException>(() => p.ScaleForBound(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => p.ScaleForBound(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => p.ScaleForBound(1e12));
    }

    private static double[] RandomValues(int count, double bound) =>
        Enumerable.Range(0, count).Select(_ => (Rng.NextDouble() * 2 - 1) * bound).ToArray();

    private static double MaxDifference(double[] a, double[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
}
