using System.Security.Cryptography;
using FedCore.Aggregation.Integrity;
using FedCore.Aggregation.Protection;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Data;
using FedCore.Learning;
using FedCore.Rounds;
using Federation.Contracts.Participants;
using Federation.Contracts.Transfer;
using Federation.Silo.Grains;

namespace Federation.Silo.Tests.Jobs;

/// <summary>A member of a round as the aggregator sees it: a real participant grain, or a colluder the test plays.</summary>
internal interface IRoundMember
{
    string Id { get; }
    Task<SignedPayload> Commit(RoundKeyRequest request);
    Task<RoundKeyReveal> Reveal(RoundKeyRevealRequest request);
    Task<SignedPayload> CheckKey(RoundKeyCheckRequest request);
    Task<LocalTrainingReport> Train(RoundAssignment assignment);
    Task<SignedPayload> CheckAggregate(RoundAggregateCheckRequest request);
    Task<DecryptionReply> Decrypt(DecryptionRequest request);
    Task<PartReply> RevealPart(RoundPartRevealRequest request);
    Task<SignedPayload> CheckOpening(RoundOpeningCheckRequest request);
    Task<SignedPayload> OpenLeaves(RoundSpotCheckRequest request);
}

internal sealed class GrainMember(IParticipantGrain grain, string id) : IRoundMember
{
    public string Id { get; } = id;
    public IParticipantGrain Grain { get; } = grain;
    public Task<SignedPayload> Commit(RoundKeyRequest request) => Grain.CommitRoundKey(request);
    public Task<RoundKeyReveal> Reveal(RoundKeyRevealRequest request) => Grain.RevealRoundKey(request);
    public Task<SignedPayload> CheckKey(RoundKeyCheckRequest request) => Grain.CheckRoundKey(request);
    public Task<LocalTrainingReport> Train(RoundAssignment assignment) => Grain.Train(assignment);
    public Task<SignedPayload> CheckAggregate(RoundAggregateCheckRequest request) => Grain.CheckAggregate(request);
    public Task<DecryptionReply> Decrypt(DecryptionRequest request) => Grain.Decrypt(request);
    public Task<PartReply> RevealPart(RoundPartRevealRequest request) => Grain.RevealPart(request);
    public Task<SignedPayload> CheckOpening(RoundOpeningCheckRequest request) => Grain.CheckOpening(request);
    public Task<SignedPayload> OpenLeaves(RoundSpotCheckRequest request) => Grain.OpenLeaves(request);
}

/// <summary>
/// A colluding party played by the test: it holds its own signing key (registered in the federation like anyone's) and
/// follows the protocol through FedCore's <see cref="ParticipantRound"/> unless a test makes it deviate.
/// </summary>
internal sealed class ColluderMember(string id, ParticipantSigningKey key) : IRoundMember
{
    public string Id { get; } = id;
    public ParticipantSigningKey Key { get; } = key;
    public ParticipantRound? Round { get; private set; }

    /// <summary>What it sends instead of an honest sealed update, if set.</summary>
    public Func<RoundAssignment, Sealed>? CraftUpdate { get; set; }

    /// <summary>
    /// What it commits to at step 6 instead of its part of the opening, if set (chosen blind: it sees only its own part); it
    /// then reveals, fingerprints and opens that part as the protocol says.
    /// </summary>
    public Func<OpenedPlaintext, OpenedPlaintext>? AlterPart { get; set; }

    public void Accept(RoundTerms terms) => Round = new ParticipantRound(terms, null, bytes => Key.Sign(bytes), new OpenedSums());

    /// <summary>How many rows its moments count (it holds no data).</summary>
    public long SignedRows { get; set; } = 10;

    /// <summary>The moments it signs for a job: <see cref="SignedRows"/> rows of zeros over the honest parties' features.</summary>
    public SignedPayload Moments(string jobId, string[] features) =>
        Sign(RoundPurpose.FeatureMoments, jobId, 0, SignedMoments.Encode(new FeatureMoments(features, SignedRows, new double[features.Length], new double[features.Length])));

