using FedCore.Data;
using FedCore.Learning;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using FedCore.Rounds;

namespace Federation.Silo.Tests.Jobs;

/// <summary>
/// The aggregator alone, every protocol message honest, against what the members train and how rounds follow each other
/// (FedCore/Rounds/README.md, "The round plan"). The same attacks as FedCore's RoundPlanAttackTests, through real grains:
/// each read one participant's update (or one patient's row) against an earlier design.
/// </summary>
public sealed partial class DecryptionGuardTests
{
    private static readonly string[] SampleParties = ["CH/zurich", "HU/budapest", "US/cleveland", LongBeach];

    [Fact]
    public async Task The_aggregator_alone_cannot_weigh_one_member_in_and_the_others_out()
    {
        // Everyone but Budapest told a weight normaliser of 10^12: their weights vanish, the "sum" is Budapest's update.
        var driver = new RoundDriver("CH/guard-weights", 1, await AcceptAsync("CH/guard-weights", Honest), _keys);
        await driver.KeyAsync();
        foreach (var id in Honest.Where(id => id != "HU/budapest"))
        {
            var refused = await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).Train(driver.Assignment(driver.KeyAcceptances) with { WeightNormaliser = 1e12 }));
            Assert.Equal(RoundRefusal.Refused, refused.Code);
            Assert.Contains("not the one the round key was checked for", refused.Message);
        }

        // Told at the key check already: Budapest one plan, the others another. Each finds another's acceptance of another plan.
        var split = new RoundDriver("CH/guard-weights-2", 1, await AcceptAsync("CH/guard-weights-2", Honest), _keys);
        var honestNormaliser = 0.0;
        await split.KeyAsync((member, request) =>
        {
            honestNormaliser = split.WeightNormaliser;
            var told = RoundPlan.For("CH/guard-weights-2", 0, split.Global, split.Scaling!, member.Id == "HU/budapest" ? honestNormaliser : 1e12);
            return request with { PlanDigest = told.Digest };
        });
        foreach (var id in Honest)
        {
            var assignment = split.Assignment(split.KeyAcceptances) with { WeightNormaliser = id == "HU/budapest" ? honestNormaliser : 1e12 };
            var refused = await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).Train(assignment));
            Assert.Contains("accepted another round key, other statements or another plan", refused.Message);
        }
    }

    [Fact]
    public async Task A_member_checks_one_round_key_and_plan_per_round_also_across_a_restart()
    {
        // Fingerprints for a second plan in the same round would let the aggregator complete, for one member, a set for
        // a plan it alone is told to train (the weights attack above).
        RoundKeyCheckRequest? honest = null;
        var driver = new RoundDriver("CH/guard-key-once", 1, await AcceptAsync("CH/guard-key-once", Honest), _keys);
        await driver.KeyAsync((_, request) => honest = request);
        var budapest = Grain("HU/budapest");
        var otherPlan = RoundPlan.For("CH/guard-key-once", 0, driver.Global, driver.Scaling!, 1e12).Digest;
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => budapest.CheckRoundKey(honest! with { PlanDigest = otherPlan }));
        Assert.Contains("already checked another round key or plan this round", refused.Message);

        await budapest.AsReference<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
        var afterRestart = await Assert.ThrowsAsync<FederationOperationException>(() => budapest.CheckRoundKey(honest! with { PlanDigest = otherPlan }));
        Assert.Contains("already checked another round key or plan this round", afterRestart.Message);
    }

    [Fact]
    public async Task Reopening_a_round_from_the_same_model_without_one_member_is_refused()
    {
        // Σ over all four, then "Long Beach dropped out": Σ over three from the same model and scaling; the difference
        // would be Long Beach's update.
        var all = new RoundDriver("CH/guard-split", 1, await AcceptAsync("CH/guard-split", SampleParties, agreement: TestFederations.SampleJob.Agreement), _keys);
        await all.KeyAsync();
        await all.TrainAsync();
        await all.OpenAsync();

        var three = SampleParties.Where(p => p != LongBeach).ToList();
        var rest = new RoundDriver("CH/guard-split", 2, three.Select(id => (IRoundMember)new GrainMember(Grain(id), id)).ToList(), _keys) { Scaling = all.Scaling };
        await rest.KeyAsync();
        foreach (var id in three)
        {
            var refused = await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).Train(rest.Assignment(rest.KeyAcceptances)));
            Assert.Contains("already helped open a sum from this global model and these rows over other members", refused.Message);
        }

        // Nor under another job id: what a participant remembers of the sums it opened is not per job.
        var elsewhere = new RoundDriver("CH/guard-split-again", 1, await AcceptAsync("CH/guard-split-again", three, agreement: TestFederations.SampleJob.Agreement), _keys)
        {
            Scaling = all.Scaling,
            Global = all.Global,
        };
        await elsewhere.KeyAsync();
        var again = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").Train(elsewhere.Assignment(elsewhere.KeyAcceptances)));
        Assert.Contains("already helped open a sum from this global model", again.Message);
    }

    [Fact]
    public async Task Two_jobs_of_the_same_parties_never_train_from_one_model()
    {
        // Σ over all four in one job and Σ over three in another, both sealed from one model before either opens, then both
        // opened: the difference would be Long Beach's update. Each job's version 0 is drawn for the job
        // (ModelChain.InitialModel), and members train only on their chain: the second job cannot train from the first's
        // model. (Should two rounds from one basis be sealed anyway, only the first to open may: FedCore's
        // RoundPlanAttackTests.)
        var agreement = TestFederations.SampleJob.Agreement;
        var all = new RoundDriver("CH/guard-interleaved-all", 1, await AcceptAsync("CH/guard-interleaved-all", SampleParties, agreement: agreement), _keys);
        var everyone = await AcceptAsync("CH/guard-interleaved-rest", SampleParties, agreement: agreement);
        var rest = new RoundDriver("CH/guard-interleaved-rest", 1, [.. everyone.Where(m => m.Id != LongBeach)], _keys);
        await all.KeyAsync();
        await rest.StartChainsAsync(everyone);
        Assert.Equal(all.Scaling!.Mean, rest.Scaling!.Mean);
        Assert.True(all.Global.Zip(rest.Global, (a, b) => Math.Abs(a - b)).Max() > 0.1f, "the two jobs start from models far apart");
        rest.Global = all.Global;
        await rest.KeyAsync();
        foreach (var m in rest.Members)
            Assert.Contains("not the one its model chain stands at", (await Assert.ThrowsAsync<FederationOperationException>(() => Grain(m.Id).Train(rest.Assignment(rest.KeyAcceptances)))).Message);
    }

    [Fact]
    public async Task A_plan_that_blows_the_update_up_gets_no_answer_that_tells_where_and_cannot_be_asked_again_in_the_round()
    {
        // A feature scaling that divides by 10^-6, the same for every member. Refusals that named the value beyond the bound,
        // or said whether there was one, let the job read the update over repeated requests; a scaled cell of ±∞ made
        // training fail naming the row and feature. Here scaled values are clipped, update values clipped to the bound, and a
        // failure names nothing and ends the round.
        // Since the model chain such a scaling is refused before a row is used: the scaling is the one every party's signed
        // moments give. The same holds for a member whose chain was never started. (Clipping itself is tested in FedCore.)
        var driver = new RoundDriver("CH/guard-bound", 1, await AcceptAsync("CH/guard-bound", Honest), _keys);
        var moments = await Grain("HU/budapest").ComputeFeatureMoments("CH/guard-bound");
        driver.Scaling = new FeatureScaling(moments.FeatureNames, new double[moments.FeatureNames.Length], Enumerable.Repeat(1e-300, moments.FeatureNames.Length).ToArray());
        await driver.KeyAsync();
        var unstarted = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").Train(driver.Assignment(driver.KeyAcceptances)));
        Assert.Contains("its model chain was never started", unstarted.Message);

        var chained = new RoundDriver("CH/guard-bound-chained", 1, await AcceptAsync("CH/guard-bound-chained", Honest), _keys);
        await chained.StartChainsAsync();
        chained.Scaling = driver.Scaling;
        await chained.KeyAsync();
        foreach (var attempt in new[] { 1, 2 })
        {
            var refused = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").Train(chained.Assignment(chained.KeyAcceptances)));
            Assert.Contains("not the one its model chain stands at", refused.Message);
            Assert.DoesNotContain("row", refused.Message);
        }
    }

    [Fact]
    public async Task A_job_pinned_to_a_logistic_model_gets_no_other_model_trained()
    {
        // The model travels only in the invitation now; a global model of another shape (a multilayer perceptron's) is refused.
        var driver = new RoundDriver("CH/guard-model", 1, await AcceptAsync("CH/guard-model", Honest), _keys)
        {
            Global = ModelFactory.InitialParameters(ModelSpec.Mlp(15, [64, 64], 2), 1),
        };
        await driver.KeyAsync();
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").Train(driver.Assignment(driver.KeyAcceptances)));
        Assert.Contains($"the model it accepted the job for has {ParameterLayout.For(ModelSpec.Logistic(15, 2)).TotalLength}", refused.Message);
    }
}
