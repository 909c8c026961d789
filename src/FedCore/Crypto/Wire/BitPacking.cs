using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FedCore.Crypto.Wire;

/// <summary>
/// Residues written at a fixed width w (the modulus bit length), least significant bit first, back to back:
/// value i occupies bits [i·w, (i+1)·w) of the little-endian bit string.
/// </summary>
internal static class BitPacking
{
    public static int PackedLength(int count, int bitWidth) => checked((int)(((long)count * bitWidth + 7) / 8));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pack(ReadOnlySpan<ulong> values, int bitWidth, Span<byte> destination)
    {
        RequireWidth(bitWidth);
        if (destination.Length != PackedLength(values.Length, bitWidth))
            throw new ArgumentException("Destination length does not match the packed size.", nameof(destination));
        int packed = PackEights(values, bitWidth, destination);
        ulong accumulator = 0;
        int bitsHeld = 0, offset = packed / 8 * bitWidth; // eight values are exactly w bytes
        foreach (ulong value in values[packed..])
        {
            accumulator |= value << bitsHeld;
            int total = bitsHeld + bitWidth;
            if (total >= 64)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(offset, 8), accumulator);
                offset += 8;
                // The bits of value that did not fit (none when bitsHeld is 0, and a shift by 64 would be wrong).
                accumulator = bitsHeld == 0 ? 0 : value >> (64 - bitsHeld);
                bitsHeld = total - 64;
            }
            else
            {
                bitsHeld = total;
            }
        }
        for (int b = 0; b < (bitsHeld + 7) / 8; b++)
            destination[offset++] = (byte)(accumulator >> (8 * b));
    }

    /// <summary>
    /// Reads values.Length values of <paramref name="bitWidth"/> bits. Returns the index of the first value that is
    /// not below <paramref name="exclusiveLimit"/>, or −1 when all are in range; also fails on nonzero padding bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Unpack(ReadOnlySpan<byte> source, int bitWidth, ulong exclusiveLimit, Span<ulong> values, out bool paddingNonZero)
    {
        RequireWidth(bitWidth);
        if (source.Length != PackedLength(values.Length, bitWidth))
            throw new ArgumentException("Source length does not match the packed size.", nameof(source));
        ulong mask = (1UL << bitWidth) - 1;
        int firstOutOfRange = -1;
        ref byte start = ref MemoryMarshal.GetReference(source);
        // Value i occupies bits [i·w, i·w + w): an unaligned 8-byte read at byte ⌊i·w/8⌋ plus the byte after it hold
        // all of them (w + 7 ≤ 69 bits). Values whose 9 bytes lie inside the input take this path; the last few, the
        // careful one.
        int fast = values.Length == 0 ? 0 : (int)Math.Clamp(((source.Length - 9) * 8L - bitWidth) / bitWidth + 1, 0, values.Length);
        int vectorised = UnpackEights(source, bitWidth, exclusiveLimit, values, ref firstOutOfRange);
        fast = Math.Max(fast, vectorised); // the eights may reach values the bound above leaves to the careful path
        long bit = (long)vectorised * bitWidth;
        for (int i = vectorised; i < fast; i++, bit += bitWidth)
        {
            int offset = (int)(bit >> 3), shift = (int)(bit & 7);
            ulong low = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, offset));
            ulong high = Unsafe.Add(ref start, offset + 8);
            // (high << 1) << (63 − shift) is high << (64 − shift), also right when shift is 0.
            ulong value = ((low >> shift) | ((high << 1) << (63 - shift))) & mask;
            values[i] = value;
            if (value >= exclusiveLimit && firstOutOfRange < 0)
                firstOutOfRange = i;
        }
        for (int i = fast; i < values.Length; i++, bit += bitWidth)
        {
            ulong value = 0;
            for (int b = 0; b < bitWidth; b++)
            {
                long at = bit + b;
                value |= (ulong)((source[(int)(at >> 3)] >> (int)(at & 7)) & 1) << b;
            }
            values[i] = value;
            if (value >= exclusiveLimit && firstOutOfRange < 0)
                firstOutOfRange = i;
        }
        // Bits after the last value inside the final byte must be zero so that every object has one encoding.
        long usedBits = (long)values.Length * bitWidth;
        int spareBits = (int)((long)source.Length * 8 - usedBits);
        paddingNonZero = spareBits > 0 && (source[^1] >> (8 - spareBits)) != 0;
        return firstOutOfRange;
    }

    /// <summary>
    /// <see cref="Pack"/> eight values at a time where AVX-512 VBMI runs, for w ≥ 32: each lane's value shifted into its
    /// 8-byte window from ⌊l·w/8⌋ and the ninth byte after it, then every output byte of the group (w of them) gathered
    /// from the at most three windows that reach it and or-ed. Returns how many values it wrote (a multiple of 8); the
    /// bytes it stored past the last group are written again by the scalar path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int PackEights(ReadOnlySpan<ulong> values, int bitWidth, Span<byte> destination)
    {
        if (!Avx512Vbmi.IsSupported || !Ring.VectorArithmetic.Enabled || bitWidth < 32)
            return 0;
        const int Gathers = 3;
        Span<byte> index = stackalloc byte[Gathers * 64], keep = stackalloc byte[Gathers * 64];
        Span<int> used = stackalloc int[64];
        Span<ulong> shifts = stackalloc ulong[8];
        index.Clear();
        keep.Clear();
        used.Clear();
        for (int lane = 0; lane < 8; lane++)
        {
            int offset = lane * bitWidth >> 3;
            shifts[lane] = (ulong)(lane * bitWidth & 7);
            // Bytes 0–63 of the gathers' table are the lanes' low windows, 64–127 their ninth bytes. A group's values end
            // at byte w exactly, so nothing of it reaches byte w or later.
            for (int b = 0; b <= 8; b++)
            {
                int at = offset + b;
                if (at >= bitWidth)
                    continue;
                int slot = used[at]++;
                if (slot >= Gathers)
                    return 0;
                index[slot * 64 + at] = (byte)(b < 8 ? 8 * lane + b : 64 + 8 * lane);
                keep[slot * 64 + at] = 0xFF;
            }
        }
        Vector512<byte> index0 = Vector512.Create((ReadOnlySpan<byte>)index[..64]), index1 = Vector512.Create((ReadOnlySpan<byte>)index[64..128]),
            index2 = Vector512.Create((ReadOnlySpan<byte>)index[128..]);
        Vector512<byte> keep0 = Vector512.Create((ReadOnlySpan<byte>)keep[..64]), keep1 = Vector512.Create((ReadOnlySpan<byte>)keep[64..128]),
            keep2 = Vector512.Create((ReadOnlySpan<byte>)keep[128..]);
        Vector512<ulong> left = Vector512.Create((ReadOnlySpan<ulong>)shifts), right = Vector512.Create(64UL) - left; // a count of 64 gives 0
        ref ulong source = ref MemoryMarshal.GetReference(values);
        ref byte start = ref MemoryMarshal.GetReference(destination);
        int i = 0;
        for (long at = 0; i + 8 <= values.Length && at + 64 <= destination.Length; i += 8, at += bitWidth)
        {
            Vector512<ulong> value = Vector512.LoadUnsafe(ref source, (nuint)i);
            Vector512<byte> low = Avx512F.ShiftLeftLogicalVariable(value, left).AsByte(), high = Avx512F.ShiftRightLogicalVariable(value, right).AsByte();
            Vector512<byte> bytes = (Avx512Vbmi.PermuteVar64x8x2(low, index0, high) & keep0)
                | (Avx512Vbmi.PermuteVar64x8x2(low, index1, high) & keep1)
                | (Avx512Vbmi.PermuteVar64x8x2(low, index2, high) & keep2);
            bytes.StoreUnsafe(ref start, (nuint)at);
        }
        return i;
    }

    /// <summary>
    /// The values eight at a time where AVX-512 VBMI runs: eight values are exactly w bytes, so group k starts at byte k·w,
    /// and one 64-byte load holds all of it. Per lane a byte permutation gathers the 8 bytes from ⌊l·w/8⌋ and the one after
    /// them, and variable shifts place the bits as the scalar path does. Returns how many values it read (a multiple of 8).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int UnpackEights(ReadOnlySpan<byte> source, int bitWidth, ulong exclusiveLimit, Span<ulong> values, ref int firstOutOfRange)
    {
        if (!Avx512Vbmi.IsSupported || !Ring.VectorArithmetic.Enabled)
            return 0;
        Span<byte> lowIndex = stackalloc byte[64], highIndex = stackalloc byte[64];
        Span<ulong> shifts = stackalloc ulong[8];
        for (int lane = 0; lane < 8; lane++)
        {
            int offset = lane * bitWidth >> 3;
            shifts[lane] = (ulong)(lane * bitWidth & 7);
            for (int b = 0; b < 8; b++)
            {
                lowIndex[8 * lane + b] = (byte)(offset + b);
                highIndex[8 * lane + b] = (byte)(offset + 8);
            }
        }
        Vector512<byte> lowControl = Vector512.Create((ReadOnlySpan<byte>)lowIndex), highControl = Vector512.Create((ReadOnlySpan<byte>)highIndex);
        Vector512<ulong> right = Vector512.Create((ReadOnlySpan<ulong>)shifts), left = Vector512.Create(64UL) - right; // a count of 64 gives 0
        Vector512<ulong> mask = Vector512.Create((1UL << bitWidth) - 1), lowByte = Vector512.Create(0xFFUL), limit = Vector512.Create(exclusiveLimit);
        ref byte start = ref MemoryMarshal.GetReference(source);
        ref ulong destination = ref MemoryMarshal.GetReference(values);
        int i = 0;
        for (long at = 0; i + 8 <= values.Length && at + 64 <= source.Length; i += 8, at += bitWidth)
        {
            Vector512<byte> raw = Vector512.LoadUnsafe(ref start, (nuint)at);
            Vector512<ulong> low = Avx512Vbmi.PermuteVar64x8(raw, lowControl).AsUInt64();
            Vector512<ulong> high = Avx512Vbmi.PermuteVar64x8(raw, highControl).AsUInt64() & lowByte;
            Vector512<ulong> value = (Avx512F.ShiftRightLogicalVariable(low, right) | Avx512F.ShiftLeftLogicalVariable(high, left)) & mask;
            value.StoreUnsafe(ref destination, (nuint)i);
            if (firstOutOfRange < 0 && Vector512.GreaterThanOrEqualAny(value, limit))
            {
                int lane = 0;
                while (value.GetElement(lane) < exclusiveLimit)
                    lane++;
                firstOutOfRange = i + lane;
            }
        }
        return i;
    }

    private static void RequireWidth(int bitWidth)
    {
        if (bitWidth < 1 || bitWidth > 62)
            throw new ArgumentOutOfRangeException(nameof(bitWidth), bitWidth, "Packed width must be 1..62 bits.");
    }
}
