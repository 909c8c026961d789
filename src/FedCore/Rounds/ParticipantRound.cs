using System.Security.Cryptography;
using FedCore.Aggregation.Integrity;
using FedCore.Aggregation.Protection;
using FedCore.Aggregation.Strategies;
using FedCore.Audit;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Learning;

namespace FedCore.Rounds;

/// <summary>
/// A participant's side of the round protocol for one job (README.md next to this file). It decides every step from its
/// pinned <see cref="RoundTerms"/> and refuses anything else with a <see cref="RoundRefusedException"/> that names the
/// step and the reason.
///
/// Its host keeps <see cref="Record"/> in the country's storage: after every call that changed it (see
/// <see cref="RecordChanged"/>), the host must write it before the call's reply leaves. What is not in the record (the
/// round key, the sealed update, the aggregate's fingerprint, the part made at step 5) lives in this object only; a host that lost it (a restart)
/// makes a new object from the record, and the steps that need it refuse with <see cref="RoundRefusal.Restarted"/>.
/// Not thread-safe: a host calls it one request at a time (a grain does).
/// </summary>
public sealed class ParticipantRound
{
    private readonly RoundTerms _terms;
    private readonly VerifyingKeys _partyKeys; // imported once: every step checks every member's signature
    private readonly Func<byte[], byte[]> _sign;
    private readonly TimeProvider _clock;
    private readonly CkksProtection? _ckks;
    private readonly OpenedSums _opened;

    private const string OpenedOverOthersReason =
        "it already helped open a sum from this global model and these rows over other members (or, explaining a model, from these test rows); a second sum from them over these members would reveal the difference";
    private Memory? _memory;
    private Part? _part;

    /// <param name="terms">What the participant pinned for the job.</param>
    /// <param name="record">Its stored record, if it has one.</param>
    /// <param name="sign">Signs statement bytes with the participant's own key (kept in its country's storage).</param>
    /// <param name="opened">The sums it helped open in any round of any job, stored by the host with the record.</param>
    /// <param name="chain">Its stored place in the job's model chain, if the chain was started.</param>
    /// <param name="openingPart">Its stored part of the latest round's opening (<see cref="OpeningPart"/>), if it has one.</param>
    public ParticipantRound(RoundTerms terms, ParticipantRoundRecord? record, Func<byte[], byte[]> sign, OpenedSums opened, TimeProvider? clock = null,
        ModelChainRecord? chain = null, byte[]? openingPart = null)
    {
        _terms = terms ?? throw new ArgumentNullException(nameof(terms));
        _partyKeys = new VerifyingKeys(terms.PartyKeys);
        _sign = sign ?? throw new ArgumentNullException(nameof(sign));
        _opened = opened ?? throw new ArgumentNullException(nameof(opened));
        _clock = clock ?? TimeProvider.System;
        _ckks = terms.Protection.IsSimulation ? null : new CkksProtection(CkksParameters.Default, terms.Protection.UpdateBound);
        Record = record;
        Chain = chain;
        OpeningPart = openingPart;
    }

    public RoundTerms Terms => _terms;

    /// <summary>Its place in the job's model chain (null until started); stored with <see cref="Record"/>, on the same signal.</summary>
    public ModelChainRecord? Chain { get; private set; }

    /// <summary>What must be stored (null before the first round).</summary>
    public ParticipantRoundRecord? Record { get; private set; }

    /// <summary>Set by a call that changed <see cref="Record"/>; the host stores the record, then clears this.</summary>
    public bool RecordChanged { get; set; }

    /// <summary>
    /// Its part of the latest opening it committed to (an <see cref="OpenedPlaintext"/>, model-sized), from step 6 until it
    /// advances its chain by that opening or another round reaches step 6. The host stores it apart from the record, when
    /// <see cref="PartChanged"/> is set, before the reply leaves.
    /// </summary>
    public byte[]? OpeningPart { get; private set; }

    /// <summary>Set when <see cref="OpeningPart"/> changed; the host stores it, then clears this.</summary>
    public bool PartChanged { get; set; }

    private string Scheme => _terms.Protection.Scheme;

    /// <summary>set digest (32) ‖ SHA-256 of the public key share (32) ‖ masking public key (65).</summary>
    private const int StatementLength = 32 + 32 + MaskingKeyPair.PublicKeyLength;

    private CkksParameters Parameters => CkksParameters.Default;

    // What the round needs between steps but need not survive a restart.
    private sealed class Memory(int round)
    {
        public int Round { get; } = round;
        public byte[]? Statement, PublicShare, SetDigest;
        public CollectivePublicKey? RoundKey;
        public byte[]? KeyAcceptance, MaskingContext, PlanDigest, Basis;
        public Dictionary<string, byte[]>? MaskingKeys;
        public bool KeyVerified;
        public EncryptedVector? SealedUpdate; // from step 4 until its part and fingerprint are made (step 5)
        public int SealedLength;
        public byte[]? SealedDigest;
        public LinearFingerprint? OwnAggregateFingerprint, AggregateFingerprint;
        public OpenedPlaintext? Part; // its c0 plus its share of the aggregate, made at step 5, committed to at step 6
        public byte[]? AggregateChallenge; // the one aggregate (with its commitments) it checks this round, and its answer
        public SignedMessage? AggregateAnswer;
        public byte[]? ChainPosition; // the chain position it sealed from (null for an explanation round)
    }

    // Its part of the round's opening (its update's c0 plus its share), read back from OpeningPart after a restart.
    private sealed class Part(int round, OpenedPlaintext value, MerkleTree? tree)
    {
        public int Round { get; } = round;
        public OpenedPlaintext Value { get; } = value;
        public MerkleTree? Tree { get; set; } = tree;
    }

    // ---- Step 0: the model chain's start ------------------------------------------------------------------------

