using System.Runtime.InteropServices;

namespace Federation.Contracts.Transfer;

/// <summary>Model vectors as the bytes a <see cref="Payload"/> carries: IEEE 754 singles, little-endian (the platform's order).</summary>
public static class FloatBytes
{
    public static byte[] From(ReadOnlySpan<float> values) => MemoryMarshal.AsBytes(values).ToArray();

    public static float[] ToFloats(byte[] bytes)
    {
        if (bytes.Length % sizeof(float) != 0)
            throw new ArgumentException($"{bytes.Length} bytes are not a whole number of 4-byte floats.", nameof(bytes));
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }
}
