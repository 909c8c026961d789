using FedCore.Aggregation.Integrity;
using FedCore.Aggregation.Protection;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Data;
using FedCore.Learning;
using FedCore.Rounds;
using Federation.Contracts.Participants;
using Federation.Contracts.Transfer;

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

    public void Accept(RoundTerms terms) => Round = new ParticipantRound(terms, null, bytes => Key.Sign(bytes));

    public Task<SignedPayload> Commit(RoundKeyRequest r) => Task.FromResult(Contract(Round!.Commit(new KeyRequest(r.JobId, r.Round, r.Participants))));

    public Task<RoundKeyReveal> Reveal(RoundKeyRevealRequest r)
    {
        var reveal = Round!.Reveal(new KeyRevealRequest(r.JobId, r.Round, r.Commitments.Select(Core).ToList()));
        return Task.FromResult(new RoundKeyReveal(Contract(reveal.Statement), reveal.PublicShare));
    }

    public Task<SignedPayload> CheckKey(RoundKeyCheckRequest r) =>
        Task.FromResult(Contract(Round!.CheckKey(new KeyCheckRequest(r.JobId, r.Round, r.RoundKey, r.Statements.Select(Core).ToList()))));

    private byte[]? _crafted;

    public Task<LocalTrainingReport> Train(RoundAssignment a)
    {
        Round!.PrepareSeal(new SealRequest(a.JobId, a.Round, a.KeyFingerprints.Select(Core).ToList()));
        var sealedUpdate = CraftUpdate?.Invoke(a) ?? Round.Seal(a.Round, new float[a.GlobalParameters.Length / sizeof(float)], 10 / a.WeightNormaliser);
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
        var fingerprint = LinearFingerprint.OfMasks(EncryptedVector.FromBytes(_crafted, CkksParameters.Default), challenge);
        return Task.FromResult(Sign(RoundPurpose.AggregateFingerprint, r.JobId, r.Round, fingerprint.ToBytes()));
    }

    public Task<DecryptionReply> Decrypt(DecryptionRequest r)
    {
        var share = Contract(Round!.Decrypt(new DecryptRequest(r.JobId, r.Round, r.AggregateFingerprints.Select(Core).ToList())));
        return Task.FromResult(new DecryptionReply(share with { Payload = [] }, Payload.OfInline(share.Payload), null, 0));
    }

    /// <summary>The signed share of a reply with its bytes put back (the test's payloads are small: always inline).</summary>
    public static SignedMessage ShareOf(DecryptionReply reply) => Core(reply.Share) with { Payload = reply.ShareBytes.Inline! };

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

    public string JobId { get; } = jobId;
    public int Round { get; } = round;
    public IReadOnlyList<IRoundMember> Members { get; } = members.OrderBy(m => m.Id, StringComparer.Ordinal).ToList();
    public AggregatorRound Aggregator { get; } = new(jobId, round, members.Select(m => m.Id), keys, new RoundProtection(CkksProtection.SchemeName, 4));
    public Dictionary<string, LocalTrainingReport> Reports { get; } = [];

    /// <summary>Each member's sealed update as received (the test's payloads are small: always inline).</summary>
    public Dictionary<string, byte[]> SealedUpdates { get; } = [];
    public double WeightNormaliser { get; private set; } = 1;

    private List<string> Ids => Members.Select(m => m.Id).ToList();

    /// <summary>Steps 1–3.</summary>
    public async Task KeyAsync()
    {
        foreach (var m in Members)
            Aggregator.AcceptCommitment(ColluderMember.Core(await m.Commit(new RoundKeyRequest(JobId, Round, Ids))));
        var reveal = new RoundKeyRevealRequest(JobId, Round, Aggregator.RevealRequest().Commitments.Select(ColluderMember.Contract).ToList());
        foreach (var m in Members)
        {
            var r = await m.Reveal(reveal);
            Aggregator.AcceptReveal(new KeyReveal(ColluderMember.Core(r.Statement), r.PublicShare));
        }
        var check = Aggregator.KeyCheckRequest();
        var request = new RoundKeyCheckRequest(JobId, Round, check.RoundKey, check.Statements.Select(ColluderMember.Contract).ToList());
        foreach (var m in Members)
            Aggregator.AcceptKeyFingerprint(ColluderMember.Core(await m.CheckKey(request)));
    }

    /// <summary>Step 4 with the sample's logistic model, each member's update added as it arrives.</summary>
    public async Task TrainAsync(IEnumerable<IParticipantGrain> dataHolders)
    {
        var split = new DataSplit("heart", 2.0 / 3.0, 42);
        var moments = await Task.WhenAll(dataHolders.Select(p => p.ComputeFeatureMoments(split)));
        var scaling = FeatureScaling.FromMoments(FeatureMoments.Combine(moments.Select(m => new FeatureMoments(m.FeatureNames, m.Count, m.Sum, m.SumOfSquares))));
        WeightNormaliser = moments.Sum(m => m.Count) + 10 * Members.OfType<ColluderMember>().Count();
        var fingerprints = Aggregator.SealRequest().KeyFingerprints.Select(ColluderMember.Contract).ToList();
        foreach (var (m, i) in Members.Select((m, i) => (m, i)))
        {
            var report = await m.Train(Assignment(i, split, scaling, fingerprints));
            Reports[m.Id] = report;
            SealedUpdates[m.Id] = report.SealedUpdate.Inline!;
            Aggregator.AcceptSealed(new Sealed(SealedUpdates[m.Id], ColluderMember.Core(report.Commitment)));
        }
    }

    public RoundAssignment Assignment(int seed, DataSplit split, FeatureScaling scaling, IReadOnlyList<SignedPayload> fingerprints) =>
        new(JobId, Round, 0, Payload.OfInline(FloatBytes.From(ModelFactory.InitialParameters(Model, 1))), Model.ToJson(), new LocalTrainingSettings(1, 8, "sgd", 0.05, 0, 0, 0), split,
            new FeatureScalingMessage(scaling.FeatureNames, scaling.Mean, scaling.StandardDeviation), seed, WeightNormaliser, Ids, fingerprints);

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
}
