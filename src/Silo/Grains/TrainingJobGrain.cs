using System.Diagnostics;
using System.Security.Cryptography;
using FedCore.Aggregation.Integrity;
using FedCore.Aggregation.Protection;
using FedCore.Aggregation.Strategies;
using FedCore.Audit.Entries;
using FedCore.Data;
using FedCore.Governance.Agreements;
using FedCore.Learning;
using FedCore.Learning.Explanation;
using FedCore.Policy.Decisions;
using FedCore.Policy.Plans;
using FedCore.Rounds;
using Federation.Contracts.Directory;
using Federation.Contracts.Errors;
using Federation.Contracts.Jobs;
using Federation.Contracts.Models;
using Federation.Contracts.Participants;
using Federation.Contracts.Transfer;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;
using Federation.Silo.Placement;
using Federation.Silo.Transfer;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Grains;

[GenerateSerializer]
public sealed class TrainingJobState
{
    [Id(0)]
    public JobSpecification? Specification { get; set; }

    [Id(1)]
    public JobPhase Phase { get; set; }

    [Id(2)]
    public List<RoundSummary> Rounds { get; set; } = [];

    [Id(3)]
    public FeatureScalingMessage? Scaling { get; set; }

    /// <summary>Σ of the participants' training rows: updates are weighted by rows / this, so the sums stay near 1.</summary>
    [Id(4)]
    public double WeightNormaliser { get; set; }

    [Id(5)]
    public int LatestModelVersion { get; set; } = -1;

    [Id(6)]
    public string? Error { get; set; }

    [Id(7)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(8)]
    public DateTimeOffset UpdatedAt { get; set; }

    [Id(9)]
    public List<string> Notes { get; set; } = [];

    /// <summary>Each participant's signing public key, pinned when the job is prepared.</summary>
    [Id(10)]
    public Dictionary<string, byte[]> ParticipantKeys { get; set; } = [];

    /// <summary>The last protocol round number used: every attempt at a round takes a new one, even after a restart.</summary>
    [Id(11)]
    public int ProtocolRound { get; set; }

    /// <summary>Each participant's signed consent to the job's terms, as it pinned them.</summary>
    [Id(12)]
    public Dictionary<string, SignedPayload> Consents { get; set; } = [];

    /// <summary>The least number of participants a round may have: the agreement's minimum (the participants enforce it).</summary>
    [Id(13)]
    public int MinimumParticipants { get; set; } = RoundTerms.AbsoluteMinimum;

    /// <summary>What every model version of the job comes from (its round's members added when a version is stored).</summary>
    [Id(14)]
    public ModelLineage? Lineage { get; set; }

    /// <summary>The policy decisions taken before the job and before each round, in order.</summary>
    [Id(15)]
    public List<PolicyDecisionRecord> PolicyDecisions { get; set; } = [];

    /// <summary>
    /// Each of <see cref="PolicyDecisions"/> as canonical JSON, Brotli-compressed (a decision over a hundred parties is
    /// megabytes of repetitive JSON); kept apart, as the status carries only its hash.
    /// </summary>
    [Id(16)]
    public List<byte[]> PolicyDecisionJson { get; set; } = [];

    /// <summary>Whether the final model's explanation was made (or given up): it is made once, after the last round.</summary>
    [Id(17)]
    public bool ExplanationDone { get; set; }

    /// <summary>
    /// The model round whose decryption was asked for, and over which members, until its version is stored: its members
    /// record the basis and chain position as opened over exactly them, so the round can only be redone over them.
    /// </summary>
    [Id(18)]
    public int DecryptingRound { get; set; }

    [Id(19)]
    public List<string>? DecryptingMembers { get; set; }

    /// <summary>
    /// Once every member of that round committed to its part of the opening (step 6), before any part is asked for: the
    /// protocol round, the commitments and the training samples the members reported. A member that revealed its part
    /// answers that round only (FedCore/Rounds/README.md, "Dropouts"), so the job takes it up again rather than redo it.
    /// </summary>
    [Id(20)]
    public int DecryptingProtocolRound { get; set; }

    [Id(21)]
    public List<SignedPayload>? DecryptingCommitments { get; set; }

    [Id(22)]
    public long DecryptingSamples { get; set; }

    /// <summary>That round's key id: a round taken up again holds every revealed part to it.</summary>
    [Id(23)]
    public byte[]? DecryptingKeyId { get; set; }
}

