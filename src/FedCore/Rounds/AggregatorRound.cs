using System.Security.Cryptography;
using FedCore.Aggregation.Integrity;
using FedCore.Aggregation.Protection;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;

namespace FedCore.Rounds;

/// <summary>
/// The job's side of one round (README.md next to this file): it builds each step's request from the replies to the
/// previous one and checks every reply, naming the participant at fault. It holds no secret and cannot decrypt anything
/// but the sum: its checks catch honest mistakes and name cheaters early; the participants' checks are what protect them.
/// Replies may be accepted from several threads at once; each step's request is built once all its replies are in.
/// </summary>
public sealed class AggregatorRound
{
    private readonly Lock _lock = new();
    private readonly VerifyingKeys _keys;
    private readonly CkksProtection? _ckks;
    private readonly PlaintextSimulation.Aggregate? _plain;
    private readonly byte[] _setDigest;
    private readonly Dictionary<string, Step> _steps = [];

    private readonly Dictionary<string, byte[]> _statements = [];
    private readonly Dictionary<string, byte[]> _publicShares = [];
    private CollectivePublicKey? _key;
    private byte[]? _keyAcceptance, _planDigest;
    private CkksProtection.Aggregate? _sum;
    private CiphertextMasks? _masks;
    private byte[]? _aggregateChallenge;
    private readonly OpenedPlaintextSum _parts = new();
    private OpenedPlaintext? _opened;
    private byte[]? _openedDigest, _openingChallenge;
    private long[]? _positions;
    private readonly int? _sealedLength;
    private byte[]? _resumedKeyId;

    /// <param name="participants">The round's members (the job's pinned parties that take part), any order.</param>
    /// <param name="participantKeys">Each member's signing public key, as the job pinned them.</param>
    /// <param name="sealedLength">
    /// The values every member seals, its weight included (<see cref="CkksProtection.SealedLength"/>): sealed masks of
    /// another length are refused in their sender's name. Without it the first to arrive sets the length, and a colluder's
    /// of another length, sent first, would get the honest members' masks refused in theirs (branch review/c0home).
    /// </param>
    public AggregatorRound(string jobId, int round, IEnumerable<string> participants, IReadOnlyDictionary<string, byte[]> participantKeys, RoundProtection protection,
        int? sealedLength = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        ArgumentNullException.ThrowIfNull(protection);
        JobId = jobId;
        Round = round;
        Participants = participants.Order(StringComparer.Ordinal).ToList();
        if (Participants.Distinct().Count() != Participants.Count)
            throw new ArgumentException("A participant is listed twice.", nameof(participants));
        _keys = new(Participants.ToDictionary(p => p, p => participantKeys.TryGetValue(p, out var key) ? key
            : throw new ArgumentException($"No signing key for {p}.", nameof(participantKeys)), StringComparer.Ordinal));
        Protection = protection;
        if (protection.IsSimulation)
            _plain = new PlaintextSimulation.Aggregate();
        else
            _ckks = new CkksProtection(CkksParameters.Default, protection.UpdateBound);
        _setDigest = RoundChallenges.SetDigest(jobId, round, Participants);
        _sealedLength = sealedLength;
    }

    public string JobId { get; }

    public int Round { get; }

    /// <summary>The round's members, in ordinal order.</summary>
    public IReadOnlyList<string> Participants { get; }

    public RoundProtection Protection { get; }

    // ---- Step 1 -------------------------------------------------------------------------------------------------

    public KeyRequest KeyRequest() => new(JobId, Round, Participants);

    public void AcceptCommitment(SignedMessage commitment) => Accept(RoundPurpose.KeyCommitment, commitment);

    public KeyRevealRequest RevealRequest() => new(JobId, Round, All(RoundPurpose.KeyCommitment));

    // ---- Step 2 -------------------------------------------------------------------------------------------------

