namespace FedCore.Aggregation.Protection;

/// <summary>
/// The opened aggregate: Σ wᵢ·uᵢ and Σ wᵢ, each value within <see cref="Tolerance"/> of the exact sum (the scheme's
/// decryption error; 0 where the sum is exact up to floating point).
/// </summary>
public sealed record AggregatedUpdate(double[] WeightedSum, double TotalWeight, double Tolerance = 0)
{
    /// <summary>The weighted mean update, Σ wᵢ·uᵢ / Σ wᵢ.</summary>
    public float[] Mean()
    {
        var mean = new float[WeightedSum.Length];
        MeanInto(mean);
        return mean;
    }

    /// <summary>Writes <see cref="Mean"/> into <paramref name="destination"/>, of the sum's length.</summary>
    public void MeanInto(Span<float> destination)
    {
        if (!(TotalWeight > 0))
            throw new InvalidOperationException($"The aggregate's total weight is {TotalWeight}; a mean needs a positive weight.");
        if (destination.Length != WeightedSum.Length)
            throw new ArgumentException($"The mean has {WeightedSum.Length} values, not {destination.Length}.", nameof(destination));
        for (int i = 0; i < destination.Length; i++)
            destination[i] = (float)(WeightedSum[i] / TotalWeight);
    }
}

/// <summary>A sealed update or aggregate that cannot be read: names the scheme and what was wrong.</summary>
public sealed class SealedUpdateFormatException(string message, Exception? inner = null) : FormatException(message, inner);

/// <summary>
/// An opened aggregate that honest seals cannot produce: a value or the total weight beyond the bound every seal
/// enforces. Some update in it was malformed or sealed past its bound; the round must not use it.
/// </summary>
public sealed class ImplausibleAggregateException(string message, int? index = null) : Exception(message)
{
    /// <summary>Position of the first offending value, if a value (not the total weight) is to blame.</summary>
    public int? Index { get; } = index;
}

/// <summary>A participant refused to help decrypt an aggregate it cannot check is the sum of the round's updates.</summary>
public sealed class AggregateRefusedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>An update that the scheme cannot carry, e.g. a value beyond the job's declared bound.</summary>
public sealed class UpdateOutOfBoundsException(string message, int? index = null) : ArgumentException(message)
{
    /// <summary>Position of the offending value in the update vector, if one value is to blame.</summary>
    public int? Index { get; } = index;
}
