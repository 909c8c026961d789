using FedCore.Aggregation.Protection;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Data;
using FedCore.Jobs;
using FedCore.Learning;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;
using Orleans.Core.Internal;

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
        var (roundKey, _, digests) = await CommitAsync(jobId);
        var updates = await Task.WhenAll(_participants.Select(p => p.Reveal(new RevealRequest(jobId, 1, Protection, digests))));
        var sum = _scheme.NewAggregate(roundKey);
        foreach (var u in updates)
            Assert.Equal(u.Commitment.Payload, sum.Add(u.Commitment.ParticipantId, u.SealedUpdate));
        return new PlayedRound(jobId, 1, roundKey, updates, sum, sum.DecryptionInput());
    }

    /// <summary>Round 1 of <paramref name="jobId"/> up to the commitments: the round key, its shares and every participant's signed digest.</summary>
    private async Task<(byte[] RoundKey, SignedPayload[] KeyShares, SignedPayload[] Digests)> CommitAsync(string jobId)
    {
        var (roundKey, keyShares) = await KeyAsync(jobId, _participants);
        var reports = await Task.WhenAll(_participants.Select((p, i) => TrainAsync(p, i, jobId, keyShares)));
        Assert.All(reports, r => Assert.Empty(r.SealedUpdate)); // nothing but a commitment before everyone has committed
        return (roundKey, keyShares, reports.Select(r => r.Commitment).ToArray());
    }

    /// <summary>Round 1's key as the job grain makes it: every participant commits to its share, then reveals it.</summary>
    private async Task<(byte[] RoundKey, SignedPayload[] Shares)> KeyAsync(string jobId, IParticipantGrain[] participants)
    {
        var digests = await Task.WhenAll(participants.Select(p => p.CommitRoundKeyShare(new RoundKeyRequest(jobId, 1, Protection, new byte[32]))));
        var shares = await Task.WhenAll(participants.Select(p => p.RevealRoundKeyShare(new RoundKeyRevealRequest(jobId, 1, Protection, digests))));
        return (_scheme.CombineKeyShares(shares.Select(k => k.Payload).ToList()), shares);
    }

    private async Task<LocalTrainingReport> TrainAsync(IParticipantGrain participant, int index, string jobId, IReadOnlyList<SignedPayload> keyShares)
    {
        var split = new DataSplit("heart", 2.0 / 3.0, 42);
        var moments = await Task.WhenAll(_participants.Select(p => p.ComputeFeatureMoments(split)));
        var scaling = FeatureScaling.FromMoments(FeatureMoments.Combine(moments.Select(m => new FeatureMoments(m.FeatureNames, m.Count, m.Sum, m.SumOfSquares))));
        var model = ModelSpec.Logistic(15, 2);
        return await participant.Train(new RoundAssignment(
            jobId, 1, 0, ModelFactory.InitialParameters(model, 1), model.ToJson(),
            new LocalTrainingSettings(1, 8, "sgd", 0.05, 0, 0, 0), split,
            new FeatureScalingMessage(scaling.FeatureNames, scaling.Mean, scaling.StandardDeviation), index, moments.Sum(m => m.Count), Protection, keyShares));
    }

    private static async Task<SignedPayload> DecryptAsync(IParticipantGrain participant, PlayedRound round, byte[] shown, IReadOnlyList<SignedPayload> commitments) =>
        (await participant.CreateDecryptionShare(new DecryptionRequest(round.JobId, round.Round, Protection, shown, commitments))).Share;

    [Fact]
    public async Task An_honest_sum_opens_and_each_key_decrypts_only_once()
    {
        var round = await PlayRoundAsync("guard-honest");
        var shares = new List<byte[]>();
        foreach (var p in _participants)
        {
            // Asked for it, a participant also makes its key share for the next round, and commits to it, in the same call.
            var reply = await p.CreateDecryptionShare(new DecryptionRequest(round.JobId, round.Round, Protection, round.Input, round.Commitments, new byte[32]));
            Assert.Equal(round.Round + 1, reply.NextRoundKeyDigest!.Round);
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
        var (_, keyShares, digests) = await CommitAsync("guard-reveal");
        var budapest = _participants[0];
        var zurich = _participants[1];
        Assert.Contains("own commitment is not among", (await Assert.ThrowsAsync<FederationOperationException>(() =>
            zurich.Reveal(new RevealRequest("guard-reveal", 1, Protection, digests.Take(1).ToList())))).Message);
        var zurichs = await zurich.Reveal(new RevealRequest("guard-reveal", 1, Protection, digests));
        Assert.Equal(zurichs.SealedUpdate, (await zurich.Reveal(new RevealRequest("guard-reveal", 1, Protection, digests))).SealedUpdate); // a retry

        // Budapest trains again (a new update and commitment) and reveals against the new digests...
        var second = (await TrainAsync(budapest, 0, "guard-reveal", keyShares)).Commitment;
        Assert.Contains("other commitment digests", (await Assert.ThrowsAsync<FederationOperationException>(() =>
            zurich.Reveal(new RevealRequest("guard-reveal", 1, Protection, [second, digests[1]])))).Message);
        var budapests = await budapest.Reveal(new RevealRequest("guard-reveal", 1, Protection, [second, digests[1]]));
        // ...but Zurich revealed its update against Budapest's first commitment, and holds to it.
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => zurich.CreateDecryptionShare(new DecryptionRequest(
            "guard-reveal", 1, Protection, [], [budapests.Commitment, zurichs.Commitment])));
        Assert.Contains("not the ones whose digests it saw", refused.Message);
    }

    [Fact]
    public async Task A_participant_seals_only_under_a_key_of_the_shares_committed_to_before_its_own_was_revealed()
    {
        const string job = "guard-key";
        var (budapest, zurich) = (_participants[0], _participants[1]);
        var digests = await Task.WhenAll(_participants.Select(p => p.CommitRoundKeyShare(new RoundKeyRequest(job, 1, Protection, new byte[32]))));
        Assert.Contains("own key-share digest is not among", (await Assert.ThrowsAsync<FederationOperationException>(() =>
            budapest.RevealRoundKeyShare(new RoundKeyRevealRequest(job, 1, Protection, digests.Skip(1).ToList())))).Message);
        var shares = await Task.WhenAll(_participants.Select(p => p.RevealRoundKeyShare(new RoundKeyRevealRequest(job, 1, Protection, digests))));

        // A key without Budapest's share: whoever holds the other secrets could decrypt its update alone.
        var withoutOwn = await Assert.ThrowsAsync<FederationOperationException>(() => TrainAsync(budapest, 0, job, shares.Skip(1).ToList()));
        Assert.Contains("refuses to seal its update", withoutOwn.Message);
        Assert.Contains("not the ones whose digests it saw", withoutOwn.Message);

        // A rogue key: Zurich (colluding with the aggregator) makes a new share after Budapest's is out, say to cancel it.
        // It is signed and well formed, but Budapest never saw its digest before it revealed its own share.
        var rogueDigest = await zurich.CommitRoundKeyShare(new RoundKeyRequest(job, 1, Protection, new byte[32]));
        var rogueShare = await zurich.RevealRoundKeyShare(new RoundKeyRevealRequest(job, 1, Protection, [digests[0], rogueDigest]));
        var rogue = await Assert.ThrowsAsync<FederationOperationException>(() => TrainAsync(budapest, 0, job, [shares[0], rogueShare]));
        Assert.Contains("not the ones whose digests it saw", rogue.Message);
        // Nor is Budapest's share revealed again against the new digests (a retry against the same ones is answered).
        Assert.Contains("already revealed its key share against other digests", (await Assert.ThrowsAsync<FederationOperationException>(() =>
            budapest.RevealRoundKeyShare(new RoundKeyRevealRequest(job, 1, Protection, [digests[0], rogueDigest])))).Message);
        Assert.Equal(shares[0].Payload, (await budapest.RevealRoundKeyShare(new RoundKeyRevealRequest(job, 1, Protection, digests))).Payload);

        // The shares it committed to: it seals.
        Assert.Equal(job, (await TrainAsync(budapest, 0, job, shares)).Commitment.JobId);
    }

    [Fact]
    public async Task A_restart_does_not_let_a_key_share_be_revealed_again_against_other_digests()
    {
        const string job = "guard-key-restart";
        var (budapest, zurich) = (_participants[0], _participants[1]);
        var digests = await Task.WhenAll(_participants.Select(p => p.CommitRoundKeyShare(new RoundKeyRequest(job, 1, Protection, new byte[32]))));
        var shares = await Task.WhenAll(_participants.Select(p => p.RevealRoundKeyShare(new RoundKeyRevealRequest(job, 1, Protection, digests))));

        // The aggregator forces Budapest to restart, then shows it a rogue digest chosen with its share in view.
        await budapest.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        var rogueDigest = await zurich.CommitRoundKeyShare(new RoundKeyRequest(job, 1, Protection, new byte[32]));
        Assert.Contains("already revealed its key share against other digests", (await Assert.ThrowsAsync<FederationOperationException>(() =>
            budapest.RevealRoundKeyShare(new RoundKeyRevealRequest(job, 1, Protection, [digests[0], rogueDigest])))).Message);

        // What it stored survives the restart: the same digests are answered again, and it seals under their shares.
        Assert.Equal(shares[0].Payload, (await budapest.RevealRoundKeyShare(new RoundKeyRevealRequest(job, 1, Protection, digests))).Payload);
        Assert.Equal(job, (await TrainAsync(budapest, 0, job, shares)).Commitment.JobId);
    }

    [Fact]
    public async Task A_participant_that_lost_its_round_memory_asks_for_the_round_again()
    {
        var (_, _, digests) = await CommitAsync("guard-restart");
        var zurich = _participants[1];
        await zurich.AsReference<IGrainManagementExtension>().DeactivateOnIdle(); // as if its silo had restarted
        var error = await Assert.ThrowsAsync<FederationOperationException>(() => zurich.Reveal(new RevealRequest("guard-restart", 1, Protection, digests)));
        Assert.Equal("round.participant-restarted", error.Code); // which the job takes as "redo the round with a fresh key"
        Assert.Contains("refuses to reveal its update", error.Message);
    }

    [Fact]
    public async Task A_learning_failure_reaches_the_caller_as_a_clear_error()
    {
        var split = new DataSplit("heart", 2.0 / 3.0, 42);
        var moments = await _participants[0].ComputeFeatureMoments(split);
        var model = ModelSpec.Logistic(15, 2);
        var (_, keyShares) = await KeyAsync("guard-diverge", [_participants[0]]);
        var error = await Assert.ThrowsAsync<FederationOperationException>(() => _participants[0].Train(new RoundAssignment(
            "guard-diverge", 1, 0, ModelFactory.InitialParameters(model, 1).Select(_ => float.MaxValue).ToArray(), model.ToJson(),
            new LocalTrainingSettings(3, 8, "sgd", 10, 0, 0, 0), split,
            new FeatureScalingMessage(moments.FeatureNames, moments.Sum.Select(x => x / moments.Count).ToArray(), moments.Sum.Select(_ => 1.0).ToArray()),
            1, moments.Count, Protection, keyShares)));
        Assert.Equal("fedcore.TrainingDivergedException", error.Code);
    }
}
