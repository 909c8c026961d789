using System.Diagnostics;
using System.Security.Cryptography;
using FedCore.Aggregation.Integrity;
using FedCore.Aggregation.Protection;
using FedCore.Data;
using FedCore.Learning;
using Federation.Contracts.Directory;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;
using Federation.Silo.Placement;
using Microsoft.Extensions.Logging;
using ContractMetrics = Federation.Contracts.Participants.ModelMetrics;

namespace Federation.Silo.Grains;

[GenerateSerializer]
public sealed class ParticipantState
{
    [Id(0)]
    public ParticipantProfile? Profile { get; set; }

    [Id(1)]
    public Dictionary<string, RegisteredDataset> Datasets { get; set; } = [];

    /// <summary>PKCS#8 of the participant's ECDSA P-256 signing key. Secret: lives only in its country's storage.</summary>
    [Id(2)]
    public byte[]? SigningKey { get; set; }

    /// <summary>Per job, the current round's key share (its secret part is secret); erased once its decryption share is given.</summary>
    [Id(3)]
    public Dictionary<string, RoundSecret> RoundSecrets { get; set; } = [];
}

/// <summary>
/// A participant's key share for its current round of a job: the secret part, the public part it committed to and,
/// once it has revealed that, the key-share digests (by participant) it revealed it against. Stored, so that a restart
/// cannot make it reveal the same share against other digests.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RoundSecret(
    [property: Id(0)] int Round,
    [property: Id(1)] string Scheme,
    [property: Id(2)] byte[] Secret,
    [property: Id(3)] byte[]? PublicShare = null,
    [property: Id(4)] Dictionary<string, byte[]>? RevealedAgainst = null);

[GenerateSerializer, Immutable]
public sealed record RegisteredDataset(
    [property: Id(0)] DatasetRegistration Registration,
    [property: Id(1)] DatasetSummary Summary);

