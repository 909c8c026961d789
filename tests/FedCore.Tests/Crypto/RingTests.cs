using System.Numerics;
using FedCore.Crypto.Ring;

namespace FedCore.Tests.Crypto;

public class RingTests
{
    private static readonly Random Rng = new(20240611);

    private static ulong RandomBelow(ulong bound) => (ulong)Rng.NextInt64(long.MinValue, long.MaxValue) % bound;

    [Theory]
    [InlineData(61, 4096)]
    [InlineData(48, 4096)]
    [InlineData(30, 16)]
    [InlineData(62, 16384)]
    public void Barrett_and_Shoup_products_match_128_bit_arithmetic(int bits, int n)
    {
        var m = new Modulus(NttPrimes.Generate(bits, 1, n)[0]);
        for (int k = 0; k < 20000; k++)
        {
            ulong a = RandomBelow(m.Value), b = RandomBelow(m.Value);
            ulong expected = (ulong)((UInt128)a * b % m.Value);
            Assert.Equal(expected, m.Multiply(a, b));
            Assert.Equal(expected, m.MultiplyShoup(a, b, m.ShoupPrecompute(b)));
            // Lazy Shoup accepts any 64-bit x and returns a value in [0, 2q) congruent to x·w.
            ulong x = (ulong)Rng.NextInt64(long.MinValue, long.MaxValue);
            ulong lazy = m.MultiplyShoupLazy(x, b, m.ShoupPrecompute(b));
            Assert.True(lazy < 2 * m.Value);
            Assert.Equal((ulong)((UInt128)x * b % m.Value), lazy % m.Value);
            // Barrett accepts any 128-bit input.
            ulong high = (ulong)Rng.NextInt64(long.MinValue, long.MaxValue);
            Assert.Equal((ulong)((((UInt128)high << 64) | x) % m.Value), m.ReduceProduct(high, x));
        }
    }

    [Fact]
    public void Signed_residues_round_trip_through_centred_form()
    {
        var m = new Modulus(NttPrimes.Generate(61, 1, 16)[0]);
        foreach (long v in new[] { 0L, 1, -1, 123456789, -987654321, (long)(m.Value / 2), -(long)(m.Value / 2) + 1 })
            Assert.Equal(v, m.ToCentered(m.FromSigned(v)));
        Assert.Equal((ulong)(((BigInteger)long.MinValue % m.Value + m.Value) % m.Value), m.FromSigned(long.MinValue));
        Assert.Equal(1UL, m.Multiply(5, m.Inverse(5)));
    }

    [Fact]
    public void Primality_test_agrees_with_trial_division_and_rejects_strong_pseudoprimes()
    {
        for (ulong n = 0; n < 20000; n++)
            Assert.Equal(IsPrimeByTrialDivision(n), NttPrimes.IsPrime(n));
        // Strong pseudoprimes to several small bases, and Carmichael numbers.
        foreach (ulong composite in new ulong[] { 561, 41041, 3215031751, 2152302898747, 3474749660383, 341550071728321, 3825123056546413051 })
            Assert.False(NttPrimes.IsPrime(composite));
        Assert.True(NttPrimes.IsPrime((1UL << 61) - 1)); // Mersenne prime
        Assert.True(NttPrimes.IsPrime(18446744073709551557)); // largest 64-bit prime
    }

    [Theory]
    [InlineData(20, 16)]
    [InlineData(24, 256)]
    public void Generated_primes_are_exactly_the_largest_ones_congruent_to_one_mod_2N(int bits, int n)
    {
        ulong[] primes = NttPrimes.Generate(bits, 5, n);
        var expected = new List<ulong>();
        for (ulong c = (1UL << bits) - 1; expected.Count < 5; c--)
            if (c % (2UL * (ulong)n) == 1 && IsPrimeByTrialDivision(c))
                expected.Add(c);
        Assert.Equal(expected, primes);
    }

