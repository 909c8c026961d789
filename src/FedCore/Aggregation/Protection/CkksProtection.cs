using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Wire;

namespace FedCore.Aggregation.Protection;

/// <summary>
/// Multiparty CKKS (FedCore.Crypto) as the round protocol uses it (FedCore/Rounds/README.md): a participant seals its
/// weighted update under the round's collective key with its pairwise masks; the aggregator adds ciphertexts only, shows
/// the participants the sum's masks, adds their decryption shares as they arrive and opens the sum.
///
/// The weight travels inside the same ciphertext vector, as its last value: participant i encrypts (wᵢ·uᵢ, wᵢ). Inside
/// rather than alongside because the weight is then bound to its update by the same ciphertext and signature, and the
/// sum of weights comes out of the same decryption as the weighted sum, for one slot rather than a message. (It does not
/// keep sample counts from the aggregator: participants report them with their training metrics.)
/// </summary>
public sealed class CkksProtection
{
    public const string SchemeName = "ckks";

    /// <summary>What protects a round's updates, for records and reports (FedCore/Rounds/README.md describes the protocol).</summary>
    public static string Description =>
        $"multiparty RNS-CKKS, {CkksParameters.Default}, 128-bit security (HomomorphicEncryption.org standard, ternary secret), " +
        "a fresh collective key per round, pairwise one-time masks, decryption shares with noise flooding";