/// <summary>
/// One organisation's silo-side presence. Pinned to its country by <see cref="CountryResidencyPlacementFilterAttribute"/>;
/// its state lives in the country's own storage. Rows are read here and never leave: only metadata, feature
/// moments, metrics and sealed updates are returned.
/// </summary>
[CountryResidencyPlacementFilter]
public sealed class ParticipantGrain(
    [PersistentState("participant", StorageNames.Country)] IPersistentState<ParticipantState> state,
    SiloCountry siloCountry,
    UpdateProtectionSchemes protectionSchemes,
    ILogger<ParticipantGrain> logger) : Grain, IParticipantGrain
{
    // Rows loaded from the registered files, kept only in this activation's memory.
    private readonly Dictionary<string, LoadedDataset> _loaded = [];
    private PreparedSplit? _prepared;

    // Per job, this participant's current round between training and decryption: the round key it checked, its sealed
    // update and commitment (until revealed), the enrolled participants' keys (fetched while it trained), and the
    // commitment digests it saw before it revealed. Kept by the activation only: a participant that restarted mid-round
    // refuses to go on ("round.participant-restarted"), and the job redoes the round with a fresh key. (What a restart
    // must not forget, the key-share digests it revealed its key share against, is stored with the round secret.)
    private readonly Dictionary<string, PendingRound> _pending = [];

    private sealed record PendingRound(int Round, byte[] RoundKey, byte[] SealedUpdate, byte[] OwnCommitment, IReadOnlyDictionary<string, byte[]> EnrolledKeys)
    {
        public IReadOnlyDictionary<string, byte[]>? DigestsSeen { get; init; }
    }

    private string Key => this.GetPrimaryKeyString();

    public async Task<ParticipantProfile> Enrol(string displayName)
    {
        var (country, organisation) = ParticipantKey.Parse(Key);
        var name = string.IsNullOrWhiteSpace(displayName) ? organisation : displayName.Trim();
        bool newKey = state.State.SigningKey is null;
        if (newKey)
        {
            using var generated = ParticipantSigningKey.Generate();
            state.State.SigningKey = generated.ExportPkcs8();
        }
        if (newKey || state.State.Profile?.DisplayName != name)
        {
            using var key = ParticipantSigningKey.Import(state.State.SigningKey!);
            state.State.Profile = new ParticipantProfile(Key, country, organisation, name, key.PublicKey);
            await state.WriteStateAsync();
        }
        return state.State.Profile!;
    }

    public Task<ParticipantProfile> GetProfile() => Task.FromResult(RequireProfile());

    public Task<string> GetHostCountry() => Task.FromResult(siloCountry.Code);

    public async Task<DatasetSummary> RegisterDataset(DatasetRegistration registration)
    {
        RequireProfile();
        if (string.IsNullOrWhiteSpace(registration.Name))
            throw new FederationOperationException("dataset.invalid", $"Participant {Key}: a dataset needs a name.");

        // Parse and load first: a bad schema or file changes nothing already stored.
        var loaded = await LoadAsync(registration, "dataset.invalid");

        var summary = ToSummary(registration.Name, loaded.Metadata);
        state.State.Datasets[registration.Name] = new RegisteredDataset(registration, summary);
        await state.WriteStateAsync();
        _loaded[registration.Name] = loaded;
        _prepared = null;
        logger.LogInformation("Participant {Participant} registered dataset {Dataset}: {Rows} rows, sha256 {Sha}",
            Key, registration.Name, summary.RowCount, summary.FileSha256);
        return summary;
    }

    public Task<IReadOnlyList<DatasetSummary>> GetDatasets() =>
        Task.FromResult<IReadOnlyList<DatasetSummary>>(state.State.Datasets.Values.Select(d => d.Summary).OrderBy(d => d.Name).ToList());

    public async Task<FeatureMomentsMessage> ComputeFeatureMoments(DataSplit split)
    {
        var (schema, train, _) = await PrepareAsync(split);
        var moments = FeatureMoments.Compute(train, schema);
        return new FeatureMomentsMessage(moments.FeatureNames, moments.Count, moments.Sum, moments.SumOfSquares);
    }

    public async Task<SignedPayload> CommitRoundKeyShare(RoundKeyRequest request)
    {
        RequireProfile();
        var protection = protectionSchemes.Resolve(request.Protection);
        var digest = await NewKeyShareAsync(protection, request.JobId, request.Round, request.RoundSeed);
        await state.WriteStateAsync();
        return digest;
    }

    /// <summary>
    /// A key share for a job's round: put in the state (the caller writes it to the country's storage, where it stays
    /// until that round's decryption share is given); the signed digest of its public part is returned (commit).
    /// </summary>
    private async Task<SignedPayload> NewKeyShareAsync(IUpdateProtection protection, string jobId, int round, byte[] seed)
    {
        var share = await Task.Run(() => protection.CreateKeyShare(seed));
        state.State.RoundSecrets[jobId] = new RoundSecret(round, protection.Scheme, share.Secret, share.PublicShare);
        return Sign(SignedStatement.KeyShareDigestPurpose, jobId, round, protection.Scheme, SHA256.HashData(share.PublicShare));
    }

    public async Task<SignedPayload> RevealRoundKeyShare(RoundKeyRevealRequest request)
    {
        RequireProfile();
        var protection = protectionSchemes.Resolve(request.Protection);
        const string action = "reveal its key share";
        var secret = RoundSecretFor(request.JobId, request.Round, protection.Scheme);
        if (secret.PublicShare is not { } publicShare)
            throw Refused(request.JobId, request.Round, action, "its key share predates commit-then-reveal; the round needs a fresh key", Restart);
        // The digests' signatures are checked with the shares, before the key is used (see RoundKeyAsync): a digest only
        // has to be fixed before this share is out.
        var digests = new Dictionary<string, byte[]>();
        foreach (var d in request.Digests)
        {
            if (d.JobId != request.JobId || d.Round != request.Round || !digests.TryAdd(d.ParticipantId, d.Payload))
                throw Refused(request.JobId, request.Round, action, $"the digest from {d.ParticipantId} is for another round or repeated");
        }
        if (!digests.TryGetValue(Key, out var mine) || !mine.AsSpan().SequenceEqual(SHA256.HashData(publicShare)))
            throw Refused(request.JobId, request.Round, action, "its own key-share digest is not among the digests");
        // Once per key share, durably: revealed again against other digests (say after a forced restart), it could be
        // cancelled by a share chosen with it in view.
        if (secret.RevealedAgainst is { } earlier)
        {
            if (!SameDigests(earlier, digests))
                throw Refused(request.JobId, request.Round, action, "it already revealed its key share against other digests");
        }
        else
        {
            state.State.RoundSecrets[request.JobId] = secret with { RevealedAgainst = digests };
            await state.WriteStateAsync();
        }
        return Sign(SignedStatement.KeySharePurpose, request.JobId, request.Round, protection.Scheme, publicShare);
    }

    /// <summary>
    /// The round key, combined here and never taken from the job: from key shares each signed by an enrolled participant
    /// for this job and round (one each), each the one whose digest this participant saw before it revealed its own,
    /// its own among them. So no share was chosen to cancel its own, and nobody can decrypt under the key without it.
    /// </summary>
    private async Task<byte[]> RoundKeyAsync(IUpdateProtection protection, RoundAssignment assignment, IReadOnlyDictionary<string, byte[]> enrolledKeys)
    {
        var (jobId, round) = (assignment.JobId, assignment.Round);
        const string action = "seal its update";
        var secret = RoundSecretFor(jobId, round, protection.Scheme);
        if (secret.RevealedAgainst is not { } seen)
            throw Refused(jobId, round, action, "it has not revealed its key share for this round");
        var shares = Verify(SignedStatement.KeySharePurpose, jobId, round, protection.Scheme, enrolledKeys, assignment.RoundKeyShares, action);
        if (!HashToDigests(shares, seen))
            throw Refused(jobId, round, action, "the key shares are not the ones whose digests it saw before it revealed its own");
        try
        {
            var payloads = shares.Values.ToList();
            return await Task.Run(() => protection.CombineKeyShares(payloads, secret.Secret));
        }
        catch (SealedUpdateFormatException e)
        {
            throw Refused(jobId, round, action, e.Message);
        }
    }

    public async Task<LocalTrainingReport> Train(RoundAssignment assignment)
    {
        RequireProfile();
        var protection = protectionSchemes.Resolve(assignment.Protection);
        var spec = ParseSpec(assignment.ModelSpecJson, assignment.JobId);
        var (_, train, _) = await PrepareAsync(assignment.Split);
        var scaled = ToScaling(assignment.Scaling).Apply(train);
        var options = assignment.Training.ToTrainingOptions(assignment.Seed);
        if (!(assignment.WeightNormaliser > 0))
            throw new FederationOperationException("job.invalid", $"Job {assignment.JobId}: weight normaliser must be positive.");

        // Training and sealing run on the thread pool, off this activation's turn, so the silo's scheduler stays free.
        // The directory is asked now, while training runs: its keys check the round's key shares, and later the
        // commitments, off the critical path.
        var enrolled = protection.ProtectsUpdates ? GrainFactory.GetGrain<IFederationDirectoryGrain>(0).GetParticipants() : null;
        var clock = Stopwatch.StartNew();
        var result = await Task.Run(() => LocalTrainer.Train(spec, assignment.GlobalParameters, scaled, options, CancellationToken.None));
        var trainSeconds = clock.Elapsed.TotalSeconds;
        var enrolledKeys = protection.ProtectsUpdates ? (await enrolled!).ToDictionary(p => p.Id, p => p.SigningPublicKey) : [];
        var roundKey = protection.ProtectsUpdates ? await RoundKeyAsync(protection, assignment, enrolledKeys) : [];
        clock.Restart();
        var update = await Task.Run(() =>
        {
            var delta = new float[result.Parameters.Length];
            for (int i = 0; i < delta.Length; i++)
                delta[i] = result.Parameters[i] - assignment.GlobalParameters[i];
            try
            {
                return protection.Seal(delta, result.SampleCount / assignment.WeightNormaliser, roundKey);
            }
            catch (UpdateOutOfBoundsException e)
            {
                throw new FederationOperationException("round.update-out-of-bounds",
                    $"Participant {Key}, job {assignment.JobId} round {assignment.Round}: {e.Message}{(e.Index is { } at ? $" (parameter {ParameterLayout.For(spec).Locate(at)})" : "")}");
            }
        });
        var sealSeconds = clock.Elapsed.TotalSeconds;
        if (protection.ProtectsUpdates)
        {
            // Commit now, reveal once every participant has committed (see Reveal).
            _pending[assignment.JobId] = new PendingRound(assignment.Round, roundKey, update.Bytes, update.Commitment, enrolledKeys);
            var digest = Sign(SignedStatement.UpdateDigestPurpose, assignment.JobId, assignment.Round, protection.Scheme, SHA256.HashData(update.Commitment));
            return new LocalTrainingReport(Key, assignment.Round, result.SampleCount, result.MeanTrainLoss, [], digest, trainSeconds, sealSeconds);
        }
        logger.LogWarning("Participant {Participant}, job {Job} round {Round}: update sent WITHOUT encryption ({Scheme}, simulation mode)",
            Key, assignment.JobId, assignment.Round, protection.Scheme);
        var signed = Sign(SignedStatement.UpdatePurpose, assignment.JobId, assignment.Round, protection.Scheme, update.Commitment);
        return new LocalTrainingReport(Key, assignment.Round, result.SampleCount, result.MeanTrainLoss, update.Bytes, signed, trainSeconds, sealSeconds);
    }

    public Task<RevealedUpdate> Reveal(RevealRequest request)
    {
        RequireProfile();
        var protection = protectionSchemes.Resolve(request.Protection);
        const string action = "reveal its update";
        if (!_pending.TryGetValue(request.JobId, out var pending) || pending.Round != request.Round)
            throw Refused(request.JobId, request.Round, action, "it has no sealed update of this round to reveal (or restarted since)", Restart);

        // Every digest signed by an enrolled participant for this job and round, one each, its own among them.
        var digests = Verify(SignedStatement.UpdateDigestPurpose, request.JobId, request.Round, protection.Scheme, pending.EnrolledKeys, request.Digests, action);
        if (!digests.TryGetValue(Key, out var mine) || !mine.AsSpan().SequenceEqual(SHA256.HashData(pending.OwnCommitment)))
            throw Refused(request.JobId, request.Round, action, "its own commitment is not among the digests");
        // Once per round: shown other digests after its update is out, it could be made to accept commitments chosen
        // with its update in view.
        if (pending.DigestsSeen is { } seen && !SameDigests(seen, digests))
            throw Refused(request.JobId, request.Round, action, "it already revealed its update against other commitment digests");
        _pending[request.JobId] = pending with { DigestsSeen = digests };
        return Task.FromResult(new RevealedUpdate(pending.SealedUpdate,
            Sign(SignedStatement.UpdatePurpose, request.JobId, request.Round, protection.Scheme, pending.OwnCommitment)));
    }

    private static bool SameDigests(IReadOnlyDictionary<string, byte[]> a, IReadOnlyDictionary<string, byte[]> b) =>
        a.Count == b.Count && a.All(d => b.TryGetValue(d.Key, out var other) && other.AsSpan().SequenceEqual(d.Value));

    /// <summary>True if the payloads are exactly those committed to: one per digest, each hashing to its author's.</summary>
    private static bool HashToDigests(IReadOnlyDictionary<string, byte[]> payloads, IReadOnlyDictionary<string, byte[]> digests) =>
        payloads.Count == digests.Count && payloads.All(p => digests.TryGetValue(p.Key, out var digest) && SHA256.HashData(p.Value).AsSpan().SequenceEqual(digest));

    /// <summary>The payloads of <paramref name="messages"/> by participant, refused unless each passes <see cref="RoundUpdateLedger"/>.</summary>
    private Dictionary<string, byte[]> Verify(string purpose, string jobId, int round, string scheme,
        IReadOnlyDictionary<string, byte[]> enrolledKeys, IReadOnlyList<SignedPayload> messages, string action)
    {
        var ledger = new RoundUpdateLedger(purpose, jobId, round, scheme, enrolledKeys);
        try
        {
            foreach (var m in messages)
                ledger.Accept(m.ParticipantId, m.JobId, m.Round, m.Scheme, m.Payload, m.Signature);
        }
        catch (RejectedUpdateException e)
        {
            throw Refused(jobId, round, action, e.Message);
        }
        return ledger.Accepted.ToDictionary(a => a.Key, a => a.Value);
    }

    public async Task<ContractMetrics> Evaluate(EvaluationAssignment assignment)
    {
        var spec = ParseSpec(assignment.ModelSpecJson, assignment.JobId);
        var (_, _, test) = await PrepareAsync(assignment.Split);
        var scaled = ToScaling(assignment.Scaling).Apply(test);
        var metrics = await Task.Run(() => ModelEvaluator.Evaluate(spec, assignment.Parameters, scaled));
        return new ContractMetrics(metrics.Loss, metrics.Accuracy, metrics.Auc, metrics.SampleCount);
    }

    public async Task<DecryptionReply> CreateDecryptionShare(DecryptionRequest request)
    {
        RequireProfile();
        var protection = protectionSchemes.Resolve(request.Protection);
        const string action = "help decrypt";
        var secret = RoundSecretFor(request.JobId, request.Round, protection.Scheme);
        if (!_pending.TryGetValue(request.JobId, out var pending) || pending.Round != request.Round || pending.DigestsSeen is not { } seen)
            throw Refused(request.JobId, request.Round, action, "it has not revealed an update this round (or restarted since)", Restart);

        // Every commitment must be signed by an enrolled participant for this job and round, one each, be the one whose
        // digest it saw before it revealed its own update, and its own must be among them: then the sum includes its
        // update, and no commitment was chosen with another participant's update in view.
        var commitments = Verify(SignedStatement.UpdatePurpose, request.JobId, request.Round, protection.Scheme, pending.EnrolledKeys, request.Commitments, action);
        if (!commitments.TryGetValue(Key, out var mine) || !mine.AsSpan().SequenceEqual(pending.OwnCommitment))
            throw Refused(request.JobId, request.Round, action, "its own update is not among the committed updates", AggregateRefused);
        if (!HashToDigests(commitments, seen))
            throw Refused(request.JobId, request.Round, action, "the commitments are not the ones whose digests it saw before it revealed its update", AggregateRefused);

        byte[] share;
        try
        {
            var payloads = request.Commitments.Select(c => c.Payload).ToList();
            share = await Task.Run(() => protection.DecryptionShare(request.Aggregate, pending.RoundKey, secret.Secret, payloads));
        }
        catch (Exception e) when (e is AggregateRefusedException or SealedUpdateFormatException)
        {
            throw Refused(request.JobId, request.Round, action, e.Message, AggregateRefused);
        }
        // One decryption per round key: the secret is erased (replaced by the next round's, if asked for) before the
        // share leaves.
        state.State.RoundSecrets.Remove(request.JobId);
        _pending.Remove(request.JobId);
        var nextKeyDigest = request.NextRoundSeed is { } seed
            ? await NewKeyShareAsync(protection, request.JobId, request.Round + 1, seed)
            : null;
        await state.WriteStateAsync();
        logger.LogInformation("Participant {Participant} gave its decryption share for job {Job} round {Round} (sum of {Updates} committed updates)",
            Key, request.JobId, request.Round, request.Commitments.Count);
        return new DecryptionReply(Sign(SignedStatement.DecryptionSharePurpose, request.JobId, request.Round, protection.Scheme, share), nextKeyDigest);
    }

    private RoundSecret RoundSecretFor(string jobId, int round, string scheme) =>
        state.State.RoundSecrets.TryGetValue(jobId, out var secret) && secret.Round == round && secret.Scheme == scheme
            ? secret
            : throw new FederationOperationException("round.no-key-share",
                $"Participant {Key} holds no {scheme} key share for job {jobId} round {round}: it was never made, or its one decryption share was already given.");

    // Refusal codes: a participant that lost its round memory asks for the round again; one shown a wrong aggregate refuses it.
    private const string Restart = "round.participant-restarted", AggregateRefused = "round.aggregate-refused";

    private FederationOperationException Refused(string jobId, int round, string action, string reason, string code = "round.refused")
    {
        logger.LogWarning("Participant {Participant} refused to {Action} for job {Job} round {Round}: {Reason}", Key, action, jobId, round, reason);
        return new FederationOperationException(code, $"Participant {Key} refuses to {action} for job {jobId} round {round}: {reason}.");
    }

    private SignedPayload Sign(string purpose, string jobId, int round, string scheme, byte[] payload)
    {
        using var key = ParticipantSigningKey.Import(state.State.SigningKey!);
        var statement = SignedStatement.For(purpose, jobId, round, Key, scheme, payload);
        return new SignedPayload(Key, jobId, round, scheme, payload, key.Sign(statement.ToBytes()));
    }

    private ParticipantProfile RequireProfile() =>
        state.State.Profile ?? throw new FederationOperationException("participant.unknown", $"Participant {Key} is not enrolled.");

    /// <summary>The participant's rows for a split: loaded from the registered file (checked against its registered hash) and split.</summary>
    private async Task<(DatasetSchema Schema, TabularData Train, TabularData Test)> PrepareAsync(DataSplit split)
    {
        if (_prepared is { } p && p.Split == split)
            return (p.Schema, p.Train, p.Test);

        if (!state.State.Datasets.TryGetValue(split.DatasetName, out var registered))
            throw new FederationOperationException("dataset.unknown",
                $"Participant {Key} has no dataset '{split.DatasetName}' (registered: {string.Join(", ", state.State.Datasets.Keys.DefaultIfEmpty("none"))}).");

        if (!_loaded.TryGetValue(split.DatasetName, out var loaded))
        {
            var registration = registered.Registration;
            loaded = await LoadAsync(registration, "dataset.unreadable");
            if (loaded.Metadata.FileSha256 != registered.Summary.FileSha256)
                throw new FederationOperationException("dataset.changed",
                    $"Participant {Key}, dataset '{split.DatasetName}': {registration.CsvPath} changed since it was registered " +
                    $"(sha256 {loaded.Metadata.FileSha256[..12]}…, registered {registered.Summary.FileSha256[..12]}…); register it again.");
            _loaded[split.DatasetName] = loaded;
        }

        var datasetSchema = DatasetSchema.Parse(registered.Registration.SchemaJson, registered.Registration.SchemaSource);
        var indices = StratifiedSplit.Split(loaded.Data, split.TrainFraction, unchecked((ulong)split.Seed));
        var prepared = new PreparedSplit(split, datasetSchema, loaded.Data.Select(indices.Train), loaded.Data.Select(indices.Test));
        _prepared = prepared;
        return (prepared.Schema, prepared.Train, prepared.Test);
    }

    /// <summary>Reads a registered (or to-be-registered) file off the scheduler; errors name the file, line and column.</summary>
    private async Task<LoadedDataset> LoadAsync(DatasetRegistration registration, string errorCode)
    {
        try
        {
            var schema = DatasetSchema.Parse(registration.SchemaJson, registration.SchemaSource);
            return await Task.Run(() => CsvDatasetReader.Load(registration.CsvPath, schema));
        }
        catch (Exception e) when (e is DatasetException or DatasetSchemaException)
        {
            logger.LogWarning("Participant {Participant} cannot use dataset {Dataset}: {Reason}", Key, registration.Name, e.Message);
            throw new FederationOperationException(errorCode, $"Participant {Key}, dataset '{registration.Name}': {e.Message}");
        }
    }

    private static DatasetSummary ToSummary(string name, DatasetMetadata m) =>
        new(name, m.FileName, m.RowCount, m.RawRowCount, m.DroppedRowCount, m.FeatureNames.ToList(), m.SchemaHash, m.FileSha256, DateTimeOffset.UtcNow);

    private static FeatureScaling ToScaling(FeatureScalingMessage m) => new(m.FeatureNames, m.Mean, m.StandardDeviation);

    private static ModelSpec ParseSpec(string json, string jobId)
    {
        try
        {
            return ModelSpec.Parse(json, $"model of job {jobId}");
        }
        catch (ModelSpecException e)
        {
            throw new FederationOperationException("job.invalid", e.Message);
        }
    }

    private sealed record PreparedSplit(DataSplit Split, DatasetSchema Schema, TabularData Train, TabularData Test);
}
