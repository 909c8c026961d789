using System.Diagnostics;
using System.Security.Cryptography;
using FedCore.Aggregation.Integrity;
using FedCore.Aggregation.Protection;
using FedCore.Aggregation.Strategies;
using FedCore.Audit.Entries;
using FedCore.Data;
using FedCore.Governance.Agreements;
using FedCore.Governance.Approvals;
using FedCore.Governance.Membership;
using FedCore.Learning;
using FedCore.Learning.Explanation;
using FedCore.Privacy.Budget;
using FedCore.Rounds;
using Federation.Contracts.Directory;
using Federation.Contracts.Errors;
using Federation.Contracts.Jobs;
using Federation.Contracts.Participants;
using Federation.Contracts.Transfer;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;
using Federation.Silo.Placement;
using Federation.Silo.Transfer;
using Microsoft.Extensions.Logging;
using ContractMetrics = Federation.Contracts.Participants.ModelMetrics;

namespace Federation.Silo.Grains;

/// <summary>
/// Each job's part of the latest opening the participant committed to (FedCore's ParticipantRound.OpeningPart): model-sized,
/// so stored apart from <see cref="ParticipantState"/>, which every step writes.
/// </summary>
[GenerateSerializer]
public sealed class OpeningPartsState
{
    [Id(0)]
    public Dictionary<string, byte[]> Parts { get; set; } = [];
}

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

    // Id 3 held per-job round secrets before the round protocol moved into FedCore.Rounds; it is no longer read.

    /// <summary>The jobs it accepted: what it pinned for each, and its latest round's record (secrets included).</summary>
    [Id(4)]
    public Dictionary<string, PinnedJob> Jobs { get; set; } = [];

    /// <summary>The latest membership record it verified: a later chain must contain it (no rollback, no rewritten history).</summary>
    [Id(5)]
    public long MembershipSerial { get; set; }

    [Id(6)]
    public string? MembershipDigest { get; set; }

    /// <summary>
    /// For each agreement and terms ("id@terms digest"), how many status changes the latest document it read had: a relay
    /// serving an older document (a suspension or termination rolled back) is refused.
    /// </summary>
    [Id(7)]
    public Dictionary<string, int> AgreementStatusChanges { get; set; } = [];

    /// <summary>The sums it helped open, in any job: basis → members (<see cref="FedCore.Rounds.OpenedSums"/>).</summary>
    [Id(8)]
    public Dictionary<string, string> OpenedSums { get; set; } = [];

    /// <summary>
    /// Each dataset's split (train fraction and seed), fixed by the first job it accepted for it: every later job sees
    /// the same rows, so no two jobs' moments or scores differ by a few of them.
    /// </summary>
    [Id(11)]
    public Dictionary<string, DatasetSplitTerms> Splits { get; set; } = [];

    /// <summary>The nonces of its organisation's approvals it has used, with their expiry: each serves one act (FedCore's ApprovalLedger).</summary>
    [Id(9)]
    public Dictionary<string, DateTimeOffset> UsedApprovals { get; set; } = [];

    /// <summary>Each dataset's privacy ledger (FedCore's PrivacyLedgerJson): every round charged to it, DP or not.</summary>
    [Id(12)]
    public Dictionary<string, string> PrivacyLedgers { get; set; } = [];

    /// <summary>
    /// The one explanation it gives each job: its version and the model's SHA-256 (hex), stored before it uses a row for it.
    /// Asked again for anything else, it refuses.
    /// </summary>
    [Id(13)]
    public Dictionary<string, string> Explanations { get; set; } = [];
}

/// <summary>How a dataset is split for every job: fixed by the first.</summary>
[GenerateSerializer, Immutable]
public sealed record DatasetSplitTerms(
    [property: Id(0)] double TrainFraction,
    [property: Id(1)] int Seed);

/// <summary>
/// What a participant pinned for a job when it accepted it (FedCore/Rounds/README.md, "Who decides what"; the terms come
/// from the agreement and the keys from the membership, as it verified them), and the stored record of its latest round
/// (<see cref="ParticipantRoundRecord"/>; it holds the round's secrets until they are used), and where it stands in the
/// job's model chain (<see cref="ModelChainRecord"/>), with the server strategy it pinned to compute that chain.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PinnedJob(
    [property: Id(0)] IReadOnlyList<string> Parties,
    [property: Id(1)] int MinimumParticipants,
    [property: Id(2)] IReadOnlyDictionary<string, byte[]> PartyKeys,
    [property: Id(3)] ProtectionSettings Protection,
    [property: Id(4)] string DatasetName,
    [property: Id(5)] DateTimeOffset AcceptedAt,
    [property: Id(6)] byte[]? RoundRecord,
    [property: Id(7)] string AgreementId,
    [property: Id(8)] string TermsDigest,
    [property: Id(9)] string ModelClass,
    [property: Id(10)] string AggregatorCountry,
    [property: Id(11)] IReadOnlyList<string> FinalModelDestinations,
    [property: Id(12)] DateTimeOffset ValidUntil,
    [property: Id(13)] byte[] Consent,
    [property: Id(14)] string ModelSpecJson,
    [property: Id(15)] LocalTrainingSettings Training,
    [property: Id(16)] double TrainFraction,
    [property: Id(17)] int SplitSeed,
    [property: Id(18)] IReadOnlyDictionary<string, string>? PartyDatasets = null,
    [property: Id(19)] StrategySettings? Strategy = null,
    [property: Id(20)] byte[]? ModelChain = null,
    [property: Id(21)] double? MaxRowShare = null)
{
    /// <summary>Its split of the dataset: the same for every job (<see cref="ParticipantState.Splits"/>).</summary>
    public DataSplit Split => new(DatasetName, TrainFraction, SplitSeed);
}