    /// <summary>A member's statement and public share: the statement must be the one committed to, for this round, naming this share.</summary>
    public void AcceptReveal(KeyReveal reveal)
    {
        string who = reveal.Statement.ParticipantId;
        Accept(RoundPurpose.KeyStatement, reveal.Statement);
        byte[] statement = reveal.Statement.Payload;
        bool matches;
        lock (_lock)
            matches = _steps[RoundPurpose.KeyCommitment].Payloads.TryGetValue(who, out var committed)
                && SHA256.HashData(statement).AsSpan().SequenceEqual(committed);
        if (!matches)
            throw Rejected($"the key statement of {who} is not the one it committed to");
        if (statement.Length < 64 || !statement.AsSpan(0, 32).SequenceEqual(_setDigest)
            || !statement.AsSpan(32, 32).SequenceEqual(SHA256.HashData(reveal.PublicShare)))
            throw Rejected($"the key statement of {who} is not for this round's members, or does not name the public share it sent");
        lock (_lock)
        {
            _statements[who] = statement;
            _publicShares[who] = reveal.PublicShare;
        }
    }

    /// <summary>Every member's statement and public share, and the round's plan: each member sums the round key itself.</summary>
    public KeyCheckRequest KeyCheckRequest(RoundPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var statements = All(RoundPurpose.KeyStatement);
        lock (_lock)
        {
            if (_key is null)
            {
                var shares = Participants.Select(p => Read(() => PublicKeyShare.FromBytes(_publicShares[p], Parameters), $"the public key share of {p}"));
                _key = Read(() => CollectivePublicKey.Combine(shares), "the members' public key shares");
                _planDigest = plan.Digest;
                _keyAcceptance = RoundChallenges.KeyAcceptance(_setDigest, _key.ToBytes(), RoundChallenges.StatementsDigest(Participants, _statements), plan.Digest);
            }
            else if (!_planDigest.AsSpan().SequenceEqual(plan.Digest))
                throw new InvalidOperationException("A round has one plan: the key check request was made for another.");
            return new KeyCheckRequest(JobId, Round, statements, [.. Participants.Select(p => _publicShares[p])], _planDigest!);
        }
    }

    // ---- Step 3 -------------------------------------------------------------------------------------------------

    /// <summary>A member's key acceptance: it must be of this round's key, statements and plan.</summary>
    public void AcceptKeyAcceptance(SignedMessage acceptance)
    {
        Accept(RoundPurpose.KeyAcceptance, acceptance, allowCopies: true);
        byte[] expected;
        lock (_lock)
            expected = _keyAcceptance ?? throw new InvalidOperationException("The key check request was not made yet.");
        if (!acceptance.Payload.AsSpan().SequenceEqual(expected))
            throw Rejected($"{acceptance.ParticipantId} accepted another round key, other statements or another plan");
    }

    public SealRequest SealRequest() => new(JobId, Round, All(RoundPurpose.KeyAcceptance));

    /// <summary>The round key (after <see cref="KeyCheckRequest"/>), under which the members seal.</summary>
    public CollectivePublicKey RoundKey => _key ?? throw new InvalidOperationException("The round key was not combined yet.");

    // ---- Step 4 -------------------------------------------------------------------------------------------------

    /// <summary>A member's sealed update: it must match its signed commitment and add to the others (or, in the simulation, be readable).</summary>
    public void AcceptSealed(Sealed sealedUpdate)
    {
        string who = sealedUpdate.Commitment.ParticipantId;
        if (!SHA256.HashData(sealedUpdate.SealedUpdate).AsSpan().SequenceEqual(sealedUpdate.Commitment.Payload))
            throw Rejected($"the update from {who} does not match the commitment it signed");
        Accept(RoundPurpose.Update, sealedUpdate.Commitment);
        try
        {
            if (_plain is not null)
            {
                _plain.Add(who, sealedUpdate.SealedUpdate);
                return;
            }
            CkksProtection.Aggregate sum;
            lock (_lock)
                sum = _sum ??= _ckks!.NewAggregate(RoundKey, _sealedLength);
            sum.Add(who, sealedUpdate.SealedUpdate);
        }
        catch (SealedUpdateFormatException e)
        {
            throw Rejected(e.Message);
        }
    }

    /// <summary>The aggregate's masks and every member's signed commitment; fixes the aggregate.</summary>
    public AggregateCheckRequest AggregateCheckRequest()
    {
        var commitments = All(RoundPurpose.Update);
        lock (_lock)
        {
            if (_masks is null)
            {
                _masks = _sum!.Masks();
                _aggregateChallenge = RoundChallenges.AggregateChallengeOfDigest(_setDigest, _masks.Digest, Participants,
                    commitments.ToDictionary(c => c.ParticipantId, c => c.Payload));
            }
            return new AggregateCheckRequest(JobId, Round, _masks.WireBuffer, commitments);
        }
    }

