using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FedCore.Crypto.Ring;

/// <summary>
/// Number-theoretic transform for Z_q[X]/(X^N + 1): evaluation at the N odd powers of a primitive 2N-th root ψ.
/// Forward is Cooley–Tukey (natural order in, bit-reversed order out), inverse is Gentleman–Sande
/// (bit-reversed in, natural out); twiddles ψ^bitrev(k) are precomputed with their Shoup companions,
/// and butterflies are Harvey's lazy ones, keeping values in [0, 4q) until the end (hence q &lt; 2^62).
/// Because both directions agree on the bit-reversed order, pointwise products of two transforms are
/// transforms of negacyclic products.
/// </summary>
public sealed class NegacyclicNtt
{
    private readonly ulong[] _rootPowers;
    private readonly ulong[] _rootPowersShoup;
    private readonly ulong[] _inverseRootPowers;
    private readonly ulong[] _inverseRootPowersShoup;
    // N^{-1}, and N^{-1}·ψ^{-bitrev(1)}: the inverse transform folds the scaling into its last stage.
    private readonly ulong _inverseN;
    private readonly ulong _inverseNShoup;
    private readonly ulong _inverseNTimesLastRoot;
    private readonly ulong _inverseNTimesLastRootShoup;

    public NegacyclicNtt(Modulus modulus, int ringDimension)
    {
        ArgumentNullException.ThrowIfNull(modulus);
        NttPrimes.RequirePowerOfTwo(ringDimension);
        Modulus = modulus;
        RingDimension = ringDimension;
        ulong q = modulus.Value;
        ulong psi = NttPrimes.FindPrimitive2NthRoot(q, ringDimension);
        ulong psiInverse = modulus.Inverse(psi);
        int logN = System.Numerics.BitOperations.Log2((uint)ringDimension);

        _rootPowers = new ulong[ringDimension];
        _rootPowersShoup = new ulong[ringDimension];
        _inverseRootPowers = new ulong[ringDimension];
        _inverseRootPowersShoup = new ulong[ringDimension];
        ulong power = 1, inversePower = 1;
        for (int i = 0; i < ringDimension; i++)
        {
            int r = ReverseBits(i, logN);
            _rootPowers[r] = power;
            _rootPowersShoup[r] = modulus.ShoupPrecompute(power);
            _inverseRootPowers[r] = inversePower;
            _inverseRootPowersShoup[r] = modulus.ShoupPrecompute(inversePower);
            power = modulus.Multiply(power, psi);
            inversePower = modulus.Multiply(inversePower, psiInverse);
        }

        _inverseN = modulus.Inverse((ulong)ringDimension % q);
        _inverseNShoup = modulus.ShoupPrecompute(_inverseN);
        _inverseNTimesLastRoot = modulus.Multiply(_inverseN, _inverseRootPowers[1]);
        _inverseNTimesLastRootShoup = modulus.ShoupPrecompute(_inverseNTimesLastRoot);
    }

    public Modulus Modulus { get; }

    public int RingDimension { get; }

    /// <summary>In place: coefficients (each &lt; q) → evaluations in bit-reversed order, each &lt; q.</summary>
    public void Forward(Span<ulong> values)
    {
        RequireLength(values);
        ulong q = Modulus.Value, twoQ = 2 * q;
        ref ulong a = ref MemoryMarshal.GetReference(values);
        int n = RingDimension;
        for (int m = 1, t = n >> 1; m < n; m <<= 1, t >>= 1)
        {
            for (int i = 0; i < m; i++)
            {
                ulong w = _rootPowers[m + i], wShoup = _rootPowersShoup[m + i];
                int start = 2 * i * t;
                for (int j = start; j < start + t; j++)
                {
                    ref ulong x = ref Unsafe.Add(ref a, j);
                    ref ulong y = ref Unsafe.Add(ref a, j + t);
                    ulong u = x >= twoQ ? x - twoQ : x;
                    ulong v = Modulus.MultiplyShoupLazy(y, w, wShoup);
                    x = u + v;
                    y = u - v + twoQ;
                }
            }
        }
        for (int j = 0; j < n; j++)
        {
            ref ulong x = ref Unsafe.Add(ref a, j);
            ulong r = x >= twoQ ? x - twoQ : x;
            x = r >= q ? r - q : r;
        }
    }

    /// <summary>In place: evaluations in bit-reversed order (each &lt; q) → coefficients, each &lt; q.</summary>
    public void Inverse(Span<ulong> values)
    {
        RequireLength(values);
        ulong q = Modulus.Value, twoQ = 2 * q;
        ref ulong a = ref MemoryMarshal.GetReference(values);
        int n = RingDimension;
        int t = 1;
        for (int m = n >> 1; m > 1; m >>= 1, t <<= 1)
        {
            for (int i = 0, start = 0; i < m; i++, start += 2 * t)
            {
                ulong w = _inverseRootPowers[m + i], wShoup = _inverseRootPowersShoup[m + i];
                for (int j = start; j < start + t; j++)
                {
                    ref ulong x = ref Unsafe.Add(ref a, j);
                    ref ulong y = ref Unsafe.Add(ref a, j + t);
                    ulong u = x, v = y;
                    ulong sum = u + v;
                    x = sum >= twoQ ? sum - twoQ : sum;
                    y = Modulus.MultiplyShoupLazy(u - v + twoQ, w, wShoup);
                }
            }
        }
        // Last stage (m = 1, t = N/2) with the scaling by N^{-1} folded in.
        for (int j = 0; j < t; j++)
        {
            ref ulong x = ref Unsafe.Add(ref a, j);
            ref ulong y = ref Unsafe.Add(ref a, j + t);
            ulong u = x, v = y;
            x = Modulus.MultiplyShoup(u + v, _inverseN, _inverseNShoup);
            y = Modulus.MultiplyShoup(u - v + twoQ, _inverseNTimesLastRoot, _inverseNTimesLastRootShoup);
        }
    }

    private void RequireLength(Span<ulong> values)
    {
        if (values.Length != RingDimension)
            throw new ArgumentException($"Expected {RingDimension} coefficients, got {values.Length}.", nameof(values));
    }

    internal static int ReverseBits(int value, int bitCount)
    {
        int result = 0;
        for (int b = 0; b < bitCount; b++)
        {
            result = (result << 1) | (value & 1);
            value >>= 1;
        }
        return result;
    }
}
