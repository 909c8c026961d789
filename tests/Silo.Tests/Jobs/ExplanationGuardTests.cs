using FedCore.Aggregation.Protection;
using FedCore.Data;
using FedCore.Learning;
using FedCore.Rounds;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Federation.Contracts.Transfer;

namespace Federation.Silo.Tests.Jobs;

/// <summary>
/// Explanation rounds against an aggregator played by the test (FedCore/Rounds/README.md, "Explanation rounds"). Found by
/// review (branch review/explain, where the attacks succeeded): two explanation rounds of models an ulp apart, over S and
/// S ∖ {Long Beach}, gave Long Beach's importance vector exactly. Now each participant explains one model per job, and its
/// test split opens over one set of members only, whatever the model or the job.
/// </summary>
public sealed partial class DecryptionGuardTests
{
    private static readonly ModelSpec ExplainedModel = ModelSpec.Logistic(15, 2);

    /// <summary>One explanation round played by the aggregator, honest in every message, over real grains; the opened sum.</summary>
    private async Task<AggregatedUpdate> ExplainRoundAsync(string jobId, int round, IEnumerable<string> ids, int version, float[] model, FeatureScaling scaling, double normaliser)
    {
        var members = ids.Order(StringComparer.Ordinal).ToList();
        var aggregator = new AggregatorRound(jobId, round, members, _keys, new RoundProtection(CkksProtection.SchemeName, 4));
        foreach (var id in members)
            aggregator.AcceptCommitment(ColluderMember.Core(await Grain(id).CommitRoundKey(new RoundKeyRequest(jobId, round, members))));
        var reveal = new RoundKeyRevealRequest(jobId, round, aggregator.RevealRequest().Commitments.Select(ColluderMember.Contract).ToList());
        foreach (var id in members)
        {
            var r = await Grain(id).RevealRoundKey(reveal);
            aggregator.AcceptReveal(new KeyReveal(ColluderMember.Core(r.Statement), r.PublicShare));
        }
        var check = aggregator.KeyCheckRequest(RoundPlan.ForExplanation(jobId, version, model, scaling, normaliser));
        var keyCheck = new RoundKeyCheckRequest(jobId, round, Payload.OfInline(RoundKeyCheckRequest.JoinShares(check.PublicShares)), check.Statements.Select(ColluderMember.Contract).ToList(), check.PlanDigest);
        var acceptances = new List<SignedPayload>();
        foreach (var id in members)
        {
            var acceptance = await Grain(id).CheckRoundKey(keyCheck);
            acceptances.Add(acceptance);
            aggregator.AcceptKeyAcceptance(ColluderMember.Core(acceptance));
        }
        var assignment = new RoundAssignment(jobId, round, version, Payload.OfInline(FloatBytes.From(model)),
            new FeatureScalingMessage(scaling.FeatureNames, scaling.Mean, scaling.StandardDeviation), normaliser, members, acceptances);
        foreach (var id in members)
        {
            var report = await Grain(id).Explain(assignment);
            aggregator.AcceptSealed(new Sealed(report.SealedUpdate.Inline!, ColluderMember.Core(report.Commitment)));
        }
        var aggregate = aggregator.AggregateCheckRequest();
        var aggregateCheck = new RoundAggregateCheckRequest(jobId, round, Payload.OfInline(aggregate.AggregateMasks), aggregate.Commitments.Select(ColluderMember.Contract).ToList());
        var aggregateFingerprints = new List<SignedPayload>();
        foreach (var id in members)
        {
            var f = await Grain(id).CheckAggregate(aggregateCheck);
            aggregateFingerprints.Add(f);
            aggregator.AcceptAggregateFingerprint(ColluderMember.Core(f));
        }
        var decrypt = new DecryptionRequest(jobId, round, aggregateFingerprints, null);
        var commitments = new List<SignedPayload>();
        foreach (var id in members)
        {
            commitments.Add((await Grain(id).Decrypt(decrypt)).PartCommitment);
            aggregator.AcceptPartCommitment(ColluderMember.Core(commitments[^1]));
        }
        var partReveal = new RoundPartRevealRequest(jobId, round, commitments);
        foreach (var id in members)
            aggregator.AcceptPart(ColluderMember.PartOf(await Grain(id).RevealPart(partReveal)));
        return aggregator.Open();
    }

    private async Task<FeatureScaling> ScalingAsync(string jobId, IEnumerable<string> ids)
    {
        var moments = await Task.WhenAll(ids.Select(id => Grain(id).ComputeFeatureMoments(jobId)));
        return FeatureScaling.FromMoments(FeatureMoments.Combine(moments.Select(m => new FeatureMoments(m.FeatureNames, m.Count, m.Sum, m.SumOfSquares))));
    }

    /// <summary>
    /// One training round of <paramref name="jobId"/> over all its parties, played honestly through real grains, and every
    /// party's model chain advanced by it (steps 7–8): version 1, the only model they will now explain.
    /// </summary>
    private async Task<(float[] Model, FeatureScaling Scaling, double Normaliser)> TrainedVersionOneAsync(string jobId, IReadOnlyList<string> parties)
    {
        var members = await AcceptAsync(jobId, parties, agreement: TestFederations.SampleJob.Agreement);
        var driver = new RoundDriver(jobId, 1, members, _keys);
        await driver.KeyAsync();
        await driver.TrainAsync();
        var opened = await driver.OpenAsync();
        var opening = await driver.OpeningAsync();
        foreach (var m in members)
            await Grain(m.Id).AdvanceModelChain(RoundDriver.AdvanceOf(jobId, 0, opening, driver.Global));
        return (RoundDriver.SampleNext(driver.Global, opened), driver.Scaling!, driver.WeightNormaliser);
    }

