using FedCore.Crypto.Ring;
using FedCore.Crypto.Rlwe;

namespace FedCore.Tests.Crypto;

public class SamplingTests
{
    private static readonly byte[] SeedA = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] SeedB = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Stream_is_determined_by_seed_and_domain()
    {
        using var first = new AesCtrRandom(SeedA, "test");
        using var again = new AesCtrRandom(SeedA, "test");
        using var otherSeed = new AesCtrRandom(SeedB, "test");
        using var otherDomain = new AesCtrRandom(SeedA, "test2");
        var a = new ulong[1000];
        var b = new ulong[1000];
        var c = new ulong[1000];
        var d = new ulong[1000];
        // Mixed read sizes must not change the stream.
        for (int i = 0; i < 1000; i++)
            a[i] = first.NextUInt64();
        again.Fill(b.AsSpan(0, 3));
        again.Fill(b.AsSpan(3));
        otherSeed.Fill(c);
        otherDomain.Fill(d);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a, d);
        Assert.Throws<ArgumentException>(() => new AesCtrRandom(new byte[31], "test"));

        // Reads that straddle the internal buffer in every way give the same bytes as one long read.
        using var whole = new AesCtrRandom(SeedB, "chunks");
        using var pieces = new AesCtrRandom(SeedB, "chunks");
        var expected = new byte[100_000];
        whole.Fill(expected);
        var actual = new byte[expected.Length];
        var sizes = new Random(1);
        for (int offset = 0; offset < actual.Length;)
        {
            int count = Math.Min(actual.Length - offset, sizes.Next(3) == 0 ? sizes.Next(1, 40_000) : sizes.Next(1, 20));
            pieces.Fill(actual.AsSpan(offset, count));
            offset += count;
        }
        Assert.Equal(expected, actual);

        // Whole arrays, encrypted straight into the array when nothing is buffered, give the stream's bytes too, also
        // between single draws (a mask's rejected word is redrawn so) and beyond the internal buffer's length.
        using var arrays = new AesCtrRandom(SeedB, "chunks");
        using var spans = new AesCtrRandom(SeedB, "chunks");
        foreach (int length in new[] { 32_768, 32_768, 8, 32_768, 65_536 + 4_096, 16, 100 })
        {
            var direct = new byte[length];
            var copied = new byte[length];
            if (length == 8)
            {
                Assert.Equal(spans.NextUInt64(), arrays.NextUInt64());
                continue;
            }
            arrays.Fill(direct);
            spans.Fill(copied.AsSpan());
            Assert.Equal(copied, direct);
        }
    }

    [Fact]
    public void The_stream_is_aes_256_of_the_documented_counter_blocks_under_the_hashed_seed()
    {
        // Computed apart from AesCtrRandom (AesCtrReference). Lengths cover one block, part of the internal buffer, and past
        // it (where counters continue).
        byte[] expected = AesCtrReference.Stream("test", SeedA, 200_000);

        using var stream = new AesCtrRandom(SeedA, "test");
        var actual = new byte[expected.Length];
        stream.Fill(actual.AsSpan(0, 16));
        stream.Fill(actual.AsSpan(16, 50_000));
        var direct = new byte[actual.Length - 50_016];
        stream.Fill(direct); // the same bytes whichever way they are drawn
        direct.CopyTo(actual, 50_016);
        Assert.Equal(expected, actual);

        using var arrays = new AesCtrRandom(SeedA, "test");
        var whole = new byte[expected.Length];
        arrays.Fill(whole);
        Assert.Equal(expected, whole);
    }

    [Fact]
    public void Uniform_residues_cover_the_range_without_leaving_it()
    {
        var modulus = new Modulus(NttPrimes.Generate(61, 1, 4096)[0]);
        using var random = new AesCtrRandom(SeedA, "uniform");
        var values = new ulong[100_000];
        Sampling.Uniform(random, modulus, values);
        Assert.All(values, v => Assert.True(v < modulus.Value));
        double mean = values.Average(v => (double)v / modulus.Value);
        Assert.InRange(mean, 0.49, 0.51);
        // Each eighth of the range gets about an eighth of the draws.
        foreach (var bucket in values.GroupBy(v => (int)((double)v / modulus.Value * 8)))
            Assert.InRange(bucket.Count(), 12_000, 13_000);
    }

    [Fact]
    public void Ternary_values_are_uniform_on_minus_one_zero_one()
    {
        using var random = new AesCtrRandom(SeedA, "ternary");
        var values = new long[90_000];
        Sampling.Ternary(random, values);
        var counts = values.GroupBy(v => v).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new long[] { -1, 0, 1 }, counts.Keys.Order());
        Assert.All(counts.Values, c => Assert.InRange(c, 29_100, 30_900));
    }

    [Fact]
    public void Discrete_gaussian_has_sigma_3_2_symmetric_and_bounded()
    {
        var sampler = new DiscreteGaussianSampler(3.2, 19);
        using var random = new AesCtrRandom(SeedA, "gaussian");
        var values = new long[200_000];
        sampler.Sample(random, values);
        Assert.All(values, v => Assert.InRange(v, -19, 19));
        double mean = values.Average();
        double sd = Math.Sqrt(values.Average(v => (double)v * v) - mean * mean);
        Assert.InRange(mean, -0.05, 0.05);
        Assert.InRange(sd, 3.15, 3.25);
        // P(X = 0) of a discrete Gaussian with σ = 3.2 is 1/(σ√(2π)) ≈ 0.1247.
        Assert.InRange(values.Count(v => v == 0) / (double)values.Length, 0.120, 0.129);
    }
}
