using System.Runtime.CompilerServices;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;

namespace FedCore.Crypto.Multiparty;

/// <summary>Combines the decryption shares of every participant: c0 + Σ h_i = Δ·m + noise, then decodes.</summary>
public static class JointDecryption
{
    /// <summary>
    /// The values of <paramref name="vector"/>, given exactly one decryption share of it from each participant of
    /// <paramref name="key"/>. Anyone may run this; the shares, not the combiner, hold the secret.
    /// </summary>
    public static double[] Combine(CollectivePublicKey key, EncryptedVector vector, IEnumerable<DecryptionShare> shares)
    {
        ArgumentNullException.ThrowIfNull(vector);
        var values = new double[vector.Length];
        Combine(key, vector, shares, values, []);
        return values;
    }

    /// <summary>
    /// As <see cref="Combine(CollectivePublicKey, EncryptedVector, IEnumerable{DecryptionShare})"/>, decoding the first
    /// head.Length values into <paramref name="head"/> and the rest into <paramref name="tail"/>: a caller whose last
    /// values mean something else (a weight) needs no second copy of a large vector.
    /// </summary>
    public static void Combine(CollectivePublicKey key, EncryptedVector vector, IEnumerable<DecryptionShare> shares, Span<double> head, Span<double> tail)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(vector);
        ArgumentNullException.ThrowIfNull(shares);
        if (vector.Parameters != key.Parameters)
            throw new ArgumentException($"Vector uses {vector.Parameters.Name}, key uses {key.Parameters.Name}.", nameof(vector));
        if (!vector.KeyId.Span.SequenceEqual(key.KeyId.Span))
            throw new ArgumentException("The vector was encrypted under a different collective key.", nameof(vector));
        DecryptionShare[] all = shares.ToArray();
        RequireOneShareEach(key, vector.Masks.Digest.Span, vector.Length, all);
        CombineInto(vector.Parameters, vector.Scale, vector.Length, vector.ReadC0, all, head, tail);
    }

    /// <summary>Exactly one share from each participant of <paramref name="key"/>, each of the vector named by <paramref name="digest"/>.</summary>
    internal static void RequireOneShareEach(CollectivePublicKey key, ReadOnlySpan<byte> digest, int length, DecryptionShare[] shares)
    {
        var expected = new HashSet<Guid>(key.ShareIds);
        foreach (DecryptionShare share in shares)
        {
            ArgumentNullException.ThrowIfNull(share, nameof(shares));
            if (!expected.Remove(share.ShareId))
                throw new ArgumentException(key.ShareIds.Contains(share.ShareId)
                    ? $"Participant {share.ShareId} gave more than one share."
                    : $"Share from {share.ShareId}, who is not a participant of this key.", nameof(shares));
            if (share.Parameters != key.Parameters || !share.KeyId.Span.SequenceEqual(key.KeyId.Span))
                throw new ArgumentException($"Share from {share.ShareId} was made for another key.", nameof(shares));
            if (!share.VectorDigest.Span.SequenceEqual(digest) || share.Length != length)
                throw new ArgumentException($"Share from {share.ShareId} decrypts a different vector.", nameof(shares));
        }
        if (expected.Count > 0)
            throw new ArgumentException($"Missing decryption shares from {expected.Count} participant(s): {string.Join(", ", expected)}. " +
                "Every participant of the key must contribute; otherwise re-key without the absent ones.", nameof(shares));
    }

    /// <summary>c0 + Σ h_i and decoding, with no check that the shares are complete (tests use it to show partial sets fail).</summary>
    internal static double[] CombineUnchecked(EncryptedVector vector, IReadOnlyList<DecryptionShare> shares)
    {
        var values = new double[vector.Length];
        CombineInto(vector.Parameters, vector.Scale, vector.Length, vector.ReadC0, shares, values, []);
        return values;
    }

    /// <summary>c0 (from <paramref name="readC0"/>) + Σ h_i per ciphertext, decoded into head, then tail.</summary>
    internal static void CombineInto(CkksParameters parameters, double scale, int length, ReadPolynomial readC0, IReadOnlyList<DecryptionShare> shares, Span<double> head, Span<double> tail)
    {
        Modulus q0 = parameters.Context.WireModulus;
        var addend = new ulong[parameters.RingDimension];
        DecodeInto(parameters, scale, length, (chunk, sum) =>
        {
            readC0(chunk, sum);
            foreach (DecryptionShare share in shares)
            {
                share.ReadChunk(chunk, addend);
                RnsRing.AddInPlace(q0, sum, addend);
            }
        }, head, tail);
    }

    /// <summary>Decodes, ciphertext by ciphertext, the plaintext polynomials c0 + Σ h_i that <paramref name="readSum"/> gives, into head, then tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void DecodeInto(CkksParameters parameters, double scale, int length, ReadPolynomial readSum, Span<double> head, Span<double> tail)
    {
        if (head.Length + tail.Length != length)
            throw new ArgumentException($"Destinations hold {head.Length + tail.Length} values; the vector carries {length}.");
        CkksContext context = parameters.Context;
        Modulus q0 = context.WireModulus;
        int n = parameters.RingDimension;
        var sum = new ulong[n];
        var decoded = new double[n];
        for (int chunk = 0; chunk < EncryptedVector.ChunksFor(parameters, length); chunk++)
        {
            readSum(chunk, sum);
            int start = chunk * n, count = Math.Min(n, length - start);
            context.Encoder.Decode(sum, q0, scale, decoded.AsSpan(0, count));
            for (int i = 0; i < count; i++)
            {
                int at = start + i;
                if (at < head.Length)
                    head[at] = decoded[i];
                else
                    tail[at - head.Length] = decoded[i];
            }
        }
    }
}

/// <summary>Reads polynomial <paramref name="chunk"/> of a vector (one ciphertext's c0 or c1) into <paramref name="destination"/>.</summary>
internal delegate void ReadPolynomial(int chunk, Span<ulong> destination);
