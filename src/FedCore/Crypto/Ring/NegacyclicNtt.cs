using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        ref ulong a = ref MemoryMarshal.GetReference(values);
        int n = RingDimension;
        ulong q = Modulus.Value, twoQ = 2 * q;
        bool use512 = VectorArithmetic.Use512, use256 = VectorArithmetic.Use256;
        for (int m = 1, t = n >> 1; m < n; m <<= 1, t >>= 1)
        {
            for (int i = 0; i < m; i++)
            {
                ulong w = _rootPowers[m + i], wShoup = _rootPowersShoup[m + i];
                int start = 2 * i * t;
                if (use512 && t >= 8)
                    ForwardButterflies512(ref a, start, t, w, wShoup);
                else if (use256 && t >= 4)
                    ForwardButterflies256(ref a, start, t, w, wShoup);
                else
                    ForwardButterfliesScalar(ref a, start, t, w, wShoup, q, twoQ);
            }
        }

        int j = 0;
        if (use512)
        {
            Vector512<ulong> q512 = Vector512.Create(q), twoQ512 = Vector512.Create(twoQ);
            for (; j + 8 <= n; j += 8)
            {
                Vector512<ulong> x = Vector512.LoadUnsafe(ref a, (nuint)j);
                VectorArithmetic.SubtractIfNotBelow(VectorArithmetic.SubtractIfNotBelow(x, twoQ512), q512).StoreUnsafe(ref a, (nuint)j);
            }
        }
        for (; j < n; j++)
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
        ref ulong a = ref MemoryMarshal.GetReference(values);
        int n = RingDimension;
        ulong q = Modulus.Value, twoQ = 2 * q;
        bool use512 = VectorArithmetic.Use512, use256 = VectorArithmetic.Use256;
        int t = 1;
        for (int m = n >> 1; m > 1; m >>= 1, t <<= 1)
        {
            for (int i = 0, start = 0; i < m; i++, start += 2 * t)
            {
                ulong w = _inverseRootPowers[m + i], wShoup = _inverseRootPowersShoup[m + i];
                if (use512 && t >= 8)
                    InverseButterflies512(ref a, start, t, w, wShoup);
                else if (use256 && t >= 4)
                    InverseButterflies256(ref a, start, t, w, wShoup);
                else
                    InverseButterfliesScalar(ref a, start, t, w, wShoup, q, twoQ);
            }
        }

        // Last stage (m = 1, t = N/2) with the scaling by N^{-1} folded in; outputs fully reduced.
        int j = 0;
        if (use512 && t >= 8)
        {
            Vector512<ulong> q512 = Vector512.Create(q), twoQ512 = Vector512.Create(twoQ);
            Vector512<ulong> nInv = Vector512.Create(_inverseN), nInvShoup = Vector512.Create(_inverseNShoup);
            Vector512<ulong> nInvW = Vector512.Create(_inverseNTimesLastRoot), nInvWShoup = Vector512.Create(_inverseNTimesLastRootShoup);
            Vector512<ulong> nInvShoupHigh = Vector512.ShiftRightLogical(nInvShoup, 32), nInvWShoupHigh = Vector512.ShiftRightLogical(nInvWShoup, 32);
            for (; j + 8 <= t; j += 8)
            {
                Vector512<ulong> x = Vector512.LoadUnsafe(ref a, (nuint)j);
                Vector512<ulong> y = Vector512.LoadUnsafe(ref a, (nuint)(j + t));
                Vector512<ulong> sum = VectorArithmetic.MultiplyShoupLazy(x + y, nInv, nInvShoup, nInvShoupHigh, q512);
                Vector512<ulong> difference = VectorArithmetic.MultiplyShoupLazy(x - y + twoQ512, nInvW, nInvWShoup, nInvWShoupHigh, q512);
                VectorArithmetic.SubtractIfNotBelow(sum, q512).StoreUnsafe(ref a, (nuint)j);
                VectorArithmetic.SubtractIfNotBelow(difference, q512).StoreUnsafe(ref a, (nuint)(j + t));
            }
        }
        for (; j < t; j++)
        {
            ref ulong x = ref Unsafe.Add(ref a, j);
            ref ulong y = ref Unsafe.Add(ref a, j + t);
            ulong u = x, v = y;
            x = Modulus.MultiplyShoup(u + v, _inverseN, _inverseNShoup);
            y = Modulus.MultiplyShoup(u - v + twoQ, _inverseNTimesLastRoot, _inverseNTimesLastRootShoup);
        }
    }

    // Cooley–Tukey butterflies on a[start .. start+2t): inputs in [0, 4q), outputs in [0, 4q).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForwardButterfliesScalar(ref ulong a, int start, int t, ulong w, ulong wShoup, ulong q, ulong twoQ)
    {
        for (int j = start; j < start + t; j++)
        {
            ref ulong x = ref Unsafe.Add(ref a, j);
            ref ulong y = ref Unsafe.Add(ref a, j + t);
            ulong u = x >= twoQ ? x - twoQ : x;
            ulong v = y * w - Math.BigMul(y, wShoup, out _) * q;
            x = u + v;
            y = u - v + twoQ;
        }
    }

    private void ForwardButterflies512(ref ulong a, int start, int t, ulong w, ulong wShoup)
    {
        Vector512<ulong> q = Vector512.Create(Modulus.Value), twoQ = q + q;
        Vector512<ulong> w512 = Vector512.Create(w), wShoup512 = Vector512.Create(wShoup), wShoupHigh = Vector512.Create(wShoup >> 32);
        for (int j = start; j < start + t; j += 8)
        {
            Vector512<ulong> x = Vector512.LoadUnsafe(ref a, (nuint)j);
            Vector512<ulong> y = Vector512.LoadUnsafe(ref a, (nuint)(j + t));
            Vector512<ulong> u = VectorArithmetic.SubtractIfNotBelow(x, twoQ);
            Vector512<ulong> v = VectorArithmetic.MultiplyShoupLazy(y, w512, wShoup512, wShoupHigh, q);
            (u + v).StoreUnsafe(ref a, (nuint)j);
            (u - v + twoQ).StoreUnsafe(ref a, (nuint)(j + t));
        }
    }

    private void ForwardButterflies256(ref ulong a, int start, int t, ulong w, ulong wShoup)
    {
        Vector256<ulong> q = Vector256.Create(Modulus.Value), twoQ = q + q;
        Vector256<ulong> w256 = Vector256.Create(w), wShoup256 = Vector256.Create(wShoup), wShoupHigh = Vector256.Create(wShoup >> 32);
        for (int j = start; j < start + t; j += 4)
        {
            Vector256<ulong> x = Vector256.LoadUnsafe(ref a, (nuint)j);
            Vector256<ulong> y = Vector256.LoadUnsafe(ref a, (nuint)(j + t));
            Vector256<ulong> u = VectorArithmetic.SubtractIfNotBelow(x, twoQ);
            Vector256<ulong> v = VectorArithmetic.MultiplyShoupLazy(y, w256, wShoup256, wShoupHigh, q);
            (u + v).StoreUnsafe(ref a, (nuint)j);
            (u - v + twoQ).StoreUnsafe(ref a, (nuint)(j + t));
        }
    }

    // Gentleman–Sande butterflies: inputs in [0, 2q), outputs in [0, 2q).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InverseButterfliesScalar(ref ulong a, int start, int t, ulong w, ulong wShoup, ulong q, ulong twoQ)
    {
        for (int j = start; j < start + t; j++)
        {
            ref ulong x = ref Unsafe.Add(ref a, j);
            ref ulong y = ref Unsafe.Add(ref a, j + t);
            ulong u = x, v = y;
            ulong sum = u + v;
            x = sum >= twoQ ? sum - twoQ : sum;
            ulong difference = u - v + twoQ;
            y = difference * w - Math.BigMul(difference, wShoup, out _) * q;
        }
    }

    private void InverseButterflies512(ref ulong a, int start, int t, ulong w, ulong wShoup)
    {
        Vector512<ulong> q = Vector512.Create(Modulus.Value), twoQ = q + q;
        Vector512<ulong> w512 = Vector512.Create(w), wShoup512 = Vector512.Create(wShoup), wShoupHigh = Vector512.Create(wShoup >> 32);
        for (int j = start; j < start + t; j += 8)
        {
            Vector512<ulong> x = Vector512.LoadUnsafe(ref a, (nuint)j);
            Vector512<ulong> y = Vector512.LoadUnsafe(ref a, (nuint)(j + t));
            VectorArithmetic.SubtractIfNotBelow(x + y, twoQ).StoreUnsafe(ref a, (nuint)j);
            VectorArithmetic.MultiplyShoupLazy(x - y + twoQ, w512, wShoup512, wShoupHigh, q).StoreUnsafe(ref a, (nuint)(j + t));
        }
    }

    private void InverseButterflies256(ref ulong a, int start, int t, ulong w, ulong wShoup)
    {
        Vector256<ulong> q = Vector256.Create(Modulus.Value), twoQ = q + q;
        Vector256<ulong> w256 = Vector256.Create(w), wShoup256 = Vector256.Create(wShoup), wShoupHigh = Vector256.Create(wShoup >> 32);
        for (int j = start; j < start + t; j += 4)
        {
            Vector256<ulong> x = Vector256.LoadUnsafe(ref a, (nuint)j);
            Vector256<ulong> y = Vector256.LoadUnsafe(ref a, (nuint)(j + t));
            VectorArithmetic.SubtractIfNotBelow(x + y, twoQ).StoreUnsafe(ref a, (nuint)j);
            VectorArithmetic.MultiplyShoupLazy(x - y + twoQ, w256, wShoup256, wShoupHigh, q).StoreUnsafe(ref a, (nuint)(j + t));
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