/// <summary>
/// Runs a job's rounds: the participants accept the job's terms, then each round runs the protocol of FedCore/Rounds
/// (<see cref="AggregatorRound"/> checks every reply), the opened mean goes through the server strategy, and the next
/// global model version is stored before the round counts as completed. A participant that cannot be reached is left
/// out of a new attempt at the round if enough remain. After a restart the job continues from its last completed round.
/// </summary>
[CountryResidencyPlacementFilter] // the job's id starts with the aggregator's country: it runs there, and nowhere else
public sealed class TrainingJobGrain(
    [PersistentState("job", StorageNames.Cluster)] IPersistentState<TrainingJobState> state,
    PayloadTransfers transfers,
    FederationRecords records,
    SiloPolicies policies,
    AuditTrail audit,
    TimeProvider clock,
    FederationSiloOptions siloOptions,
    ILogger<TrainingJobGrain> logger) : Grain, ITrainingJobGrain
{
    // The members a step's message is in flight to (FederationSiloOptions.ConcurrentMemberCalls); training is not limited.
    private readonly Turns _inFlight = new(siloOptions.ConcurrentMemberCalls);

    /// <summary>A round (or the preparation) whose participants cannot be reached is tried again this often before the job fails.</summary>
    private const int MaxRoundAttempts = 5;
    private TimeSpan RetryDelay => siloOptions.RoundRetryDelay;

    /// <summary>
    /// How often an attempt is tried again because a grain of the job's own (a model version, the audit log, the records)
    /// could not be reached. Counted apart from the members' attempts: a silo's graceful stop rejects calls ("Silo stopping")
    /// for as long as it takes, up to half a minute in tests, and that says nothing about how many members can take part.
    /// </summary>
    private const int MaxStalls = 8;

    private Task? _run;
    private bool _deactivating;
    private float[]? _global;
    private ServerOptimizerState? _optimizerState;

    // The next protocol round's key commitments, which the members sent with this round's decryption shares. Memory only:
    // after a restart the next round exchanges them itself (under a round number nobody has keyed).
    private (int Round, IReadOnlyList<string> Members, List<SignedPayload> Commitments)? _nextCommitments;

    private string JobId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Specification is not null && state.State.Phase is JobPhase.Pending or JobPhase.Running)
        {
            // Continue an unfinished job as soon as this activation is up (after a restart or a migration).
            this.RegisterGrainTimer(() => { EnsureRunning(); return Task.CompletedTask; },
                new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
        }
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The silo is going away (shutdown, migration): the round in flight is abandoned, not failed, and the job
        // continues from its last completed round in its next activation.
        _deactivating = true;
        return Task.CompletedTask;
    }

    public async Task<JobStatus> Start(JobSpecification specification)
    {
        if (state.State.Specification is { } existing)
        {
            if (existing != specification && !SameSpecification(existing, specification))
                throw new FederationOperationException("job.exists", $"Job {JobId} already exists with a different specification.");
            EnsureRunning();
            return Status();
        }

        Validate(specification);
        // Recorded before the job exists: a job the log could not take is not started.
        await audit.RecordAsync(AuditEvents.JobStarted(audit.Now, audit.Silo, audit.Country, JobId, specification.AgreementId,
            AuditDigest.Parse((await records.AgreementAsync(specification.AgreementId, await records.MembershipAsync())).TermsDigest),
            [.. specification.Participants.Select(p => p.ParticipantId)], IsSimulation(specification) ? ProtectionScheme.PlaintextSimulation : ProtectionScheme.Ckks,
            specification.Rounds, specification.Protection.UpdateBound, IsSimulation(specification) ? null : CkksProtection.Description,
            AuditDigest.Hash(System.Text.Encoding.UTF8.GetBytes(specification.ModelSpecJson))));
        var now = DateTimeOffset.UtcNow;
        state.State.Specification = specification;
        state.State.Phase = JobPhase.Pending;
        state.State.CreatedAt = state.State.UpdatedAt = now;
        if (IsSimulation(specification))
        {
            state.State.Notes.Add($"Update protection is '{specification.Protection.Scheme}': updates are NOT encrypted; the aggregator sees each participant's update. Simulation only, where every participant's silo allows it.");
            logger.LogWarning("Job {Job} runs with update protection {Scheme}: updates are not encrypted (simulation mode)", JobId, specification.Protection.Scheme);
        }
        else
        {
            state.State.Notes.Add($"Update protection is '{specification.Protection.Scheme}' with update values bounded by ±{specification.Protection.UpdateBound}: " +
                "each update is encrypted under a fresh collective key per round and masked pairwise; only the sum is decrypted, jointly (FedCore/Rounds/README.md).");
        }
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IFederationDirectoryGrain>(0).AddJob(new JobListing(JobId, specification.Name, now));
        EnsureRunning();
        return Status();
    }

    public Task<JobStatus> GetStatus()
    {
        if (state.State.Specification is null)
            throw new FederationOperationException("job.unknown", $"There is no job {JobId}.");
        return Task.FromResult(Status());
    }

    public Task Resume()
    {
        if (state.State.Specification is not null)
            EnsureRunning();
        return Task.CompletedTask;
    }

    private void EnsureRunning()
    {
        if (state.State.Phase is JobPhase.Completed or JobPhase.Failed)
            return;
        if (_run is null || _run.IsCompleted)
            _run = RunAsync(); // runs on this activation's scheduler, interleaving with status queries
    }

    private async Task RunAsync()
    {
        var spec = state.State.Specification!;
        try
        {
            if (state.State.Phase == JobPhase.Pending)
                await WithRetries("preparation", PrepareAsync);

            var strategy = ServerStrategy.Create(spec.Strategy.ToOptions());
            while (state.State.Rounds.Count < spec.Rounds)
                await RunModelRoundAsync(state.State.Rounds.Count + 1, strategy);
            if (!state.State.ExplanationDone)
                await ExplainAsync();

            await audit.RecordAsync(AuditEvents.JobFinished(audit.Now, audit.Silo, audit.Country, JobId, JobOutcome.Completed, state.State.Rounds.Count));
            state.State.Phase = JobPhase.Completed;
            await SaveAsync();
            logger.LogInformation("Job {Job} completed {Rounds} rounds; mean local test accuracy {Accuracy:F4}",
                JobId, spec.Rounds, state.State.Rounds[^1].MeanLocalTestAccuracy);
        }
        catch (Exception e) when (_deactivating)
        {
            logger.LogInformation("Job {Job} paused by deactivation after {Rounds} completed rounds ({Reason})", JobId, state.State.Rounds.Count, e.Message);
            return;
        }
        catch (Exception e)
        {
            logger.LogError(e, "Job {Job} failed", JobId);
            try
            {
                await audit.RecordAsync(AuditEvents.JobFinished(audit.Now, audit.Silo, audit.Country, JobId, JobOutcome.Failed, state.State.Rounds.Count,
                    AuditText.Line(e.Message)));
            }
            catch (Exception unrecorded)
            {
                // The job has failed either way; the failure must not be lost for want of its record.
                logger.LogError(unrecorded, "Job {Job}: its failure could not be recorded in the audit log", JobId);
            }
            state.State.Phase = JobPhase.Failed;
            state.State.Error = e.Message;
            await SaveAsync();
        }
        await GrainFactory.GetGrain<IFederationDirectoryGrain>(0).MarkJobFinished(JobId);
    }

    /// <summary>
    /// Every participant accepts the job's terms (and signs its consent), then the feature scaling is agreed from every
    /// participant's moments and model version 0 is stored.
    /// </summary>
    private async Task PrepareAsync()
    {
        var spec = state.State.Specification!;
        var participants = spec.Participants;
        // The job checks its own plan's keys and minimum against the membership and agreement it verifies; the participants
        // each check everything again themselves before they consent.
        var membership = await records.MembershipAsync();
        var agreement = await records.AgreementAsync(spec.AgreementId, membership);
        await DecideAsync(null, spec.Rounds, [.. participants.Select(p => p.ParticipantId)], null);
        state.State.MinimumParticipants = Math.Max(RoundTerms.AbsoluteMinimum, agreement.Terms.MinParticipants);
        state.State.ParticipantKeys = participants.ToDictionary(p => p.ParticipantId, p => membership.Find(p.ParticipantId)?.SigningKey.ToArray()
            ?? throw new FederationOperationException("job.invalid", $"Job {JobId}: {p.ParticipantId} is not a member of the federation."));
        var catalog = await records.CatalogAsync(membership);
        var datasets = participants.Select(p => catalog.Find(p.ParticipantId, p.DatasetName) is { } entry
            ? new ModelDataset(p.ParticipantId, p.DatasetName, entry.FileSha256, entry.SchemaHash)
            : throw new FederationOperationException("job.invalid", $"Job {JobId}: dataset '{p.DatasetName}' of {p.ParticipantId} is not in the federation's catalog.")).ToList();
        var invitation = new JobInvitation(JobId, spec.AgreementId, participants, spec.Protection, spec.ModelSpecJson, spec.Training, spec.TrainFraction, spec.Seed, spec.Strategy);
        var consents = await Task.WhenAll(participants.Select(p => Participant(p).AcceptJob(invitation)));
        state.State.Consents = consents.ToDictionary(c => c.ParticipantId);

        var moments = await Task.WhenAll(participants.Select(p => Participant(p).ComputeFeatureMoments(JobId)));
        for (int i = 1; i < moments.Length; i++)
        {
            if (!moments[i].FeatureNames.SequenceEqual(moments[0].FeatureNames))
                throw new FederationOperationException("job.schema-mismatch",
                    $"Participant {participants[i].ParticipantId} describes its data with features [{string.Join(", ", moments[i].FeatureNames)}], " +
                    $"but {participants[0].ParticipantId} with [{string.Join(", ", moments[0].FeatureNames)}]: the schema must be the same federation-wide.");
        }

        // Combined in party order, as every party combines them when it starts its model chain: the same bits on both sides.
        var byParty = participants.Select((p, i) => (p.ParticipantId, Moments: moments[i])).OrderBy(m => m.ParticipantId, StringComparer.Ordinal).ToList();
        var (scaling, normaliser) = ModelChain.ScalingOf([.. byParty.Select(m => new FeatureMoments(m.Moments.FeatureNames, m.Moments.Count, m.Moments.Sum, m.Moments.SumOfSquares))]);
        if (!new RoundProtection(spec.Protection.Scheme, spec.Protection.UpdateBound).IsSimulation)
        {
            var statements = byParty.Select(m => m.Moments.Statement ?? throw new FederationOperationException("job.invalid",
                $"Job {JobId}: {m.ParticipantId} sent its feature moments unsigned; every party derives the scaling from all parties' signed moments.")).ToList();
            await Each([.. byParty.Select(m => m.ParticipantId)], async p => { await Participant(p).StartModelChain(JobId, statements); return true; });
        }
        var scalingMessage = new FeatureScalingMessage(scaling.FeatureNames, scaling.Mean, scaling.StandardDeviation);
        state.State.Scaling = scalingMessage;
        state.State.WeightNormaliser = normaliser;
        var everyone = participants.Select(p => p.ParticipantId).Order(StringComparer.Ordinal).ToList();
        state.State.Lineage = new ModelLineage(spec.AgreementId, agreement.TermsDigest, spec.ModelSpecJson, scalingMessage, datasets, everyone);

        var model = ParseSpec(spec);
        var initial = await Task.Run(() => ModelChain.InitialModel(model, spec.Seed, JobId));
        await StoreVersionAsync(0, initial, null, everyone);
        state.State.LatestModelVersion = 0;
        state.State.Phase = JobPhase.Running;
        await SaveAsync();
    }

    /// <summary>
    /// One model round, attempt by attempt: each attempt is a new protocol round over the members still reachable. A member
    /// that cannot be reached is left out of the next attempt if at least the minimum remain; one that restarted is asked
    /// again. With too few left, the job waits and tries everyone again, and fails after <see cref="MaxRoundAttempts"/>.
    /// </summary>
    private async Task RunModelRoundAsync(int modelRound, ServerStrategy strategy)
    {
        var spec = state.State.Specification!;
        var everyone = spec.Participants.Select(p => p.ParticipantId).Order(StringComparer.Ordinal).ToList();
        var dropped = new Dictionary<string, string>(StringComparer.Ordinal);
        if (await AdoptStoredRoundAsync(modelRound))
            return;
        int stalls = 0;
        for (int attempt = 1; ; attempt++)
        {
            // Attempts that ended on the members' account; the audit trail numbers every attempt.
            int tries = attempt - stalls;
            var members = DecryptedOver(modelRound) ?? everyone.Where(p => !dropped.ContainsKey(p)).ToList();
            if (members.Count < state.State.MinimumParticipants)
            {
                var why = string.Join("; ", dropped.Select(d => $"{d.Key}: {d.Value}"));
                if (tries >= MaxRoundAttempts || _deactivating)
                    throw new FederationOperationException(RoundRefusal.TooFew,
                        $"Job {JobId} round {modelRound}: only {members.Count} of {everyone.Count} participants could take part ({why}); the job's agreement requires at least {state.State.MinimumParticipants}.");
                logger.LogWarning("Job {Job} round {Round}: only {Members} of {All} participants reachable ({Why}); trying everyone again", JobId, modelRound, members.Count, everyone.Count, why);
                await Task.Delay(RetryDelay * tries);
                dropped.Clear();
                continue;
            }
            try
            {
                if (state.State.DecryptingRound == modelRound && state.State.DecryptingCommitments is { } committed)
                {
                    await ResumeRoundAsync(modelRound, members, committed, strategy);
                    return;
                }
                // Each attempt is decided over its own members, before it starts; one that cannot be reached is dropped as below.
                await DecideAsync(modelRound, 1, members, attempt);
                await audit.RecordAsync(AuditEvents.RoundStarted(audit.Now, audit.Silo, audit.Country, JobId, modelRound, members, attempt));
                await RunRoundAsync(modelRound, members, dropped, strategy);
                return;
            }
            catch (ParticipantsUnavailableException e) when (!_deactivating)
            {
                await audit.RecordAsync([AuditEvents.RoundFinished(audit.Now, audit.Silo, audit.Country, JobId, modelRound, RoundOutcome.Abandoned,
                    reason: AuditText.Line(e.Message)),
                    .. e.Participants.Where(p => p.Drop).Select(p => AuditEvents.ParticipantDropped(audit.Now, audit.Silo, audit.Country, JobId, modelRound, p.Participant, AuditText.Line(p.Reason)))]);
                // Once the version's decryption was asked for, its members are the only ones it can be redone over: the job
                // waits for the missing ones instead of leaving them out.
                var waitFor = DecryptedOver(modelRound) is not null;
                foreach (var (participant, reason, drop) in e.Participants)
                {
                    if (drop && !waitFor)
                        dropped[participant] = reason;
                    logger.LogWarning("Job {Job} round {Round}, attempt {Attempt}: {Participant} {What} ({Reason}); the round starts again{Without}",
                        JobId, modelRound, attempt, participant, drop ? "cannot be reached" : "lost its round state", reason, drop && !waitFor ? " without it" : "");
                }
                if (waitFor && tries < MaxRoundAttempts)
                    await Task.Delay(RetryDelay * tries);
                if (tries >= MaxRoundAttempts)
                    throw new FederationOperationException(RoundRefusal.TooFew,
                        $"Job {JobId} round {modelRound} did not complete in {attempt} attempts: {string.Join("; ", e.Participants.Select(p => $"{p.Participant}: {p.Reason}"))}" +
                        $" ({everyone.Count - dropped.Count} of {everyone.Count} participants could take part; the job's agreement requires at least {state.State.MinimumParticipants}).");
            }
            catch (Exception e) when (IsUnreachable(e) && !_deactivating)
            {
                // A grain of the job's own (a model version, the audit log) on a silo that is going away: it is activated
                // again elsewhere once that silo is gone, so the attempt is tried again, with the same members.
                if (++stalls > MaxStalls)
                    throw new FederationOperationException("job.unreachable",
                        $"Job {JobId} round {modelRound}: a grain of the job's own stayed unreachable in {stalls} attempts ({e.Message.Trim()}).");
                logger.LogWarning("Job {Job} round {Round}, attempt {Attempt}: {Reason}; the round starts again", JobId, modelRound, attempt, e.Message);
                await Task.Delay(RetryDelay * Math.Min(stalls, MaxRoundAttempts));
            }
        }
    }

    /// <summary>The members a model round's decryption was asked over, if it was and its version is not stored yet.</summary>
    private List<string>? DecryptedOver(int modelRound) =>
        state.State.DecryptingRound == modelRound ? state.State.DecryptingMembers : null;

    /// <summary>One attempt at a model round, as one protocol round (FedCore/Rounds/README.md): the steps in order.</summary>
    private async Task RunRoundAsync(int modelRound, List<string> members, IReadOnlyDictionary<string, string> dropped, ServerStrategy strategy)
    {
        var spec = state.State.Specification!;
        var protection = new RoundProtection(spec.Protection.Scheme, spec.Protection.UpdateBound);
        var clock = Stopwatch.StartNew();
        var phases = new PhaseClock();
        DelayDeactivation(TimeSpan.FromHours(1));
        var global = await GlobalModelAsync();

        // A new protocol round number for every attempt; one nobody keyed unless the members' key commitments came with the
        // previous round's part commitments.
        int round = state.State.ProtocolRound + 1;
        var pipelined = _nextCommitments is { } next && next.Round == round && next.Members.SequenceEqual(members) ? next.Commitments : null;
        _nextCommitments = null;
        if (pipelined is null && !protection.IsSimulation)
            round++;
        state.State.ProtocolRound = round;
        await SaveAsync();

        var attempt = new RoundAttempt(new AggregatorRound(JobId, round, members, state.State.ParticipantKeys, protection,
            CkksProtection.SealedLength(global.Length)), members);
        var scaling = state.State.Scaling!;
        var plan = PlanOf(global);
        if (!protection.IsSimulation)
        {
            await CatchUpChainsAsync(members);
            await KeyAsync(attempt, plan, pipelined, modelRound);
            phases.Mark("key");
        }
        var reports = await SealAndAddAsync(attempt, global, scaling, protection, (p, assignment) => p.Train(assignment));
        phases.Mark("train-and-add");
        long samples = reports.Sum(r => (long)r.TrainSamples);
        if (!protection.IsSimulation)
        {
            await CheckAndDecryptAsync(attempt, lastRound: state.State.Rounds.Count + 1 >= spec.Rounds, samples, modelRound);
            phases.Mark("check-and-decrypt");
        }
        await FinishRoundAsync(modelRound, attempt, global, strategy, reports, samples, dropped, clock, phases);
    }

    /// <summary>
    /// A model round whose members all committed to their parts before the job stopped (or a member dropped out after):
    /// the same protocol round goes on from step 6b, each member revealing the part it stored. Its training figures were lost.
    /// </summary>
    private async Task ResumeRoundAsync(int modelRound, List<string> members, List<SignedPayload> commitments, ServerStrategy strategy)
    {
        var spec = state.State.Specification!;
        var clock = Stopwatch.StartNew();
        var phases = new PhaseClock();
        DelayDeactivation(TimeSpan.FromHours(1));
        var global = await GlobalModelAsync();
        var attempt = new RoundAttempt(new AggregatorRound(JobId, state.State.DecryptingProtocolRound, members, state.State.ParticipantKeys,
            new RoundProtection(spec.Protection.Scheme, spec.Protection.UpdateBound), CkksProtection.SealedLength(global.Length)), members);
        var plan = PlanOf(global);
        var committed = commitments.Select(FromContract).ToList();
        var keyId = state.State.DecryptingKeyId; // read here: the state is the activation's, and Cpu.Run is off its thread
        await attempt.Cpu.Run(() => attempt.Aggregator.Resume(plan, committed, keyId));
        logger.LogWarning("Job {Job} round {Round}: taken up again at protocol round {Protocol}, whose members all committed to their parts", JobId, modelRound, attempt.Aggregator.Round);
        await RevealPartsAsync(attempt);
        phases.Mark("check-and-decrypt");
        await FinishRoundAsync(modelRound, attempt, global, strategy, [], state.State.DecryptingSamples, new Dictionary<string, string>(), clock, phases);
    }

    /// <summary>Steps 7–8 and what follows the opening: the next version computed, stored and advanced to, scored and recorded.</summary>
    private async Task FinishRoundAsync(int modelRound, RoundAttempt attempt, float[] global, ServerStrategy strategy, LocalTrainingReport[] reports, long samples,
        IReadOnlyDictionary<string, string> dropped, Stopwatch clock, PhaseClock phases)
    {
        var spec = state.State.Specification!;
        var members = attempt.Members;
        var protection = attempt.Aggregator.Protection;
        int round = attempt.Aggregator.Round;
        var scaling = state.State.Scaling!;
        OpeningRequest? opening = null;
        if (!protection.IsSimulation)
        {
            opening = await CheckOpeningAsync(attempt);
            phases.Mark("check-opening");
        }
        var aggregate = await OpenAsync(attempt.Aggregator, attempt.Cpu, samples, round);
        phases.Mark("open");

        // The server step gives the next global model version (by the rule every party checks it by), stored before the
        // round counts and before any party advances to it: a job that crashed then takes it up again (AdoptStoredRoundAsync).
        ServerStepResult step;
        try
        {
            step = await Task.Run(() => ModelChain.Next(strategy, global, _optimizerState, aggregate));
        }
        catch (ArgumentException e)
        {
            throw new FederationOperationException("round.bad-aggregate", $"Job {JobId} round {round}: {e.Message}");
        }
        await StoreVersionAsync(modelRound, step.Global, step.State, members, opening);
        phases.Mark("server-step");
        if (opening is not null)
        {
            await AdvanceChainsAsync(attempt, [.. spec.Participants.Select(p => p.ParticipantId)], state.State.LatestModelVersion, global, _optimizerState, opening);
            phases.Mark("advance-chains");
        }
        var evaluations = await EvaluateAsync(modelRound, step.Global, scaling);
        phases.Mark("evaluate");
        clock.Stop();

        var summary = Summarise(modelRound, attempt, reports, evaluations, dropped, clock.Elapsed, phases);
        _global = step.Global;
        _optimizerState = step.State;
        state.State.Rounds.Add(summary);
        state.State.LatestModelVersion = modelRound;
        ForgetDecryption();
        await SaveAsync();
        await audit.RecordAsync(AuditEvents.RoundFinished(audit.Now, audit.Silo, audit.Country, JobId, modelRound, RoundOutcome.Completed, modelRound,
            participants: members, accuracy: double.IsFinite(summary.PooledTestAccuracy) ? summary.PooledTestAccuracy : null,
            loss: double.IsFinite(summary.MeanLocalTestLoss) ? summary.MeanLocalTestLoss : null, seconds: summary.Seconds));
        logger.LogInformation("Job {Job} round {Round}/{Rounds} (protocol round {Protocol}, {Members} members): mean local test accuracy {Accuracy:F4} ({Seconds:F2}s, {Scheme})",
            JobId, modelRound, spec.Rounds, round, members.Count, summary.MeanLocalTestAccuracy, summary.Seconds, protection.Scheme);
    }

    /// <summary>The round's plan from the job's latest version: what its members check the round key for and train.</summary>
    private RoundPlan PlanOf(float[] global)
    {
        var scaling = state.State.Scaling!;
        return RoundPlan.For(JobId, state.State.LatestModelVersion, global, new FeatureScaling(scaling.FeatureNames, scaling.Mean, scaling.StandardDeviation),
            state.State.WeightNormaliser);
    }

    private void ForgetDecryption()
    {
        state.State.DecryptingMembers = null;
        state.State.DecryptingCommitments = null;
        state.State.DecryptingKeyId = null;
    }

    /// <summary>Steps 1–3: the round key, checked by every member for one plan.</summary>
    private async Task KeyAsync(RoundAttempt attempt, RoundPlan plan, List<SignedPayload>? pipelined, int modelRound)
    {
        var aggregator = attempt.Aggregator;
        int round = aggregator.Round;
        var commitments = pipelined ?? (await Each(attempt.Members, p => Participant(p).CommitRoundKey(Contract(aggregator.KeyRequest())))).ToList();
        await attempt.Cpu.Run(() => commitments.ForEach(c => aggregator.AcceptCommitment(FromContract(c))));
        var reveal = Contract(aggregator.RevealRequest());
        var publicShares = await Each(attempt.Members, async p =>
        {
            var r = await Participant(p).RevealRoundKey(reveal);
            attempt.Count(p, Size(reveal.Commitments) + Size(r.Statement) + r.PublicShare.Length);
            await attempt.Cpu.Run(() => aggregator.AcceptReveal(new KeyReveal(FromContract(r.Statement), r.PublicShare)));
            return r;
        });
        var check = await attempt.Cpu.Run(() => aggregator.KeyCheckRequest(plan));
        var shares = RoundKeyCheckRequest.JoinShares(check.PublicShares);
        var statements = check.Statements.Select(ToContract).ToList();
        await Each(attempt.Members, async p =>
        {
            var checkRequest = new RoundKeyCheckRequest(JobId, round, await transfers.PushAsync(Participant(p), shares), statements, check.PlanDigest);
            var acceptance = await Participant(p).CheckRoundKey(checkRequest);
            attempt.Count(p, shares.Length + Size(statements) + Size(acceptance));
            await attempt.Cpu.Run(() => aggregator.AcceptKeyAcceptance(FromContract(acceptance)));
            return acceptance;
        });
        // The round key every member summed and accepted, and each member's public part of it (public values; the log keeps their hashes).
        await audit.RecordAsync(AuditEvents.RoundKey(audit.Now, audit.Silo, audit.Country, JobId, modelRound, AuditDigest.Hash(aggregator.RoundKey.ToBytes()),
            attempt.Members, [.. publicShares.Select(r => AuditDigest.Hash(r.PublicShare))]));
    }

    /// <summary>Step 4: local training everywhere, in parallel; each sealed update is checked and added as it arrives.</summary>
    private async Task<LocalTrainingReport[]> SealAndAddAsync(RoundAttempt attempt, float[] global, FeatureScalingMessage scaling, RoundProtection protection,
        Func<IParticipantGrain, RoundAssignment, Task<LocalTrainingReport>> step)
    {
        var aggregator = attempt.Aggregator;
        var acceptances = protection.IsSimulation ? [] : aggregator.SealRequest().KeyAcceptances.Select(ToContract).ToList();
        var globalBytes = FloatBytes.From(global);
        return await Each(attempt.Members, async p =>
        {
            var report = await step(Participant(p), new RoundAssignment(
                JobId, aggregator.Round, state.State.LatestModelVersion, await transfers.PushAsync(Participant(p), globalBytes), scaling, state.State.WeightNormaliser,
                attempt.Members, acceptances));
            var sealedUpdate = await transfers.FetchAsync(report.SealedUpdate);
            attempt.Count(p, globalBytes.Length + Size(acceptances) + sealedUpdate.Length + Size(report.Commitment));
            await attempt.Cpu.Run(() => aggregator.AcceptSealed(new Sealed(sealedUpdate, FromContract(report.Commitment))));
            lock (attempt.SealedLengths)
                attempt.SealedLengths[p] = sealedUpdate.Length;
            // Its bytes are in the sum now: holding every member's until the round ends would cost 7.6 MB per 10⁶ parameters each.
            return report with { SealedUpdate = Payload.OfInline([]) };
        }, allAtOnce: true);
    }

    /// <summary>
    /// Steps 5–6b: every member checks the aggregate is the sum of the members' updates, commits to its part of the opening,
    /// then reveals it. With the commitments each makes its key share for the next round and commits to it, which saves
    /// that round an exchange. A model round's commitments are stored before any part is asked for.
    /// </summary>
    private async Task CheckAndDecryptAsync(RoundAttempt attempt, bool lastRound, long samples, int? modelRound = null)
    {
        var aggregator = attempt.Aggregator;
        int round = aggregator.Round;
        var aggregateCheck = await attempt.Cpu.Run(aggregator.AggregateCheckRequest);
        var commitments = aggregateCheck.Commitments.Select(ToContract).ToList();
        await Each(attempt.Members, async p =>
        {
            var checkRequest = new RoundAggregateCheckRequest(JobId, round, await transfers.PushAsync(Participant(p), aggregateCheck.AggregateMasks), commitments);
            var f = await Participant(p).CheckAggregate(checkRequest);
            attempt.Count(p, aggregateCheck.AggregateMasks.Length + Size(commitments) + Size(f));
            await attempt.Cpu.Run(() => aggregator.AcceptAggregateFingerprint(FromContract(f)));
            return f;
        });
        var decrypt = await attempt.Cpu.Run(aggregator.DecryptRequest);
        if (modelRound is { } decrypting)
        {
            // Stored before any member is asked: a member that committed recorded this version as opened over these members only.
            (state.State.DecryptingRound, state.State.DecryptingMembers) = (decrypting, [.. attempt.Members]);
            await SaveAsync();
        }
        var nextRound = lastRound ? null : new RoundKeyRequest(JobId, round + 1, attempt.Members);
        var decryptRequest = new DecryptionRequest(JobId, round, decrypt.AggregateFingerprints.Select(ToContract).ToList(), nextRound);
        var replies = await Each(attempt.Members, async p =>
        {
            var reply = await Participant(p).Decrypt(decryptRequest);
            attempt.Count(p, Size(decryptRequest.AggregateFingerprints) + Size(reply.PartCommitment) + (reply.NextRoundCommitment is { } c ? Size(c) : 0));
            await attempt.Cpu.Run(() => aggregator.AcceptPartCommitment(FromContract(reply.PartCommitment)));
            lock (attempt.CryptoSeconds)
                attempt.CryptoSeconds[p] = reply.CryptoCpuSeconds;
            return reply;
        });
        if (modelRound is not null)
        {
            (state.State.DecryptingProtocolRound, state.State.DecryptingCommitments, state.State.DecryptingSamples, state.State.DecryptingKeyId) =
                (round, [.. replies.Select(r => r.PartCommitment)], samples, aggregator.RoundKey.KeyId.ToArray());
            await SaveAsync();
        }
        if (nextRound is not null)
            _nextCommitments = (round + 1, attempt.Members, replies.Select(r => r.NextRoundCommitment ?? throw new FederationOperationException(RoundRefusal.Rejected,
                $"Job {JobId} round {round}: {r.PartCommitment.ParticipantId} sent no key commitment for round {round + 1}.")).ToList());
        await RevealPartsAsync(attempt);
    }

    /// <summary>Step 6b: every member reveals its part of the opening against every member's commitment.</summary>
    private async Task RevealPartsAsync(RoundAttempt attempt)
    {
        var aggregator = attempt.Aggregator;
        var reveal = aggregator.PartRevealRequest();
        var request = new RoundPartRevealRequest(JobId, aggregator.Round, [.. reveal.PartCommitments.Select(ToContract)]);
        await Each(attempt.Members, async p =>
        {
            var reply = await Participant(p).RevealPart(request);
            var part = FromContract(reply.Part) with { Payload = await transfers.FetchAsync(reply.PartBytes) };
            attempt.Count(p, Size(request.PartCommitments) + Size(reply.Part) + part.Payload.Length);
            await attempt.Cpu.Run(() => aggregator.AcceptPart(part));
            return true;
        });
    }

    /// <summary>Every participant scores the new model on its own test split; one that cannot be reached now is left out (null).</summary>
    private async Task<Federation.Contracts.Participants.ModelMetrics?[]> EvaluateAsync(int version, float[] model, FeatureScalingMessage scaling)
    {
        var bytes = FloatBytes.From(model);
        return await Task.WhenAll(state.State.Specification!.Participants.Select(async p =>
        {
            try
            {
                return await Participant(p).Evaluate(new EvaluationAssignment(JobId, version, await transfers.PushAsync(Participant(p), bytes), scaling));
            }
            catch (Exception e) when (IsUnreachable(e))
            {
                return null;
            }
            catch (FederationOperationException e) when (e.Code == RoundRefusal.OffChain)
            {
                // It did not advance to this version (it was away at step 8); it will before it next takes part.
                logger.LogWarning("Job {Job}: {Participant} did not score version {Version}: {Reason}", JobId, p.ParticipantId, version, e.Message);
                return null;
            }
        }));
    }

    private RoundSummary Summarise(int modelRound, RoundAttempt attempt, LocalTrainingReport[] reports, Federation.Contracts.Participants.ModelMetrics?[] evaluations,
        IReadOnlyDictionary<string, string> dropped, TimeSpan elapsed, PhaseClock phases)
    {
        var spec = state.State.Specification!;
        var byId = reports.ToDictionary(r => r.ParticipantId);
        var scored = evaluations.Where(e => e is not null).Select(e => e!).ToList();
        var perParticipant = spec.Participants.Where(p => byId.ContainsKey(p.ParticipantId)).Select(p =>
        {
            var r = byId[p.ParticipantId];
            var test = evaluations[IndexOf(p.ParticipantId)] ?? new Federation.Contracts.Participants.ModelMetrics(double.NaN, null, null, 0);
            return new ParticipantRoundMetrics(p.ParticipantId, r.TrainSamples, r.MeanTrainLoss, r.TrainSeconds, test,
                attempt.SealedLengths[p.ParticipantId], r.SealSeconds, attempt.CryptoSeconds[p.ParticipantId], attempt.Traffic[p.ParticipantId]);
        }).ToList();
        return new RoundSummary(
            modelRound,
            modelRound,
            perParticipant,
            MeanLocalTestAccuracy: scored.Average(e => e.Accuracy ?? double.NaN),
            MeanLocalTestLoss: scored.Average(e => e.Loss),
            PooledTestAccuracy: scored.Sum(e => (e.Accuracy ?? double.NaN) * e.Samples) / Math.Max(1, scored.Sum(e => e.Samples)),
            Seconds: elapsed.TotalSeconds,
            CompletedAt: DateTimeOffset.UtcNow,
            Phases: phases.Timings,
            ProtocolRound: attempt.Aggregator.Round,
            Dropouts: dropped.Select(d => $"{d.Key}: {d.Value}").ToList(),
            AggregatorCpuSeconds: attempt.Cpu.Seconds);
    }

    /// <summary>What one attempt keeps while it runs: the aggregator's state machine, and what the benchmarks report per member.</summary>
    private sealed class RoundAttempt(AggregatorRound aggregator, IReadOnlyList<string> members)
    {
        public AggregatorRound Aggregator { get; } = aggregator;
        public IReadOnlyList<string> Members { get; } = members;

        /// <summary>The aggregator's own checks and sums, off the scheduler.</summary>
        public CpuMeter Cpu { get; } = new();

        public Dictionary<string, long> Traffic { get; } = members.ToDictionary(m => m, _ => 0L);
        public Dictionary<string, double> CryptoSeconds { get; } = members.ToDictionary(m => m, _ => 0.0);
        public Dictionary<string, int> SealedLengths { get; } = [];

        public void Count(string participant, long bytes)
        {
            lock (Traffic)
                Traffic[participant] += bytes;
        }
    }

    /// <summary>
    /// Steps 7 and 7b: every member fingerprints its own part of the opened plaintext and reveals its nonce, then opens its
    /// part at the spot checks the nonces draw; the request of step 8 once the fingerprints add up.
    /// </summary>
    private async Task<OpeningRequest> CheckOpeningAsync(RoundAttempt attempt)
    {
        var aggregator = attempt.Aggregator;
        var check = await attempt.Cpu.Run(aggregator.OpeningCheckRequest);
        var request = new RoundOpeningCheckRequest(JobId, aggregator.Round, check.OpenedDigest);
        await Each(attempt.Members, async p =>
        {
            var f = await Participant(p).CheckOpening(request);
            attempt.Count(p, request.OpenedDigest.Length + Size(f));
            await attempt.Cpu.Run(() => aggregator.AcceptOpeningFingerprint(FromContract(f)));
            return f;
        });
        var spots = await attempt.Cpu.Run(aggregator.SpotCheckRequest);
        var spotRequest = new RoundSpotCheckRequest(JobId, aggregator.Round, [.. spots.OpeningFingerprints.Select(ToContract)]);
        await Each(attempt.Members, async p =>
        {
            var leaves = await Participant(p).OpenLeaves(spotRequest);
            attempt.Count(p, Size(spotRequest.OpeningFingerprints) + Size(leaves));
            await attempt.Cpu.Run(() => aggregator.AcceptOpenedLeaves(FromContract(leaves)));
            return leaves;
        });
        return await attempt.Cpu.Run(aggregator.OpeningRequest);
    }

    /// <summary>
    /// Step 8: every party of the job, in the round or not, checks the opening and advances its model chain to the version
    /// just stored. One that cannot be reached now is brought up to date before its next round (<see cref="CatchUpChainsAsync"/>).
    /// </summary>
    private async Task AdvanceChainsAsync(RoundAttempt attempt, IReadOnlyList<string> parties, int fromVersion, float[] global, ServerOptimizerState? optimizer,
        OpeningRequest opening)
    {
        var contract = ModelOpeningBytes.Of(opening);
        var from = VersionBytes.Of(global, optimizer);
        long bytes = opening.Opened.Length + Size(contract.Fingerprints) + Size(contract.PartCommitments) + Size(contract.OpenedLeaves) + from.Global.Length + (from.FirstMoment?.Length ?? 0) + (from.SecondMoment?.Length ?? 0);
        await Task.WhenAll(parties.Select(async p =>
        {
            try
            {
                await _inFlight.RunAsync(() => AdvanceAsync(p, fromVersion, from, contract));
                if (attempt.Members.Contains(p))
                    attempt.Count(p, bytes);
            }
            catch (Exception e) when (!_deactivating)
            {
                // Down, stopping or refusing: the version is stored, and the party is brought to it (or its refusal surfaces)
                // before it next takes part.
                logger.LogWarning("Job {Job}: {Participant} did not advance its model chain to version {Version} now ({Reason}); it will before its next round",
                    JobId, p, fromVersion + 1, e.Message);
            }
        }));
    }

    /// <summary>Brings each member's model chain up to the job's latest version, one stored opening at a time (a member that missed rounds).</summary>
    private async Task CatchUpChainsAsync(IReadOnlyList<string> members) =>
        await Each(members, async p =>
        {
            int version = await Participant(p).GetModelChainVersion(JobId);
            if (version >= state.State.LatestModelVersion)
                return true;
            if (version < 0)
                throw new FederationOperationException(RoundRefusal.Refused, $"Job {JobId}: {p} has no model chain for the job; it was prepared without one.");
            // Each stored version is read once: the one a step lands on is where the next starts.
            for (var from = await StoredVersionAsync(version); version < state.State.LatestModelVersion; version++)
            {
                var next = await StoredVersionAsync(version + 1);
                if (next.Opening is not { } stored)
                    throw new FederationOperationException("model.missing", $"Job {JobId}: model version {version + 1} is stored without the opening it was made from.");
                await AdvanceAsync(p, version, VersionBytes.Of(from.Global, from.Optimizer), new ModelOpeningBytes(stored.Round, stored.Participants,
                    await transfers.FetchAsync(stored.Opened), stored.Fingerprints, stored.PartCommitments, stored.OpenedLeaves));
                from = next;
            }
            return true;
        });

    private async Task AdvanceAsync(string participant, int fromVersion, VersionBytes from, ModelOpeningBytes opening)
    {
        var target = Participant(participant);
        async Task<Payload?> Push(byte[]? bytes) => bytes is null ? null : await transfers.PushAsync(target, bytes);
        await target.AdvanceModelChain(new ModelChainAdvance(JobId, fromVersion,
            new ModelOpening(opening.Round, opening.Participants, await transfers.PushAsync(target, opening.Opened), opening.Fingerprints, opening.PartCommitments, opening.OpenedLeaves),
            (await Push(from.Global))!, await Push(from.FirstMoment), await Push(from.SecondMoment)));
    }

    private sealed record ModelOpeningBytes(int Round, IReadOnlyList<string> Participants, byte[] Opened, IReadOnlyList<SignedPayload> Fingerprints,
        IReadOnlyList<SignedPayload> PartCommitments, IReadOnlyList<SignedPayload> OpenedLeaves)
    {
        public static ModelOpeningBytes Of(OpeningRequest opening) => new(opening.Round, opening.Participants, opening.Opened,
            [.. opening.OpeningFingerprints.Select(ToContract)], [.. opening.PartCommitments.Select(ToContract)], [.. opening.OpenedLeaves.Select(ToContract)]);
    }

    /// <summary>A version's model and optimiser moments as bytes, made once for every party it is sent to.</summary>
    private sealed record VersionBytes(byte[] Global, byte[]? FirstMoment, byte[]? SecondMoment)
    {
        public static VersionBytes Of(float[] global, ServerOptimizerState? optimizer) =>
            new(FloatBytes.From(global), optimizer is null ? null : FloatBytes.From(optimizer.FirstMoment), optimizer is null ? null : FloatBytes.From(optimizer.SecondMoment));
    }

    /// <summary>A stored version's model, optimiser moments and opening (its opened plaintext still to fetch).</summary>
    private sealed record StoredVersion(float[] Global, ServerOptimizerState? Optimizer, ModelOpening? Opening);

    private async Task<StoredVersion?> FindVersionAsync(int version)
    {
        if (await GrainFactory.GetGrain<IModelVersionGrain>(ModelVersionKey.Format(JobId, version)).Get() is not { } stored)
            return null;
        var global = FloatBytes.ToFloats(await transfers.FetchAsync(stored.Parameters));
        var optimizer = stored.FirstMoment is { } m && stored.SecondMoment is { } v
            ? new ServerOptimizerState(FloatBytes.ToFloats(await transfers.FetchAsync(m)), FloatBytes.ToFloats(await transfers.FetchAsync(v)))
            : null;
        return new StoredVersion(global, optimizer, stored.Opening);
    }

    private async Task<StoredVersion> StoredVersionAsync(int version) =>
        await FindVersionAsync(version) ?? throw new FederationOperationException("model.missing", $"Job {JobId}: model version {version} is not stored.");

    /// <summary>
    /// A round whose model was opened and stored before the job could record it (a crash in between): parties may already
    /// stand on it, and a rerun would open a second successor of the same version, which they refuse. So it is taken up as
    /// this round's model; its figures were lost with the crash.
    /// </summary>
    private async Task<bool> AdoptStoredRoundAsync(int modelRound)
    {
        if (await FindVersionAsync(modelRound) is not { Opening: { } opening } stored)
            return false;
        (_global, _optimizerState) = (stored.Global, stored.Optimizer);
        state.State.Rounds.Add(new RoundSummary(modelRound, modelRound, [], double.NaN, double.NaN, double.NaN, 0, DateTimeOffset.UtcNow, [], opening.Round, [], 0));
        state.State.LatestModelVersion = modelRound;
        ForgetDecryption();
        await SaveAsync();
        await audit.RecordAsync(AuditEvents.RoundFinished(audit.Now, audit.Silo, audit.Country, JobId, modelRound, RoundOutcome.Completed, modelRound,
            participants: opening.Participants));
        logger.LogWarning("Job {Job} round {Round}: its model was stored before the job stopped; taken up as the round's model (its figures are lost)", JobId, modelRound);
        return true;
    }

    /// <summary>
    /// The opened sum of the round's updates, refused when it could not come from honest seals (a malformed or inflated
    /// update) or when its total weight is not the training samples the participants reported.
    /// </summary>
    private async Task<AggregatedUpdate> OpenAsync(AggregatorRound aggregator, CpuMeter cpu, long samples, int round)
    {
        AggregatedUpdate aggregate;
        try
        {
            aggregate = await cpu.Run(aggregator.Open);
        }
        catch (ImplausibleAggregateException e)
        {
            var where = e.Index is { } at ? $" (parameter {ParameterLayout.For(ParseSpec(state.State.Specification!)).Locate(at)})" : "";
            throw new FederationOperationException("round.bad-aggregate", $"Job {JobId} round {round}: {e.Message}{where}");
        }
        // Within the scheme's decryption error (it grows with the bound; NoiseFlooding.md) and floating-point rounding.
        if (ModelChain.WeightProblem(aggregate, samples, state.State.WeightNormaliser) is { } problem)
            throw new FederationOperationException("round.bad-aggregate", $"Job {JobId} round {round}: {problem}.");
        return aggregate;
    }

    /// <summary>
    /// Calls every member, at most <see cref="FederationSiloOptions.ConcurrentMemberCalls"/> at a time unless
    /// <paramref name="allAtOnce"/> (training). A member that cannot be reached (its silo down) or that lost its round state
    /// (it restarted) ends the attempt with a <see cref="ParticipantUnavailableException"/>, which starts a new one; any other
    /// error (a refusal, a rejected message) fails the job, saying why. A refusal of ours becomes a FederationOperationException.
    /// </summary>
    private async Task<T[]> Each<T>(IReadOnlyList<string> members, Func<string, Task<T>> call, bool allAtOnce = false)
    {
        var tasks = members.Select(async p =>
        {
            try
            {
                return allAtOnce ? await call(p) : await _inFlight.RunAsync(() => call(p));
            }
            catch (RoundRefusedException e)
            {
                throw new FederationOperationException(e.Code, e.Message);
            }
            catch (Exception e) when (IsUnreachable(e))
            {
                throw new ParticipantUnavailableException(p, e.Message, drop: true);
            }
            catch (FederationOperationException e) when (e.Code == RoundRefusal.Restarted)
            {
                throw new ParticipantUnavailableException(p, e.Message, drop: false);
            }
        }).ToList();
        try
        {
            return await Task.WhenAll(tasks);
        }
        catch
        {
            // Members down end the attempt, all of them at once (they are left out of the next); that should not read as
            // another member's refusal of a round that could not finish anyway.
            var failures = tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).ToList();
            var unavailable = failures.OfType<ParticipantUnavailableException>().ToList();
            if (unavailable.Count > 0)
                throw new ParticipantsUnavailableException([.. unavailable.Select(u => (u.ParticipantId, u.Reason, u.Drop))]);
            throw failures[0];
        }
    }

    private static bool IsUnreachable(Exception e) =>
        e is ResidencyViolationException or SiloUnavailableException or TimeoutException or OrleansMessageRejectionException
        || (e.InnerException is { } inner && IsUnreachable(inner));

    private sealed class ParticipantUnavailableException(string participantId, string reason, bool drop) : Exception($"{participantId}: {reason}")
    {
        public string ParticipantId { get; } = participantId;
        public string Reason { get; } = reason;
        public bool Drop { get; } = drop;
    }

    /// <summary>Members that could not be reached (to leave out) or lost their round state (to ask again) in one attempt.</summary>
    private sealed class ParticipantsUnavailableException(IReadOnlyList<(string Participant, string Reason, bool Drop)> participants)
        : Exception(string.Join("; ", participants.Select(p => $"{p.Participant}: {p.Reason}")))
    {
        public IReadOnlyList<(string Participant, string Reason, bool Drop)> Participants { get; } = participants;
    }

    private static long Size(SignedPayload m) => m.Payload.Length + m.Signature.Length + m.ParticipantId.Length + m.JobId.Length + m.Scheme.Length + 4;

    private static long Size(IEnumerable<SignedPayload> messages) => messages.Sum(Size);

    private static SignedMessage FromContract(SignedPayload m) => new(m.ParticipantId, m.JobId, m.Round, m.Scheme, m.Payload, m.Signature);

    private static SignedPayload ToContract(SignedMessage m) => new(m.ParticipantId, m.JobId, m.Round, m.Scheme, m.Payload, m.Signature);

    private static RoundKeyRequest Contract(KeyRequest r) => new(r.JobId, r.Round, r.Participants);

    private static RoundKeyRevealRequest Contract(KeyRevealRequest r) => new(r.JobId, r.Round, r.Commitments.Select(ToContract).ToList());

    /// <summary>Wall time between successive marks.</summary>
    private sealed class PhaseClock
    {
        private readonly Stopwatch _watch = Stopwatch.StartNew();
        private readonly List<PhaseTiming> _timings = [];

        public IReadOnlyList<PhaseTiming> Timings => _timings;

        public void Mark(string phase)
        {
            _timings.Add(new PhaseTiming(phase, _watch.Elapsed.TotalSeconds));
            _watch.Restart();
        }
    }

    /// <summary>
    /// After the last round, once: the final model's permutation importance, each member's on its own test split, summed by
    /// one more protocol round under the job's protection exactly as updates are (only the sum is decrypted), and recorded
    /// in the audit log with a linear model's coefficients (FedCore/Learning/Explanation). It trains nothing and spends no
    /// privacy budget, so it takes no job-level decision (whose plan is a training round's); each participant decides under
    /// its own law before it explains, as before it scores. A model it cannot explain (regression), or a round that fails,
    /// is noted; the job completes all the same.
    /// </summary>
    private async Task ExplainAsync()
    {
        var spec = state.State.Specification!;
        var model = ParseSpec(spec);
        try
        {
            if (model.IsRegression)
                return;
            var global = await GlobalModelAsync();
            var protection = new RoundProtection(spec.Protection.Scheme, spec.Protection.UpdateBound);
            var members = spec.Participants.Select(p => p.ParticipantId).Order(StringComparer.Ordinal).ToList();
            // A round number nobody keyed: the last round's members sent no commitments for the next.
            int round = state.State.ProtocolRound + (protection.IsSimulation ? 1 : 2);
            state.State.ProtocolRound = round;
            await SaveAsync();
            var scaling = state.State.Scaling!;
            int version = state.State.LatestModelVersion;
            var attempt = new RoundAttempt(new AggregatorRound(JobId, round, members, state.State.ParticipantKeys, protection,
                CkksProtection.SealedLength(ImportanceShare.VectorLength(model.Inputs))), members);
            if (!protection.IsSimulation)
                await KeyAsync(attempt, RoundPlan.ForExplanation(JobId, version, global, new FeatureScaling(scaling.FeatureNames, scaling.Mean, scaling.StandardDeviation),
                    state.State.WeightNormaliser), null, version);
            var reports = await SealAndAddAsync(attempt, global, scaling, protection, (p, assignment) => p.Explain(assignment));
            long samples = reports.Sum(r => (long)r.TrainSamples);
            if (!protection.IsSimulation)
                await CheckAndDecryptAsync(attempt, lastRound: true, samples);
            var (baseline, importance) = ImportanceShare.FromMean((await OpenAsync(attempt.Aggregator, attempt.Cpu, samples, round)).Mean());
            var linear = ModelCoefficients.Of(model, global);
            // The model's input columns (categories one-hot) as the federation's schema names them; the feature scaling names the numeric ones only.
            var first = spec.Participants[0];
            var schema = DatasetSchema.Parse(await Participant(first).GetDatasetSchema(first.DatasetName), $"the schema of {first.ParticipantId}'s dataset");
            if (state.State.Lineage is { } lineage && lineage.Datasets.FirstOrDefault(d => d.ParticipantId == first.ParticipantId)?.SchemaHash is { } pinned && pinned != schema.Hash)
                throw new FederationOperationException("job.schema-mismatch", $"{first.ParticipantId}'s dataset now has schema {schema.Hash}, not {pinned} it had when the job started.");
            await audit.RecordAsync(AuditEvents.ModelExplained(audit.Now, audit.Silo, audit.Country, JobId, version,
                AuditDigest.Hash(FloatBytes.From(global)), samples,
                Math.Clamp(baseline, 0, 1), schema.FeatureNames, importance, linear?.Coefficients, linear?.Intercept));
            state.State.Notes.Add($"Model version {version} is explained in the audit log (model.explained): permutation importance of each input over " +
                $"{samples} test rows of {members.Count} participants, summed under '{protection.Scheme}'{(linear is null ? "" : ", and its coefficients")}.");
        }
        catch (Exception e) when (!_deactivating && e is not OutOfMemoryException)
        {
            logger.LogWarning("Job {Job}: the final model could not be explained: {Reason}", JobId, e.Message);
            state.State.Notes.Add($"The final model could not be explained: {e.Message}");
        }
        state.State.ExplanationDone = true;
        await SaveAsync();
    }

    private async Task<float[]> GlobalModelAsync()
    {
        if (_global is null)
            (_global, _optimizerState, _) = await StoredVersionAsync(state.State.LatestModelVersion);
        return _global;
    }

    private async Task StoreVersionAsync(int version, float[] parameters, ServerOptimizerState? optimizer, IReadOnlyList<string> members, OpeningRequest? opening = null)
    {
        var target = GrainFactory.GetGrain<IModelVersionGrain>(ModelVersionKey.Format(JobId, version));
        var bytes = FloatBytes.From(parameters);
        async Task<Payload?> Push(float[]? values) => values is null ? null : await transfers.PushAsync(target, FloatBytes.From(values));
        ModelOpening? openedBy = null;
        if (opening is not null)
        {
            var o = ModelOpeningBytes.Of(opening);
            openedBy = new ModelOpening(o.Round, o.Participants, await transfers.PushAsync(target, o.Opened), o.Fingerprints, o.PartCommitments, o.OpenedLeaves);
        }
        var record = new ModelVersion(JobId, version, await transfers.PushAsync(target, bytes), await Push(optimizer?.FirstMoment), await Push(optimizer?.SecondMoment),
            Convert.ToHexStringLower(SHA256.HashData(bytes)), DateTimeOffset.UtcNow, state.State.Lineage is { } lineage ? lineage with { RoundMembers = members } : null, openedBy);
        if (version > 0) // version 0 is the initial model, made from the job's seed; round r makes version r, recorded before it is stored
            await audit.RecordAsync(AuditEvents.ModelVersion(audit.Now, audit.Silo, audit.Country, JobId, version, version, AuditDigest.Parse(record.ParametersSha256)));
        await target.Store(record);
    }

    /// <summary>Retries a step whose participants could not be reached (a country's silo down); other errors fail the job.</summary>
    private async Task WithRetries(string what, Func<Task> step)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await step();
                return;
            }
            catch (Exception e) when (IsUnreachable(e) && attempt < MaxRoundAttempts && !_deactivating)
            {
                logger.LogWarning("Job {Job} {Step}, attempt {Attempt}/{Max}: {Reason}; trying again", JobId, what, attempt, MaxRoundAttempts, e.Message);
                await Task.Delay(RetryDelay * attempt);
            }
        }
    }

    private int IndexOf(string participantId)
    {
        var participants = state.State.Specification!.Participants;
        for (int i = 0; i < participants.Count; i++)
            if (participants[i].ParticipantId == participantId)
                return i;
        throw new ArgumentException($"{participantId} is not a participant of job {JobId}.", nameof(participantId));
    }

    private IParticipantGrain Participant(JobParticipant p) => GrainFactory.GetGrain<IParticipantGrain>(p.ParticipantId);

    private IParticipantGrain Participant(string id) => GrainFactory.GetGrain<IParticipantGrain>(id);

    private async Task SaveAsync()
    {
        state.State.UpdatedAt = DateTimeOffset.UtcNow;
        await state.WriteStateAsync();
    }

    /// <summary>
    /// The policy decision before the job (<paramref name="round"/> null, all its rounds ahead) or before an attempt at one
    /// round over <paramref name="members"/>: the plan as this job knows it (JobPolicyPlan), with each dataset's spent ε as
    /// its participant's ledger reports it under DP, decided on this silo's policies and stored before anything runs. A
    /// deny ends the job with its reasons.
    /// </summary>
    private async Task DecideAsync(int? round, int roundsAhead, IReadOnlyList<string> members, int? attempt)
    {
        var spec = state.State.Specification!;
        var taking = spec.Participants.Where(p => members.Contains(p.ParticipantId)).ToList();
        var membership = await records.MembershipAsync();
        var catalog = await records.CatalogAsync(membership);
        var agreement = await records.AgreementAsync(spec.AgreementId, membership, catalog);
        var privacy = spec.Training.Privacy?.ToParameters();
        var spent = new Dictionary<string, double>();
        if (privacy is not null)
        {
            // Read at the δ each dataset's ledger holds it to (PrivacyCap.DeltaFor), never at the job's alone.
            var budgets = await Each(members, id =>
            {
                var dataset = taking.Single(p => p.ParticipantId == id).DatasetName;
                long rows = catalog.Find(id, dataset)?.RowCount ?? 1;
                return Participant(id).GetPrivacyBudget(dataset, FedCore.Privacy.Budget.PrivacyCap.DeltaFor(privacy.Delta, agreement.Terms.DifferentialPrivacy?.Delta, rows));
            });
            for (int i = 0; i < members.Count; i++)
                spent[members[i]] = budgets[i].Epsilon;
        }
        var facts = new JobPolicyFacts(JobId, round, spec.Rounds > 1, roundsAhead, ParseSpec(spec).Kind, spec.Strategy.Name,
            IsSimulation(spec) ? ProtectionScheme.PlaintextSimulation : ProtectionScheme.Ckks, JobId[..2],
            [.. taking.Select(p => new PlannedParticipant(p.ParticipantId, p.DatasetName))],
            spec.TrainFraction, spec.Training.BatchSize, spec.Training.Epochs, privacy);
        PolicyDecision decision;
        try
        {
            decision = await policies.DecideAsync(JobPolicyPlan.For(facts, agreement.Terms, membership, catalog, spent, clock.GetUtcNow()));
        }
        catch (ArgumentException e)
        {
            throw new FederationOperationException("job.invalid", $"Job {JobId}: {e.Message}");
        }
        var json = decision.ToJson();
        state.State.PolicyDecisions.Add(new PolicyDecisionRecord(round, decision.At, decision.Allowed, decision.PolicySetHash, [.. decision.DenyReasons],
            Convert.ToHexStringLower(SHA256.HashData(json))));
        state.State.PolicyDecisionJson.Add(Compress(json));
        await SaveAsync();
        await audit.RecordAsync(DecisionAudit.Entry(decision, json, round is null ? DecisionSubject.Job : DecisionSubject.RoundAttempt, audit.Now, audit.Silo, audit.Country,
            round, attempt));
        string what = round is { } r ? $"round {r}" : "the job";
        if (!decision.Allowed)
            throw new FederationOperationException("policy.denied",
                $"Job {JobId}: the policies deny {what} (policy set {decision.PolicySetHash}): {string.Join("; ", decision.DenyReasons)}");
        logger.LogInformation("Job {Job}: the policies allow {What} (policy set {Hash})", JobId, what, decision.PolicySetHash);
    }

    public Task<string> GetPolicyDecision(int index) =>
        index >= 0 && index < state.State.PolicyDecisionJson.Count
            ? Task.FromResult(System.Text.Encoding.UTF8.GetString(Decompress(state.State.PolicyDecisionJson[index])))
            : throw new FederationOperationException("job.unknown", $"Job {JobId} has {state.State.PolicyDecisionJson.Count} policy decisions; there is no decision {index}.");

    private static byte[] Compress(byte[] data)
    {
        using var output = new MemoryStream();
        using (var brotli = new System.IO.Compression.BrotliStream(output, System.IO.Compression.CompressionLevel.Optimal))
            brotli.Write(data);
        return output.ToArray();
    }

    private static byte[] Decompress(byte[] data)
    {
        using var input = new System.IO.Compression.BrotliStream(new MemoryStream(data), System.IO.Compression.CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private JobStatus Status()
    {
        var s = state.State;
        var spec = s.Specification!;
        return new JobStatus(JobId, spec.Name, s.Phase, s.Rounds.Count, spec.Rounds, s.Rounds.ToList(), s.Error,
            s.CreatedAt, s.UpdatedAt, s.LatestModelVersion, s.Notes.ToList(), s.PolicyDecisions.ToList());
    }

    private static bool IsSimulation(JobSpecification spec) => spec.Protection.Scheme == PlaintextSimulation.SchemeName;

    private void Validate(JobSpecification spec)
    {
        var problems = new List<string>();
        if (spec.JobId != JobId)
            problems.Add($"its id '{spec.JobId}' differs from the grain key '{JobId}'");
        if (spec.Rounds < 1)
            problems.Add($"rounds must be at least 1, not {spec.Rounds}");
        if (!ParticipantKey.TryParse(spec.JobId, out _, out _, out var idError))
            problems.Add($"its id must start with the aggregator's country, e.g. 'CH/{spec.Name}' ({idError})");
        if (string.IsNullOrWhiteSpace(spec.AgreementId))
            problems.Add("it cites no agreement");
        if (spec.Participants.Count < RoundTerms.AbsoluteMinimum)
            problems.Add($"it names {spec.Participants.Count} participants; at least {RoundTerms.AbsoluteMinimum} must take part in every round");
        foreach (var duplicate in spec.Participants.GroupBy(p => p.ParticipantId).Where(g => g.Count() > 1))
            problems.Add($"participant {duplicate.Key} appears {duplicate.Count()} times");
        foreach (var p in spec.Participants)
            if (!ParticipantKey.TryParse(p.ParticipantId, out _, out _, out var error))
                problems.Add(error);
        if (!(spec.TrainFraction > 0 && spec.TrainFraction < 1))
            problems.Add($"train fraction must lie strictly between 0 and 1, not {spec.TrainFraction}");
        ModelSpec? model = null;
        try { model = ParseSpec(spec); } catch (FederationOperationException e) { problems.Add(e.Message); }
        try { spec.Strategy.ToOptions().Validate(); } catch (ArgumentException e) { problems.Add(e.Message); }
        if (spec.Protection.Scheme is not (CkksProtection.SchemeName or PlaintextSimulation.SchemeName))
            problems.Add($"update protection '{spec.Protection.Scheme}' is not known (known: {CkksProtection.SchemeName}, {PlaintextSimulation.SchemeName})");
        else if (!IsSimulation(spec))
        {
            try
            {
                var ckks = new CkksProtection(FedCore.Crypto.Ckks.CkksParameters.Default, spec.Protection.UpdateBound);
                long capacity = ckks.MaxValuesPerRound(Math.Max(1, spec.Participants.Count));
                if (model is not null && ParameterLayout.For(model).TotalLength is var parameters && parameters > capacity)
                    problems.Add($"its model has {parameters} parameters, but {spec.Protection.Scheme} with {spec.Participants.Count} participants carries at most {capacity} per round (the noise-flooding budget of one key)");
            }
            catch (ArgumentException e)
            {
                problems.Add(e.Message);
            }
        }
        try { spec.Training.ToTrainingOptions(spec.Seed); } catch (FederationOperationException e) { problems.Add(e.Message); }
        if (problems.Count > 0)
            throw new FederationOperationException("job.invalid", $"Job {spec.JobId} is not valid: {string.Join("; ", problems)}.");
    }

    private static ModelSpec ParseSpec(JobSpecification spec)
    {
        try
        {
            return ModelSpec.Parse(spec.ModelSpecJson, $"model of job {spec.JobId}");
        }
        catch (ModelSpecException e)
        {
            throw new FederationOperationException("job.invalid", e.Message);
        }
    }

    // A job started twice with records that compare unequal only by list identity is the same job.
    private static bool SameSpecification(JobSpecification a, JobSpecification b) =>
        a with { Participants = [] } == b with { Participants = [] } && a.Participants.SequenceEqual(b.Participants);
}