    /// <summary>What it puts in its key statement in place of its masking public key, if set: it commits to that statement and reveals it.</summary>
    public byte[]? MaskingKeyInStatement { get; set; }

    public Task<SignedPayload> Commit(RoundKeyRequest r)
    {
        var commitment = Contract(Round!.Commit(new KeyRequest(r.JobId, r.Round, r.Participants)));
        return Task.FromResult(MaskingKeyInStatement is null ? commitment
            : Sign(RoundPurpose.KeyCommitment, r.JobId, r.Round, SHA256.HashData(EditedStatement(r.JobId, r.Round, r.Participants))));
    }

    public Task<RoundKeyReveal> Reveal(RoundKeyRevealRequest r)
    {
        if (MaskingKeyInStatement is not null)
        {
            var members = r.Commitments.Select(c => c.ParticipantId).Order(StringComparer.Ordinal).ToList();
            return Task.FromResult(new RoundKeyReveal(Sign(RoundPurpose.KeyStatement, r.JobId, r.Round, EditedStatement(r.JobId, r.Round, members)), PublicShare()));
        }
        var reveal = Round!.Reveal(new KeyRevealRequest(r.JobId, r.Round, r.Commitments.Select(Core).ToList()));
        return Task.FromResult(new RoundKeyReveal(Contract(reveal.Statement), reveal.PublicShare));
    }

    private byte[] PublicShare() => SecretKeyShare.FromBytes(Round!.Record!.Secret!, CkksParameters.Default).PublicKeyShare.ToBytes();

    /// <summary>Its statement (set digest ‖ H(p) ‖ masking key) with <see cref="MaskingKeyInStatement"/> as the masking key.</summary>
    private byte[] EditedStatement(string jobId, int round, IReadOnlyList<string> members) =>
        [.. RoundChallenges.SetDigest(jobId, round, members), .. SHA256.HashData(PublicShare()), .. MaskingKeyInStatement!];

    public Task<SignedPayload> CheckKey(RoundKeyCheckRequest r) =>
        Task.FromResult(Contract(Round!.CheckKey(new KeyCheckRequest(r.JobId, r.Round, r.Statements.Select(Core).ToList(), r.SplitShares(r.PublicShares.Inline!), r.PlanDigest))));

    private byte[]? _crafted;

    public Task<LocalTrainingReport> Train(RoundAssignment a)
    {
        var global = FloatBytes.ToFloats(a.GlobalParameters.Inline!);
        var plan = RoundPlan.For(a.JobId, a.GlobalVersion, global, new FeatureScaling(a.Scaling.FeatureNames, a.Scaling.Mean, a.Scaling.StandardDeviation), a.WeightNormaliser);
        var sealRequest = new SealRequest(a.JobId, a.Round, a.KeyAcceptances.Select(Core).ToList());
        if (Round!.Chain is null)
            Round.PrepareSeal(sealRequest, plan, plan.Digest); // it trains nothing: any basis
        else
            Round.PrepareTraining(sealRequest, plan, plan.Digest);
        var sealedUpdate = CraftUpdate?.Invoke(a) ?? Round.Seal(a.Round, new float[global.Length], 10 / a.WeightNormaliser);
        if (CraftUpdate is not null)
            _crafted = sealedUpdate.SealedUpdate;
        return Task.FromResult(new LocalTrainingReport(Id, a.Round, 10, 0, Payload.OfInline(sealedUpdate.SealedUpdate), Contract(sealedUpdate.Commitment), 0, 0));
    }