    [Theory]
    [InlineData(61, 4096, 2)]
    [InlineData(48, 4096, 1)]
    [InlineData(61, 16384, 3)]
    public void Generated_word_primes_have_the_requested_shape(int bits, int n, int count)
    {
        ulong[] primes = NttPrimes.Generate(bits, count, n);
        Assert.Equal(count, primes.Distinct().Count());
        foreach (ulong p in primes)
        {
            Assert.Equal(bits, 64 - BitOperations.LeadingZeroCount(p));
            Assert.Equal(1UL, p % (2UL * (ulong)n));
            // Fermat check with bases independent of the Miller–Rabin witnesses.
            foreach (ulong a in new ulong[] { 41, 43, 1000003 })
                Assert.Equal(BigInteger.One, BigInteger.ModPow(a, p - 1, p));
            ulong psi = NttPrimes.FindPrimitive2NthRoot(p, n);
            Assert.Equal(p - 1, (ulong)BigInteger.ModPow(psi, n, p));
        }
        Assert.Equal(primes.OrderByDescending(p => p), primes);
    }

    public static TheoryData<int> RingDimensions => new() { 2, 16, 64, 256, 1024, 2048, 4096, 8192, 16384 };

    [Theory]
    [MemberData(nameof(RingDimensions))]
    public void Ntt_product_matches_schoolbook_negacyclic_product(int n)
    {
        // Two primes per dimension: one 61-bit (the wire size) and one smaller, as in the parameter sets.
        var ring = new RnsRing(n, [NttPrimes.Generate(61, 1, n)[0], NttPrimes.Generate(48, 1, n)[0]]);
        // Full schoolbook costs N² products; above 4096 it is checked on random output coefficients.
        int checkedCoefficients = n <= 4096 ? n : 96;
        for (int i = 0; i < ring.Moduli.Count; i++)
        {
            Modulus m = ring.Moduli[i];
            NegacyclicNtt ntt = ring.Transform(i);
            ulong[] a = RandomPolynomial(n, m.Value), b = RandomPolynomial(n, m.Value);
            ulong[] fa = (ulong[])a.Clone(), fb = (ulong[])b.Clone();
            ntt.Forward(fa);
            ntt.Forward(fb);
            var product = new ulong[n];
            for (int j = 0; j < n; j++)
                product[j] = m.Multiply(fa[j], fb[j]);
            ntt.Inverse(product);

            int[] indices = checkedCoefficients == n
                ? Enumerable.Range(0, n).ToArray()
                : Enumerable.Range(0, checkedCoefficients).Select(_ => Rng.Next(n)).ToArray();
            foreach (int k in indices)
                Assert.Equal(SchoolbookCoefficient(a, b, k, m), product[k]);
        }
    }

    [Theory]
    [MemberData(nameof(RingDimensions))]
    public void Inverse_ntt_undoes_forward_ntt(int n)
    {
        var m = new Modulus(NttPrimes.Generate(61, 1, n)[0]);
        var ntt = new NegacyclicNtt(m, n);
        ulong[] a = RandomPolynomial(n, m.Value);
        ulong[] copy = (ulong[])a.Clone();
        ntt.Forward(copy);
        Assert.All(copy, v => Assert.True(v < m.Value));
        Assert.NotEqual(a, copy);
        ntt.Inverse(copy);
        Assert.Equal(a, copy);
    }