    /// <summary>
    /// Starts its model chain from every party's signed feature moments (one each, for this job) and its pinned model and
    /// seed: version 0 is the initial model for the seed, the scaling and weight normaliser those moments give. Once; asked
    /// again, it answers only for the same start. Under <paramref name="maxRowShare"/> (the agreement's), a party whose
    /// moments count more than that share of all parties' rows is refused.
    /// </summary>
    public ModelChainRecord StartChain(IReadOnlyList<SignedMessage> moments, ModelSpec spec, long seed, StrategyOptions strategy, string dataset,
        double? maxRowShare = null)
    {
        const string step = "start the model chain";
        ArgumentNullException.ThrowIfNull(moments);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentException.ThrowIfNullOrEmpty(dataset);
        if (_terms.Protection.IsSimulation)
            throw Refused(0, step, $"the job's pinned protection is {_terms.Protection}: the simulation opens every update and verifies no chain");
        var payloads = Verify(RoundPurpose.FeatureMoments, 0, _terms.Parties, moments, step, allowCopies: true);
        var parsed = new List<Data.FeatureMoments>();
        foreach (var party in _terms.Parties)
        {
            try
            {
                parsed.Add(SignedMoments.Decode(payloads[party]));
            }
            catch (FormatException e)
            {
                throw Refused(0, step, $"the feature moments of {party} cannot be read: {e.Message}");
            }
        }
        long allRows = parsed.Sum(m => m.Count);
        for (int i = 0; i < parsed.Count; i++)
            if (maxRowShare is { } share && parsed[i].Count > share * allRows)
                throw Refused(0, step, $"the feature moments of {_terms.Parties[i]} count {parsed[i].Count} of the parties' {allRows} training rows, more than the agreement's share of {share:R}");
        ModelChainRecord start;
        try
        {
            var (scaling, normaliser) = ModelChain.ScalingOf(parsed);
            strategy.Validate();
            start = ModelChain.Start(_terms.JobId, ModelChain.InitialModel(spec, seed, _terms.JobId), scaling, normaliser, strategy, dataset,
                _terms.Parties.Select((party, i) => (party, parsed[i].Count)).ToDictionary(r => r.party, r => r.Count, StringComparer.Ordinal));
        }
        catch (ArgumentException e)
        {
            throw Refused(0, step, $"the parties' feature moments give no scaling, or the server strategy is not one: {e.Message}");
        }
        if (Chain is { } started)
        {
            // Its version 0 is fixed: shown other moments later, it would start a second chain beside the first.
            if (!started.Origin.AsSpan().SequenceEqual(start.Origin) || started.Strategy != start.Strategy)
                throw Refused(0, step, "its model chain was already started from other feature moments");
            return started;
        }
        Chain = start;
        RecordChanged = true;
        return start;
    }

    // ---- Step 1 -------------------------------------------------------------------------------------------------

    /// <summary>Makes this round's key share and masking key and returns the signed commitment to its statement.</summary>
    public SignedMessage Commit(KeyRequest request)
    {
        const string step = "make a key share";
        RequireProtected(request.JobId, request.Round, step);
        RequireSet(request.JobId, request.Round, request.Participants, step);
        if (Record is { } current && current.Round == request.Round && current.Stage == RoundStage.Keyed
            && current.Participants.SequenceEqual(request.Participants))
            return SignedCommitment(request.Round, current); // a retry: the same statement
        if (Record is { } earlier && request.Round <= earlier.Round)
            throw Refused(request.Round, step, $"round {request.Round} is not above round {earlier.Round}, which it already started; rounds only go up");

        byte[] crsSeed = RoundChallenges.CrsSeed(SetDigest(request.Round, request.Participants));
        var share = SecretKeyShare.Generate(Parameters, crsSeed);
        using var masking = MaskingKeyPair.Generate();
        // The last round's part stays: this key share often comes with that round's decryption (steps 6b–7b follow).
        Replace(new ParticipantRoundRecord(request.Round, request.Participants.ToList(), RoundStage.Keyed, _clock.GetUtcNow(),
            share.ToBytes(), masking.ExportPrivateKey(), null, Part: Record?.Part));
        share.Erase();
        _memory = null;
        return SignedCommitment(request.Round, Record!);
    }

    private SignedMessage SignedCommitment(int round, ParticipantRoundRecord record)
    {
        var memory = MemoryFor(round, record);
        return Sign(RoundPurpose.KeyCommitment, round, SHA256.HashData(memory.Statement!));
    }

    /// <summary>The statement (set digest ‖ H(p_i) ‖ X_i), recomputed from the stored secrets when memory was lost.</summary>
    private Memory MemoryFor(int round, ParticipantRoundRecord record)
    {
        if (_memory is { } m && m.Round == round && m.Statement is not null)
            return m;
        m = new Memory(round) { SetDigest = SetDigest(round, record.Participants) };
        var share = SecretKeyShare.FromBytes(record.Secret!, Parameters);
        m.PublicShare = share.PublicKeyShare.ToBytes();
        share.Erase();
        using var masking = MaskingKeyPair.Import(record.MaskingKey!);
        m.Statement = [.. m.SetDigest, .. SHA256.HashData(m.PublicShare), .. masking.PublicKey];
        _memory = m;
        return m;
    }

    // ---- Step 2 -------------------------------------------------------------------------------------------------

    /// <summary>Its statement and public share, once it has every member's commitment (its own among them); once per round.</summary>
    public KeyReveal Reveal(KeyRevealRequest request)
    {
        const string step = "reveal its key share";
        RequireProtected(request.JobId, request.Round, step);
        var record = RequireRecord(request.Round, step, RoundStage.Keyed, RoundStage.Revealed);
        var commitments = Verify(RoundPurpose.KeyCommitment, request.Round, record.Participants, request.Commitments, step);
        var memory = MemoryFor(request.Round, record);
        if (!commitments[_terms.Self].AsSpan().SequenceEqual(SHA256.HashData(memory.Statement!)))
            throw Refused(request.Round, step, "its own commitment is not among the commitments");
        // Once per round, durably: revealed against other commitments (say after a forced restart), a colluder could have
        // chosen its statement with this one in view.
        if (record.CommitmentsSeen is { } seen)
        {
            if (!SameMap(seen, commitments))
                throw Refused(request.Round, step, "it already revealed its key share against other commitments");
        }
        else
        {
            Replace(record with { Stage = RoundStage.Revealed, CommitmentsSeen = commitments });
        }
        return new KeyReveal(Sign(RoundPurpose.KeyStatement, request.Round, memory.Statement!), memory.PublicShare!);
    }