    // ---- Step 5 -------------------------------------------------------------------------------------------------

    public void AcceptAggregateFingerprint(SignedMessage fingerprint)
    {
        Accept(RoundPurpose.AggregateFingerprint, fingerprint);
        var parsed = Read(() => LinearFingerprint.FromBytes(fingerprint.Payload, Parameters), $"the fingerprint of {fingerprint.ParticipantId}");
        if (!parsed.Challenge.SequenceEqual(_aggregateChallenge) || parsed.ModulusCount != 1 || parsed.Coefficients != (long)_masks!.ChunkCount * Parameters.RingDimension)
            throw Rejected($"the fingerprint of {fingerprint.ParticipantId} is for another aggregate");
    }

    /// <summary>
    /// Every member's signed fingerprint, once they add up to the aggregate's: otherwise some member signed a fingerprint
    /// that is not of its update, and every honest participant would refuse anyway.
    /// </summary>
    public DecryptRequest DecryptRequest()
    {
        var fingerprints = All(RoundPurpose.AggregateFingerprint);
        var sum = LinearFingerprint.Sum(fingerprints.Select(f => LinearFingerprint.FromBytes(f.Payload, Parameters)));
        if (!LinearFingerprint.OfMasks(_masks!, _aggregateChallenge!).Matches(sum))
            throw Rejected("the members' fingerprints do not add up to the aggregate's: a member's fingerprint is not of the update it sent");
        return new DecryptRequest(JobId, Round, fingerprints);
    }

    // ---- Step 6 -------------------------------------------------------------------------------------------------

    /// <summary>A member's commitment to its part of the opening (a Merkle root and a nonce's hash).</summary>
    public void AcceptPartCommitment(SignedMessage commitment)
    {
        Accept(RoundPurpose.PartCommitment, commitment);
        if (commitment.Payload.Length != OpeningSpotCheck.CommitmentLength)
            throw Rejected($"the part commitment of {commitment.ParticipantId} is not a Merkle root and a nonce's hash");
    }

    /// <summary>Every member's part commitment: what each member reveals its part against.</summary>
    public PartRevealRequest PartRevealRequest() => new(JobId, Round, All(RoundPurpose.PartCommitment));

    /// <summary>
    /// Takes up a round whose part commitments were all in before the job stopped (FedCore/Rounds/README.md, "Dropouts"):
    /// the members reveal the parts they stored, and the opening goes on from step 6b for <paramref name="plan"/>.
    /// </summary>
    /// <param name="roundKeyId">The round key's id, stored with the commitments, which every part must be under (null for a job stored before it was kept).</param>
    public void Resume(RoundPlan plan, IEnumerable<SignedMessage> partCommitments, byte[]? roundKeyId)
    {
        ArgumentNullException.ThrowIfNull(plan);
        lock (_lock)
            (_planDigest, _resumedKeyId) = (plan.Digest, roundKeyId);
        foreach (var commitment in partCommitments)
            AcceptPartCommitment(commitment);
    }

    /// <summary>
    /// A member's part (c0ᵢ + hᵢ): the one its commitment's Merkle root names, with the round's header. The root covers the
    /// coefficients only, so the header (key id, length, scale) is checked against the round, not against the first part
    /// to arrive: a colluder's part under another header, sent first, would otherwise get every honest part refused in
    /// its member's name (branch review/perf).
    /// </summary>
    public void AcceptPart(SignedMessage part)
    {
        string who = part.ParticipantId;
        Accept(RoundPurpose.OpeningPart, part);
        // Its payload, not a copy (7.6 MB per 10⁶ values): only added into the sum, never kept.
        var parsed = Read(() => OpenedPlaintext.Adopt(part.Payload, Parameters), $"the part of {who}");
        if (!OpeningSpotCheck.Tree(parsed).Root.AsSpan().SequenceEqual(PartCommitment(who).AsSpan(0, 32)))
            throw Rejected($"the part {who} revealed is not the one it committed to");
        if (parsed.Scale != _ckks!.Scale)
            throw Rejected($"the part of {who} is not at the round's scale");
        // Taken up again (Resume), the round has no masks but the length the job names and the key id it stored: held to
        // the first part's header instead, a colluder's part revealed first got an honest part refused (review/grains-colluder).
        int? length = _masks?.Length ?? _sealedLength;
        byte[]? keyId = _masks?.KeyId.ToArray() ?? _resumedKeyId;
        if ((length is { } l && parsed.Length != l) || (keyId is not null && !parsed.KeyId.Span.SequenceEqual(keyId)))
            throw Rejected($"the part of {who} is not of the length and round key of the round's sealed updates");
        Read(() => { _parts.Add(parsed); return true; }, $"the part of {who} or one revealed before it");
    }