    [Theory]
    [MemberData(nameof(RingDimensions))]
    public void Vector_and_scalar_paths_give_identical_transforms(int n)
    {
        var m = new Modulus(NttPrimes.Generate(61, 1, n)[0]);
        var ntt = new NegacyclicNtt(m, n);
        ulong[] a = RandomPolynomial(n, m.Value), w = RandomPolynomial(n, m.Value);
        ulong[] wShoup = w.Select(m.ShoupPrecompute).ToArray();
        ulong[] Run(bool vectors)
        {
            bool saved = VectorArithmetic.Enabled;
            VectorArithmetic.Enabled = vectors;
            try
            {
                ulong[] x = (ulong[])a.Clone();
                ntt.Forward(x);
                VectorArithmetic.MultiplyShoup(m, x, w, wShoup, x);
                VectorArithmetic.Add(m, x, a);
                ntt.Inverse(x);
                return x;
            }
            finally
            {
                VectorArithmetic.Enabled = saved;
            }
        }
        Assert.Equal(Run(false), Run(true));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(4096)]
    public void Dropping_the_last_modulus_rounds_the_quotient(int n)
    {
        ulong[] moduli = [.. NttPrimes.Generate(61, 1, n), .. NttPrimes.Generate(48, 1, n), .. NttPrimes.Generate(40, 1, n)];
        var ring = new RnsRing(n, moduli);
        RnsPolynomial c = ring.NewPolynomial(3);
        BigInteger bigQ = moduli.Aggregate(BigInteger.One, (acc, q) => acc * q);
        var integers = new BigInteger[n];
        for (int j = 0; j < n; j++)
        {
            integers[j] = new BigInteger(Rng.NextInt64(long.MaxValue)) * Rng.NextInt64(long.MaxValue) * Rng.NextInt64(long.MaxValue) % bigQ;
            for (int i = 0; i < 3; i++)
                c.Residue(i)[j] = (ulong)(integers[j] % moduli[i]);
        }

        RnsPolynomial once = ring.DropLastModulus(c);
        RnsPolynomial twice = ring.DropLastModulus(once);
        Assert.Equal(2, once.ModulusCount);
        Assert.Equal(1, twice.ModulusCount);
        BigInteger q01 = (BigInteger)moduli[0] * moduli[1];
        for (int j = 0; j < n; j++)
        {
            // round(c / q2) computed with exact integers; the result is read modulo q0·q1.
            BigInteger expected = Mod(DivideRounded(integers[j], moduli[2]), q01);
            Assert.Equal((ulong)(expected % moduli[0]), once.Residue(0)[j]);
            Assert.Equal((ulong)(expected % moduli[1]), once.Residue(1)[j]);
        }
    }

    [Fact]
    public void Constructors_reject_unusable_input()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Modulus(1UL << 62));
        Assert.Throws<ArgumentException>(() => new Modulus(1UL << 40));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NegacyclicNtt(new Modulus(97), 12));
        Assert.Throws<ArgumentException>(() => new NegacyclicNtt(new Modulus(101), 16)); // 101 ≢ 1 mod 32
        Assert.Throws<ArgumentException>(() => new RnsRing(16, [97, 97]));
        var ntt = new NegacyclicNtt(new Modulus(97), 16);
        Assert.Throws<ArgumentException>(() => ntt.Forward(new ulong[8]));
    }

    private static ulong[] RandomPolynomial(int n, ulong q)
    {
        var p = new ulong[n];
        for (int j = 0; j < n; j++)
            p[j] = RandomBelow(q);
        return p;
    }

    // Coefficient k of a·b mod (X^N + 1): Σ_{i+j=k} a_i b_j − Σ_{i+j=k+N} a_i b_j.
    private static ulong SchoolbookCoefficient(ulong[] a, ulong[] b, int k, Modulus m)
    {
        int n = a.Length;
        ulong sum = 0;
        for (int i = 0; i < n; i++)
        {
            int j = k - i;
            if (j >= 0)
                sum = m.Add(sum, m.Multiply(a[i], b[j]));
            else
                sum = m.Subtract(sum, m.Multiply(a[i], b[j + n]));
        }
        return sum;
    }

    private static BigInteger DivideRounded(BigInteger x, BigInteger d)
    {
        BigInteger remainder = x % d;
        BigInteger quotient = x / d;
        return 2 * remainder > d ? quotient + 1 : quotient;
    }

    private static BigInteger Mod(BigInteger x, BigInteger m) => (x % m + m) % m;

    private static bool IsPrimeByTrialDivision(ulong n)
    {
        if (n < 2)
            return false;
        for (ulong d = 2; d * d <= n; d++)
            if (n % d == 0)
                return false;
        return true;
    }
}
