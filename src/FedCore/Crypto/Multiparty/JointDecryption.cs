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
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(vector);
        ArgumentNullException.ThrowIfNull(shares);
        DecryptionShare[] all = shares.ToArray();
        if (vector.Parameters != key.Parameters)
            throw new ArgumentException($"Vector uses {vector.Parameters.Name}, key uses {key.Parameters.Name}.", nameof(vector));
        if (!vector.KeyId.Span.SequenceEqual(key.KeyId.Span))
            throw new ArgumentException("The vector was encrypted under a different collective key.", nameof(vector));

        var expected = new HashSet<Guid>(key.ShareIds);
        foreach (DecryptionShare share in all)
        {
            ArgumentNullException.ThrowIfNull(share, nameof(shares));
            if (!expected.Remove(share.ShareId))
                throw new ArgumentException(key.ShareIds.Contains(share.ShareId)
                    ? $"Participant {share.ShareId} gave more than one share."
                    : $"Share from {share.ShareId}, who is not a participant of this key.", nameof(shares));
            if (share.Parameters != key.Parameters || !share.KeyId.Span.SequenceEqual(key.KeyId.Span))
                throw new ArgumentException($"Share from {share.ShareId} was made for another key.", nameof(shares));
            if (!share.VectorDigest.Span.SequenceEqual(vector.Digest.Span) || share.Length != vector.Length)
                throw new ArgumentException($"Share from {share.ShareId} decrypts a different vector.", nameof(shares));
        }
        if (expected.Count > 0)
            throw new ArgumentException($"Missing decryption shares from {expected.Count} participant(s): {string.Join(", ", expected)}. " +
                "Every participant of the key must contribute; otherwise re-key without the absent ones.", nameof(shares));
        return CombineUnchecked(vector, all);
    }

    /// <summary>c0 + Σ h_i and decoding, with no check that the shares are complete (tests use it to show partial sets fail).</summary>
    internal static double[] CombineUnchecked(EncryptedVector vector, IReadOnlyList<DecryptionShare> shares)
    {
        CkksContext context = vector.Parameters.Context;
        Modulus q0 = context.WireModulus;
        int n = vector.Parameters.RingDimension;
        var values = new double[vector.Length];
        var sum = new ulong[n];
        for (int chunk = 0; chunk < vector.ChunkCount; chunk++)
        {
            vector.C0(chunk).CopyTo(sum);
            foreach (DecryptionShare share in shares)
                RnsRing.AddInPlace(q0, sum, share.Chunk(chunk));
            int start = chunk * n;
            context.Encoder.Decode(sum, q0, vector.Scale, values.AsSpan(start, Math.Min(n, vector.Length - start)));
        }
        return values;
    }
}