    // ---- Step 7 -------------------------------------------------------------------------------------------------

    /// <summary>The opened plaintext's SHA-256, once every part is in; fixes the opened plaintext.</summary>
    public OpeningCheckRequest OpeningCheckRequest()
    {
        Opened();
        return new OpeningCheckRequest(JobId, Round, _openedDigest!);
    }

    /// <summary>A member's nonce, the one its commitment names, and its fingerprint at this round's opening challenge.</summary>
    public void AcceptOpeningFingerprint(SignedMessage answer)
    {
        string who = answer.ParticipantId;
        Accept(RoundPurpose.OpeningFingerprint, answer);
        var opened = Opened();
        if (OpeningSpotCheck.SplitNonce(answer.Payload) is not { } split
            || !SHA256.HashData(split.Nonce).AsSpan().SequenceEqual(PartCommitment(who).AsSpan(32)))
            throw Rejected($"the nonce {who} revealed is not the one its part commitment names");
        var parsed = Read(() => LinearFingerprint.FromBytes(split.Fingerprint, Parameters), $"the opening fingerprint of {who}");
        if (!parsed.Challenge.SequenceEqual(_openingChallenge) || parsed.ModulusCount != 1 || parsed.Coefficients != (long)opened.ChunkCount * Parameters.RingDimension)
            throw Rejected($"the opening fingerprint of {who} is for another plaintext, plan or set of part commitments");
    }

    /// <summary>Every member's nonce and fingerprint: from the nonces every member draws the spot checks it opens.</summary>
    public SpotCheckRequest SpotCheckRequest()
    {
        var answers = All(RoundPurpose.OpeningFingerprint);
        lock (_lock)
            _positions ??= OpeningSpotCheck.Positions(_openingChallenge!, answers.Select(a => OpeningSpotCheck.SplitNonce(a.Payload)!.Value.Nonce), OpeningSpotCheck.LeafCount(_opened!));
        return new SpotCheckRequest(JobId, Round, answers);
    }

    /// <summary>A member's leaves at the spot checks: each in the part it committed to.</summary>
    public void AcceptOpenedLeaves(SignedMessage leaves)
    {
        Accept(RoundPurpose.OpenedLeaves, leaves);
        byte[] root = PartCommitment(leaves.ParticipantId)[..32];
        if (OpeningSpotCheck.Read(leaves.Payload, root, _positions ?? throw new InvalidOperationException("The spot check request was not made yet."),
                OpeningSpotCheck.LeafCount(_opened!), Parameters.WireModulus, out var why) is null)
            throw Rejected($"the leaves {leaves.ParticipantId} opened do not check: {why}");
    }

    // ---- Step 8 -------------------------------------------------------------------------------------------------

    /// <summary>
    /// The opened plaintext with every member's part commitment, fingerprint and opened leaves, once the fingerprints add up
    /// to the plaintext's: what every party checks before it advances its model chain.
    /// </summary>
    public OpeningRequest OpeningRequest()
    {
        var answers = All(RoundPurpose.OpeningFingerprint);
        var sum = LinearFingerprint.Sum(answers.Select(a => LinearFingerprint.FromBytes(OpeningSpotCheck.SplitNonce(a.Payload)!.Value.Fingerprint, Parameters)));
        if (!LinearFingerprint.OfOpening(Opened(), _openingChallenge!).Matches(sum))
            throw Rejected("the members' opening fingerprints do not add up to the opened plaintext's: a member's fingerprint is not of its own part");
        return new OpeningRequest(JobId, Round, Participants, _opened!.WireBuffer, All(RoundPurpose.PartCommitment), answers, All(RoundPurpose.OpenedLeaves)); // its wire buffer: nobody writes to it
    }