    /// <summary>Its fingerprint at the aggregate's challenge: of what it really sent, crafted or not (it lies elsewhere).</summary>
    public Task<SignedPayload> CheckAggregate(RoundAggregateCheckRequest r)
    {
        if (_crafted is null)
            return Task.FromResult(Contract(Round!.CheckAggregate(new AggregateCheckRequest(r.JobId, r.Round, r.AggregateMasks.Inline!, r.Commitments.Select(Core).ToList()))));
        var members = r.Commitments.Select(c => c.ParticipantId).Order(StringComparer.Ordinal).ToList();
        var challenge = RoundChallenges.AggregateChallenge(RoundChallenges.SetDigest(r.JobId, r.Round, members), r.AggregateMasks.Inline!, members,
            r.Commitments.ToDictionary(c => c.ParticipantId, c => c.Payload));
        var fingerprint = LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(_crafted, CkksParameters.Default), challenge);
        return Task.FromResult(Sign(RoundPurpose.AggregateFingerprint, r.JobId, r.Round, fingerprint.ToBytes()));
    }

    public Task<DecryptionReply> Decrypt(DecryptionRequest r)
    {
        var commitment = Contract(Round!.Decrypt(new DecryptRequest(r.JobId, r.Round, r.AggregateFingerprints.Select(Core).ToList())));
        if (AlterPart is not null)
        {
            // Its host from now on holds the altered part, committed to under its own nonce.
            var part = AlterPart(OpenedPlaintext.FromBytes(Round.OpeningPart!, CkksParameters.Default));
            var record = Round.Record!;
            byte[] altered = OpeningSpotCheck.Commitment(OpeningSpotCheck.Tree(part).Root, record.Part!.Nonce);
            Round = new ParticipantRound(Round.Terms, record with { Part = record.Part with { Commitment = altered } }, bytes => Key.Sign(bytes), new OpenedSums(),
                chain: Round.Chain, openingPart: part.ToBytes());
            commitment = Sign(RoundPurpose.PartCommitment, r.JobId, r.Round, altered);
        }
        return Task.FromResult(new DecryptionReply(commitment, null, 0));
    }

    public Task<SignedPayload> CheckOpening(RoundOpeningCheckRequest r) =>
        Task.FromResult(Contract(Round!.CheckOpening(new OpeningCheckRequest(r.JobId, r.Round, r.OpenedDigest))));

    public Task<SignedPayload> OpenLeaves(RoundSpotCheckRequest r) =>
        Task.FromResult(Contract(Round!.OpenLeaves(new SpotCheckRequest(r.JobId, r.Round, r.OpeningFingerprints.Select(Core).ToList()))));

    public Task<PartReply> RevealPart(RoundPartRevealRequest r)
    {
        var part = Contract(Round!.RevealPart(new PartRevealRequest(r.JobId, r.Round, r.PartCommitments.Select(Core).ToList())));
        return Task.FromResult(new PartReply(part with { Payload = [] }, Payload.OfInline(part.Payload)));
    }

    /// <summary>The signed part of a reply with its bytes put back (the test's payloads are small: always inline).</summary>
    public static SignedMessage PartOf(PartReply reply) => Core(reply.Part) with { Payload = reply.PartBytes.Inline! };

    public SignedPayload Sign(string purpose, string jobId, int round, byte[] payload) =>
        new(Id, jobId, round, CkksProtection.SchemeName, payload, Key.Sign(SignedStatement.For(purpose, jobId, round, Id, CkksProtection.SchemeName, payload).ToBytes()));

    public static SignedPayload Contract(SignedMessage m) => new(m.ParticipantId, m.JobId, m.Round, m.Scheme, m.Payload, m.Signature);

    public static SignedMessage Core(SignedPayload m) => new(m.ParticipantId, m.JobId, m.Round, m.Scheme, m.Payload, m.Signature);
}

/// <summary>
/// The test as the aggregator: it drives one protocol round over real grains (and colluders), step by step, keeping
/// what it is sent, so that an attack can deviate at any step.
/// </summary>
internal sealed class RoundDriver(string jobId, int round, IReadOnlyList<IRoundMember> members, IReadOnlyDictionary<string, byte[]> keys)
{
    private static readonly ModelSpec Model = ModelSpec.Logistic(15, 2);