[GenerateSerializer, Immutable]
public sealed record RegisteredDataset(
    [property: Id(0)] DatasetRegistration Registration,
    [property: Id(1)] DatasetSummary Summary);

/// <summary>
/// One organisation's silo-side presence. Pinned to its country by <see cref="CountryResidencyPlacementFilterAttribute"/>;
/// its state lives in the country's own storage. Rows are read here and never leave: only metadata, feature moments,
/// metrics and what the round protocol sends do. The round protocol itself is <see cref="ParticipantRound"/>: this grain
/// calls it, stores what it must remember before each reply leaves, and runs the training.
/// </summary>
[CountryResidencyPlacementFilter]
public sealed partial class ParticipantGrain(
    [PersistentState("participant", StorageNames.Country)] IPersistentState<ParticipantState> state,
    [PersistentState("opening-parts", StorageNames.Country)] IPersistentState<OpeningPartsState> parts,
    SiloCountry siloCountry,
    FederationSiloOptions siloOptions,
    TimeProvider clock,
    PayloadTransfers transfers,
    FederationRecords records,
    ApprovalVerifier approvals,
    SiloPolicies policies,
    AuditTrail audit,
    ParticipantWorkSlots turns,
    ILogger<ParticipantGrain> logger) : Grain, IParticipantGrain
{
    // Rows loaded from the registered files, kept only in this activation's memory.
    private readonly Dictionary<string, LoadedDataset> _loaded = [];
    private PreparedSplit? _prepared;

    // Each job's protocol state machine: its stored record plus what a restart loses (round key, sealed update, …).
    private readonly Dictionary<string, ParticipantRound> _rounds = [];

    // CPU seconds this participant spent on the protocol's cryptography in each job's current round (benchmarks).
    private readonly Dictionary<string, double> _cryptoSeconds = [];

    private string Key => this.GetPrimaryKeyString();

    /// <summary>This organisation, as the actor of what it records in the audit log.</summary>
    private AuditActor Actor => AuditActor.Organisation(Key);

    /// <summary>
    /// Records an entry in its organisation's name, signed with its membership key (the log takes no entry in an organisation's
    /// name without it), once the membership lists it with this key; before that its silo records it. A caller that has just
    /// verified the membership passes it, so that it is not read and verified again.
    /// </summary>
    private async Task RecordAsync(Func<AuditActor, AuditEntry> entry, VerifiedMembership? membership = null)
    {
        using var key = ParticipantSigningKey.Import(state.State.SigningKey!);
        var member = membership is not null ? membership.Find(Key) : await CurrentEntryAsync();
        if (member is not null && member.SigningKey.AsSpan().SequenceEqual(key.PublicKey))
            await audit.RecordAsync(entry(Actor).SignedWith(key));
        else
            await audit.RecordAsync(entry(audit.Silo));
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await ExpireStaleSecretsAsync();
        // Secrets of a round nobody finishes are erased even if no request comes.
        this.RegisterGrainTimer(ExpireStaleSecretsAsync, new GrainTimerCreationOptions(siloOptions.RoundSecretLifetime / 4, siloOptions.RoundSecretLifetime / 4));
    }

    private async Task ExpireStaleSecretsAsync()
    {
        bool changed = false;
        foreach (var jobId in state.State.Jobs.Keys.ToList())
        {
            if (state.State.Jobs[jobId].RoundRecord is null)
                continue;
            var round = RoundFor(jobId);
            if (round.ExpireIfOlderThan(siloOptions.RoundSecretLifetime))
            {
                logger.LogInformation("Participant {Participant} erased the secrets of its unfinished round of job {Job}", Key, jobId);
                changed |= Remember(jobId, round);
            }
        }
        if (changed)
            await state.WriteStateAsync();
    }

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

    public async Task<DatasetSummary> RegisterDataset(DatasetRegistration registration, byte[] approval)
    {
        RequireProfile();
        if (string.IsNullOrWhiteSpace(registration.Name))
            throw new FederationOperationException("dataset.invalid", $"Participant {Key}: a dataset needs a name.");

        // Its organisation's approval first, of this file (by its hash), schema and publication: before it parses the file,
        // no caller learns anything of a file on its silo but whether it can be read. Nothing already stored changes on a refusal.
        var refusal = $"Participant {Key}, dataset '{registration.Name}'";
        DatasetSchema schema;
        string fileSha256;
        try
        {
            schema = DatasetSchema.Parse(registration.SchemaJson, registration.SchemaSource);
            fileSha256 = await FileDigest.Sha256Async(registration.CsvPath);
        }
        catch (Exception e) when (e is DatasetSchemaException or IOException or UnauthorizedAccessException)
        {
            throw new FederationOperationException("dataset.invalid", $"{refusal}: {e.Message}");
        }
        var publication = PublicationOf(registration);
        var approved = approvals.Verify(Key, approval, ApprovalSubject.RegisterDataset(registration.Name, fileSha256, schema.Hash, publication), clock.GetUtcNow());
        if (registration.ExpectedSha256 is { } expected && !string.Equals(expected, fileSha256, StringComparison.OrdinalIgnoreCase))
            throw new FederationOperationException("dataset.invalid", $"{refusal}: {registration.CsvPath} has SHA-256 {fileSha256}, not the {expected} given for it.");

        var loaded = await LoadAsync(registration, "dataset.invalid");
        if (loaded.Metadata.FileSha256 != fileSha256)
            throw new FederationOperationException("dataset.invalid", $"{refusal}: {registration.CsvPath} changed while it was read; register it again.");
        await UseApprovalAsync(approved);

        var summary = ToSummary(registration.Name, loaded.Metadata);
        // Recorded before the catalog or this silo holds it; a name the log cannot take is refused before either.
        var catalogEntry = publication is null ? null : CatalogEntry(registration.Name, publication, summary);
        AuditEntry Registered(AuditActor actor) => AuditEvents.DatasetRegistered(audit.Now, actor, audit.Country, Key, registration.Name,
            AuditDigest.Parse(summary.FileSha256), AuditDigest.Parse(summary.SchemaHash), summary.RowCount, catalogEntry is null ? null : AuditDigest.Parse(catalogEntry.Digest));
        try
        {
            _ = Registered(Actor);
        }
        catch (AuditEntryException e)
        {
            throw new FederationOperationException("dataset.invalid", $"{refusal}: {e.Message}");
        }
        await RecordAsync(Registered);
        if (catalogEntry is not null)
            await PublishCatalogEntryAsync(catalogEntry);
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

    public Task<PrivacyBudgetSummary> GetPrivacyBudget(string datasetName, double delta)
    {
        var registration = Registered(datasetName).Registration;
        if (!(delta > 0 && delta < 1))
            throw new FederationOperationException("privacy.invalid", $"δ must lie strictly between 0 and 1, not {delta}.");
        var ledger = LedgerOf(registration.Name);
        return Task.FromResult(new PrivacyBudgetSummary(ledger.Dataset, ledger.Charges.Length, ledger.Unprotected.Length, ledger.SpentAt(delta).Epsilon, delta,
            registration.Catalog?.EpsilonCap));
    }

    // Each dataset's ledger as last stored: composing its charges' RDP takes milliseconds per charge, and the ledger is
    // read before every step of a DP job, so it is read from storage once per activation.
    private readonly Dictionary<string, PrivacyLedger> _ledgers = [];

    private PrivacyLedger LedgerOf(string dataset)
    {
        if (!_ledgers.TryGetValue(dataset, out var ledger))
            _ledgers[dataset] = ledger = state.State.PrivacyLedgers.TryGetValue(dataset, out var json) ? PrivacyLedgerJson.Read(dataset, json) : PrivacyLedger.Empty(dataset);
        return ledger;
    }

    public Task<string> GetDatasetSchema(string datasetName) => Task.FromResult(Registered(datasetName).Registration.SchemaJson);

    public async Task<FeatureMomentsMessage> ComputeFeatureMoments(string jobId)
    {
        RequireProfile();
        await RequireAllowedAsync(jobId, null, "compute feature moments");
        var (schema, train, _) = await PrepareAsync(PinnedFor(jobId).Split);
        var moments = await OnOwnRowsAsync(jobId, "computing feature moments", () => FeatureMoments.Compute(train, schema));
        return new FeatureMomentsMessage(moments.FeatureNames, moments.Count, moments.Sum, moments.SumOfSquares,
            Sign(RoundPurpose.FeatureMoments, jobId, 0, PinnedFor(jobId).Protection.Scheme, SignedMoments.Encode(moments)));
    }

    private RoundTerms TermsOf(string jobId, PinnedJob pinned) =>
        new(jobId, Key, pinned.Parties, pinned.MinimumParticipants, pinned.PartyKeys, new RoundProtection(pinned.Protection.Scheme, pinned.Protection.UpdateBound));

    // ---- The round protocol ---------------------------------------------------------------------------------------

    public async Task<SignedPayload> CommitRoundKey(RoundKeyRequest request)
    {
        // A new round only while the job's agreement is in force: a suspension, termination or expiry stops the job here.
        await RequireAgreementInForceAsync(request.JobId, $"take part in round {request.Round}");
        return await CommitAsync(request);
    }

    private Task<SignedPayload> CommitAsync(RoundKeyRequest request) =>
        Step(request.JobId, round => ToContract(round.Commit(new KeyRequest(request.JobId, request.Round, request.Participants))), newRound: true);

    public Task<RoundKeyReveal> RevealRoundKey(RoundKeyRevealRequest request) =>
        Step(request.JobId, round =>
        {
            var reveal = round.Reveal(new KeyRevealRequest(request.JobId, request.Round, FromContract(request.Commitments)));
            return new RoundKeyReveal(ToContract(reveal.Statement), reveal.PublicShare);
        });

    public Task<SignedPayload> CheckRoundKey(RoundKeyCheckRequest request)
    {
        var shares = request.SplitShares(transfers.Take(GrainContext, request.PublicShares));
        return Step(request.JobId, round => ToContract(round.CheckKey(new KeyCheckRequest(request.JobId, request.Round, FromContract(request.Statements), shares, request.PlanDigest))));
    }

    public Task<LocalTrainingReport> Train(RoundAssignment assignment) => turns.RunAsync(() => TrainAsync(assignment));

    private async Task<LocalTrainingReport> TrainAsync(RoundAssignment assignment)
    {
        RequireProfile();
        var global = FloatBytes.ToFloats(transfers.Take(GrainContext, assignment.GlobalParameters));
        var pinned = PinnedFor(assignment.JobId);
        var round = RoundFor(assignment.JobId);
        var simulation = round.Terms.Protection.IsSimulation;
        // The agreement and its own law are read again at every step that uses its rows or its secrets, here before any:
        // a suspension during a round stops it there; a deny ends the round.
        Agreement agreement;
        try
        {
            agreement = await RequireAllowedAsync(assignment.JobId, assignment.GlobalVersion + 1, $"train in round {assignment.Round}");
        }
        catch (FederationOperationException e) when (e.Code == "policy.denied")
        {
            await Step(assignment.JobId, r => { r.AbandonRound(); return true; });
            throw;
        }
        // What it trains is what it pinned when it accepted the job; only the plan comes with the round.
        var refusal = $"Participant {Key} refuses to train for job {assignment.JobId} round {assignment.Round}";
        var spec = ParseSpec(pinned.ModelSpecJson, assignment.JobId);
        RequireParametersOf(spec, global, refusal);
        var scaling = ToScaling(assignment.Scaling);
        RoundPlan plan;
        try
        {
            plan = RoundPlan.For(assignment.JobId, assignment.GlobalVersion, global, scaling, assignment.WeightNormaliser);
        }
        catch (ArgumentException e)
        {
            throw new FederationOperationException(RoundRefusal.Refused, $"{refusal}: {e.Message}");
        }
        var (_, train, _) = await PrepareAsync(pinned.Split);
        var scaled = await OnOwnRowsAsync(assignment.JobId, "scaling its rows", () => scaling.Apply(train));
        byte[] basis;
        try
        {
            basis = RoundPlan.BasisOf(global, scaled);
        }
        catch (ArgumentException e)
        {
            throw new FederationOperationException(RoundRefusal.Refused, $"{refusal}: {e.Message}");
        }
        // The round key, and the plan and basis with it, are checked before any training: a refusal costs nothing.
        if (!simulation)
            await Step(assignment.JobId, r => { r.PrepareTraining(new SealRequest(assignment.JobId, assignment.Round, FromContract(assignment.KeyAcceptances)), plan, basis); return true; });

        // Its seed follows from its dataset's split seed and the model version, not from the model's bytes: the decrypted
        // global carries encryption noise, and a run must not change course with it. The job may ask for the same basis
        // under another version number and so another shuffle, but such a sum opens only over the same members
        // (OpenedSums), so it tells no more than a sum of the same updates.
        var options = pinned.Training.ToTrainingOptions(TrainingSeed(pinned, assignment.GlobalVersion));
        // What the training will spend is charged to its dataset, and stored, before it trains on a row.
        await ReservePrivacyAsync(pinned, agreement, assignment, train.RowCount, options);
        // Training runs on the thread pool, off this activation's turn, so the silo's scheduler stays free. A failure ends
        // its round: asked again, a failing and a succeeding plan would tell the job something of its rows.
        var clock = Stopwatch.StartNew();
        LocalTrainingResult result;
        try
        {
            result = await OnOwnRowsAsync(assignment.JobId, "training", () => LocalTrainer.Train(spec, global, scaled, options, CancellationToken.None));
        }
        catch (FederationOperationException)
        {
            await Step(assignment.JobId, r => { r.AbandonRound(); return true; });
            throw;
        }
        var trainSeconds = clock.Elapsed.TotalSeconds;
        var delta = new float[result.Parameters.Length];
        for (int i = 0; i < delta.Length; i++)
            delta[i] = result.Parameters[i] - global[i];
        double weight = result.SampleCount / assignment.WeightNormaliser;

        clock.Restart();
        Sealed sealedUpdate;
        try
        {
            sealedUpdate = await Step(assignment.JobId, r => simulation
                ? r.SealInTheClear(assignment.Round, assignment.Participants, delta, weight)
                : r.Seal(assignment.Round, delta, weight));
        }
        catch (UpdateOutOfBoundsException e)
        {
            // Only the weight's (its sample count over the normaliser, both known to the job); it ends the round.
            throw new FederationOperationException("round.update-out-of-bounds", $"Participant {Key}, job {assignment.JobId} round {assignment.Round}: {e.Message}");
        }
        await RecordAsync(actor => AuditEvents.UpdateSealed(audit.Now, actor, audit.Country, assignment.JobId, assignment.GlobalVersion + 1, Key,
            AuditDigest.FromSha256(sealedUpdate.Digest)));
        if (sealedUpdate.Clipped > 0)
            logger.LogWarning("Participant {Participant}, job {Job} round {Round}: {Clipped} update values clipped to the bound ±{Bound} (raise it, or train with a smaller step)",
                Key, assignment.JobId, assignment.Round, sealedUpdate.Clipped, pinned.Protection.UpdateBound);
        // The local model and the update are the most sensitive values here: gone once sealed.
        Array.Clear(delta);
        Array.Clear(result.Parameters);
        if (simulation)
            logger.LogWarning("Participant {Participant}, job {Job} round {Round}: update sent WITHOUT encryption (plaintext simulation)", Key, assignment.JobId, assignment.Round);
        // Under DP only the noisy update leaves: the training loss is a figure of its rows, so it is not reported.
        double trainLoss = options.Privacy is null ? result.MeanTrainLoss : double.NaN;
        return new LocalTrainingReport(Key, assignment.Round, result.SampleCount, trainLoss, transfers.Offer(GrainContext, sealedUpdate.SealedUpdate),
            ToContract(sealedUpdate.Commitment), trainSeconds, clock.Elapsed.TotalSeconds);
    }

    public Task<LocalTrainingReport> Explain(RoundAssignment assignment) => turns.RunAsync(() => ExplainAsync(assignment));

    private async Task<LocalTrainingReport> ExplainAsync(RoundAssignment assignment)
    {
        RequireProfile();
        var model = FloatBytes.ToFloats(transfers.Take(GrainContext, assignment.GlobalParameters));
        var pinned = PinnedFor(assignment.JobId);
        var simulation = RoundFor(assignment.JobId).Terms.Protection.IsSimulation;
        var what = $"explain model version {assignment.GlobalVersion}";
        try
        {
            await RequireAllowedAsync(assignment.JobId, null, what);
        }
        catch (FederationOperationException e) when (e.Code == "policy.denied")
        {
            await Step(assignment.JobId, r => { r.AbandonRound(); return true; });
            throw;
        }
        var refusal = $"Participant {Key} refuses to {what} for job {assignment.JobId}";
        var spec = ParseSpec(pinned.ModelSpecJson, assignment.JobId);
        RequireParametersOf(spec, model, refusal);
        if (spec.IsRegression)
            throw new FederationOperationException(RoundRefusal.Refused, $"{refusal}: a regression model has no accuracy to lose, so no permutation importance.");
        if (assignment.GlobalVersion < 1)
            throw new FederationOperationException(RoundRefusal.Refused, $"{refusal}: only a trained version (1 or later) is explained.");
        // One explanation per job, of one model: asked again with another (a model of the aggregator's making, moved by an
        // ulp, under another version number), it would let the aggregator difference sums. Stored before a row is used.
        var explanation = $"{assignment.GlobalVersion}:{Convert.ToHexStringLower(SHA256.HashData(FloatBytes.From(model)))}";
        if (state.State.Explanations.TryGetValue(assignment.JobId, out var given) && given != explanation)
            throw new FederationOperationException(RoundRefusal.Refused,
                $"{refusal}: it explains one model per job and already explained version {given[..given.IndexOf(':')]} of this job (model {given[(given.IndexOf(':') + 1)..][..12]}…).");
        var scaling = ToScaling(assignment.Scaling);
        RequireOnChain(assignment.JobId, assignment.GlobalVersion, model, scaling, refusal);
        var (_, _, test) = await PrepareAsync(pinned.Split);
        var scaled = await OnOwnRowsAsync(assignment.JobId, "scaling its rows", () => scaling.Apply(test));
        RoundPlan plan;
        byte[] basis;
        try
        {
            plan = RoundPlan.ForExplanation(assignment.JobId, assignment.GlobalVersion, model, scaling, assignment.WeightNormaliser);
            basis = RoundPlan.ExplanationBasisOf(test);
        }
        catch (ArgumentException e)
        {
            throw new FederationOperationException(RoundRefusal.Refused, $"{refusal}: {e.Message}");
        }
        if (given is null)
        {
            state.State.Explanations[assignment.JobId] = explanation;
            await state.WriteStateAsync();
        }
        // As for training: the key, made for this plan, checked before its rows are used; and no sum from its test split
        // (whatever the model) opened over other members, in any job.
        if (!simulation)
            await Step(assignment.JobId, r => { r.PrepareExplanation(new SealRequest(assignment.JobId, assignment.Round, FromContract(assignment.KeyAcceptances)), plan, basis); return true; });
        var clock = Stopwatch.StartNew();
        var share = await OnOwnRowsAsync(assignment.JobId, "permutation importance",
            () => PermutationImportance.Compute(spec, model, scaled, (ulong)TrainingSeed(pinned, assignment.GlobalVersion)));
        var seconds = clock.Elapsed.TotalSeconds;
        var vector = share.ToVector();
        double weight = share.Rows / assignment.WeightNormaliser;
        clock.Restart();
        var sealedShare = await Step(assignment.JobId, r => simulation
            ? r.SealInTheClear(assignment.Round, assignment.Participants, vector, weight)
            : r.Seal(assignment.Round, vector, weight));
        Array.Clear(vector);
        await RecordAsync(actor => AuditEvents.UpdateSealed(audit.Now, actor, audit.Country, assignment.JobId, assignment.GlobalVersion, Key,
            AuditDigest.FromSha256(sealedShare.Digest)));
        return new LocalTrainingReport(Key, assignment.Round, share.Rows, double.NaN, transfers.Offer(GrainContext, sealedShare.SealedUpdate),
            ToContract(sealedShare.Commitment), seconds, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Charges a round's DP-SGD training to its dataset's ledger, or records a round without DP; refuses (and ends the
    /// round) if the charge would take the dataset past the lower of its own and the agreement's ε cap. Grain calls do not
    /// interleave, so two jobs' reservations on one dataset are checked and stored one after the other.
    /// </summary>
    private async Task ReservePrivacyAsync(PinnedJob pinned, Agreement agreement, RoundAssignment assignment, int rows, TrainingOptions options)
    {
        var dataset = pinned.DatasetName;
        var ledger = LedgerOf(dataset);
        var now = clock.GetUtcNow();
        PrivacyCap? cap = null;
        if (pinned.Training.Privacy is not { } dp)
            ledger = ledger.RecordUnprotected(new UnprotectedRound(assignment.JobId, assignment.Round, now));
        else
        {
            var schedule = FedCore.Learning.DpSgd.DpSgdSchedule.For(rows, options.BatchSize, options.Epochs);
            var terms = agreement.Terms.DifferentialPrivacy;
            cap = PrivacyCap.Lower(dataset, Registered(dataset).Registration.Catalog?.EpsilonCap, agreement.Id,
                terms?.EpsilonCap, PrivacyCap.DeltaFor(dp.Delta, terms?.Delta, Registered(dataset).Summary.RowCount));
            try
            {
                ledger = ledger.Reserve(new PrivacyCharge(assignment.JobId, assignment.Round, schedule.SamplingRate, dp.NoiseMultiplier, schedule.Steps, now), cap);
            }
            catch (PrivacyBudgetExceededException e)
            {
                await Step(assignment.JobId, r => { r.AbandonRound(); return true; });
                logger.LogWarning("Participant {Participant} refuses to train for job {Job} round {Round}: {Reason}", Key, assignment.JobId, assignment.Round, e.Message);
                throw new FederationOperationException("privacy.budget-exceeded", $"Participant {Key} refuses to train for job {assignment.JobId} round {assignment.Round}: {e.Message}");
            }
        }
        state.State.PrivacyLedgers[dataset] = PrivacyLedgerJson.Write(ledger);
        await state.WriteStateAsync();
        _ledgers[dataset] = ledger;
        if (cap is not null)
        {
            var charge = ledger.Charges[^1];
            // ε of the DP charges alone (the ledger's composed curve): a round without DP makes SpentAt unbounded, which the
            // entry says by counting them.
            await RecordAsync(actor => AuditEvents.PrivacyReserved(audit.Now, actor, audit.Country, Key, dataset, assignment.JobId, assignment.GlobalVersion + 1,
                ledger.Spent.Epsilon(cap.Delta).Epsilon, cap.Delta, charge.NoiseMultiplier, charge.SamplingRate, charge.Steps,
                double.IsFinite(cap.Epsilon) ? cap.Epsilon : null, ledger.Unprotected.IsEmpty ? null : ledger.Unprotected.Length));
        }
    }

    public Task<SignedPayload> CheckAggregate(RoundAggregateCheckRequest request) => turns.RunAsync(() => CheckAggregateAsync(request));

    private async Task<SignedPayload> CheckAggregateAsync(RoundAggregateCheckRequest request)
    {
        var masks = transfers.Take(GrainContext, request.AggregateMasks);
        await RequireAgreementInForceAsync(request.JobId, $"check the aggregate of round {request.Round}");
        return await Step(request.JobId, round => ToContract(round.CheckAggregate(
            new FedCore.Rounds.AggregateCheckRequest(request.JobId, request.Round, masks, FromContract(request.Commitments)))));
    }

    public Task<DecryptionReply> Decrypt(DecryptionRequest request) => turns.RunAsync(() => DecryptAsync(request));

    private async Task<DecryptionReply> DecryptAsync(DecryptionRequest request)
    {
        // Its share opens the round's sum, built from its update: its own law is asked again, so a deny that comes while the
        // round runs stops it here.
        await RequireAllowedAsync(request.JobId, null, $"help decrypt round {request.Round}");
        var commitment = await Step(request.JobId, round => ToContract(round.Decrypt(new DecryptRequest(request.JobId, request.Round, FromContract(request.AggregateFingerprints)))));
        logger.LogInformation("Participant {Participant} committed to its part of the opening of job {Job} round {Round} (sum of {Updates} committed updates)",
            Key, request.JobId, request.Round, request.AggregateFingerprints.Count);
        _cryptoSeconds.Remove(request.JobId, out var cryptoSeconds);
        // The next round's key share, in the same call: it saves the next round an exchange. (Its record is written by
        // that step before the reply leaves, after the decryption's own record was written above.)
        var next = request.NextRound is { } n ? await CommitAsync(n) : null; // the agreement was read above
        return new DecryptionReply(commitment, next, cryptoSeconds);
    }

    public Task<PartReply> RevealPart(RoundPartRevealRequest request) => turns.RunAsync(async () =>
    {
        var part = await Step(request.JobId, round => ToContract(round.RevealPart(new PartRevealRequest(request.JobId, request.Round, FromContract(request.PartCommitments)))));
        return new PartReply(part with { Payload = [] }, transfers.Offer(GrainContext, part.Payload));
    });

    // ---- The model chain (FedCore/Rounds/README.md, "The model chain") -------------------------------------------

    public Task StartModelChain(string jobId, IReadOnlyList<SignedPayload> moments)
    {
        var pinned = PinnedFor(jobId);
        var spec = ParseSpec(pinned.ModelSpecJson, jobId);
        if (pinned.Strategy is not { } strategy)
            throw new FederationOperationException(RoundRefusal.Refused,
                $"Participant {Key} refuses to start a model chain for job {jobId}: it accepted the job without a server strategy to compute it by.");
        // Version 0 is the initial model for the job's seed, which every job of its dataset shares with the split; the chain's
        // origin names the dataset and its split, so that only chains over the same rows share positions.
        return Step(jobId, round => round.StartChain(FromContract(moments), spec, pinned.SplitSeed, strategy.ToOptions(),
            FormattableString.Invariant($"{pinned.DatasetName}:{pinned.TrainFraction:R}:{pinned.SplitSeed}"), pinned.MaxRowShare));
    }

    public Task<SignedPayload> CheckOpening(RoundOpeningCheckRequest request) =>
        Step(request.JobId, round => ToContract(round.CheckOpening(new OpeningCheckRequest(request.JobId, request.Round, request.OpenedDigest))));

    public Task<SignedPayload> OpenLeaves(RoundSpotCheckRequest request) =>
        Step(request.JobId, round => ToContract(round.OpenLeaves(new SpotCheckRequest(request.JobId, request.Round, FromContract(request.OpeningFingerprints)))));

    public Task<int> AdvanceModelChain(ModelChainAdvance advance) => turns.RunAsync(() => AdvanceAsync(advance));

    private Task<int> AdvanceAsync(ModelChainAdvance advance)
    {
        var opening = advance.Opening;
        var opened = transfers.Take(GrainContext, opening.Opened);
        var global = FloatBytes.ToFloats(transfers.Take(GrainContext, advance.Global));
        var state = advance.FirstMoment is { } m && advance.SecondMoment is { } v
            ? new ServerOptimizerState(FloatBytes.ToFloats(transfers.Take(GrainContext, m)), FloatBytes.ToFloats(transfers.Take(GrainContext, v)))
            : null;
        return Step(advance.JobId, round => round.AdvanceChain(new OpeningRequest(advance.JobId, opening.Round, opening.Participants, opened,
            FromContract(opening.PartCommitments), FromContract(opening.Fingerprints), FromContract(opening.OpenedLeaves)), global, state));
    }

    public Task<int> GetModelChainVersion(string jobId) => Task.FromResult(RoundFor(jobId).Chain?.Version ?? -1);

    /// <summary>
    /// One protocol step: off the scheduler (the cryptography takes milliseconds to seconds), then the record stored if
    /// the step changed it — before the reply (or the refusal: a refused seal ends the round) leaves, so that a restart
    /// forgets none of what the reply depends on.
    /// </summary>
    private async Task<T> Step<T>(string jobId, Func<ParticipantRound, T> step, bool newRound = false)
    {
        RequireProfile();
        var round = RoundFor(jobId);
        if (round.ExpireIfOlderThan(siloOptions.RoundSecretLifetime) && Remember(jobId, round))
            await state.WriteStateAsync();
        if (newRound)
            _cryptoSeconds[jobId] = 0;
        try
        {
            var (result, cpu) = await Task.Run(() => ThreadCpuClock.Measure(() => step(round)));
            _cryptoSeconds[jobId] = _cryptoSeconds.GetValueOrDefault(jobId) + cpu;
            return result;
        }
        finally
        {
            // The part before the record that names it: a record naming a part that was never stored would answer "restarted".
            if (round.PartChanged)
            {
                if (round.OpeningPart is { } part)
                    parts.State.Parts[jobId] = part;
                else
                    parts.State.Parts.Remove(jobId);
                await parts.WriteStateAsync();
                round.PartChanged = false;
            }
            if (Remember(jobId, round))
                await state.WriteStateAsync();
        }
    }

    /// <summary>Copies a changed round record into the state (the caller writes it); true if there was a change.</summary>
    private bool Remember(string jobId, ParticipantRound round)
    {
        if (!round.RecordChanged)
            return false;
        state.State.Jobs[jobId] = state.State.Jobs[jobId] with { RoundRecord = round.Record?.ToBytes(), ModelChain = round.Chain?.ToBytes() };
        round.RecordChanged = false;
        return true;
    }

    /// <summary>Under encryption, only the model its chain stands at is scored or explained (<see cref="ParticipantRound.OffChain"/>).</summary>
    private void RequireOnChain(string jobId, int version, ReadOnlySpan<float> model, FeatureScaling scaling, string refusal)
    {
        var round = RoundFor(jobId);
        if (!round.Terms.Protection.IsSimulation && round.OffChain(version, model, scaling) is { } reason)
            throw new FederationOperationException(RoundRefusal.OffChain, $"{refusal}: {reason}.");
    }

    private PinnedJob PinnedFor(string jobId) =>
        state.State.Jobs.TryGetValue(jobId, out var pinned)
            ? pinned
            : throw new FederationOperationException(RoundRefusal.Refused, $"Participant {Key} has not accepted job {jobId}: it takes part in no round of it.");

    private ParticipantRound RoundFor(string jobId)
    {
        if (_rounds.TryGetValue(jobId, out var round))
            return round;
        var pinned = PinnedFor(jobId);
        var record = pinned.RoundRecord is { } bytes ? ParticipantRoundRecord.FromBytes(bytes) : null;
        // The key is captured here: the protocol's steps run on the thread pool, where grain state must not be touched.
        var signingKey = state.State.SigningKey!;
        // The opened sums are shared by all its jobs' rounds; a step that adds one marks its record changed, so they are
        // written with it (the grain is not reentrant: no two steps touch them at once).
        var chain = pinned.ModelChain is { } chainBytes ? ModelChainRecord.FromBytes(chainBytes) : null;
        round = new ParticipantRound(TermsOf(jobId, pinned), record, statement => SignWith(signingKey, statement), new OpenedSums(state.State.OpenedSums), clock, chain,
            parts.State.Parts.GetValueOrDefault(jobId));
        _rounds[jobId] = round;
        return round;
    }

    private static byte[] SignWith(byte[] pkcs8, byte[] statement)
    {
        using var key = ParticipantSigningKey.Import(pkcs8);
        return key.Sign(statement);
    }

    private SignedPayload Sign(string purpose, string jobId, int round, string scheme, byte[] payload) =>
        new(Key, jobId, round, scheme, payload, SignWith(state.State.SigningKey!, SignedStatement.For(purpose, jobId, round, Key, scheme, payload).ToBytes()));

    private static SignedPayload ToContract(SignedMessage m) => new(m.ParticipantId, m.JobId, m.Round, m.Scheme, m.Payload, m.Signature);

    private static List<SignedMessage> FromContract(IEnumerable<SignedPayload> messages) =>
        messages.Select(m => new SignedMessage(m.ParticipantId, m.JobId, m.Round, m.Scheme, m.Payload, m.Signature)).ToList();

    // ---- Evaluation and data ------------------------------------------------------------------------------------

    public Task<ContractMetrics> Evaluate(EvaluationAssignment assignment) => turns.RunAsync(() => EvaluateAsync(assignment));

    private async Task<ContractMetrics> EvaluateAsync(EvaluationAssignment assignment)
    {
        RequireProfile();
        var pinned = PinnedFor(assignment.JobId);
        await RequireAllowedAsync(assignment.JobId, null, "score a model");
        var parameters = FloatBytes.ToFloats(transfers.Take(GrainContext, assignment.Parameters));
        var spec = ParseSpec(pinned.ModelSpecJson, assignment.JobId);
        var refusal = $"Participant {Key} refuses to score a model of job {assignment.JobId}";
        RequireParametersOf(spec, parameters, refusal);
        var scaling = ToScaling(assignment.Scaling);
        RequireOnChain(assignment.JobId, assignment.GlobalVersion, parameters, scaling, refusal);
        var (_, _, test) = await PrepareAsync(pinned.Split);
        var metrics = await OnOwnRowsAsync(assignment.JobId, "scoring", () => ModelEvaluator.Evaluate(spec, parameters, scaling.Apply(test)));
        return new ContractMetrics(metrics.Loss, metrics.Accuracy, metrics.Auc, metrics.SampleCount);
    }

    private ParticipantProfile RequireProfile() =>
        state.State.Profile ?? throw new FederationOperationException("participant.unknown", $"Participant {Key} is not enrolled.");

    /// <summary>The participant's rows for a split: loaded from the registered file (checked against its registered hash) and split.</summary>
    private async Task<(DatasetSchema Schema, TabularData Train, TabularData Test)> PrepareAsync(DataSplit split)
    {
        if (_prepared is { } p && p.Split == split)
            return (p.Schema, p.Train, p.Test);

        var registered = Registered(split.DatasetName);

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

    private RegisteredDataset Registered(string name) =>
        state.State.Datasets.TryGetValue(name, out var registered)
            ? registered
            : throw new FederationOperationException("dataset.unknown",
                $"Participant {Key} has no dataset '{name}' (registered: {string.Join(", ", state.State.Datasets.Keys.DefaultIfEmpty("none"))}).");

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

    /// <summary>A non-negative seed from the dataset's split seed, the model version and its own id.</summary>
    private int TrainingSeed(PinnedJob pinned, int globalVersion) =>
        (int)(BitConverter.ToUInt32(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"federation/training-seed/v1\n{pinned.SplitSeed}\n{globalVersion}\n{Key}"))) >> 1);

    /// <summary>
    /// Runs its own computation on its rows off the scheduler. Any failure there becomes a refusal that names nothing of
    /// the rows (exception messages can: "row r, feature f is ∞" under a scaling of the job's choosing); the reason goes
    /// to its country's own log.
    /// </summary>
    private async Task<T> OnOwnRowsAsync<T>(string jobId, string what, Func<T> work)
    {
        try
        {
            return await Task.Run(work);
        }
        catch (Exception e) when (e is not (FederationOperationException or OperationCanceledException))
        {
            logger.LogWarning(e, "Participant {Participant}, job {Job}: {What} failed", Key, jobId, what);
            throw new FederationOperationException("participant.local-failure", $"Participant {Key}, job {jobId}: {what} failed on its own rows; the reason is in its country's log.");
        }
    }

    private static void RequireParametersOf(ModelSpec spec, float[] parameters, string refusal)
    {
        if (ParameterLayout.For(spec).TotalLength is var length && parameters.Length != length)
            throw new FederationOperationException(RoundRefusal.Refused, $"{refusal}: it was sent {parameters.Length} parameters; the model it accepted the job for has {length}.");
    }

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
