using FedCore.Crypto.Rlwe;

namespace FedCore.Rounds;

/// <summary>
/// Who masks with whom in a round (README: "The masking graph"). Complete while that is affordable for the security
/// target; above it, a cycle in an order drawn from the round's graph seed (H(set digest, statements): nothing the
/// aggregator picks after the statements are committed), each member masking with the h nearest
/// on either side, h the smallest with n·γ^h ≤ 2^−σ: the honest members then stay connected (so only the sum of all of
/// them can be unmasked) unless h consecutive places fall to colluders.
/// </summary>
public static class MaskingGraph
{
    /// <summary>γ: the largest fraction of a round's members assumed to collude with the aggregator.</summary>
    public const double ColludingFraction = 1.0 / 3;

    /// <summary>σ: log2 of the chance that the honest members of a round fall apart.</summary>
    public const int SecurityBits = 40;

    private const string OrderDomain = "FedCore/masking-graph/order/v1";

    /// <summary>h for <paramref name="members"/>: neighbours on each side of the cycle.</summary>
    public static int HalfDegree(int members)
    {
        if (members < 2)
            throw new ArgumentOutOfRangeException(nameof(members), members, "A masking graph needs at least two members.");
        return (int)Math.Ceiling((SecurityBits + Math.Log2(members)) / Math.Log2(1 / ColludingFraction));
    }

    /// <summary>True when every pair of members masks (the cycle would give each member every other one anyway).</summary>
    public static bool IsComplete(int members) => 2 * HalfDegree(members) >= members - 1;

    /// <summary>The neighbours of <paramref name="self"/> among <paramref name="members"/> (sorted, distinct), for the 32-byte graph seed <paramref name="context"/>.</summary>
    public static IReadOnlyList<string> NeighboursOf(string self, IReadOnlyList<string> members, ReadOnlySpan<byte> context)
    {
        int index = IndexOf(members, self);
        if (IsComplete(members.Count))
            return members.Where(m => m != self).ToList();
        int[] order = Order(members.Count, context);
        int place = Array.IndexOf(order, index);
        int h = HalfDegree(members.Count), n = members.Count;
        var neighbours = new List<string>(2 * h);
        for (int d = 1; d <= h; d++)
        {
            neighbours.Add(members[order[(place + d) % n]]);
            neighbours.Add(members[order[(place - d + n) % n]]);
        }
        return neighbours;
    }

    /// <summary>A uniform permutation of 0..n−1 (Fisher–Yates, unbiased indices by rejection) drawn from the context.</summary>
    private static int[] Order(int n, ReadOnlySpan<byte> context)
    {
        if (context.Length != AesCtrRandom.SeedLength)
            throw new ArgumentException($"A masking context has {AesCtrRandom.SeedLength} bytes; got {context.Length}.", nameof(context));
        var order = Enumerable.Range(0, n).ToArray();
        using var random = new AesCtrRandom(context, OrderDomain);
        for (int i = n - 1; i > 0; i--)
        {
            ulong bound = (ulong)i + 1, limit = ulong.MaxValue - ulong.MaxValue % bound;
            ulong draw;
            do
                draw = random.NextUInt64();
            while (draw >= limit);
            int j = (int)(draw % bound);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static int IndexOf(IReadOnlyList<string> members, string self)
    {
        for (int i = 0; i < members.Count; i++)
            if (members[i] == self)
                return i;
        throw new ArgumentException($"'{self}' is not a member.", nameof(self));
    }
}