    /// <summary>The model a party of a job invited from the sample job advances to from <paramref name="global"/> by <paramref name="opened"/>.</summary>
    public static float[] SampleNext(float[] global, AggregatedUpdate opened) =>
        ModelChain.Next(FedCore.Aggregation.Strategies.ServerStrategy.Create(Federation.Silo.Hosting.JobSpecifications.From(TestFederations.SampleJob, "any").Strategy.ToOptions()),
            global, null, opened).Global;

    public string JobId { get; } = jobId;
    public int Round { get; } = round;
    public IReadOnlyList<IRoundMember> Members { get; } = members.OrderBy(m => m.Id, StringComparer.Ordinal).ToList();
    public AggregatorRound Aggregator { get; } = new(jobId, round, members.Select(m => m.Id), keys, new RoundProtection(CkksProtection.SchemeName, 4));
    public Dictionary<string, LocalTrainingReport> Reports { get; } = [];

    /// <summary>Each member's sealed update as received (the test's payloads are small: always inline).</summary>
    public Dictionary<string, byte[]> SealedUpdates { get; } = [];
    public double WeightNormaliser
    {
        get => _weightNormaliser;
        set => (_weightNormaliser, _normaliserSet) = (value, true);
    }

    private double _weightNormaliser = 1;

    /// <summary>The model version the plan trains on (0 unless a test moves the chain on).</summary>
    public int Version { get; set; }

    /// <summary>
    /// The round's plan: the global model (the sample's logistic model, initialised, unless a test sets another), the
    /// scaling (from the data holders' moments at <see cref="KeyAsync"/>, unless a test sets one) and the weight normaliser.
    /// </summary>
    public float[] Global { get; set; } = ModelChain.InitialModel(Model, TestFederations.SampleJob.Seed, jobId);
    public FeatureScaling? Scaling { get; set; }
    public RoundPlan Plan => RoundPlan.For(JobId, Version, Global, Scaling ?? NoScaling, WeightNormaliser);
    private static readonly FeatureScaling NoScaling = new([], [], []);

    /// <summary>Every member's key acceptance as received at step 3.</summary>
    public List<SignedPayload> KeyAcceptances { get; } = [];

    private List<string> Ids => Members.Select(m => m.Id).ToList();

    /// <summary>
    /// The plan as an honest job makes it: the scaling and weight normaliser from every member's signed moments, from which
    /// each member starts its model chain (<see cref="StartChainsAsync"/>), unless the test set the scaling itself.
    /// </summary>
    private async Task PlanAsync()
    {
        if (Scaling is null)
            await StartChainsAsync();
        else if (!_normaliserSet)
            _weightNormaliser = (await Task.WhenAll(Members.OfType<GrainMember>().Select(m => m.Grain.ComputeFeatureMoments(JobId)))).Sum(m => m.Count)
                + 10 * Members.OfType<ColluderMember>().Count();
    }

    private bool _normaliserSet;

    /// <summary>
    /// Every party of the job (<paramref name="parties"/>, or this round's members) starts its model chain from all their
    /// signed moments; this round's plan takes the scaling and weight normaliser the chain has.
    /// </summary>
    public async Task StartChainsAsync(IReadOnlyList<IRoundMember>? parties = null)
    {
        parties = (parties ?? Members).OrderBy(m => m.Id, StringComparer.Ordinal).ToList();
        var grains = parties.OfType<GrainMember>().ToList();
        var moments = await Task.WhenAll(grains.Select(m => m.Grain.ComputeFeatureMoments(JobId)));
        var signed = parties.Select(m => m is GrainMember g ? moments[grains.IndexOf(g)].Statement! : ((ColluderMember)m).Moments(JobId, moments[0].FeatureNames)).ToList();
        (Scaling, WeightNormaliser) = ModelChain.ScalingOf([.. signed.Select(s => SignedMoments.Decode(s.Payload))]);
        foreach (var m in parties)
        {
            if (m is GrainMember g)
                await g.Grain.StartModelChain(JobId, signed);
            else
                ((ColluderMember)m).Round!.StartChain(signed.Select(ColluderMember.Core).ToList(), Model, TestFederations.SampleJob.Seed, new FedCore.Aggregation.Strategies.StrategyOptions("fedavg"), "none");
        }
    }