    // ---- Step 3 -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Its signed acceptance of the round key, which it sums itself from the members' public shares, each the one its
    /// statement names (<see cref="RoundChallenges.KeyAcceptance"/>): the key, the statements and the plan.
    /// </summary>
    public SignedMessage CheckKey(KeyCheckRequest request)
    {
        const string step = "check the round key";
        RequireProtected(request.JobId, request.Round, step);
        var record = RequireRecord(request.Round, step, RoundStage.Revealed);
        var memory = MemoryFor(request.Round, record);
        var statements = Verify(RoundPurpose.KeyStatement, request.Round, record.Participants, request.Statements, step);
        if (!HashesTo(statements, record.CommitmentsSeen!))
            throw Refused(request.Round, step, "the statements are not the ones whose commitments it saw before it revealed its own");
        if (statements.Any(s => s.Value.Length != StatementLength || !s.Value.AsSpan(0, 32).SequenceEqual(memory.SetDigest)))
            throw Refused(request.Round, step, "a statement is not for this round's participants");
        if (request.PlanDigest is not { Length: 32 })
            throw Refused(request.Round, step, "the round's plan digest is not 32 bytes");
        // A masking key that is no point would fail only at sealing, after the member trained (and spent privacy budget).
        foreach (var (member, statement) in statements)
        {
            try
            {
                MaskingKeyPair.RequirePublicKey(statement.AsSpan(64), member);
            }
            catch (ArgumentException e)
            {
                throw Refused(request.Round, step, e.Message.TrimEnd('.'));
            }
        }

        // Every share is the one its owner committed to before any share was revealed, and the key is their sum, made here:
        // a colluder cannot pick its share after seeing the others' and make a key whose secret the aggregator knows.
        if (request.PublicShares is not { } shares || shares.Count != record.Participants.Count)
            throw Refused(request.Round, step, $"it was sent {request.PublicShares?.Count ?? 0} public key shares for {record.Participants.Count} members");
        for (int i = 0; i < shares.Count; i++)
        {
            string member = record.Participants[i];
            if (shares[i] is null || !SHA256.HashData(shares[i]).AsSpan().SequenceEqual(statements[member].AsSpan(32, 32)))
                throw Refused(request.Round, step, $"the public key share of {member} is not the one its statement names");
        }
        byte[] crsSeed = RoundChallenges.CrsSeed(memory.SetDigest!);
        var parsed = shares.Select((s, i) => Read(() => PublicKeyShare.FromBytes(s, Parameters), request.Round, step, $"the public key share of {record.Participants[i]}")).ToList();
        if (parsed.Any(s => !s.CrsSeed.SequenceEqual(crsSeed)))
            throw Refused(request.Round, step, "a public key share is not over this round's common reference polynomial");
        var key = Read(() => CollectivePublicKey.Combine(parsed), request.Round, step, "the members' public key shares");
        byte[] keyBytes = key.ToBytes();

        // Once per round, durably: acceptances of two plans (or keys) would let the aggregator complete, for each member, a
        // set for the plan it alone is told to train, and weigh one member in and the others out.
        byte[] checkedDigest = SHA256.HashData([.. SHA256.HashData(keyBytes), .. request.PlanDigest]);
        if (record.KeyChecked is { } earlier)
        {
            if (!earlier.AsSpan().SequenceEqual(checkedDigest))
                throw Refused(request.Round, step, "it already checked another round key or plan this round");
        }
        else
        {
            Replace(record with { KeyChecked = checkedDigest });
        }

        byte[] statementsDigest = RoundChallenges.StatementsDigest(record.Participants, statements);
        memory.RoundKey = key;
        memory.KeyAcceptance = RoundChallenges.KeyAcceptance(memory.SetDigest!, keyBytes, statementsDigest, request.PlanDigest);
        memory.MaskingContext = RoundChallenges.MaskingContext(memory.SetDigest!, key.KeyId.ToArray(), statementsDigest);
        memory.PlanDigest = request.PlanDigest;
        memory.MaskingKeys = statements.ToDictionary(s => s.Key, s => s.Value[64..]);
        memory.KeyVerified = false;
        return Sign(RoundPurpose.KeyAcceptance, request.Round, memory.KeyAcceptance);
    }

    // ---- Step 4 -------------------------------------------------------------------------------------------------

    /// <summary>
    /// The checks of step 4 common to both kinds of round (a host calls <see cref="PrepareTraining"/> or
    /// <see cref="PrepareExplanation"/>; tests and colluders call this directly). Checks, before training, that every
    /// member accepted the round key it summed at step 3, over the same statements, for the plan it was given to train
    /// (<paramref name="plan"/>, which it derived itself from what it was sent), and that no sum it helped open came from
    /// the same <paramref name="basis"/> (<see cref="RoundPlan.BasisOf"/>) over other members.
    /// </summary>
    internal void PrepareSeal(SealRequest request, RoundPlan plan, byte[] basis)
    {
        const string step = "seal its update";
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(basis);
        RequireProtected(request.JobId, request.Round, step);
        var record = RequireRecord(request.Round, step, RoundStage.Revealed);
        var memory = RequireMemory(request.Round, step, m => m.RoundKey is not null);
        if (!plan.Digest.AsSpan().SequenceEqual(memory.PlanDigest))
            throw Refused(request.Round, step, "the plan it was given (global model, version, feature scaling or weight normaliser) is not the one the round key was checked for");
        // Every member accepted the key, statements and plan this one did (all sign the same digest, so copies are expected).
        var acceptances = Verify(RoundPurpose.KeyAcceptance, request.Round, record.Participants, request.KeyAcceptances, step, allowCopies: true);
        if (acceptances.FirstOrDefault(a => !a.Value.AsSpan().SequenceEqual(memory.KeyAcceptance)) is { Key: { } other })
            throw Refused(request.Round, step, $"{other} accepted another round key, other statements or another plan");
        // Two opened sums from one basis over different members would give away the difference: the update of whoever was left out.
        if (_opened.OpenedOverOthers(basis, record.Participants))
            throw Refused(request.Round, step, OpenedOverOthersReason);
        memory.Basis = basis;
        memory.KeyVerified = true;
    }

