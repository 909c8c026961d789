namespace FedCore.Data;

/// <summary>
/// Steele, Lea and Flood's SplitMix64 generator: 64-bit integer arithmetic only, so a seed gives the same
/// sequence on every machine and runtime (System.Random makes no such promise across .NET versions).
/// Not for cryptography.
/// </summary>
public sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform integer in [0, bound), without modulo bias.</summary>
    public int NextBelow(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        ulong range = (ulong)bound;
        // Reject the top sliver of 2^64 that would favour small results.
        ulong limit = ulong.MaxValue - ulong.MaxValue % range;
        ulong value;
        do
            value = Next();
        while (value >= limit);
        return (int)(value % range);
    }
}