    /// <summary>Steps 1–2, for the plan: the honest request of step 3, not yet sent.</summary>
    public async Task<RoundKeyCheckRequest> RevealAsync()
    {
        await PlanAsync();
        foreach (var m in Members)
            Aggregator.AcceptCommitment(ColluderMember.Core(await m.Commit(new RoundKeyRequest(JobId, Round, Ids))));
        var reveal = new RoundKeyRevealRequest(JobId, Round, Aggregator.RevealRequest().Commitments.Select(ColluderMember.Contract).ToList());
        foreach (var m in Members)
        {
            var r = await m.Reveal(reveal);
            Aggregator.AcceptReveal(new KeyReveal(ColluderMember.Core(r.Statement), r.PublicShare));
        }
        var check = Aggregator.KeyCheckRequest(Plan);
        return new RoundKeyCheckRequest(JobId, Round, Payload.OfInline(RoundKeyCheckRequest.JoinShares(check.PublicShares)), check.Statements.Select(ColluderMember.Contract).ToList(), check.PlanDigest);
    }

    /// <summary>Steps 1–3, for the plan; <paramref name="tamper"/> changes what a member is shown at step 3 (the acceptances are then not checked here).</summary>
    public async Task KeyAsync(Func<IRoundMember, RoundKeyCheckRequest, RoundKeyCheckRequest>? tamper = null)
    {
        var request = await RevealAsync();
        foreach (var m in Members)
        {
            var acceptance = await m.CheckKey(tamper?.Invoke(m, request) ?? request);
            KeyAcceptances.Add(acceptance);
            if (tamper is null)
                Aggregator.AcceptKeyAcceptance(ColluderMember.Core(acceptance));
        }
    }

    /// <summary>Step 4 with the plan, each member's update added as it arrives.</summary>
    public async Task TrainAsync()
    {
        foreach (var m in Members)
        {
            var report = await m.Train(Assignment(KeyAcceptances));
            Reports[m.Id] = report;
            SealedUpdates[m.Id] = report.SealedUpdate.Inline!;
            Aggregator.AcceptSealed(new Sealed(SealedUpdates[m.Id], ColluderMember.Core(report.Commitment)));
        }
    }

    public RoundAssignment Assignment(IReadOnlyList<SignedPayload> acceptances) =>
        new(JobId, Round, Version, Payload.OfInline(FloatBytes.From(Global)), Message(Scaling ?? NoScaling), WeightNormaliser, Ids, acceptances);

    private static FeatureScalingMessage Message(FeatureScaling s) => new(s.FeatureNames, s.Mean, s.StandardDeviation);

    /// <summary>Step 5 as an honest aggregator asks it: the true aggregate's masks.</summary>
    public RoundAggregateCheckRequest AggregateCheck()
    {
        var check = Aggregator.AggregateCheckRequest();
        return new RoundAggregateCheckRequest(JobId, Round, Payload.OfInline(check.AggregateMasks), check.Commitments.Select(ColluderMember.Contract).ToList());
    }

    public async Task<List<SignedPayload>> FingerprintsAsync(RoundAggregateCheckRequest request)
    {
        var fingerprints = new List<SignedPayload>();
        foreach (var m in Members)
            fingerprints.Add(await m.CheckAggregate(request));
        return fingerprints;
    }

    public DecryptionRequest Decryption(IReadOnlyList<SignedPayload> fingerprints, RoundKeyRequest? next = null) => new(JobId, Round, fingerprints, next);

