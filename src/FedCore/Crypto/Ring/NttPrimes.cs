namespace FedCore.Crypto.Ring;

/// <summary>Primes that admit a negacyclic NTT of a given ring dimension, and their roots of unity.</summary>
public static class NttPrimes
{
    // Miller–Rabin with these bases is deterministic for every n below 3.3·10^24, so for all 64-bit n.
    private static readonly ulong[] WitnessBases = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];

    public static bool IsPrime(ulong n)
    {
        if (n < 2)
            return false;
        foreach (ulong p in WitnessBases)
        {
            if (n == p)
                return true;
            if (n % p == 0)
                return false;
        }

        ulong d = n - 1;
        int twos = 0;
        while ((d & 1) == 0)
        {
            d >>= 1;
            twos++;
        }

        foreach (ulong a in WitnessBases)
        {
            ulong x = PowMod(a, d, n);
            if (x == 1 || x == n - 1)
                continue;
            bool composite = true;
            for (int r = 1; r < twos; r++)
            {
                x = MulMod(x, x, n);
                if (x == n - 1)
                {
                    composite = false;
                    break;
                }
            }
            if (composite)
                return false;
        }
        return true;
    }

    /// <summary>
    /// The <paramref name="count"/> largest primes p &lt; 2^<paramref name="bitLength"/> with p ≡ 1 (mod 2N),
    /// in decreasing order, skipping any in <paramref name="exclude"/>. These are exactly the primes for which
    /// Z_p holds a primitive 2N-th root of unity, so X^N + 1 splits into linear factors.
    /// </summary>
    public static ulong[] Generate(int bitLength, int count, int ringDimension, IReadOnlyCollection<ulong>? exclude = null)
    {
        if (bitLength < 2 || bitLength > Modulus.MaxBitLength)
            throw new ArgumentOutOfRangeException(nameof(bitLength), bitLength, $"Prime size must be 2..{Modulus.MaxBitLength} bits.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        RequirePowerOfTwo(ringDimension);
        ulong step = 2UL * (ulong)ringDimension;
        ulong limit = 1UL << bitLength;
        if (step >= limit)
            throw new ArgumentException($"No {bitLength}-bit prime can be ≡ 1 mod {step}.", nameof(bitLength));

        var primes = new List<ulong>(count);
        // Largest candidate below 2^bitLength that is ≡ 1 mod 2N; 2N divides 2^bitLength, so that is 2^bitLength − 2N + 1.
        for (ulong candidate = limit - step + 1; candidate > step && primes.Count < count; candidate -= step)
        {
            if ((exclude is null || !exclude.Contains(candidate)) && IsPrime(candidate))
                primes.Add(candidate);
        }
        if (primes.Count < count)
            throw new ArgumentException($"Only {primes.Count} primes below 2^{bitLength} are ≡ 1 mod {step}; {count} were asked for.");
        return primes.ToArray();
    }

    /// <summary>
    /// The smallest primitive 2N-th root of unity modulo the prime q (q ≡ 1 mod 2N): ψ with ψ^N ≡ −1.
    /// "Smallest" makes the NTT tables reproducible from (q, N) alone.
    /// </summary>
    public static ulong FindPrimitive2NthRoot(ulong q, int ringDimension)
    {
        RequirePowerOfTwo(ringDimension);
        ulong order = 2UL * (ulong)ringDimension;
        if (!IsPrime(q) || (q - 1) % order != 0)
            throw new ArgumentException($"{q} is not a prime ≡ 1 mod {order}.", nameof(q));
        ulong cofactor = (q - 1) / order;
        ulong half = (ulong)ringDimension;
        ulong? smallest = null;
        // Some ψ = x^((q−1)/2N) has order exactly 2N iff ψ^N = −1; every primitive root is then ψ^k for odd k.
        for (ulong x = 2; x < q; x++)
        {
            ulong candidate = PowMod(x, cofactor, q);
            if (PowMod(candidate, half, q) != q - 1)
                continue;
            ulong square = MulMod(candidate, candidate, q);
            ulong power = candidate;
            for (ulong k = 1; k < order; k += 2)
            {
                if (smallest is null || power < smallest)
                    smallest = power;
                power = MulMod(power, square, q);
            }
            return smallest!.Value;
        }
        throw new InvalidOperationException($"No primitive {order}-th root of unity modulo {q}.");
    }

    internal static void RequirePowerOfTwo(int ringDimension)
    {
        if (ringDimension < 2 || (ringDimension & (ringDimension - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(ringDimension), ringDimension, "Ring dimension must be a power of two ≥ 2.");
    }

    private static ulong MulMod(ulong a, ulong b, ulong n) => (ulong)((UInt128)a * b % n);

    private static ulong PowMod(ulong b, ulong e, ulong n)
    {
        ulong result = 1 % n;
        b %= n;
        while (e != 0)
        {
            if ((e & 1) != 0)
                result = MulMod(result, b, n);
            b = MulMod(b, b, n);
            e >>= 1;
        }
        return result;
    }
}
