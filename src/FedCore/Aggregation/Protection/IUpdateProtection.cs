namespace FedCore.Aggregation.Protection;

/// <summary>
/// The one seam through which a participant's model update leaves it, is aggregated, and comes back as a
/// sum. Only an implementation of this interface ever sees a participant's plaintext update: the
/// participant hands it in through <see cref="Seal"/>, and what comes out of <see cref="ISealedAggregate.Open"/> is
/// the weighted sum over all participants of the round.
///
/// The message flow is the multiparty one:
///   participant: CreateKeyShare(round seed)          → secret (kept at home) + public share
///   anyone:      CombineKeyShares(public shares)     → the round key (a participant passes its secret: its share must be in)
///   participant: Seal(update, weight, round key)     → sealed update and the commitment it signs
///   aggregator:  NewAggregate(round key).Add(…)      → sealed aggregate (updates are added as they arrive)
///   participant: DecryptionShare(aggregate.DecryptionInput(), secret, signed commitments) → its share, only if the
///                input is provably the sum of the committed updates
///   aggregator:  aggregate.Open(shares)              → Σ weightᵢ·updateᵢ and Σ weightᵢ
/// Hosts reveal a public key share only once every participant has committed to its own (a signed digest), so that
/// no share is chosen to cancel another's (a rogue key); likewise they send a sealed update only once every participant
/// has committed (a signed digest of its commitment), so that no update is chosen with another in view. A scheme that
/// does not protect updates (<see cref="ProtectsUpdates"/> false) has no keys and no shares: hosts skip those steps.
/// </summary>
public interface IUpdateProtection
{
    /// <summary>Scheme name carried in every sealed update, e.g. "ckks" or "plaintext-simulation".</summary>
    string Scheme { get; }

    /// <summary>False only for the plaintext simulation, which hosts must log as such; it needs no round key and no decryption.</summary>
    bool ProtectsUpdates { get; }

    RoundKeyShare CreateKeyShare(ReadOnlySpan<byte> roundSeed);

    /// <summary>
    /// The round key from every participant's public share. A participant passes its own round secret too: the key is
    /// then refused (<see cref="SealedUpdateFormatException"/>) unless that secret's share is in it, for under a key
    /// without its share others could decrypt its update alone.
    /// </summary>
    byte[] CombineKeyShares(IReadOnlyList<byte[]> publicShares, byte[]? ownSecret = null);

    /// <summary>Encrypts weight·update and the weight; returns the bytes and the commitment its author signs.</summary>
    SealedUpdate Seal(ReadOnlySpan<float> update, double weight, byte[] roundKey);

    /// <summary>
    /// The most update values (the weight not counted) one round of <paramref name="participants"/> can carry: for
    /// ckks, what one key may decrypt within the flooding budget (a participant refuses a share beyond it).
    /// </summary>
    long MaxValuesPerRound(int participants);

    /// <summary>An empty aggregate for one round key, to which sealed updates are added one by one, as they arrive.</summary>
    ISealedAggregate NewAggregate(byte[] roundKey);

    /// <summary>
    /// Participant: its share of the decryption of <paramref name="decryptionInput"/> — refused (<see cref="AggregateRefusedException"/>)
    /// unless the input is the sum of the updates behind <paramref name="commitments"/> (each already checked as signed by its author).
    /// </summary>
    byte[] DecryptionShare(byte[] decryptionInput, byte[] roundKey, byte[] secret, IReadOnlyList<byte[]> commitments);
}

/// <summary>
/// A running sum of sealed updates under one round key. <see cref="Add"/> may be called from several threads at once;
/// the first update fixes the length, and a malformed one is refused without changing the sum.
/// </summary>
public interface ISealedAggregate
{
    int Count { get; }

    /// <summary>Adds one contributor's sealed update; returns the commitment its author should have signed.</summary>
    byte[] Add(string contributor, byte[] sealedUpdate);

    /// <summary>What every participant is shown to give its decryption share (empty where a scheme needs none).</summary>
    byte[] DecryptionInput();

    /// <summary>The opened sum, from one decryption share per participant of the round key.</summary>
    AggregatedUpdate Open(IReadOnlyList<byte[]> shares);
}

public static class UpdateProtectionExtensions
{
    /// <summary>Adds a batch of sealed updates in one go (the streaming form is <see cref="IUpdateProtection.NewAggregate"/>).</summary>
    public static ISealedAggregate Aggregate(this IUpdateProtection protection, byte[] roundKey, IReadOnlyList<byte[]> sealedUpdates)
    {
        if (sealedUpdates.Count == 0)
            throw new ArgumentException("Nothing to add: no sealed updates.", nameof(sealedUpdates));
        var aggregate = protection.NewAggregate(roundKey);
        for (int i = 0; i < sealedUpdates.Count; i++)
            aggregate.Add($"#{i}", sealedUpdates[i]);
        return aggregate;
    }
}

/// <summary>A sealed update and the commitment to it (what its author signs).</summary>
public sealed record SealedUpdate(byte[] Bytes, byte[] Commitment);

/// <summary>A participant's part of a round key: <see cref="Secret"/> never leaves the participant's country.</summary>
public sealed record RoundKeyShare(byte[] Secret, byte[] PublicShare);

/// <summary>
/// The opened aggregate: Σ wᵢ·uᵢ and Σ wᵢ, each value within <see cref="Tolerance"/> of the exact sum (the scheme's
/// decryption error; 0 where the sum is exact up to floating point).
/// </summary>
public sealed record AggregatedUpdate(double[] WeightedSum, double TotalWeight, double Tolerance = 0)
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

/// <summary>A participant refused to help decrypt an aggregate that does not match the round's committed updates.</summary>
public sealed class AggregateRefusedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>An update that the scheme cannot carry, e.g. a value beyond the job's declared bound.</summary>
public sealed class UpdateOutOfBoundsException(string message, int? index = null) : ArgumentException(message)
{
    /// <summary>Position of the offending value in the update vector, if one value is to blame.</summary>
    public int? Index { get; } = index;
}
