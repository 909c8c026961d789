using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Wire;

namespace FedCore.Aggregation.Protection;

/// <summary>
/// Multiparty CKKS (FedCore.Crypto): every sealed update is encrypted under the round's collective public key,
/// the aggregator adds ciphertexts only, and the sum opens only with a decryption share from every participant.
///
/// The weight travels inside the same ciphertext vector, as its last value: participant i encrypts
/// (wᵢ·uᵢ, wᵢ). Inside rather than alongside because the weight is then bound to its update by the same
/// ciphertext and signature, the sum of weights comes out of the same decryption as the weighted sum, and it
/// costs one slot rather than a message. It would also keep an individual sample count from the aggregator, but
/// the hosts of this platform do not rely on that: participants report their counts with their training metrics.
/// </summary>
public sealed class CkksProtection : IUpdateProtection
{
    public const string SchemeName = "ckks";

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
    /// Largest magnitude of any update value (and of the aggregate, since the weights sum to about one). It
    /// fixes the CKKS scale; an update beyond it is refused, never clipped.
    /// </summary>
    public double Bound { get; }

    public string Scheme => SchemeName;

    public bool ProtectsUpdates => true;

    public RoundKeyShare CreateKeyShare(ReadOnlySpan<byte> roundSeed)
    {
        var share = SecretKeyShare.Generate(Parameters, roundSeed);
        return new RoundKeyShare(share.ToBytes(), share.PublicKeyShare.ToBytes());
    }

    public byte[] CombineKeyShares(IReadOnlyList<byte[]> publicShares, byte[]? ownSecret = null)
    {
        var key = Read(() => CollectivePublicKey.Combine(publicShares.Select(s => PublicKeyShare.FromBytes(s, Parameters))), "public-key share");
        if (ownSecret is not null)
        {
            var own = Read(() => SecretKeyShare.FromBytes(ownSecret, Parameters), "secret key share");
            if (!key.ShareIds.Contains(own.ShareId) || !key.CrsSeed.SequenceEqual(own.CrsSeed))
                throw new SealedUpdateFormatException($"{SchemeName}: the round key is not made with this participant's own key share ({own.ShareId}), so others could decrypt under it alone.");
        }
        return key.ToBytes();
    }

    public SealedUpdate Seal(ReadOnlySpan<float> update, double weight, byte[] roundKey)
    {
        if (!(weight > 0) || weight > Bound)
            throw new UpdateOutOfBoundsException($"An update's weight must lie in (0, {Bound}], not {weight}.");
        for (int i = 0; i < update.Length; i++)
        {
            if (!float.IsFinite(update[i]) || Math.Abs(update[i]) > Bound)
                throw new UpdateOutOfBoundsException(
                    $"Update value {update[i]} at index {i} is beyond the job's bound ±{Bound}; raise the bound (it sets the encryption scale) or train with a smaller step.", i);
        }
        var key = Read(() => CollectivePublicKey.FromBytes(roundKey, Parameters), "round key");
        var vector = EncryptedVector.EncryptWeighted(key, update, weight, Bound);
        return new SealedUpdate(vector.WireBuffer, Commitment(vector));
    }

    /// <summary>
    /// What an update's author signs: SHA-256 of the sealed bytes (so the aggregator can show it added exactly those)
    /// and the sketch of its masks (so every participant can check the masks it is asked to decrypt are the sum).
    /// </summary>
    private static byte[] Commitment(EncryptedVector vector) => [.. vector.Sha256(), .. CiphertextSketch.Of(vector).ToBytes()];

    private CiphertextSketch SketchOf(byte[] commitment, string what)
    {
        if (commitment.Length != Sha256Length + CiphertextSketch.WireLength(Parameters))
            throw new SealedUpdateFormatException($"{SchemeName}: {what} has {commitment.Length} bytes, not the {Sha256Length + CiphertextSketch.WireLength(Parameters)} of a commitment.");
        return Read(() => CiphertextSketch.FromBytes(commitment.AsSpan(Sha256Length), Parameters), what);
    }

    private const int Sha256Length = 32;

    public long MaxValuesPerRound(int participants) =>
        NoiseFloodingBudget.MaxDecryptedCiphertexts(Parameters, participants) * Parameters.ValuesPerCiphertext - 1;

    public ISealedAggregate NewAggregate(byte[] roundKey) => new Sum(this, Read(() => CollectivePublicKey.FromBytes(roundKey, Parameters), "round key"));

    public byte[] DecryptionShare(byte[] decryptionInput, byte[] roundKey, byte[] secret, IReadOnlyList<byte[]> commitments)
    {
        var share = Read(() => SecretKeyShare.FromBytes(secret, Parameters), "secret key share");
        var key = Read(() => CollectivePublicKey.FromBytes(roundKey, Parameters), "round key");
        var masks = Read(() => CiphertextMasks.Adopt(decryptionInput, Parameters), "aggregate masks");
        if (commitments.Count == 0)
            throw new AggregateRefusedException($"{SchemeName}: no committed updates, so nothing ties the aggregate to them.");
        // Every decrypted ciphertext leaks a little about the secret through the flooded share (NoiseFlooding.md).
        long budget = NoiseFloodingBudget.MaxDecryptedCiphertexts(Parameters, commitments.Count);
        if (masks.ChunkCount > budget)
            throw new AggregateRefusedException(
                $"{SchemeName}: decrypting {masks.ChunkCount} ciphertexts of a sum of {commitments.Count} updates under one key would spend more than the {NoiseFloodingBudget.DefaultMaxLossBits}-bit flooding budget, which allows {budget}; use a smaller model or fewer participants per job.");
        // No share without evidence that these masks are the sum of the committed updates (see CiphertextSketch).
        CiphertextSketch expected;
        try
        {
            expected = CiphertextSketch.Sum(commitments.Select((c, i) => SketchOf(c, $"commitment #{i}")));
        }
        catch (ArgumentException e)
        {
            throw new AggregateRefusedException($"{SchemeName}: the committed updates do not belong together: {e.Message}", e);
        }
        if (!CiphertextSketch.Of(masks).Matches(expected))
            throw new AggregateRefusedException($"{SchemeName}: the aggregate is not the sum of the {commitments.Count} committed updates (its sketch differs from the sum of theirs).");
        return Read(() => share.CreateDecryptionShare(key, masks).WireBuffer, "decryption share");
    }