    /// <summary>
    /// Σ wᵢ·uᵢ and Σ wᵢ over the members, once every share (or, in the simulation, every update) is in; refused
    /// (<see cref="ImplausibleAggregateException"/>) if honest seals could not have made it. Decoded from the opened
    /// plaintext the members check, by the same code as theirs.
    /// </summary>
    public AggregatedUpdate Open()
    {
        if (_plain is not null)
        {
            All(RoundPurpose.Update);
            return _plain.Open();
        }
        try
        {
            return _ckks!.Open(Opened(), Participants.Count);
        }
        catch (SealedUpdateFormatException e)
        {
            throw Rejected(e.Message);
        }
    }

    private OpenedPlaintext Opened()
    {
        lock (_lock)
        {
            if (_opened is not null)
                return _opened;
        }
        var commitments = All(RoundPurpose.PartCommitment);
        All(RoundPurpose.OpeningPart);
        lock (_lock)
        {
            if (_opened is null)
            {
                if (_parts.Count != Participants.Count)
                    throw Rejected($"{Participants.Count - _parts.Count} of the members' parts were refused");
                _opened = _parts.Total();
                _openedDigest = _opened.Sha256();
                _openingChallenge = RoundChallenges.OpeningChallenge(_setDigest, _planDigest!, _openedDigest,
                    RoundChallenges.PartCommitmentsDigest(Participants, commitments.ToDictionary(c => c.ParticipantId, c => c.Payload)));
            }
            return _opened;
        }
    }

    // ---- Checks -------------------------------------------------------------------------------------------------

    private CkksParameters Parameters => CkksParameters.Default;

    private sealed class Step(RoundUpdateLedger ledger)
    {
        public RoundUpdateLedger Ledger { get; } = ledger;
        public Dictionary<string, SignedMessage> Messages { get; } = [];
        public IReadOnlyDictionary<string, byte[]> Payloads => Ledger.Accepted;
    }

    /// <summary>One signed message of a step: for this job and round, from a member, signed with its pinned key, one each.</summary>
    private void Accept(string purpose, SignedMessage message, bool allowCopies = false)
    {
        lock (_lock)
        {
            if (!_steps.TryGetValue(purpose, out var step))
                _steps[purpose] = step = new Step(new RoundUpdateLedger(purpose, JobId, Round, Protection.Scheme, _keys, allowCopies));
            try
            {
                step.Ledger.Accept(message.ParticipantId, message.JobId, message.Round, message.Scheme, message.Payload, message.Signature);
            }
            catch (RejectedUpdateException e)
            {
                throw Rejected(e.Message);
            }
            step.Messages[message.ParticipantId] = message;
        }
    }

    private byte[] PartCommitment(string member)
    {
        lock (_lock)
            return _steps.TryGetValue(RoundPurpose.PartCommitment, out var step) && step.Payloads.TryGetValue(member, out var commitment) ? commitment
                : throw Rejected($"{member} sent no part commitment");
    }

    /// <summary>Every member's message of a step, in member order; refused while any is missing.</summary>
    private List<SignedMessage> All(string purpose)
    {
        lock (_lock)
        {
            var missing = Participants.Where(p => !_steps.TryGetValue(purpose, out var step) || !step.Messages.ContainsKey(p)).ToList();
            if (missing.Count > 0)
                throw new RoundRefusedException(RoundRefusal.Rejected,
                    $"Job {JobId} round {Round}: {purpose} messages are missing from {string.Join(", ", missing)}.");
            return Participants.Select(p => _steps[purpose].Messages[p]).ToList();
        }
    }

    private T Read<T>(Func<T> read, string what)
    {
        try
        {
            return CkksProtection.Read(read, what);
        }
        catch (SealedUpdateFormatException e)
        {
            throw Rejected(e.Message);
        }
    }

    private RoundRefusedException Rejected(string reason) => new(RoundRefusal.Rejected, $"Job {JobId} round {Round}: {reason.TrimEnd('.')}.");
}
