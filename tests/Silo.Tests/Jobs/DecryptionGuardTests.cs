using FedCore.Aggregation.Protection;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Data;
using FedCore.Jobs;
using FedCore.Learning;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Jobs;

/// <summary>
/// Participants (real grains on HU and CH silos) playing one encrypted round against an aggregator driven by the
/// test, honest or not: they help decrypt only the sum of the round's committed updates, and only once.
/// </summary>
public sealed class DecryptionGuardTests : IAsyncLifetime
{
    private static readonly ProtectionSettings Protection = new("ckks", 4);
    private readonly TempDirectory _dir = new("federation-guard");
    private readonly CkksProtection _scheme = new(CkksParameters.Default, 4);
    private LocalFederation _federation = null!;
    private IParticipantGrain[] _participants = null!;

    public async Task InitializeAsync()
    {
        _federation = await LocalFederation.StartAsync(TestFederations.Options(_dir.Path, "HU", "CH"));
        var manifest = FederationManifest.Load(Path.Combine(TestPaths.HeartSample, "federation.json"));
        await FederationEnrolment.EnrolAsync(_federation.Grains, manifest, ["HU/budapest", "CH/zurich"]);
        _participants = [_federation.Grains.GetGrain<IParticipantGrain>("HU/budapest"), _federation.Grains.GetGrain<IParticipantGrain>("CH/zurich")];
    }

    public async Task DisposeAsync()
    {
        await _federation.DisposeAsync();
        _dir.Dispose();
    }

    private sealed record PlayedRound(string JobId, int Round, byte[] RoundKey, RevealedUpdate[] Updates, ISealedAggregate Sum, byte[] Input)
    {
        public IReadOnlyList<SignedPayload> Commitments => Updates.Select(r => r.Commitment).ToList();
    }

    /// <summary>Key shares, local training and the reveal, as the job grain does them; the test then plays the aggregator.</summary>
    private async Task<PlayedRound> PlayRoundAsync(string jobId)
    {
        var (roundKey, digests) = await CommitAsync(jobId);
        var updates = await Task.WhenAll(_participants.Select(p => p.Reveal(new RevealRequest(jobId, 1, Protection, digests))));
        var sum = _scheme.NewAggregate(roundKey);
        foreach (var u in updates)
            Assert.Equal(u.Commitment.Payload, sum.Add(u.Commitment.ParticipantId, u.SealedUpdate));
        return new PlayedRound(jobId, 1, roundKey, updates, sum, sum.DecryptionInput());
    }

    /// <summary>Round 1 of <paramref name="jobId"/> up to the commitments: the round key and every participant's signed digest.</summary>
    private async Task<(byte[] RoundKey, SignedPayload[] Digests)> CommitAsync(string jobId)
    {
        var keyShares = await Task.WhenAll(_participants.Select(p => p.CreateRoundKeyShare(new RoundKeyRequest(jobId, 1, Protection, new byte[32]))));
        var roundKey = _scheme.CombineKeyShares(keyShares.Select(k => k.Payload).ToList());
        var reports = await Task.WhenAll(_participants.Select((p, i) => TrainAsync(p, i, jobId, roundKey)));
        Assert.All(reports, r => Assert.Empty(r.SealedUpdate)); // nothing but a commitment before everyone has committed
        return (roundKey, reports.Select(r => r.Commitment).ToArray());
    }

    private async Task<LocalTrainingReport> TrainAsync(IParticipantGrain participant, int index, string jobId, byte[] roundKey)
    {
        var split = new DataSplit("heart", 2.0 / 3.0, 42);
        var moments = await Task.WhenAll(_participants.Select(p => p.ComputeFeatureMoments(split)));
        var scaling = FeatureScaling.FromMoments(FeatureMoments.Combine(moments.Select(m => new FeatureMoments(m.FeatureNames, m.Count, m.Sum, m.SumOfSquares))));
        var model = ModelSpec.Logistic(15, 2);
        return await participant.Train(new RoundAssignment(
            jobId, 1, 0, ModelFactory.InitialParameters(model, 1), model.ToJson(),
            new LocalTrainingSettings(1, 8, "sgd", 0.05, 0, 0, 0), split,
            new FeatureScalingMessage(scaling.FeatureNames, scaling.Mean, scaling.StandardDeviation), index, moments.Sum(m => m.Count), Protection, roundKey));
    }

    private static async Task<SignedPayload> DecryptAsync(IParticipantGrain participant, PlayedRound round, byte[] shown, IReadOnlyList<SignedPayload> commitments) =>
        (await participant.CreateDecryptionShare(new DecryptionRequest(round.JobId, round.Round, Protection, shown, round.RoundKey, commitments))).Share;

    [Fact]
    public async Task An_honest_sum_opens_and_each_key_decrypts_only_once()
    {
        var round = await PlayRoundAsync("guard-honest");
        var shares = new List<byte[]>();
        foreach (var p in _participants)
        {
            // Asked for it, a participant also makes its key share for the next round in the same call.
            var reply = await p.CreateDecryptionShare(new DecryptionRequest(round.JobId, round.Round, Protection, round.Input, round.RoundKey, round.Commitments, new byte[32]));
            Assert.Equal(round.Round + 1, reply.NextRoundKeyShare!.Round);
            shares.Add(reply.Share.Payload);
        }
        var opened = round.Sum.Open(shares);
        Assert.Equal(1.0, opened.TotalWeight, 5); // each weight is its train rows over all train rows (174 + 31)

        var again = await Assert.ThrowsAsync<FederationOperationException>(() => DecryptAsync(_participants[0], round, round.Input, round.Commitments));
        Assert.Equal("round.no-key-share", again.Code);
    }