    /// <summary>Steps 7 and 7b as an honest aggregator plays them: the request of step 8.</summary>
    public async Task<OpeningRequest> OpeningAsync()
    {
        var check = Aggregator.OpeningCheckRequest();
        foreach (var m in Members)
            Aggregator.AcceptOpeningFingerprint(ColluderMember.Core(await m.CheckOpening(new RoundOpeningCheckRequest(JobId, Round, check.OpenedDigest))));
        var spots = new RoundSpotCheckRequest(JobId, Round, [.. Aggregator.SpotCheckRequest().OpeningFingerprints.Select(ColluderMember.Contract)]);
        foreach (var m in Members)
            Aggregator.AcceptOpenedLeaves(ColluderMember.Core(await m.OpenLeaves(spots)));
        return Aggregator.OpeningRequest();
    }

    /// <summary>Step 8's message for a party: <paramref name="opening"/> and the model of <paramref name="fromVersion"/> (no optimiser state: FedAvg).</summary>
    public static ModelChainAdvance AdvanceOf(string jobId, int fromVersion, OpeningRequest opening, float[] global) =>
        new(jobId, fromVersion, new ModelOpening(opening.Round, opening.Participants, Payload.OfInline(opening.Opened), [.. opening.OpeningFingerprints.Select(ColluderMember.Contract)],
            [.. opening.PartCommitments.Select(ColluderMember.Contract)], [.. opening.OpenedLeaves.Select(ColluderMember.Contract)]), Payload.OfInline(FloatBytes.From(global)), null, null);

    /// <summary>Each member's part of the opening (c0ᵢ + hᵢ) as revealed at step 6b.</summary>
    public Dictionary<string, OpenedPlaintext> Parts { get; } = [];

    /// <summary>The opened plaintext: the sum of the members' parts.</summary>
    public byte[] Opened() => OpenedPlaintext.Sum([.. Members.Select(m => Parts[m.Id])]).ToBytes();

    /// <summary>Step 5 as an honest aggregator plays it: every member's fingerprint is in, and returned.</summary>
    public async Task<List<SignedPayload>> AggregateCheckedAsync()
    {
        var fingerprints = await FingerprintsAsync(AggregateCheck());
        foreach (var f in fingerprints)
            Aggregator.AcceptAggregateFingerprint(ColluderMember.Core(f));
        return fingerprints;
    }

    /// <summary>Step 6 as an honest aggregator plays it: every member's part commitment is in.</summary>
    public async Task CommitPartsAsync(IReadOnlyList<SignedPayload> fingerprints)
    {
        var request = Decryption(fingerprints);
        foreach (var m in Members)
            Aggregator.AcceptPartCommitment(ColluderMember.Core((await m.Decrypt(request)).PartCommitment));
    }

    /// <summary>Step 6b as an honest aggregator plays it: every member's part is in (<see cref="Parts"/>).</summary>
    public async Task RevealPartsAsync()
    {
        var reveal = new RoundPartRevealRequest(JobId, Round, [.. Aggregator.PartRevealRequest().PartCommitments.Select(ColluderMember.Contract)]);
        foreach (var m in Members)
        {
            var part = ColluderMember.PartOf(await m.RevealPart(reveal));
            Aggregator.AcceptPart(part);
            Parts[m.Id] = OpenedPlaintext.FromBytes(part.Payload, CkksParameters.Default);
        }
    }

    /// <summary>Steps 6 and 6b as an honest aggregator plays them: every member's part is in (<see cref="Parts"/>).</summary>
    public async Task DecryptAsync(IReadOnlyList<SignedPayload> fingerprints)
    {
        await CommitPartsAsync(fingerprints);
        await RevealPartsAsync();
    }

    /// <summary>Steps 5–6b as an honest aggregator plays them, and the opening.</summary>
    public async Task<AggregatedUpdate> OpenAsync()
    {
        await DecryptAsync(await AggregateCheckedAsync());
        return Aggregator.Open();
    }
}