    [Fact]
    public async Task The_aggregator_cannot_difference_two_explanations_of_models_an_ulp_apart_in_one_job_or_across_jobs()
    {
        const string job = "CH/guard-explain";
        var (model, scaling, normaliser) = await TrainedVersionOneAsync(job, SampleParties);
        var three = SampleParties.Where(p => p != LongBeach).ToList();
        await ExplainRoundAsync(job, 2, SampleParties, 1, model, scaling, normaliser); // the one explanation this job gets: a sum over all four

        // The same job, a model an ulp away, over the three others: each refuses a second explanation of the job (and the
        // model is not its chain's either).
        var moved = (float[])model.Clone();
        moved[0] = MathF.BitIncrement(moved[0]);
        var again = await Assert.ThrowsAsync<FederationOperationException>(() => ExplainRoundAsync(job, 3, three, 1, moved, scaling, normaliser));
        Assert.Contains("explains one model per job", again.Message);

        // Another job, the same hospitals' test splits (a dataset is split alike in every job), over the three, explaining
        // its own trained version: refused too.
        const string other = "CH/guard-explain-2";
        var (otherModel, otherScaling, otherNormaliser) = await TrainedVersionOneAsync(other, three);
        // A model off its chain (here the first job's, moved) is refused before the explanation is recorded.
        var offChain = await Assert.ThrowsAsync<FederationOperationException>(() => ExplainRoundAsync(other, 2, three, 1, moved, otherScaling, otherNormaliser));
        Assert.Equal(RoundRefusal.OffChain, offChain.Code);
        var across = await Assert.ThrowsAsync<FederationOperationException>(() => ExplainRoundAsync(other, 3, three, 1, otherModel, otherScaling, otherNormaliser));
        Assert.Contains("from these test rows", across.Message);
    }

    // From the review (branch review/explain), where it held: the plan domains keep explaining and training apart.
    [Fact]
    public async Task A_member_told_to_train_cannot_be_made_to_explain_in_the_round_nor_share_a_key_with_one_told_to_explain_and_a_job_never_accepted_is_refused()
    {
        // Both jobs are trained to version 1 first: the only model their members will explain. The key checked for the
        // training plan; Explain from the same model and scaling computes the explanation plan's digest, which is not the one
        // its key was checked for.
        static List<IRoundMember> Members(IEnumerable<string> ids, Func<string, IParticipantGrain> grain) => [.. ids.Select(id => (IRoundMember)new GrainMember(grain(id), id))];
        var (model, scaling, normaliser) = await TrainedVersionOneAsync("CH/guard-explain-mix", Honest);
        var driver = new RoundDriver("CH/guard-explain-mix", 2, Members(Honest, Grain), _keys) { Global = model, Scaling = scaling, WeightNormaliser = normaliser, Version = 1 };
        await driver.KeyAsync();
        foreach (var id in Honest)
        {
            var refused = await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).Explain(driver.Assignment(driver.KeyAcceptances)));
            Assert.Contains("not the one the round key was checked for", refused.Message);
        }
        // A split key check: Budapest shown the explanation plan's digest, the others the training plan's. They accept different key checks.
        var (model2, scaling2, normaliser2) = await TrainedVersionOneAsync("CH/guard-explain-mix-2", Honest);
        var split = new RoundDriver("CH/guard-explain-mix-2", 2, Members(Honest, Grain), _keys) { Global = model2, Scaling = scaling2, WeightNormaliser = normaliser2, Version = 1 };
        await split.KeyAsync((member, request) => member.Id == "HU/budapest"
            ? request with { PlanDigest = RoundPlan.ForExplanation(split.JobId, 1, split.Global, split.Scaling!, split.WeightNormaliser).Digest }
            : request);
        var assignment = split.Assignment(split.KeyAcceptances);
        Assert.Contains("accepted another round key, other statements or another plan", (await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").Explain(assignment))).Message);
        foreach (var id in Honest.Where(id => id != "HU/budapest"))
            Assert.Contains("accepted another round key, other statements or another plan", (await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).Train(assignment))).Message);

        // A job it never accepted.
        var never = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").Explain(assignment with { JobId = "CH/never-accepted" }));
        Assert.Contains("has not accepted job", never.Message);
    }

    [Fact]
    public async Task A_participant_explains_no_untrained_version()
    {
        const string job = "CH/guard-explain-v0";
        await AcceptAsync(job, Honest);
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() =>
            ExplainRoundAsync(job, 1, Honest, 0, ModelFactory.InitialParameters(ExplainedModel, 1), TestScaling(), 1000));
        Assert.Contains("only a trained version", refused.Message);
    }

    private static FeatureScaling TestScaling() => new(
        ["age", "trestbps", "chol", "thalach", "oldpeak"], [54, 130, 240, 150, 1], [9, 17, 50, 23, 1]);
}