    [Fact]
    public async Task One_participants_update_shown_as_the_sum_is_not_decrypted()
    {
        var round = await PlayRoundAsync("guard-substitution");
        var budapestsOwn = CiphertextMasks.Of(EncryptedVector.FromBytes(round.Updates[0].SealedUpdate, CkksParameters.Default)).ToBytes();
        var zurich = _participants[1];
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => DecryptAsync(zurich, round, budapestsOwn, round.Commitments));
        Assert.Equal("round.aggregate-refused", refused.Code);
        Assert.Contains("not the sum", refused.Message);

        // A refusal spends nothing: the honest sum is still decrypted afterwards.
        await DecryptAsync(zurich, round, round.Input, round.Commitments);
    }

    [Fact]
    public async Task A_participant_whose_update_is_left_out_or_whose_peers_are_forged_refuses()
    {
        var round = await PlayRoundAsync("guard-commitments");
        var withoutZurich = round.Commitments.Take(1).ToList();
        var leftOut = await Assert.ThrowsAsync<FederationOperationException>(() => DecryptAsync(_participants[1], round, round.Input, withoutZurich));
        Assert.Contains("own update is not among", leftOut.Message);

        var forged = round.Commitments.ToList();
        var payload = (byte[])forged[0].Payload.Clone();
        payload[0] ^= 1;
        forged[0] = forged[0] with { Payload = payload };
        var bad = await Assert.ThrowsAsync<FederationOperationException>(() => DecryptAsync(_participants[1], round, round.Input, forged));
        Assert.Contains("does not verify", bad.Message);

        var twice = round.Commitments.Append(round.Commitments[1]).ToList();
        Assert.Contains("duplicate", (await Assert.ThrowsAsync<FederationOperationException>(() =>
            DecryptAsync(_participants[1], round, round.Input, twice))).Message);
    }

    [Fact]
    public async Task Updates_are_revealed_once_against_one_set_of_digests_and_decrypted_only_for_those_commitments()
    {
        var (roundKey, digests) = await CommitAsync("guard-reveal");
        var budapest = _participants[0];
        var zurich = _participants[1];
        Assert.Contains("own commitment is not among", (await Assert.ThrowsAsync<FederationOperationException>(() =>
            zurich.Reveal(new RevealRequest("guard-reveal", 1, Protection, digests.Take(1).ToList())))).Message);
        var zurichs = await zurich.Reveal(new RevealRequest("guard-reveal", 1, Protection, digests));
        Assert.Equal(zurichs.SealedUpdate, (await zurich.Reveal(new RevealRequest("guard-reveal", 1, Protection, digests))).SealedUpdate); // a retry

        // Budapest trains again (a new update and commitment) and reveals against the new digests...
        var second = (await TrainAsync(budapest, 0, "guard-reveal", roundKey)).Commitment;
        Assert.Contains("other commitment digests", (await Assert.ThrowsAsync<FederationOperationException>(() =>
            zurich.Reveal(new RevealRequest("guard-reveal", 1, Protection, [second, digests[1]])))).Message);
        var budapests = await budapest.Reveal(new RevealRequest("guard-reveal", 1, Protection, [second, digests[1]]));
        // ...but Zurich revealed its update against Budapest's first commitment, and holds to it.
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => zurich.CreateDecryptionShare(new DecryptionRequest(
            "guard-reveal", 1, Protection, [], roundKey, [budapests.Commitment, zurichs.Commitment])));
        Assert.Contains("not the ones whose digests it saw", refused.Message);
    }

    [Fact]
    public async Task A_learning_failure_reaches_the_caller_as_a_clear_error()
    {
        var split = new DataSplit("heart", 2.0 / 3.0, 42);
        var moments = await _participants[0].ComputeFeatureMoments(split);
        var model = ModelSpec.Logistic(15, 2);
        var keyShare = await _participants[0].CreateRoundKeyShare(new RoundKeyRequest("guard-diverge", 1, Protection, new byte[32]));
        var roundKey = _scheme.CombineKeyShares([keyShare.Payload]);
        var error = await Assert.ThrowsAsync<FederationOperationException>(() => _participants[0].Train(new RoundAssignment(
            "guard-diverge", 1, 0, ModelFactory.InitialParameters(model, 1).Select(_ => float.MaxValue).ToArray(), model.ToJson(),
            new LocalTrainingSettings(3, 8, "sgd", 10, 0, 0, 0), split,
            new FeatureScalingMessage(moments.FeatureNames, moments.Sum.Select(x => x / moments.Count).ToArray(), moments.Sum.Select(_ => 1.0).ToArray()),
            1, moments.Count, Protection, roundKey)));
        Assert.Equal("fedcore.TrainingDivergedException", error.Code);
    }
}