    /// <summary>
    /// <see cref="PrepareSeal"/> for a training round: the plan must also be the one its model chain stands at (its version,
    /// the model, the scaling and normaliser it derived), so every model it trains on follows from the sums opened before.
    /// </summary>
    public void PrepareTraining(SealRequest request, RoundPlan plan, byte[] basis)
    {
        ArgumentNullException.ThrowIfNull(plan);
        const string step = "seal its update";
        if (plan.IsExplanation)
            throw Refused(request.Round, step, "the plan is an explanation round's, not a training round's");
        PrepareSeal(request, plan, basis);
        var chain = Chain;
        string? problem = chain is null ? "its model chain was never started (the job showed it no parties' feature moments)"
            : !plan.Digest.AsSpan().SequenceEqual(chain.PlanDigest)
                ? $"the plan is not the one its model chain stands at (version {chain.Version}: that model, the scaling and normaliser every party's moments give)"
                : _opened.OpenedOverOthers(chain.Position, Record!.Participants) ? OpenedOverOthersReason
                // Redone, the round would show the aggregator this version's sum before the colluders commit to their parts.
                : _opened.RevealedIn(chain.Position) is { } revealed ? $"it revealed its part of an opening of version {chain.Version} in job {revealed}: that round must be finished, not redone"
                : null;
        if (problem is not null)
        {
            _memory!.KeyVerified = false;
            throw Refused(request.Round, step, problem);
        }
        _memory!.ChainPosition = chain!.Position;
    }

    /// <summary>
    /// Why <paramref name="model"/>, named <paramref name="version"/>, under <paramref name="scaling"/> is not the version its
    /// model chain stands at, or null if it is. A host scores and explains only that model: any other would let the job
    /// query its rows with models of its making (the scoring oracle), or explain a model nobody trained; and under its own
    /// number, which seeds the shuffles and says whether it was trained.
    /// </summary>
    public string? OffChain(int version, ReadOnlySpan<float> model, Data.FeatureScaling scaling)
    {
        ArgumentNullException.ThrowIfNull(scaling);
        if (Chain is not { } chain)
            return "its model chain was never started";
        if (version != chain.Version || !ModelChain.ModelDigest(model).AsSpan().SequenceEqual(chain.ModelDigest))
            return $"the model is not version {chain.Version} of its model chain, the one it stands at";
        return scaling.FeatureNames.SequenceEqual(chain.FeatureNames) && scaling.Mean.SequenceEqual(chain.Mean) && scaling.StandardDeviation.SequenceEqual(chain.StandardDeviation)
            ? null
            : "the scaling is not the one every party's moments give";
    }

