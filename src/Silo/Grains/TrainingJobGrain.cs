using System.Diagnostics;
using System.Security.Cryptography;
using FedCore.Aggregation.Integrity;
using FedCore.Aggregation.Protection;
using FedCore.Aggregation.Strategies;
using FedCore.Data;
using FedCore.Learning;
using Federation.Contracts.Directory;
using Federation.Contracts.Errors;
using Federation.Contracts.Jobs;
using Federation.Contracts.Models;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;
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
}

/// <summary>
/// Runs a job's rounds: every participant trains from the current global model and returns a sealed update;
/// the sealed updates are added, opened (jointly, where the scheme needs it), and the server strategy makes
/// the next global model version, which is stored before the round counts as completed. After a restart the
/// job continues from its last completed round.
/// </summary>
public sealed class TrainingJobGrain(
    [PersistentState("job", StorageNames.Cluster)] IPersistentState<TrainingJobState> state,
    UpdateProtectionSchemes protectionSchemes,
    ILogger<TrainingJobGrain> logger) : Grain, ITrainingJobGrain
{
    /// <summary>A round whose participants cannot be reached is tried again this often before the job fails.</summary>
    private const int MaxRoundAttempts = 5;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    private Task? _run;
    private bool _deactivating;
    private float[]? _global;
    private ServerOptimizerState? _optimizerState;

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
        var protection = protectionSchemes.Resolve(specification.Protection);
        var now = DateTimeOffset.UtcNow;
        state.State.Specification = specification;
        state.State.Phase = JobPhase.Pending;
        state.State.CreatedAt = state.State.UpdatedAt = now;
        if (protection.ProtectsUpdates)
        {
            state.State.Notes.Add($"Update protection is '{protection.Scheme}' with update values bounded by ±{specification.Protection.UpdateBound}: " +
                "each update is encrypted under a fresh collective key per round; only the sum is decrypted, jointly.");
        }
        else
        {
            state.State.Notes.Add($"Update protection is '{protection.Scheme}': updates are NOT encrypted; the aggregator sees each participant's update. Simulation only.");
            logger.LogWarning("Job {Job} runs with update protection {Scheme}: updates are not encrypted (simulation mode)", JobId, protection.Scheme);
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

            var strategy = ServerStrategy.Create(ToStrategyOptions(spec.Strategy));
            while (state.State.Rounds.Count < spec.Rounds)
            {
                int round = state.State.Rounds.Count + 1;
                await WithRetries($"round {round}", () => RunRoundAsync(round, strategy));
            }

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
            state.State.Phase = JobPhase.Failed;
            state.State.Error = e.Message;
            await SaveAsync();
        }
        await GrainFactory.GetGrain<IFederationDirectoryGrain>(0).MarkJobFinished(JobId);
    }

    /// <summary>Agrees the feature scaling from every participant's moments and stores model version 0.</summary>
    private async Task PrepareAsync()
    {
        var spec = state.State.Specification!;
        var participants = spec.Participants;
        var profiles = await Task.WhenAll(participants.Select(p => Participant(p).GetProfile()));
        state.State.ParticipantKeys = profiles.ToDictionary(p => p.Id, p => p.SigningPublicKey);
        var moments = await Task.WhenAll(participants.Select(p =>
            Participant(p).ComputeFeatureMoments(SplitFor(p))));
        for (int i = 1; i < moments.Length; i++)
        {
            if (!moments[i].FeatureNames.SequenceEqual(moments[0].FeatureNames))
                throw new FederationOperationException("job.schema-mismatch",
                    $"Participant {participants[i].ParticipantId} describes its data with features [{string.Join(", ", moments[i].FeatureNames)}], " +
                    $"but {participants[0].ParticipantId} with [{string.Join(", ", moments[0].FeatureNames)}]: the schema must be the same federation-wide.");
        }

        var combined = FeatureMoments.Combine(moments.Select(m => new FeatureMoments(m.FeatureNames, m.Count, m.Sum, m.SumOfSquares)));
        var scaling = FeatureScaling.FromMoments(combined);
        state.State.Scaling = new FeatureScalingMessage(scaling.FeatureNames, scaling.Mean, scaling.StandardDeviation);
        state.State.WeightNormaliser = Math.Max(1, combined.Count);

        var model = ParseSpec(spec);
        var initial = await Task.Run(() => ModelFactory.InitialParameters(model, spec.Seed));
        await StoreVersionAsync(0, initial, null);
        state.State.LatestModelVersion = 0;
        state.State.Phase = JobPhase.Running;
        await SaveAsync();
    }

    // The digests of the next round's key shares, which participants sent with this round's decryption shares.
    // Memory only: after a restart the next round simply starts its key exchange from the commitments.
    private (int Round, SignedPayload[] Digests)? _nextRoundKeyDigests;

    private async Task RunRoundAsync(int round, ServerStrategy strategy)
    {
        var spec = state.State.Specification!;
        var protection = protectionSchemes.Resolve(spec.Protection);
        var clock = Stopwatch.StartNew();
        var phases = new PhaseClock();
        DelayDeactivation(TimeSpan.FromHours(1));
        var global = await GlobalModelAsync();

        // 1. A fresh key for the round: every participant makes a share over a public seed and commits to it (a signed
        //    digest); once all have committed, each reveals its share, and the key is their sum. Each participant checks
        //    the shares against the digests and combines the key itself before it seals under it.
        //    (The plaintext simulation has no keys and nothing to decrypt: it skips 1 and 4.)
        //    From round 2 on, the commitments came with the previous round's decryption shares (step 4).
        byte[] roundKey = [];
        IReadOnlyList<SignedPayload> keyShares = [];
        if (protection.ProtectsUpdates)
        {
            var keyDigests = _nextRoundKeyDigests is { } next && next.Round == round ? next.Digests : await CommitRoundKeyAsync(round, protection);
            (roundKey, keyShares) = await RevealRoundKeyAsync(round, protection, keyDigests);
            phases.Mark("key");
        }
        _nextRoundKeyDigests = null;

        // 2. Local training everywhere, in parallel. Each participant seals its update under the round key and commits
        //    to it: the signed digest of its commitment comes back now, the update only once every participant has
        //    committed (commit, then reveal), so that no update can be chosen with another one in view.
        // 3. Sealed updates are checked against their signed commitments and added (ciphertexts only) as they arrive.
        //    The plaintext simulation sends its update with the training report and skips the reveal.
        var updates = Gate(SignedStatement.UpdatePurpose, round, protection);
        var sum = protection.NewAggregate(roundKey);
        var sealedBytes = new int[spec.Participants.Count];
        void Add(int index, byte[] sealedUpdate, SignedPayload commitment, byte[]? digest)
        {
            var participant = spec.Participants[index].ParticipantId;
            var expected = sum.Add(participant, sealedUpdate);
            if (commitment.ParticipantId != participant || !expected.AsSpan().SequenceEqual(commitment.Payload)
                || (digest is not null && !SHA256.HashData(commitment.Payload).AsSpan().SequenceEqual(digest)))
                throw new FederationOperationException("round.rejected",
                    $"Job {JobId} round {round}: the update from {participant} does not match the commitment it signed.");
            updates.Accept(commitment);
            sealedBytes[index] = sealedUpdate.Length;
        }
        var reports = await Task.WhenAll(spec.Participants.Select(async (p, index) =>
        {
            var report = await Participant(p).Train(new RoundAssignment(
                JobId, round, state.State.LatestModelVersion, global, spec.ModelSpecJson, spec.Training, SplitFor(p),
                state.State.Scaling!, RoundSeed(spec.Seed, round, index), state.State.WeightNormaliser, spec.Protection, keyShares));
            if (!protection.ProtectsUpdates)
                await Task.Run(() => Add(index, report.SealedUpdate, report.Commitment, null));
            return report;
        }));
        IReadOnlyList<SignedPayload> commitments = [];
        if (protection.ProtectsUpdates)
        {
            var digestMessages = reports.Select(r => r.Commitment).ToArray();
            var digests = Gate(SignedStatement.UpdateDigestPurpose, round, protection).CheckAll(digestMessages);
            phases.Mark("train");
            var revealed = await Task.WhenAll(spec.Participants.Select(async (p, index) =>
            {
                var update = await Participant(p).Reveal(new RevealRequest(JobId, round, spec.Protection, digestMessages));
                await Task.Run(() => Add(index, update.SealedUpdate, update.Commitment, digests[index]));
                return update;
            }));
            commitments = revealed.Select(r => r.Commitment).ToList();
            updates.RequireComplete();
            phases.Mark("reveal-and-add");
        }
        else
        {
            updates.RequireComplete();
            phases.Mark("train-and-add");
        }

        // 4. Each participant is shown the aggregate and the signed commitments; it checks that the aggregate is their
        //    sum (its own among them) before it gives its share.
        //    In the same call each makes its key share for the next round and commits to it, which saves the next round an exchange.
        IReadOnlyList<byte[]> sharePayloads = [];
        if (protection.ProtectsUpdates)
        {
            var input = await Task.Run(sum.DecryptionInput);
            var nextSeed = round < spec.Rounds ? RandomNumberGenerator.GetBytes(32) : null;
            var replies = await Task.WhenAll(spec.Participants.Select(p =>
                Participant(p).CreateDecryptionShare(new DecryptionRequest(JobId, round, spec.Protection, input, commitments, nextSeed))));
            sharePayloads = Gate(SignedStatement.DecryptionSharePurpose, round, protection).CheckAll(replies.Select(r => r.Share).ToArray());
            if (nextSeed is not null)
            {
                var nextDigests = replies.Select(r => r.NextRoundKeyDigest ?? throw new FederationOperationException("round.rejected",
                    $"Job {JobId} round {round}: {r.Share.ParticipantId} sent no key-share digest for round {round + 1}.")).ToArray();
                Gate(SignedStatement.KeyShareDigestPurpose, round + 1, protection).CheckAll(nextDigests);
                _nextRoundKeyDigests = (round + 1, nextDigests);
            }
            phases.Mark("decryption-shares");
        }
        var mean = await OpenMeanAsync(sum, sharePayloads, reports, round);
        if (mean.Length != global.Length)
            throw new FederationOperationException("round.bad-aggregate", $"Job {JobId} round {round}: the opened mean has {mean.Length} values; the model has {global.Length}.");
        phases.Mark("open");

        // 5. Server step → next global model version, stored before the round counts.
        var step = await Task.Run(() => strategy.Step(global, mean, _optimizerState));
        await StoreVersionAsync(round, step.Global, step.State);
        phases.Mark("server-step");

        // 6. Every participant scores the new model on its own test split.
        var evaluations = await Task.WhenAll(spec.Participants.Select(p =>
            Participant(p).Evaluate(new EvaluationAssignment(JobId, round, step.Global, spec.ModelSpecJson, SplitFor(p), state.State.Scaling!))));
        phases.Mark("evaluate");

        clock.Stop();
        var perParticipant = spec.Participants.Select((p, i) => new ParticipantRoundMetrics(
            p.ParticipantId, reports[i].TrainSamples, reports[i].MeanTrainLoss, reports[i].TrainSeconds, evaluations[i],
            sealedBytes[i], reports[i].SealSeconds)).ToList();
        var summary = new RoundSummary(
            round,
            round,
            perParticipant,
            MeanLocalTestAccuracy: evaluations.Average(e => e.Accuracy ?? double.NaN),
            MeanLocalTestLoss: evaluations.Average(e => e.Loss),
            PooledTestAccuracy: evaluations.Sum(e => (e.Accuracy ?? double.NaN) * e.Samples) / Math.Max(1, evaluations.Sum(e => e.Samples)),
            Seconds: clock.Elapsed.TotalSeconds,
            CompletedAt: DateTimeOffset.UtcNow,
            Phases: phases.Timings);

        _global = step.Global;
        _optimizerState = step.State;
        state.State.Rounds.Add(summary);
        state.State.LatestModelVersion = round;
        await SaveAsync();
        logger.LogInformation("Job {Job} round {Round}/{Rounds}: mean local test accuracy {Accuracy:F4} ({Seconds:F2}s, {Scheme})",
            JobId, round, spec.Rounds, summary.MeanLocalTestAccuracy, summary.Seconds, protection.Scheme);
    }

    /// <summary>
    /// The weighted mean of the round's updates, refused when the opened sum could not come from honest seals (a malformed
    /// or inflated update) or when its total weight is not the training samples the participants reported.
    /// </summary>
    private async Task<float[]> OpenMeanAsync(ISealedAggregate sum, IReadOnlyList<byte[]> shares, LocalTrainingReport[] reports, int round)
    {
        AggregatedUpdate aggregate;
        try
        {
            aggregate = await Task.Run(() => sum.Open(shares));
        }
        catch (ImplausibleAggregateException e)
        {
            var where = e.Index is { } at ? $" (parameter {ParameterLayout.For(ParseSpec(state.State.Specification!)).Locate(at)})" : "";
            throw new FederationOperationException("round.bad-aggregate", $"Job {JobId} round {round}: {e.Message}{where}");
        }
        long samples = reports.Sum(r => (long)r.TrainSamples);
        double expected = samples / state.State.WeightNormaliser;
        // Within the scheme's decryption error (it grows with the bound; NoiseFlooding.md) and floating-point rounding.
        if (!(Math.Abs(aggregate.TotalWeight - expected) <= aggregate.Tolerance + 1e-9 * Math.Max(1, expected)))
            throw new FederationOperationException("round.bad-aggregate",
                $"Job {JobId} round {round}: the updates carry a total weight of {aggregate.TotalWeight:G6}, but the participants report {samples} training samples (weight {expected:G6}); an update's weight is not its sample count.");
        return aggregate.Mean();
    }

    /// <summary>Every participant makes its key share for the round over a fresh public seed; returns their signed digests.</summary>
    private async Task<SignedPayload[]> CommitRoundKeyAsync(int round, IUpdateProtection protection)
    {
        var spec = state.State.Specification!;
        var seed = RandomNumberGenerator.GetBytes(32);
        var digests = await Task.WhenAll(spec.Participants.Select(p =>
            Participant(p).CommitRoundKeyShare(new RoundKeyRequest(JobId, round, spec.Protection, seed))));
        Gate(SignedStatement.KeyShareDigestPurpose, round, protection).CheckAll(digests);
        return digests;
    }

    /// <summary>Shows every participant all key-share digests and collects the shares; each must be the one committed to.</summary>
    private async Task<(byte[] Key, SignedPayload[] Shares)> RevealRoundKeyAsync(int round, IUpdateProtection protection, SignedPayload[] digests)
    {
        var spec = state.State.Specification!;
        var shares = await Task.WhenAll(spec.Participants.Select(p =>
            Participant(p).RevealRoundKeyShare(new RoundKeyRevealRequest(JobId, round, spec.Protection, digests))));
        var payloads = Gate(SignedStatement.KeySharePurpose, round, protection).CheckAll(shares);
        var committed = digests.ToDictionary(d => d.ParticipantId, d => d.Payload);
        foreach (var share in shares)
        {
            if (!SHA256.HashData(share.Payload).AsSpan().SequenceEqual(committed[share.ParticipantId]))
                throw new FederationOperationException("round.rejected", $"Job {JobId} round {round}: the key share from {share.ParticipantId} is not the one it committed to.");
        }
        return (await Task.Run(() => protection.CombineKeyShares(payloads)), shares);
    }

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

    private RoundGate Gate(string purpose, int round, IUpdateProtection protection) =>
        new(JobId, purpose, round, protection.Scheme, state.State.ParticipantKeys,
            state.State.Specification!.Participants.Select(p => p.ParticipantId).ToList());

    /// <summary>
    /// One protocol step's gate: each message must be for this job and round, from a participant of the round,
    /// signed with its pinned key, one each, no copies (see <see cref="RoundUpdateLedger"/>). Thread-safe.
    /// </summary>
    private sealed class RoundGate(string jobId, string purpose, int round, string scheme,
        IReadOnlyDictionary<string, byte[]> participantKeys, IReadOnlyList<string> participantOrder)
    {
        private readonly RoundUpdateLedger _ledger = new(purpose, jobId, round, scheme, participantKeys);
        private readonly Lock _lock = new();

        /// <summary>The payloads of a whole step, in participant order, once every message has passed.</summary>
        public List<byte[]> CheckAll(SignedPayload[] messages)
        {
            foreach (var m in messages)
                Accept(m);
            RequireComplete();
            return participantOrder.Select(id => _ledger.Accepted[id]).ToList();
        }

        public void Accept(SignedPayload m)
        {
            try
            {
                lock (_lock)
                    _ledger.Accept(m.ParticipantId, m.JobId, m.Round, m.Scheme, m.Payload, m.Signature);
            }
            catch (RejectedUpdateException e)
            {
                throw new FederationOperationException("round.rejected", $"Job {jobId} round {round}: {e.Message}");
            }
        }

        public void RequireComplete()
        {
            lock (_lock)
            {
                if (!_ledger.IsComplete)
                    throw new FederationOperationException("round.incomplete", $"Job {jobId} round {round}: {purpose} missing from some participants.");
            }
        }
    }

    private async Task<float[]> GlobalModelAsync()
    {
        if (_global is not null)
            return _global;
        var version = await GrainFactory.GetGrain<IModelVersionGrain>(ModelVersionKey.Format(JobId, state.State.LatestModelVersion)).Get()
            ?? throw new FederationOperationException("model.missing", $"Job {JobId}: model version {state.State.LatestModelVersion} is not stored.");
        _global = version.Parameters;
        _optimizerState = version.FirstMoment is { } m && version.SecondMoment is { } v ? new ServerOptimizerState(m, v) : null;
        return _global;
    }

    private async Task StoreVersionAsync(int version, float[] parameters, ServerOptimizerState? optimizer)
    {
        var bytes = new byte[parameters.Length * sizeof(float)];
        Buffer.BlockCopy(parameters, 0, bytes, 0, bytes.Length);
        var record = new ModelVersion(JobId, version, parameters, optimizer?.FirstMoment, optimizer?.SecondMoment,
            Convert.ToHexStringLower(SHA256.HashData(bytes)), DateTimeOffset.UtcNow);
        await GrainFactory.GetGrain<IModelVersionGrain>(ModelVersionKey.Format(JobId, version)).Store(record);
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
            catch (Exception e) when (IsTransient(e) && attempt < MaxRoundAttempts && !_deactivating)
            {
                logger.LogWarning("Job {Job} {Step}, attempt {Attempt}/{Max}: {Reason}; trying again", JobId, what, attempt, MaxRoundAttempts, e.Message);
                await Task.Delay(RetryDelay * attempt);
            }
        }
    }

    private static bool IsTransient(Exception e) =>
        e is ResidencyViolationException or SiloUnavailableException or TimeoutException or OrleansMessageRejectionException
        || e is FederationOperationException { Code: "round.participant-restarted" } // it lost its round memory: redo the round
        || (e.InnerException is { } inner && IsTransient(inner));

    private IParticipantGrain Participant(JobParticipant p) => GrainFactory.GetGrain<IParticipantGrain>(p.ParticipantId);

    private DataSplit SplitFor(JobParticipant p)
    {
        var spec = state.State.Specification!;
        return new DataSplit(p.DatasetName, spec.TrainFraction, spec.Seed);
    }

    /// <summary>Distinct seeds per participant and round, the same on every machine and run (HashCode is per-process).</summary>
    private static int RoundSeed(int jobSeed, int round, int participantIndex)
    {
        var mixer = new SplitMix64(((ulong)(uint)jobSeed << 32) ^ ((ulong)(uint)round << 16) ^ (uint)participantIndex);
        return (int)(mixer.Next() >> 33);
    }

    private async Task SaveAsync()
    {
        state.State.UpdatedAt = DateTimeOffset.UtcNow;
        await state.WriteStateAsync();
    }

    private JobStatus Status()
    {
        var s = state.State;
        var spec = s.Specification!;
        return new JobStatus(JobId, spec.Name, s.Phase, s.Rounds.Count, spec.Rounds, s.Rounds.ToList(), s.Error,
            s.CreatedAt, s.UpdatedAt, s.LatestModelVersion, s.Notes.ToList());
    }

    private void Validate(JobSpecification spec)
    {
        var problems = new List<string>();
        if (spec.JobId != JobId)
            problems.Add($"its id '{spec.JobId}' differs from the grain key '{JobId}'");
        if (spec.Rounds < 1)
            problems.Add($"rounds must be at least 1, not {spec.Rounds}");
        if (spec.Participants.Count == 0)
            problems.Add("it names no participants");
        foreach (var duplicate in spec.Participants.GroupBy(p => p.ParticipantId).Where(g => g.Count() > 1))
            problems.Add($"participant {duplicate.Key} appears {duplicate.Count()} times");
        foreach (var p in spec.Participants)
            if (!ParticipantKey.TryParse(p.ParticipantId, out _, out _, out var error))
                problems.Add(error);
        if (!(spec.TrainFraction > 0 && spec.TrainFraction < 1))
            problems.Add($"train fraction must lie strictly between 0 and 1, not {spec.TrainFraction}");
        ModelSpec? model = null;
        try { model = ParseSpec(spec); } catch (FederationOperationException e) { problems.Add(e.Message); }
        try { ToStrategyOptions(spec.Strategy).Validate(); } catch (ArgumentException e) { problems.Add(e.Message); }
        try
        {
            var protection = protectionSchemes.Resolve(spec.Protection);
            long capacity = protection.MaxValuesPerRound(Math.Max(1, spec.Participants.Count));
            if (model is not null && ParameterLayout.For(model).TotalLength is var parameters && parameters > capacity)
                problems.Add($"its model has {parameters} parameters, but {spec.Protection.Scheme} with {spec.Participants.Count} participants carries at most {capacity} per round (the noise-flooding budget of one key)");
        }
        catch (FederationOperationException e)
        {
            problems.Add(e.Message);
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

    private static StrategyOptions ToStrategyOptions(StrategySettings s) => new(s.Name, s.ServerLearningRate, s.Beta1, s.Beta2, s.Tau);

    // A job started twice with records that compare unequal only by list identity is the same job.
    private static bool SameSpecification(JobSpecification a, JobSpecification b) =>
        a with { Participants = [] } == b with { Participants = [] } && a.Participants.SequenceEqual(b.Participants);
}
