using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    // The stage with t = 2 pairs elements two apart; its twiddles repeated twice ([w0, w0, w1, w1, …]) line up with the
    // vector lanes, so that stage (and t = 1, whose twiddles are already contiguous) also runs 8 lanes wide.
    private readonly ulong[] _pairedRootPowers, _pairedRootPowersShoup;
    private readonly ulong[] _pairedInverseRootPowers, _pairedInverseRootPowersShoup;
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

        int quarter = Math.Max(1, ringDimension / 4);
        _pairedRootPowers = new ulong[2 * quarter];
        _pairedRootPowersShoup = new ulong[2 * quarter];
        _pairedInverseRootPowers = new ulong[2 * quarter];
        _pairedInverseRootPowersShoup = new ulong[2 * quarter];
        for (int i = 0; i < 2 * quarter; i++)
        {
            _pairedRootPowers[i] = _rootPowers[quarter + i / 2];
            _pairedRootPowersShoup[i] = _rootPowersShoup[quarter + i / 2];
            _pairedInverseRootPowers[i] = _inverseRootPowers[quarter + i / 2];
            _pairedInverseRootPowersShoup[i] = _inverseRootPowersShoup[quarter + i / 2];
        }

        _inverseN = modulus.Inverse((ulong)ringDimension % q);
        _inverseNShoup = modulus.ShoupPrecompute(_inverseN);
        _inverseNTimesLastRoot = modulus.Multiply(_inverseN, _inverseRootPowers[1]);
        _inverseNTimesLastRootShoup = modulus.ShoupPrecompute(_inverseNTimesLastRoot);
    }

    public Modulus Modulus { get; }

    public int RingDimension { get; }

    /// <summary>In place: coefficients (each &lt; q) → evaluations in bit-reversed order, each &lt; q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(Span<ulong> values)
    {
        RequireLength(values);
        ref ulong a = ref MemoryMarshal.GetReference(values);
        int n = RingDimension;
        ulong q = Modulus.Value, twoQ = 2 * q;
        bool use512 = VectorArithmetic.Use512, use256 = VectorArithmetic.Use256;
        for (int m = 1, t = n >> 1; m < n; m <<= 1, t >>= 1)
        {
            if (use512 && t <= 2 && n >= 16)
            {
                ForwardNarrowStage512(ref a, t);
                continue;
            }
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
            x = Modulus.SubtractIfNotBelow(Modulus.SubtractIfNotBelow(x, twoQ), q);
        }
    }

    /// <summary>In place: evaluations in bit-reversed order (each &lt; q) → coefficients, each &lt; q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
            if (use512 && t <= 2 && n >= 16)
            {
                InverseNarrowStage512(ref a, t);
                continue;
            }
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

    // Lane gathers for the stages whose butterfly partners sit in the same vector: from two loaded vectors A (lanes 0–7)
    // and B (lanes 8–15), the first operands X and second operands Y of eight butterflies, and the way back.
    private static readonly Vector512<ulong> GatherXForT2 = Vector512.Create(0UL, 1, 4, 5, 8, 9, 12, 13);
    private static readonly Vector512<ulong> GatherYForT2 = Vector512.Create(2UL, 3, 6, 7, 10, 11, 14, 15);
    private static readonly Vector512<ulong> ScatterLowForT2 = Vector512.Create(0UL, 1, 8, 9, 2, 3, 10, 11);
    private static readonly Vector512<ulong> ScatterHighForT2 = Vector512.Create(4UL, 5, 12, 13, 6, 7, 14, 15);
    private static readonly Vector512<ulong> GatherXForT1 = Vector512.Create(0UL, 2, 4, 6, 8, 10, 12, 14);
    private static readonly Vector512<ulong> GatherYForT1 = Vector512.Create(1UL, 3, 5, 7, 9, 11, 13, 15);
    private static readonly Vector512<ulong> ScatterLowForT1 = Vector512.Create(0UL, 8, 1, 9, 2, 10, 3, 11);
    private static readonly Vector512<ulong> ScatterHighForT1 = Vector512.Create(4UL, 12, 5, 13, 6, 14, 7, 15);

    /// <summary>Forward stage with t = 2 or t = 1 (m = N/4 or N/2 groups), sixteen values per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardNarrowStage512(ref ulong a, int t)
    {
        int n = RingDimension;
        Vector512<ulong> q = Vector512.Create(Modulus.Value), twoQ = q + q;
        (Vector512<ulong> gatherX, Vector512<ulong> gatherY, Vector512<ulong> scatterLow, Vector512<ulong> scatterHigh) = t == 2
            ? (GatherXForT2, GatherYForT2, ScatterLowForT2, ScatterHighForT2)
            : (GatherXForT1, GatherYForT1, ScatterLowForT1, ScatterHighForT1);
        // Eight butterflies per step; their twiddles are at [j/2, j/2 + 8) of the paired table (t = 2) or of the
        // stage's own range [N/2 + j/2, …) of the bit-reversed table (t = 1).
        ref ulong roots = ref t == 2 ? ref _pairedRootPowers[0] : ref _rootPowers[n / 2];
        ref ulong rootsShoup = ref t == 2 ? ref _pairedRootPowersShoup[0] : ref _rootPowersShoup[n / 2];
        for (int j = 0; j < n; j += 16)
        {
            Vector512<ulong> lower = Vector512.LoadUnsafe(ref a, (nuint)j), upper = Vector512.LoadUnsafe(ref a, (nuint)(j + 8));
            Vector512<ulong> x = Avx512F.PermuteVar8x64x2(lower, gatherX, upper);
            Vector512<ulong> y = Avx512F.PermuteVar8x64x2(lower, gatherY, upper);
            Vector512<ulong> w = Vector512.LoadUnsafe(ref roots, (nuint)(j / 2));
            Vector512<ulong> wShoup = Vector512.LoadUnsafe(ref rootsShoup, (nuint)(j / 2));
            Vector512<ulong> u = VectorArithmetic.SubtractIfNotBelow(x, twoQ);
            Vector512<ulong> v = VectorArithmetic.MultiplyShoupLazy(y, w, wShoup, Vector512.ShiftRightLogical(wShoup, 32), q);
            Vector512<ulong> newX = u + v, newY = u - v + twoQ;
            Avx512F.PermuteVar8x64x2(newX, scatterLow, newY).StoreUnsafe(ref a, (nuint)j);
            Avx512F.PermuteVar8x64x2(newX, scatterHigh, newY).StoreUnsafe(ref a, (nuint)(j + 8));
        }
    }

    /// <summary>Inverse stage with t = 1 or t = 2, sixteen values per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void InverseNarrowStage512(ref ulong a, int t)
    {
        int n = RingDimension;
        Vector512<ulong> q = Vector512.Create(Modulus.Value), twoQ = q + q;
        (Vector512<ulong> gatherX, Vector512<ulong> gatherY, Vector512<ulong> scatterLow, Vector512<ulong> scatterHigh) = t == 2
            ? (GatherXForT2, GatherYForT2, ScatterLowForT2, ScatterHighForT2)
            : (GatherXForT1, GatherYForT1, ScatterLowForT1, ScatterHighForT1);
        ref ulong roots = ref t == 2 ? ref _pairedInverseRootPowers[0] : ref _inverseRootPowers[n / 2];
        ref ulong rootsShoup = ref t == 2 ? ref _pairedInverseRootPowersShoup[0] : ref _inverseRootPowersShoup[n / 2];
        for (int j = 0; j < n; j += 16)
        {
            Vector512<ulong> lower = Vector512.LoadUnsafe(ref a, (nuint)j), upper = Vector512.LoadUnsafe(ref a, (nuint)(j + 8));
            Vector512<ulong> x = Avx512F.PermuteVar8x64x2(lower, gatherX, upper);
            Vector512<ulong> y = Avx512F.PermuteVar8x64x2(lower, gatherY, upper);
            Vector512<ulong> w = Vector512.LoadUnsafe(ref roots, (nuint)(j / 2));
            Vector512<ulong> wShoup = Vector512.LoadUnsafe(ref rootsShoup, (nuint)(j / 2));
            Vector512<ulong> newX = VectorArithmetic.SubtractIfNotBelow(x + y, twoQ);
            Vector512<ulong> newY = VectorArithmetic.MultiplyShoupLazy(x - y + twoQ, w, wShoup, Vector512.ShiftRightLogical(wShoup, 32), q);
            Avx512F.PermuteVar8x64x2(newX, scatterLow, newY).StoreUnsafe(ref a, (nuint)j);
            Avx512F.PermuteVar8x64x2(newX, scatterHigh, newY).StoreUnsafe(ref a, (nuint)(j + 8));
        }
    }

    // Cooley–Tukey butterflies on a[start .. start+2t): inputs in [0, 4q), outputs in [0, 4q).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardButterfliesScalar(ref ulong a, int start, int t, ulong w, ulong wShoup, ulong q, ulong twoQ)
    {
        for (int j = start; j < start + t; j++)
        {
            ref ulong x = ref Unsafe.Add(ref a, j);
            ref ulong y = ref Unsafe.Add(ref a, j + t);
            ulong u = Modulus.SubtractIfNotBelow(x, twoQ);
            ulong v = y * w - Math.BigMul(y, wShoup, out _) * q;
            x = u + v;
            y = u - v + twoQ;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InverseButterfliesScalar(ref ulong a, int start, int t, ulong w, ulong wShoup, ulong q, ulong twoQ)
    {
        for (int j = start; j < start + t; j++)
        {
            ref ulong x = ref Unsafe.Add(ref a, j);
            ref ulong y = ref Unsafe.Add(ref a, j + t);
            ulong u = x, v = y;
            ulong sum = u + v;
            x = Modulus.SubtractIfNotBelow(sum, twoQ);
            ulong difference = u - v + twoQ;
            y = difference * w - Math.BigMul(difference, wShoup, out _) * q;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
