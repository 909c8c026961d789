namespace FedCore.Aggregation.Protection;

/// <summary>
/// The one seam through which a participant's model update leaves it, is aggregated, and comes back as a
/// sum. Only an implementation of this interface ever sees a participant's plaintext update: the
/// participant hands it in through <see cref="Seal"/>, and what comes out of <see cref="Open"/> is the
/// weighted sum over all participants.
///
/// The message flow is the same for every scheme (it is the multiparty decryption flow):
///   participant: Seal(update, weight)            → sealed update
///   aggregator:  Add(sealed updates)             → sealed aggregate
///   participant: DecryptionShare(aggregate)      → share (empty where a scheme needs none)
///   anyone:      Open(aggregate, shares)         → Σ weightᵢ·updateᵢ and Σ weightᵢ
/// </summary>
public interface IUpdateProtection
{
    /// <summary>Scheme name carried in every sealed update, e.g. "plaintext-simulation" or "ckks".</summary>
    string Scheme { get; }

    /// <summary>False only for the plaintext simulation, which hosts must log as such.</summary>
    bool ProtectsUpdates { get; }

    byte[] Seal(ReadOnlySpan<float> update, double weight);

    byte[] Add(IReadOnlyList<byte[]> sealedUpdates);

    byte[] DecryptionShare(byte[] aggregate);

    AggregatedUpdate Open(byte[] aggregate, IReadOnlyList<byte[]> shares);
}

/// <summary>The opened aggregate: Σ wᵢ·uᵢ and Σ wᵢ.</summary>
public sealed record AggregatedUpdate(double[] WeightedSum, double TotalWeight)
{
    /// <summary>The weighted mean update, Σ wᵢ·uᵢ / Σ wᵢ.</summary>
    public float[] Mean()
    {
        if (!(TotalWeight > 0))
            throw new InvalidOperationException($"The aggregate's total weight is {TotalWeight}; a mean needs a positive weight.");
        var mean = new float[WeightedSum.Length];
        for (int i = 0; i < mean.Length; i++)
            mean[i] = (float)(WeightedSum[i] / TotalWeight);
        return mean;
    }
}

/// <summary>A sealed update or aggregate that cannot be read: names the scheme and what was wrong.</summary>
public sealed class SealedUpdateFormatException(string message) : FormatException(message);