    public CkksProtection(CkksParameters parameters, double bound)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(bound > 0) || !double.IsFinite(bound))
            throw new ArgumentOutOfRangeException(nameof(bound), bound, "The update bound must be a positive number.");
        Parameters = parameters;
        Bound = bound;
    }

    public CkksParameters Parameters { get; }

    /// <summary>
    /// Largest magnitude of any update value (and of the aggregate, since the weights sum to about one). It fixes the CKKS
    /// scale; an update beyond it is refused, never clipped.
    /// </summary>
    public double Bound { get; }

    /// <summary>The scale every sealed update, part and opened sum of this scheme carries (<see cref="CkksParameters.ScaleForBound"/>).</summary>
    public double Scale => Parameters.ScaleForBound(Bound);

    /// <summary>
    /// The most update values (the weight not counted) one round of <paramref name="participants"/> can carry: what one key
    /// may decrypt within the flooding budget (a participant refuses a share beyond it).
    /// </summary>
    public long MaxValuesPerRound(int participants) =>
        NoiseFloodingBudget.MaxDecryptedCiphertexts(Parameters, participants) * Parameters.ValuesPerCiphertext - 1;

    /// <summary>
    /// Brings every value of <paramref name="update"/> within ±<see cref="Bound"/> (a value that is not finite becomes 0)
    /// and returns how many it changed. A participant clips rather than refuses: a refusal leaves its country and, asked
    /// again with other settings, would tell the job whether some value of its update exceeds a threshold.
    /// </summary>
    public int Clip(Span<float> update)
    {
        int clipped = 0;
        float bound = (float)Bound;
        for (int i = 0; i < update.Length; i++)
        {
            float v = update[i];
            float c = !float.IsFinite(v) ? 0 : Math.Clamp(v, -bound, bound);
            if (c != v)
            {
                update[i] = c;
                clipped++;
            }
        }
        return clipped;
    }

    /// <summary>
    /// Encrypts weight·update and the weight under <paramref name="key"/>, masked with <paramref name="masks"/>. The weight
    /// lies in (0, min(1, bound)] (a participant's samples over a normaliser at least every member's count) and every value
    /// within ±bound (<see cref="Clip"/>), so that weight·value is within the bound the encryption is scaled for.
    /// </summary>
    public EncryptedVector Seal(ReadOnlySpan<float> update, double weight, CollectivePublicKey key, PairwiseMasks? masks)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!(weight > 0) || weight > Math.Min(1, Bound))
            throw new UpdateOutOfBoundsException($"An update's weight must lie in (0, {Math.Min(1, Bound)}], not {weight}: the weight normaliser is below the participant's sample count.");
        for (int i = 0; i < update.Length; i++)
        {
            // Names no value: the participant clips before it seals, so this is a host's bug, and messages leave the country.
            if (!float.IsFinite(update[i]) || Math.Abs(update[i]) > Bound)
                throw new UpdateOutOfBoundsException($"An update value is beyond the job's bound ±{Bound} (clip it first).", i);
        }
        return EncryptedVector.EncryptWeighted(key, update, weight, Bound, masks);
    }

    /// <summary>
    /// A member's part of the opening of <paramref name="masks"/>: its own <paramref name="sealedUpdate"/>'s c0 plus its
    /// decryption share (FedCore/Rounds/README.md, steps 5–6). Refused (<see cref="AggregateRefusedException"/>) when decrypting
    /// that many ciphertexts of a sum of <paramref name="participants"/> under one key would spend more than the flooding
    /// budget (NoiseFlooding.md). Whether the masks are the sum is the protocol's check: the part is made at step 5 and
    /// released only once step 6 found that they are.
    /// </summary>
    public OpenedPlaintext Part(EncryptedVector sealedUpdate, SecretKeyShare secret, CollectivePublicKey key, CiphertextMasks masks, int participants)
    {
        ArgumentNullException.ThrowIfNull(secret);
        RequireWithinBudget(masks, participants);
        return Read(() => OpenedPlaintext.Part(sealedUpdate, secret, key, masks), "part of the opening");
    }

    private void RequireWithinBudget(CiphertextMasks masks, int participants)
    {
        ArgumentNullException.ThrowIfNull(masks);
        long budget = NoiseFloodingBudget.MaxDecryptedCiphertexts(Parameters, participants);
        if (masks.ChunkCount > budget)
            throw new AggregateRefusedException(
                $"{SchemeName}: decrypting {masks.ChunkCount} ciphertexts of a sum of {participants} updates under one key would spend more than the {NoiseFloodingBudget.DefaultMaxLossBits}-bit flooding budget, which allows {budget}; use a smaller model or fewer participants per job.");
    }

    /// <summary>
    /// An empty aggregate for one round key, to which sealed updates are added one by one, as they arrive; with
    /// <paramref name="sealedLength"/>, only sealed updates of that many values.
    /// </summary>
    public Aggregate NewAggregate(CollectivePublicKey key, int? sealedLength = null) => new(this, key, sealedLength);

    /// <summary>The values a member seals for an update of <paramref name="updateLength"/>: the update and its weight (<see cref="Seal"/>).</summary>
    public static int SealedLength(int updateLength) => updateLength + 1;

    /// <summary>Reads a wire object of this scheme, turning a malformed one into a <see cref="SealedUpdateFormatException"/> naming <paramref name="what"/>.</summary>
    public static T Read<T>(Func<T> read, string what)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is HeFormatException or ArgumentException)
        {
            // Malformed bytes, or well-formed ones that do not belong together (another key, bound or length).
            throw new SealedUpdateFormatException($"{SchemeName}: {what}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Every seal enforces 0 &lt; wᵢ ≤ B and |wᵢ·uᵢ| ≤ wᵢ·B, so an honest sum of P updates has 0 &lt; W ≤ P·B and every
    /// |Σ wᵢ·uᵢ| ≤ W·B, up to the decryption error. Anything outside that box came from a malformed update or one sealed
    /// past its bound (a participant that skipped the checks in <see cref="Seal"/>), and would hand the server garbage.
    /// The slack is the decryption tolerance (on the sums and on the weight), so an honest round never trips it, even with
    /// every value clipped to the bound.
    /// </summary>
    private void CheckPlausible(double[] weightedSum, double weight, int participants, double slack)
    {
        if (!(weight > 0 && weight <= participants * Bound + slack))
            throw new ImplausibleAggregateException(
                $"{SchemeName}: the opened total weight is {weight}, outside (0, {participants * Bound}] for {participants} updates sealed with bound {Bound}; an update in the sum is malformed.");
        // The opened weight carries the decryption error too, multiplied by the bound here.
        double limit = (weight + slack) * Bound + slack;
        for (int i = 0; i < weightedSum.Length; i++)
        {
            if (!(Math.Abs(weightedSum[i]) <= limit))
                throw new ImplausibleAggregateException(
                    $"{SchemeName}: opened weighted sum {weightedSum[i]} at index {i} is beyond ±{limit} (total weight {weight} × bound {Bound}); an update in the sum is malformed.", i);
        }
    }

    /// <summary>Ten standard deviations of the error in each decrypted value (NoiseFlooding.md): never exceeded in practice.</summary>
    private double DecryptionTolerance(int participants) => 10 * NoiseFloodingBudget.ErrorStandardDeviation(Parameters, participants, Bound);

    /// <summary>
    /// The aggregator's running sum of one round's masks (<see cref="CiphertextMasksSum"/>): sealed updates are checked and
    /// their masks added as they arrive (thread-safe), and the masks are taken once, for every member to give its share
    /// of. The opening is the sum of the members' parts, each its own c0 plus its share (FedCore/Rounds/README.md, steps
    /// 5–6b), so no c0 is added here.
    /// </summary>
    public sealed class Aggregate(CkksProtection scheme, CollectivePublicKey key, int? sealedLength = null)
    {
        private readonly Lock _lock = new();
        private readonly HashSet<string> _contributors = [];
        private readonly CiphertextMasksSum _sum = new();
        private bool _fixed;

        public CollectivePublicKey Key { get; } = key;

        /// <summary>
        /// Adds one contributor's sealed update as it is sent: its masks (<see cref="CiphertextMasks.Of"/>; its c0 halves
        /// are not sent). Malformed masks, masks under another key or of another length change nothing.
        /// </summary>
        public void Add(string contributor, byte[] sealedMasks)
        {
            var masks = Read(() => CiphertextMasks.Adopt(sealedMasks, scheme.Parameters), $"sealed update from {contributor}");
            if (!masks.KeyId.Span.SequenceEqual(Key.KeyId.Span))
                throw new SealedUpdateFormatException($"{SchemeName}: the sealed update from {contributor} is encrypted under another round key.");
            if (sealedLength is { } expected && masks.Length != expected)
                throw new SealedUpdateFormatException($"{SchemeName}: the sealed update from {contributor} carries {masks.Length} values; the round's carry {expected}.");
            lock (_lock)
            {
                if (_fixed)
                    throw new InvalidOperationException("The aggregate was already fixed for decryption; no more updates can be added.");
                if (!_contributors.Add(contributor))
                    throw new SealedUpdateFormatException($"{SchemeName}: a second sealed update from {contributor}.");
            }
            try
            {
                _sum.Add(masks);
            }
            catch (ArgumentException e)
            {
                lock (_lock)
                    _contributors.Remove(contributor);
                throw new SealedUpdateFormatException($"{SchemeName}: the sealed update from {contributor} does not match the others: {e.Message}", e);
            }
        }

        /// <summary>The aggregate's masks (what every participant is shown to give its share); fixes the aggregate.</summary>
        public CiphertextMasks Masks()
        {
            lock (_lock)
            {
                if (_contributors.Count == 0)
                    throw new InvalidOperationException("Nothing was added.");
                _fixed = true;
                return _sum.Masks();
            }
        }
    }

    /// <summary>
    /// Σ wᵢ·uᵢ and Σ wᵢ decoded from an opened plaintext of a sum of <paramref name="participants"/> updates under this
    /// scheme, refused (<see cref="ImplausibleAggregateException"/>) if honest seals could not have made it. The job and every
    /// member that checked the opening decode it here alike, so they read the same values.
    /// </summary>
    public AggregatedUpdate Open(OpenedPlaintext opened, int participants)
    {
        ArgumentNullException.ThrowIfNull(opened);
        if (opened.Parameters != Parameters || opened.Scale != Scale || opened.Length < 2)
            throw new SealedUpdateFormatException($"{SchemeName}: the opened sum is not of this scheme's parameters and bound, or carries no values.");
        var weightedSum = new double[opened.Length - 1];
        var weight = new double[1];
        opened.Decode(weightedSum, weight);
        double tolerance = DecryptionTolerance(participants);
        CheckPlausible(weightedSum, weight[0], participants, tolerance);
        return new AggregatedUpdate(weightedSum, weight[0], tolerance);
    }
}
