using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FedCore.Crypto.Ring;

/// <summary>
/// Modular arithmetic on 8 (AVX-512) or 4 (AVX2) residues at once. x86 has no 64×64→128-bit vector multiply, so the
/// high word of a product is assembled from four 32×32→64-bit multiplies (vpmuludq); low words use vpmullq where
/// AVX-512DQ has it. Shoup's method then needs one high and two low products per modular multiplication.
/// </summary>
internal static class VectorArithmetic
{
    /// <summary>
    /// Off switch for the vector paths, so that the benchmark can measure scalar against vector code in one process.
    /// Both paths compute identical results (tests check this).
    /// </summary>
    public static bool Enabled { get; set; } = true;

    public static bool Use512 => Enabled && Avx512DQ.IsSupported;

    public static bool Use256 => Enabled && Avx2.IsSupported;

    public static string Describe() => Use512 ? "avx512" : Use256 ? "avx2" : "scalar";

    private static readonly Vector512<ulong> Low32Mask512 = Vector512.Create(0xFFFF_FFFFUL);
    private static readonly Vector256<ulong> Low32Mask256 = Vector256.Create(0xFFFF_FFFFUL);

    /// <summary>High 64 bits of a·b per lane; <paramref name="bHigh"/> = b &gt;&gt; 32, passed in because b is often reused.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> MultiplyHigh(Vector512<ulong> a, Vector512<ulong> b, Vector512<ulong> bHigh)
    {
        Vector512<ulong> aHigh = Vector512.ShiftRightLogical(a, 32);
        Vector512<ulong> lowLow = Avx512F.Multiply(a.AsUInt32(), b.AsUInt32());
        Vector512<ulong> lowHigh = Avx512F.Multiply(a.AsUInt32(), bHigh.AsUInt32());
        Vector512<ulong> highLow = Avx512F.Multiply(aHigh.AsUInt32(), b.AsUInt32());
        Vector512<ulong> highHigh = Avx512F.Multiply(aHigh.AsUInt32(), bHigh.AsUInt32());
        Vector512<ulong> middle = Vector512.ShiftRightLogical(lowLow, 32) + (lowHigh & Low32Mask512) + (highLow & Low32Mask512);
        return highHigh + Vector512.ShiftRightLogical(lowHigh, 32) + Vector512.ShiftRightLogical(highLow, 32) + Vector512.ShiftRightLogical(middle, 32);
    }

    /// <summary>x·w mod q in [0, 2q) per lane (Harvey's lazy Shoup product), for w &lt; q and its companion w'.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> MultiplyShoupLazy(Vector512<ulong> x, Vector512<ulong> w, Vector512<ulong> wShoup, Vector512<ulong> wShoupHigh, Vector512<ulong> q)
    {
        Vector512<ulong> quotient = MultiplyHigh(x, wShoup, wShoupHigh);
        return Avx512DQ.MultiplyLow(x, w) - Avx512DQ.MultiplyLow(quotient, q);
    }

    /// <summary>x − m when x ≥ m, else x (unsigned): one conditional subtraction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> SubtractIfNotBelow(Vector512<ulong> x, Vector512<ulong> m) => Vector512.Min(x, x - m);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> MultiplyHigh(Vector256<ulong> a, Vector256<ulong> b, Vector256<ulong> bHigh)
    {
        Vector256<ulong> aHigh = Vector256.ShiftRightLogical(a, 32);
        Vector256<ulong> lowLow = Avx2.Multiply(a.AsUInt32(), b.AsUInt32());
        Vector256<ulong> lowHigh = Avx2.Multiply(a.AsUInt32(), bHigh.AsUInt32());
        Vector256<ulong> highLow = Avx2.Multiply(aHigh.AsUInt32(), b.AsUInt32());
        Vector256<ulong> highHigh = Avx2.Multiply(aHigh.AsUInt32(), bHigh.AsUInt32());
        Vector256<ulong> middle = Vector256.ShiftRightLogical(lowLow, 32) + (lowHigh & Low32Mask256) + (highLow & Low32Mask256);
        return highHigh + Vector256.ShiftRightLogical(lowHigh, 32) + Vector256.ShiftRightLogical(highLow, 32) + Vector256.ShiftRightLogical(middle, 32);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> MultiplyShoupLazy(Vector256<ulong> x, Vector256<ulong> w, Vector256<ulong> wShoup, Vector256<ulong> wShoupHigh, Vector256<ulong> q)
    {
        Vector256<ulong> quotient = MultiplyHigh(x, wShoup, wShoupHigh);
        // The generic multiply becomes vpmullq with AVX-512DQ/VL and a three-multiply sequence on plain AVX2.
        return x * w - quotient * q;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> SubtractIfNotBelow(Vector256<ulong> x, Vector256<ulong> m) => Vector256.Min(x, x - m);

    /// <summary>z[j] = x[j]·w[j] mod q (fully reduced) for Shoup companions wShoup[j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyShoup(Modulus modulus, ReadOnlySpan<ulong> x, ReadOnlySpan<ulong> w, ReadOnlySpan<ulong> wShoup, Span<ulong> z)
    {
        int length = z.Length;
        if (x.Length != length || w.Length != length || wShoup.Length != length)
            throw new ArgumentException("Operand lengths differ.");
        int j = 0;
        if (Use512)
        {
            Vector512<ulong> q = Vector512.Create(modulus.Value);
            for (; j + 8 <= length; j += 8)
            {
                Vector512<ulong> ws = Vector512.Create(wShoup.Slice(j, 8));
                Vector512<ulong> r = MultiplyShoupLazy(Vector512.Create(x.Slice(j, 8)), Vector512.Create(w.Slice(j, 8)), ws, Vector512.ShiftRightLogical(ws, 32), q);
                SubtractIfNotBelow(r, q).CopyTo(z.Slice(j, 8));
            }
        }
        for (; j < length; j++)
            z[j] = modulus.MultiplyShoup(x[j], w[j], wShoup[j]);
    }

    /// <summary>target[j] = target[j] + addend[j] mod q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(Modulus modulus, Span<ulong> target, ReadOnlySpan<ulong> addend)
    {
        int length = target.Length;
        if (addend.Length != length)
            throw new ArgumentException("Operand lengths differ.");
        int j = 0;
        if (Use512)
        {
            Vector512<ulong> q = Vector512.Create(modulus.Value);
            for (; j + 8 <= length; j += 8)
            {
                Vector512<ulong> sum = Vector512.Create(target.Slice(j, 8)) + Vector512.Create(addend.Slice(j, 8));
                SubtractIfNotBelow(sum, q).CopyTo(target.Slice(j, 8));
            }
        }
        else if (Use256)
        {
            Vector256<ulong> q = Vector256.Create(modulus.Value);
            for (; j + 4 <= length; j += 4)
            {
                Vector256<ulong> sum = Vector256.Create(target.Slice(j, 4)) + Vector256.Create(addend.Slice(j, 4));
                SubtractIfNotBelow(sum, q).CopyTo(target.Slice(j, 4));
            }
        }
        for (; j < length; j++)
            target[j] = modulus.Add(target[j], addend[j]);
    }
}
