using FedCore.Crypto.Wire;

namespace FedCore.Tests.Crypto;

/// <summary>Packing at every width round-trips, and unpacking reports out-of-range values and stray padding bits.</summary>
public class BitPackingTests
{
    private static readonly int[] Lengths = [0, 1, 2, 7, 8, 9, 63, 64, 65, 200, 4096];

    [Fact]
    public void Every_width_and_length_round_trips()
    {
        var rng = new Random(7);
        for (int width = 1; width <= 62; width++)
        {
            foreach (int length in Lengths)
            {
                ulong[] values = Enumerable.Range(0, length).Select(_ => (ulong)rng.NextInt64() & ((1UL << width) - 1)).ToArray();
                if (length > 0)
                    values[^1] = (1UL << width) - 1; // all ones at the very end, where the careful path reads
                var packed = new byte[BitPacking.PackedLength(length, width)];
                BitPacking.Pack(values, width, packed);
                var unpacked = new ulong[length];
                Assert.Equal(-1, BitPacking.Unpack(packed, width, ulong.MaxValue, unpacked, out bool padding));
                Assert.False(padding);
                Assert.True(values.AsSpan().SequenceEqual(unpacked), $"width {width}, length {length}");
            }
        }
    }

    [Theory]
    [InlineData(61)]
    [InlineData(45)]
    [InlineData(7)]
    public void The_layout_is_the_documented_one_bit_i_times_w_plus_b_holds_bit_b_of_value_i(int width)
    {
        var rng = new Random(width);
        ulong[] values = Enumerable.Range(0, 37).Select(_ => (ulong)rng.NextInt64() & ((1UL << width) - 1)).ToArray();
        var expected = new byte[BitPacking.PackedLength(values.Length, width)];
        for (int i = 0; i < values.Length; i++)
            for (int b = 0; b < width; b++)
                if ((values[i] >> b & 1) == 1)
                    expected[(i * width + b) / 8] |= (byte)(1 << ((i * width + b) % 8));
        var packed = new byte[expected.Length];
        BitPacking.Pack(values, width, packed);
        Assert.Equal(expected, packed);
    }

    [Theory]
    [InlineData(61, 4096)]
    [InlineData(45, 4096)]
    [InlineData(13, 30)]
    public void The_first_value_at_or_above_the_limit_and_nonzero_padding_are_reported(int width, int length)
    {
        var rng = new Random(width);
        ulong limit = (1UL << width) - 5;
        ulong[] values = Enumerable.Range(0, length).Select(_ => (ulong)rng.NextInt64(0, (long)limit)).ToArray();
        foreach (int at in new[] { 0, length / 2, length - 1 })
        {
            ulong[] copy = (ulong[])values.Clone();
            copy[at] = limit;
            if (at < length - 1)
                copy[^1] = limit + 1; // a later offender must not hide the first
            var packed = new byte[BitPacking.PackedLength(length, width)];
            BitPacking.Pack(copy, width, packed);
            Assert.Equal(at, BitPacking.Unpack(packed, width, limit, new ulong[length], out _));
        }

        int spare = BitPacking.PackedLength(length, width) * 8 - length * width;
        if (spare > 0)
        {
            var packed = new byte[BitPacking.PackedLength(length, width)];
            BitPacking.Pack(values, width, packed);
            packed[^1] |= 0x80;
            BitPacking.Unpack(packed, width, ulong.MaxValue, new ulong[length], out bool padding);
            Assert.True(padding);
        }
    }
}
