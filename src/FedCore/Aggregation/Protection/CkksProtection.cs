using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Wire;

namespace FedCore.Aggregation.Protection;

/// <summary>
/// Multiparty CKKS (FedCore.Crypto): every sealed update is encrypted under the round's collective public key,
/// the aggregator adds ciphertexts only, and the sum opens only with a decryption share from every participant.
///
/// The weight travels inside the same ciphertext vector, as its last value: participant i encrypts
/// (wᵢ·uᵢ, wᵢ). Inside rather than alongside because then the aggregator never learns an individual sample
/// count (it reveals a dataset's size and, with sampling, who was in a round), the weight is bound to its
/// update by the same ciphertext and signature, and it costs one slot rather than a message.
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

    public byte[] CombineKeyShares(IReadOnlyList<byte[]> publicShares) =>
        Read(() => CollectivePublicKey.Combine(publicShares.Select(s => PublicKeyShare.FromBytes(s, Parameters))).ToBytes(), "public-key share");

    public SealedUpdate Seal(ReadOnlySpan<float> update, double weight, byte[] roundKey)
    {
        if (!(weight > 0) || weight > Bound)
            throw new UpdateOutOfBoundsException($"An update's weight must lie in (0, {Bound}], not {weight}.");
        var key = Read(() => CollectivePublicKey.FromBytes(roundKey, Parameters), "round key");
        var values = new double[update.Length + 1];
        for (int i = 0; i < update.Length; i++)
        {
            double v = update[i];
            if (!double.IsFinite(v) || Math.Abs(v) > Bound)
                throw new UpdateOutOfBoundsException(
                    $"Update value {v} at index {i} is beyond the job's bound ±{Bound}; raise the bound (it sets the encryption scale) or train with a smaller step.", i);
            values[i] = weight * v;
        }
        values[^1] = weight;
        var vector = EncryptedVector.Encrypt(key, values, Bound);
        return new SealedUpdate(vector.ToBytes(), CiphertextCommitment.Commit(vector).Root);
    }

    /// <summary>Blocks a participant opens at random before it helps decrypt: a sum that is wrong on a fraction d of the blocks passes with (1 − d)^40.</summary>
    public const int ChallengedBlocks = 40;

    public int[] ChooseChallenge(int updateLength) =>
        AggregateVerification.ChooseLeaves(CiphertextCommitment.LeafCountFor(Parameters, updateLength + 1), ChallengedBlocks);

    public ISealedAggregate NewAggregate() => new Sum(Parameters);

    public byte[] DecryptionShare(byte[] aggregate, byte[] roundKey, byte[] secret, AggregateEvidence evidence)
    {
        var share = Read(() => SecretKeyShare.FromBytes(secret, Parameters), "secret key share");
        var key = Read(() => CollectivePublicKey.FromBytes(roundKey, Parameters), "round key");
        var vector = Read(() => EncryptedVector.FromBytes(aggregate, Parameters), "aggregate");
        // No share without evidence that this is the sum of the committed updates (see CiphertextCommitment).
        if (evidence.Challenge.Length == 0)
            throw new AggregateRefusedException($"{SchemeName}: no blocks were challenged, so nothing ties the aggregate to the committed updates.");
        var openings = evidence.Openings.Select((o, i) => Read(() => CommitmentOpenings.FromBytes(o, Parameters), $"openings of update #{i}")).ToList();
        try
        {
            AggregateVerification.Verify(vector, evidence.Commitments, evidence.Challenge, openings);
        }
        catch (AggregateVerificationException e)
        {
            throw new AggregateRefusedException($"{SchemeName}: {e.Message}", e);
        }
        return share.CreateDecryptionShare(key, vector).ToBytes();
    }

    public AggregatedUpdate Open(byte[] aggregate, byte[] roundKey, IReadOnlyList<byte[]> shares)
    {
        var key = Read(() => CollectivePublicKey.FromBytes(roundKey, Parameters), "round key");
        var vector = Read(() => EncryptedVector.FromBytes(aggregate, Parameters), "aggregate");
        var decryptionShares = shares.Select((s, k) => Read(() => Crypto.Multiparty.DecryptionShare.FromBytes(s, Parameters), $"decryption share #{k}")).ToList();
        var values = JointDecryption.Combine(key, vector, decryptionShares);
        return new AggregatedUpdate(values[..^1], values[^1]);
    }

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
    /// Parses and commits to (the costly part, outside the lock) and checks each ciphertext as it arrives; the
    /// additions happen once, in place, when the sum is asked for. Keeps each contributor's commitment to open it.
    /// </summary>
    private sealed class Sum(CkksParameters parameters) : ISealedAggregate
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, (EncryptedVector Vector, CiphertextCommitment Commitment)> _updates = [];
        private EncryptedVector? _first;

        public int Count
        {
            get
            {
                lock (_lock)
                    return _updates.Count;
            }
        }

        public byte[] Add(string contributor, byte[] sealedUpdate)
        {
            var vector = Read(() => EncryptedVector.FromBytes(sealedUpdate, parameters), $"sealed update from {contributor}");
            var commitment = CiphertextCommitment.Commit(vector);
            lock (_lock)
            {
                if (_updates.ContainsKey(contributor))
                    throw new SealedUpdateFormatException($"{SchemeName}: a second sealed update from {contributor}.");
                // Checked on arrival: an update that does not belong with the others is refused at once.
                if (_first is not null && Mismatch(_first, vector) is { } reason)
                    throw new SealedUpdateFormatException($"{SchemeName}: the sealed update from {contributor} does not match the others: {reason}.");
                _first ??= vector;
                _updates[contributor] = (vector, commitment);
            }
            return commitment.Root;
        }

        public byte[] Open(string contributor, int[] challenge)
        {
            CiphertextCommitment commitment;
            lock (_lock)
            {
                if (!_updates.TryGetValue(contributor, out var update))
                    throw new ArgumentException($"No sealed update from {contributor} was added.", nameof(contributor));
                commitment = update.Commitment;
            }
            var openings = challenge.Select(leaf => leaf >= 0 && leaf < commitment.LeafCount
                ? commitment.Open(leaf)
                : throw new ArgumentOutOfRangeException(nameof(challenge), leaf, $"The commitment has {commitment.LeafCount} blocks.")).ToList();
            return CommitmentOpenings.ToBytes(parameters, openings);
        }

        private static string? Mismatch(EncryptedVector first, EncryptedVector other) =>
            !other.KeyId.Span.SequenceEqual(first.KeyId.Span) ? "it is encrypted under another round key"
            : other.Length != first.Length ? $"it carries {other.Length} values, not {first.Length}"
            : other.Scale != first.Scale ? "it was encrypted at another scale (another update bound)"
            : other.Parameters != first.Parameters ? $"it uses parameter set {other.Parameters.Name}, not {first.Parameters.Name}"
            : null;

        public byte[] ToBytes()
        {
            lock (_lock)
            {
                if (_updates.Count == 0)
                    throw new InvalidOperationException("Nothing was added.");
                return Read(() => EncryptedVector.Sum(_updates.Values.Select(u => u.Vector)).ToBytes(), "sealed updates");
            }
        }
    }
}