    /// <summary><see cref="PrepareSeal"/> for an explanation round: the plan must be one (<see cref="RoundPlan.ForExplanation"/>).</summary>
    public void PrepareExplanation(SealRequest request, RoundPlan plan, byte[] basis)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (!plan.IsExplanation)
            throw Refused(request.Round, "seal its explanation", "the plan is a training round's: training goes through the model chain");
        PrepareSeal(request, plan, basis);
    }

    /// <summary>
    /// Seals w·update under the checked round key with its pairwise masks, its values clipped to the bound in place (never
    /// refused: a refusal would tell the job something of them); the masking key is erased and "sealed" stored before the
    /// update leaves (the host writes <see cref="Record"/>). Once per round; a weight outside (0, 1] ends the round.
    /// </summary>
    public Sealed Seal(int round, Span<float> update, double weight)
    {
        const string step = "seal its update";
        RequireProtected(_terms.JobId, round, step);
        var record = RequireRecord(round, step, RoundStage.Revealed);
        var memory = RequireMemory(round, step, m => m.KeyVerified);
        // Every other member is a neighbour: a sparse graph's safety rests on the colluders' share of each round, which
        // the aggregator, choosing each round's members, controls (README: "The masking graph").
        var neighbours = record.Participants.Where(p => p != _terms.Self).Select(n => (n, memory.MaskingKeys![n])).ToList();
        using var masking = MaskingKeyPair.Import(record.MaskingKey!);
        EncryptedVector sealedUpdate;
        int clipped = _ckks!.Clip(update);
        try
        {
            using var masks = ReadMasks(() => PairwiseMasks.Derive(Parameters, masking, _terms.Self, neighbours, memory.MaskingContext!), round, step);
            sealedUpdate = _ckks.Seal(update, weight, memory.RoundKey!, masks);
        }
        catch (UpdateOutOfBoundsException)
        {
            // One refusal per round: the weight's, which tells nothing the job does not know (sample counts are reported).
            Abandon(record);
            throw;
        }
        Replace(record with { Stage = RoundStage.Sealed, MaskingKey = null });
        memory.SealedUpdate = sealedUpdate;
        memory.SealedLength = sealedUpdate.Length;
        // Only the masks (c1 halves) leave: the job sums nothing else, and the c0 halves stay here until they enter its
        // part of the opening (step 5). Against colluders the pads protect, not this (README: "Why each check is there").
        var sent = CiphertextMasks.Of(sealedUpdate);
        memory.SealedDigest = sent.Digest.ToArray();
        return new Sealed(sent.WireBuffer, Sign(RoundPurpose.Update, round, memory.SealedDigest), clipped);
    }

    /// <summary>The simulation's seal: the weighted update in the clear, only under terms that pinned plaintext-simulation. Once per round.</summary>
    public Sealed SealInTheClear(int round, IReadOnlyList<string> participants, ReadOnlySpan<float> update, double weight)
    {
        const string step = "send its update in the clear";
        if (!_terms.Protection.IsSimulation)
            throw Refused(round, step, $"the job's pinned protection is {_terms.Protection}, not the plaintext simulation");
        RequireSet(_terms.JobId, round, participants, step);
        if (Record is { } earlier && round <= earlier.Round)
            throw Refused(round, step, $"round {round} is not above round {earlier.Round}, which it already started; rounds only go up");
        byte[] bytes = PlaintextSimulation.Seal(update, weight);
        Replace(new ParticipantRoundRecord(round, participants.ToList(), RoundStage.Sealed, _clock.GetUtcNow(), null, null, null));
        return new Sealed(bytes, Sign(RoundPurpose.Update, round, SHA256.HashData(bytes)));
    }

    // ---- Step 5 -------------------------------------------------------------------------------------------------

    /// <summary>The fingerprint of its own masks at the aggregate challenge; it keeps the aggregate's fingerprint and its part of the opening.</summary>
    public SignedMessage CheckAggregate(AggregateCheckRequest request)
    {
        const string step = "help decrypt";
        RequireProtected(request.JobId, request.Round, step);
        var record = RequireRecord(request.Round, step, RoundStage.Sealed);
        var memory = RequireMemory(request.Round, step, m => m.SealedDigest is not null);
        var commitments = Verify(RoundPurpose.Update, request.Round, record.Participants, request.Commitments, step);
        if (!commitments[_terms.Self].AsSpan().SequenceEqual(memory.SealedDigest))
            throw Refused(request.Round, step, "its own update is not among the committed updates", RoundRefusal.AggregateRefused);
        var masks = Read(() => CiphertextMasks.Adopt(request.AggregateMasks, Parameters), request.Round, step, "the aggregate's masks");
        if (!masks.KeyId.Span.SequenceEqual(memory.RoundKey!.KeyId.Span) || masks.Length != memory.SealedLength)
            throw Refused(request.Round, step, "the aggregate is not under this round's key, or not of its update's length", RoundRefusal.AggregateRefused);

        byte[] challenge = RoundChallenges.AggregateChallengeOfDigest(memory.SetDigest!, masks.Digest, record.Participants, commitments);
        // One aggregate a round: shown another, members asked again could each commit to a sum of their own, and the
        // opening would give each one's key share (branch review/c0home). Held in memory only: a restart loses the
        // sealed update, and with it step 5 of this round.
        if (memory.AggregateChallenge is { } checkedBefore)
            return checkedBefore.AsSpan().SequenceEqual(challenge)
                ? memory.AggregateAnswer!
                : throw Refused(request.Round, step, "it already checked another aggregate, or other commitments, this round", RoundRefusal.AggregateRefused);
        using var secret = new ErasingSecret(SecretKeyShare.FromBytes(record.Secret!, Parameters));
        OpenedPlaintext part;
        try
        {
            part = _ckks!.Part(memory.SealedUpdate!, secret.Share, memory.RoundKey, masks, record.Participants.Count);
        }
        catch (AggregateRefusedException e)
        {
            throw Refused(request.Round, step, e.Message, RoundRefusal.AggregateRefused);
        }
        var own = LinearFingerprint.OfMasks(memory.SealedUpdate!, challenge);
        var answer = Sign(RoundPurpose.AggregateFingerprint, request.Round, own.ToBytes());
        // Pinned with its signed answer, never without: a signing that failed leaves nothing pinned and nothing sent.
        (memory.Part, memory.AggregateFingerprint, memory.OwnAggregateFingerprint) = (part, LinearFingerprint.OfMasks(masks, challenge), own);
        (memory.AggregateChallenge, memory.AggregateAnswer) = (challenge, answer);
        // Spent: its c0 is in the part and its masks in the fingerprint, and a retry gets the pinned answer. Held to step
        // 6, it would be 13 MB per 10⁶ values more per member at the round's fullest.
        memory.SealedUpdate = null;
        return answer;
    }

    // ---- Step 6 -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Its commitment to its part of the opening (<see cref="OpeningSpotCheck"/>: the part's Merkle root and its nonce's
    /// hash), once every member's fingerprint is in and they add up to the aggregate's. The key share is erased, and the
    /// basis and chain position recorded as opened over these members, before the commitment leaves (the host writes
    /// <see cref="Record"/> and <see cref="OpeningPart"/>). Once per round.
    /// </summary>
    public SignedMessage Decrypt(DecryptRequest request)
    {
        const string step = "help decrypt";
        RequireProtected(request.JobId, request.Round, step);
        var record = RequireRecord(request.Round, step, RoundStage.Sealed);
        var memory = RequireMemory(request.Round, step, m => m.Part is not null);
        RequireFingerprintsSumTo(request.Round, Verify(RoundPurpose.AggregateFingerprint, request.Round, record.Participants, request.AggregateFingerprints, step),
            memory.OwnAggregateFingerprint!, memory.AggregateFingerprint!, step, ("aggregate", "updates"), RoundRefusal.AggregateRefused);
        // Checked again here, not only at sealing: rounds of two jobs can be sealed from one basis over different members
        // before either opens, and only the first to open may.
        if (_opened.OpenedOverOthers(memory.Basis!, record.Participants))
            throw Refused(request.Round, step, OpenedOverOthersReason);
        // The position it sealed from, not where its chain stands now: advanced in between by another round's opening, it
        // would record the next position and leave this one to open again over other members (branch review/keysum).
        if (memory.ChainPosition is { } position)
        {
            if (!Chain!.PlanDigest.AsSpan().SequenceEqual(memory.PlanDigest))
                throw Refused(request.Round, step, $"its model chain moved on (to version {Chain.Version}) since it sealed: this sum could no longer advance it");
            if (_opened.OpenedOverOthers(position, record.Participants))
                throw Refused(request.Round, step, OpenedOverOthersReason);
            // Sealed before another round of this version revealed its parts: committing now would replace that round's
            // stored part, and that round could never finish (branch review/spot).
            if (_opened.RevealedIn(position) is { } revealed)
                throw Refused(request.Round, step, $"it revealed its part of an opening of this model version in job {revealed}: that round must be finished");
        }
        _opened.Add(memory.Basis!, record.Participants);
        if (memory.ChainPosition is { } sealedAt)
            _opened.Add(sealedAt, record.Participants);

        var part = memory.Part!;
        var tree = OpeningSpotCheck.Tree(part);
        byte[] nonce = RandomNumberGenerator.GetBytes(OpeningSpotCheck.NonceLength);
        byte[] commitment = OpeningSpotCheck.Commitment(tree.Root, nonce);
        Replace(record with { Stage = RoundStage.Decrypted, Secret = null, Part = new PartRecord(request.Round, record.Participants, memory.PlanDigest!, memory.ChainPosition, nonce, commitment) });
        OpeningPart = part.WireBuffer; // not a copy (8 MB per 10⁶ values): nobody writes to it
        PartChanged = true;
        _part = new Part(request.Round, part, tree);
        _memory = null;
        return Sign(RoundPurpose.PartCommitment, request.Round, commitment);
    }

    /// <summary>
    /// Its part, once it has every member's commitment (its own among them): the parts are then fixed before any is
    /// revealed, so no member's part can depend on another's. The commitments are stored before the part leaves; asked
    /// again, with the same commitments (a resumed round), it answers with the same part. A chain position's part is
    /// revealed in one round only, in any job: a round redone from it would show the aggregator the sum before the
    /// colluders commit to their parts.
    /// </summary>
    public SignedMessage RevealPart(PartRevealRequest request)
    {
        const string step = "reveal its part of the opening";
        RequireProtected(request.JobId, request.Round, step);
        var held = RequirePart(request.Round, step);
        var commitments = Verify(RoundPurpose.PartCommitment, request.Round, held.Record.Participants, request.PartCommitments, step);
        if (!commitments[_terms.Self].AsSpan().SequenceEqual(held.Record.Commitment))
            throw Refused(request.Round, step, "its own commitment is not among the part commitments");
        if (held.Record.CommitmentsSeen is { } seen)
        {
            if (!SameMap(seen, commitments))
                throw Refused(request.Round, step, "it already revealed its part against other part commitments");
        }
        else
        {
            string here = $"{_terms.JobId} round {request.Round}";
            if (held.Record.ChainPosition is { } position)
            {
                if (_opened.RevealedIn(position) is { } earlier && earlier != here)
                    throw Refused(request.Round, step, $"it already revealed its part of an opening of this model version in job {earlier}");
                _opened.MarkRevealed(position, here);
            }
            Replace(Record! with { Part = held.Record with { CommitmentsSeen = commitments } });
        }
        return Sign(RoundPurpose.OpeningPart, request.Round, held.Part.Value.WireBuffer);
    }

    // ---- Step 7 -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Its nonce and the fingerprint of its part at τ = H(set, plan, H(opened), H(part commitments)), for one opened
    /// plaintext per round, stored before the nonce leaves: the nonce, which with the others draws the spot checks, is
    /// revealed only once the aggregator fixed what it opened, and never for a second plaintext.
    /// </summary>
    public SignedMessage CheckOpening(OpeningCheckRequest request)
    {
        const string step = "check the opened sum";
        RequireProtected(request.JobId, request.Round, step);
        var held = RequirePart(request.Round, step);
        if (held.Record is not { ChainPosition: not null, CommitmentsSeen: { } commitments })
            throw Refused(request.Round, step, "it revealed no part from its model chain this round");
        if (request.OpenedDigest is not { Length: 32 })
            throw Refused(request.Round, step, "the opened plaintext's digest is not 32 bytes");
        if (held.Record.OpenedDigest is { } earlier)
        {
            if (!earlier.AsSpan().SequenceEqual(request.OpenedDigest))
                throw Refused(request.Round, step, "it already checked another opened plaintext this round");
        }
        else
        {
            Replace(Record! with { Part = held.Record with { OpenedDigest = request.OpenedDigest } });
        }
        byte[] challenge = OpeningChallenge(request.Round, held.Record.Participants, held.Record.PlanDigest, request.OpenedDigest, commitments);
        byte[] fingerprint = LinearFingerprint.OfOpening(held.Part.Value, challenge).ToBytes();
        return Sign(RoundPurpose.OpeningFingerprint, request.Round, OpeningSpotCheck.JoinNonce(held.Record.Nonce, fingerprint));
    }

    /// <summary>Its part's leaves at the spot-check positions that every member's nonce draws, with their inclusion paths.</summary>
    public SignedMessage OpenLeaves(SpotCheckRequest request)
    {
        const string step = "open its part at the spot checks";
        RequireProtected(request.JobId, request.Round, step);
        var held = RequirePart(request.Round, step);
        if (held.Record is not { CommitmentsSeen: { } commitments, OpenedDigest: { } openedDigest, Participants: var members })
            throw Refused(request.Round, step, "it fingerprinted no opened plaintext this round");
        var answers = Verify(RoundPurpose.OpeningFingerprint, request.Round, members, request.OpeningFingerprints, step);
        var nonces = NoncesOf(answers, commitments, members, request.Round, step);
        byte[] challenge = OpeningChallenge(request.Round, members, held.Record.PlanDigest, openedDigest, commitments);
        var positions = OpeningSpotCheck.Positions(challenge, nonces, OpeningSpotCheck.LeafCount(held.Part.Value));
        held.Part.Tree ??= OpeningSpotCheck.Tree(held.Part.Value);
        return Sign(RoundPurpose.OpenedLeaves, request.Round, OpeningSpotCheck.Open(held.Part.Value, held.Part.Tree, positions));
    }

    // ---- Step 8 -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Advances its model chain by one version. The opened plaintext must be the sum of the parts every member of the round
    /// committed to before any was revealed: their fingerprints, at the challenge over the plan its chain stands at (so the
    /// round trained on its current version), add up to the opened plaintext's, and at the spot checks their nonces draw,
    /// their leaves (each in its member's committed part) add up to it. <paramref name="global"/> and
    /// <paramref name="state"/> must be the model and optimiser state that version holds. The next model is then the step
    /// of the server strategy pinned at the chain's start by the decoded mean, computed here. Any party of the job may
    /// advance so (one that missed the round included); the same opening again is answered, any other refused.
    /// </summary>
    public int AdvanceChain(OpeningRequest request, ReadOnlySpan<float> global, ServerOptimizerState? state)
    {
        const string step = "advance its model chain";
        ArgumentNullException.ThrowIfNull(request);
        RequireProtected(request.JobId, request.Round, step);
        if (Chain is not { } chain)
            throw Refused(request.Round, step, "its model chain was never started");
        byte[] openedDigest = SHA256.HashData(request.Opened);
        if (chain.LastOpening is { } last && last.AsSpan().SequenceEqual(openedDigest))
            return chain.Version; // a retry of the advance it made
        if (_terms.ProblemWithRoundOf(request.Participants) is { } problem)
            throw Refused(request.Round, step, problem);
        if (!ModelChain.ModelDigest(global).AsSpan().SequenceEqual(chain.ModelDigest)
            || !(ModelChain.OptimizerDigest(state) ?? []).AsSpan().SequenceEqual(chain.OptimizerDigest ?? []))
            throw Refused(request.Round, step, $"the model or optimiser state it was sent is not version {chain.Version} of its chain");
        var opened = Read(() => OpenedPlaintext.Adopt(request.Opened, Parameters), request.Round, step, "the opened plaintext");
        var commitments = Verify(RoundPurpose.PartCommitment, request.Round, request.Participants, request.PartCommitments, step);
        if (commitments.Any(c => c.Value.Length != OpeningSpotCheck.CommitmentLength))
            throw Refused(request.Round, step, "a part commitment is not a Merkle root and a nonce's hash");
        byte[] challenge = OpeningChallenge(request.Round, request.Participants, chain.PlanDigest, openedDigest, commitments);
        // A fingerprint at another challenge is of a round not trained on this version of its chain, or of other commitments.
        var answers = Verify(RoundPurpose.OpeningFingerprint, request.Round, request.Participants, request.OpeningFingerprints, step);
        var nonces = NoncesOf(answers, commitments, request.Participants, request.Round, step);
        RequireFingerprintsSumTo(request.Round, answers.ToDictionary(a => a.Key, a => OpeningSpotCheck.SplitNonce(a.Value)!.Value.Fingerprint),
            null, LinearFingerprint.OfOpening(opened, challenge), step, ("opened plaintext", "parts"), RoundRefusal.Refused);
        RequireSpotChecks(request, opened, challenge, nonces, commitments, step);
        ServerStepResult next;
        try
        {
            var sum = _ckks!.Open(opened, request.Participants.Count);
            if (chain.Rows is not { } rows || request.Participants.Any(p => !rows.ContainsKey(p)))
                throw Refused(request.Round, step, "its model chain holds no row count for every member of the round");
            if (ModelChain.WeightProblem(sum, request.Participants.Sum(p => rows[p]), chain.WeightNormaliser) is { } weight)
                throw Refused(request.Round, step, weight);
            next = ModelChain.Next(ServerStrategy.Create(chain.Strategy), global, state, sum);
        }
        catch (Exception e) when (e is ImplausibleAggregateException or SealedUpdateFormatException or ArgumentException)
        {
            throw Refused(request.Round, step, e.Message);
        }
        Chain = ModelChain.Advanced(_terms.JobId, chain, next, openedDigest);
        RecordChanged = true;
        // Its part of this opening is spent (the job stored the version before any party advanced): the host drops it.
        if (Record?.Part?.Round == request.Round && OpeningPart is not null)
            (OpeningPart, PartChanged, _part) = (null, true, null);
        return Chain.Version;
    }

    /// <summary>Every member's leaves at the positions the nonces draw, each in the part it committed to, adding up to the opened plaintext there.</summary>
    private void RequireSpotChecks(OpeningRequest request, OpenedPlaintext opened, byte[] challenge, List<byte[]> nonces, Dictionary<string, byte[]> commitments, string step)
    {
        long leafCount = OpeningSpotCheck.LeafCount(opened);
        var positions = OpeningSpotCheck.Positions(challenge, nonces, leafCount);
        var opens = Verify(RoundPurpose.OpenedLeaves, request.Round, request.Participants, request.OpenedLeaves, step);
        var leaves = new List<ulong[][]>();
        foreach (string member in request.Participants)
        {
            leaves.Add(OpeningSpotCheck.Read(opens[member], commitments[member][..32], positions, leafCount, Parameters.WireModulus, out var why)
                ?? throw Refused(request.Round, step, $"the leaves {member} opened do not check: {why}"));
        }
        if (OpeningSpotCheck.Mismatch(opened, positions, leaves) is { } position)
            throw Refused(request.Round, step, $"the opened plaintext is not the sum of the parts the members committed to (they differ at leaf {position})");
    }

    // ---- Expiry -------------------------------------------------------------------------------------------------

    /// <summary>Erases the secrets of a round started more than <paramref name="lifetime"/> ago and not finished; true if it did.</summary>
    public bool ExpireIfOlderThan(TimeSpan lifetime)
    {
        if (Record is not { Stage: RoundStage.Keyed or RoundStage.Revealed or RoundStage.Sealed } record
            || _clock.GetUtcNow() - record.StartedAt <= lifetime)
            return false;
        Abandon(record);
        return true;
    }

    /// <summary>The host's own work for the round failed (its training): the round's secrets are erased, and it is over.</summary>
    public void AbandonRound()
    {
        if (Record is { Stage: RoundStage.Keyed or RoundStage.Revealed or RoundStage.Sealed } record)
            Abandon(record);
    }

    private void Abandon(ParticipantRoundRecord record)
    {
        Replace(record with { Stage = RoundStage.Abandoned, Secret = null, MaskingKey = null });
        _memory = null;
    }

    // ---- Checks -------------------------------------------------------------------------------------------------

    private void RequireProtected(string jobId, int round, string step)
    {
        if (jobId != _terms.JobId)
            throw Refused(round, step, $"the request is for job '{jobId}'");
        if (_terms.Protection.IsSimulation)
            throw Refused(round, step, $"the job's pinned protection is {_terms.Protection}: there are no keys to make or use");
    }

    private void RequireSet(string jobId, int round, IReadOnlyList<string> participants, string step)
    {
        if (jobId != _terms.JobId)
            throw Refused(round, step, $"the request is for job '{jobId}'");
        if (_terms.ProblemWithSet(participants) is { } problem)
            throw Refused(round, step, problem);
    }

    private ParticipantRoundRecord RequireRecord(int round, string step, params RoundStage[] stages)
    {
        if (Record is not { } record || record.Round != round)
            throw Refused(round, step, Record is null ? "it holds no key share for this round" : $"its current round is {Record.Round}");
        if (!stages.Contains(record.Stage))
            throw Refused(round, step, record.Stage switch
            {
                RoundStage.Sealed => "it already sealed its update this round",
                RoundStage.Decrypted => "it already committed to its part of the opening this round",
                RoundStage.Abandoned => "the round's secrets were erased (the round was abandoned or expired)",
                RoundStage.Keyed => "it has not revealed its key share yet",
                _ => $"the round is at stage {record.Stage}",
            });
        return record;
    }

    private Memory RequireMemory(int round, string step, Func<Memory, bool> has)
    {
        if (_memory is { } memory && memory.Round == round && has(memory))
            return memory;
        throw Refused(round, step, "it lost this round's working state (it restarted) or the earlier steps did not happen", RoundRefusal.Restarted);
    }

    /// <summary>The payloads by participant, refused unless exactly one per member of the round, each signed by its pinned key.</summary>
    private Dictionary<string, byte[]> Verify(string purpose, int round, IReadOnlyList<string> members, IReadOnlyList<SignedMessage> messages, string step,
        bool allowCopies = false)
    {
        // The keys of the round's members only: a message from any other party is refused.
        var ledger = new RoundUpdateLedger(purpose, _terms.JobId, round, Scheme, _partyKeys.Of(members), allowCopies);
        try
        {
            foreach (var m in messages)
                ledger.Accept(m.ParticipantId, m.JobId, m.Round, m.Scheme, m.Payload, m.Signature);
        }
        catch (RejectedUpdateException e)
        {
            throw Refused(round, step, e.Message);
        }
        if (!ledger.IsComplete)
            throw Refused(round, step, $"{purpose} messages are missing from {string.Join(", ", members.Where(p => !ledger.Accepted.ContainsKey(p)))}");
        return ledger.Accepted.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
    }

    /// <summary>
    /// The check of steps 6 and 8: one fingerprint per member (verified), its own among them (unless <paramref name="own"/> is
    /// null: at step 8 it need not have been a member), all at one challenge and of one shape, adding up to the fingerprint
    /// of the <paramref name="names"/>.Whole it is asked to use (the aggregate, the opened plaintext).
    /// </summary>
    private void RequireFingerprintsSumTo(int round, IReadOnlyDictionary<string, byte[]> fingerprints,
        LinearFingerprint? own, LinearFingerprint whole, string step, (string Whole, string Parts) names, string code)
    {
        if (own is not null && !fingerprints[_terms.Self].AsSpan().SequenceEqual(own.ToBytes()))
            throw Refused(round, step, "its own fingerprint is not among the fingerprints", code);
        var parsed = fingerprints.Select(f => Read(() => LinearFingerprint.FromBytes(f.Value, Parameters), round, step, $"the fingerprint of {f.Key}")).ToList();
        if (parsed.Any(f => !SameShape(f, whole)))
            throw Refused(round, step, $"a fingerprint was made for another challenge or another {names.Whole}", code);
        if (!whole.Matches(LinearFingerprint.Sum(parsed)))
            throw Refused(round, step, $"the {names.Whole} is not the sum of the members' {names.Parts} (its fingerprint differs from the sum of theirs)", code);
    }

    /// <summary>Its part of this round's opening and what it recorded of it, read back from <see cref="OpeningPart"/> after a restart.</summary>
    private (PartRecord Record, Part Part) RequirePart(int round, string step)
    {
        if (Record?.Part is not { } stored || stored.Round != round)
            throw Refused(round, step, "it committed to no part of an opening in this round");
        if (OpeningPart is null)
            throw Refused(round, step, "its host lost its part of this round's opening", RoundRefusal.Restarted);
        if (_part is not { } part || part.Round != round)
            _part = part = new Part(round, Read(() => OpenedPlaintext.Adopt(OpeningPart, Parameters), round, step, "its stored part"), null);
        return (stored, part);
    }

    /// <summary>Every member's step-7 nonce, in member order, each the one its part commitment names.</summary>
    private List<byte[]> NoncesOf(Dictionary<string, byte[]> answers, IReadOnlyDictionary<string, byte[]> commitments, IReadOnlyList<string> members, int round, string step)
    {
        var nonces = new List<byte[]>();
        foreach (string member in members)
        {
            if (OpeningSpotCheck.SplitNonce(answers[member]) is not { } answer
                || !SHA256.HashData(answer.Nonce).AsSpan().SequenceEqual(commitments[member].AsSpan(32)))
                throw Refused(round, step, $"the nonce {member} revealed is not the one its part commitment names");
            nonces.Add(answer.Nonce);
        }
        return nonces;
    }

    private byte[] OpeningChallenge(int round, IReadOnlyList<string> members, byte[] planDigest, byte[] openedDigest, IReadOnlyDictionary<string, byte[]> commitments) =>
        RoundChallenges.OpeningChallenge(SetDigest(round, members), planDigest, openedDigest, RoundChallenges.PartCommitmentsDigest(members, commitments));

    /// <summary>Same challenge and shape: fingerprints that can be added (a forged one of another shape is refused, not thrown on).</summary>
    private static bool SameShape(LinearFingerprint a, LinearFingerprint b) =>
        a.Challenge.SequenceEqual(b.Challenge) && a.Coefficients == b.Coefficients && a.ModulusCount == b.ModulusCount;

    private static bool SameMap(IReadOnlyDictionary<string, byte[]> a, IReadOnlyDictionary<string, byte[]> b) =>
        a.Count == b.Count && a.All(d => b.TryGetValue(d.Key, out var other) && other.AsSpan().SequenceEqual(d.Value));

    private static bool HashesTo(IReadOnlyDictionary<string, byte[]> payloads, IReadOnlyDictionary<string, byte[]> digests) =>
        payloads.Count == digests.Count && payloads.All(p => digests.TryGetValue(p.Key, out var digest) && SHA256.HashData(p.Value).AsSpan().SequenceEqual(digest));

    private byte[] SetDigest(int round, IReadOnlyList<string> participants) => RoundChallenges.SetDigest(_terms.JobId, round, participants);

    private T Read<T>(Func<T> read, int round, string step, string what)
    {
        try
        {
            return CkksProtection.Read(read, what);
        }
        catch (SealedUpdateFormatException e)
        {
            throw Refused(round, step, e.Message);
        }
    }

    private PairwiseMasks ReadMasks(Func<PairwiseMasks> derive, int round, string step)
    {
        try
        {
            return derive();
        }
        catch (ArgumentException e)
        {
            throw Refused(round, step, e.Message);
        }
    }

    private void Replace(ParticipantRoundRecord record)
    {
        if (Record is { } old && !ReferenceEquals(old.Secret, record.Secret) && old.Secret is not null)
            CryptographicOperations.ZeroMemory(old.Secret);
        if (Record is { } previous && !ReferenceEquals(previous.MaskingKey, record.MaskingKey) && previous.MaskingKey is not null)
            CryptographicOperations.ZeroMemory(previous.MaskingKey);
        Record = record;
        RecordChanged = true;
    }

    private SignedMessage Sign(string purpose, int round, byte[] payload)
    {
        var statement = SignedStatement.For(purpose, _terms.JobId, round, _terms.Self, Scheme, payload);
        return new SignedMessage(_terms.Self, _terms.JobId, round, Scheme, payload, _sign(statement.ToBytes()));
    }

    private RoundRefusedException Refused(int round, string step, string reason, string code = RoundRefusal.Refused) =>
        new(code, $"Participant {_terms.Self} refuses to {step} for job {_terms.JobId} round {round}: {reason}.");

    /// <summary>A secret key share that is erased when the step that needed it ends.</summary>
    private sealed class ErasingSecret(SecretKeyShare share) : IDisposable
    {
        public SecretKeyShare Share { get; } = share;

        public void Dispose() => Share.Erase();
    }
}