    /// <summary>
    /// Every seal enforces 0 &lt; wᵢ ≤ B and |wᵢ·uᵢ| ≤ wᵢ·B, so an honest sum of P updates has 0 &lt; W ≤ P·B and every
    /// |Σ wᵢ·uᵢ| ≤ W·B, up to the decryption error. Anything outside that box came from a malformed update or one sealed
    /// past its bound (a participant that skipped the checks in <see cref="Seal"/>), and would hand the server garbage.
    /// The slack is the decryption tolerance, so an honest round never trips it.
    /// </summary>
    private void CheckPlausible(double[] weightedSum, double weight, int participants, double slack)
    {
        if (!(weight > 0 && weight <= participants * Bound + slack))
            throw new ImplausibleAggregateException(
                $"{SchemeName}: the opened total weight is {weight}, outside (0, {participants * Bound}] for {participants} updates sealed with bound {Bound}; an update in the sum is malformed.");
        double limit = weight * Bound + slack;
        for (int i = 0; i < weightedSum.Length; i++)
        {
            if (!(Math.Abs(weightedSum[i]) <= limit))
                throw new ImplausibleAggregateException(
                    $"{SchemeName}: opened weighted sum {weightedSum[i]} at index {i} is beyond ±{limit} (total weight {weight} × bound {Bound}); an update in the sum is malformed.", i);
        }
    }

    /// <summary>Ten standard deviations of the error in each decrypted value (NoiseFlooding.md): never exceeded in practice.</summary>
    private double DecryptionTolerance(int participants) => 10 * NoiseFloodingBudget.ErrorStandardDeviation(Parameters, participants, Bound);

    private static void Read(Action read, string what) => Read(() =>
    {
        read();
        return true;
    }, what);

    private static T Read<T>(Func<T> read, string what)
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
    /// Checks each sealed update as it arrives (parse, hash, sketch: the costly part, outside the lock) and adds it
    /// into the running sum (<see cref="EncryptedVectorSum"/>); packs only the masks, and opens from the sum's c0.
    /// </summary>
    private sealed class Sum(CkksProtection scheme, CollectivePublicKey key) : ISealedAggregate
    {
        private readonly Lock _lock = new();
        private readonly HashSet<string> _contributors = [];
        private readonly EncryptedVectorSum _sum = new();
        private CiphertextMasks? _masks;

        public int Count
        {
            get
            {
                lock (_lock)
                    return _contributors.Count;
            }
        }

        public byte[] Add(string contributor, byte[] sealedUpdate)
        {
            var vector = Read(() => EncryptedVector.Adopt(sealedUpdate, scheme.Parameters), $"sealed update from {contributor}");
            if (!vector.KeyId.Span.SequenceEqual(key.KeyId.Span))
                throw new SealedUpdateFormatException($"{SchemeName}: the sealed update from {contributor} is encrypted under another round key.");
            var commitment = Commitment(vector);
            lock (_lock)
            {
                if (_masks is not null)
                    throw new InvalidOperationException("The aggregate was already fixed for decryption; no more updates can be added.");
                if (!_contributors.Add(contributor))
                    throw new SealedUpdateFormatException($"{SchemeName}: a second sealed update from {contributor}.");
                try
                {
                    _sum.Add(vector);
                }
                catch (ArgumentException e)
                {
                    _contributors.Remove(contributor);
                    throw new SealedUpdateFormatException($"{SchemeName}: the sealed update from {contributor} does not match the others: {e.Message}", e);
                }
            }
            return commitment;
        }

        /// <summary>The aggregate's masks; fixes the aggregate (nothing can be added afterwards).</summary>
        public byte[] DecryptionInput()
        {
            lock (_lock)
            {
                if (_contributors.Count == 0)
                    throw new InvalidOperationException("Nothing was added.");
                return (_masks ??= _sum.Masks()).WireBuffer;
            }
        }

        public AggregatedUpdate Open(IReadOnlyList<byte[]> shares)
        {
            CiphertextMasks masks;
            lock (_lock)
                masks = _masks ?? throw new InvalidOperationException("The aggregate's decryption input was never taken, so no share can be for it.");
            var decryptionShares = shares.Select((s, k) => Read(() => Crypto.Multiparty.DecryptionShare.Adopt(s, scheme.Parameters), $"decryption share #{k}")).ToList();
            var weightedSum = new double[masks.Length - 1];
            var weight = new double[1];
            Read(() => _sum.Open(key, decryptionShares, weightedSum, weight), "decryption shares");
            double tolerance = scheme.DecryptionTolerance(decryptionShares.Count);
            scheme.CheckPlausible(weightedSum, weight[0], decryptionShares.Count, tolerance);
            return new AggregatedUpdate(weightedSum, weight[0], tolerance);
        }
    }
}
