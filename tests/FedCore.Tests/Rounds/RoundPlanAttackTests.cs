using FedCore.Aggregation.Protection;
using FedCore.Data;
using FedCore.Rounds;

namespace FedCore.Tests.Rounds;

/// <summary>
/// The aggregator alone, every protocol message honest, against what the members train and how rounds follow each other
/// (README: "The round plan"; VerifiedAggregation.md, section 1). Each attack worked against an earlier design (found by a
/// security review with a working proof of concept); each test asserts that here it fails.
/// </summary>
public class RoundPlanAttackTests
{
    private const int Length = 2000;
    private static readonly FeatureScaling NoScaling = new([], [], []);

    [Fact]
    public void Members_told_different_plans_accept_different_keys_and_refuse_each_others_acceptance()
    {
        // The attack: every member but the victim is given a huge weight normaliser (its weight vanishes in the sum), so
        // the honest "sum" is the victim's update. Here each member accepts the key for the plan it was told, so one member
        // told another plan breaks everyone's key check before anyone trains.
        var harness = new RoundHarness(3);
        var aggregator = harness.RevealedRound(1);
        var victimsPlan = RoundPlan.For(RoundHarness.JobId, 1, [1], NoScaling, 300);
        var othersPlan = RoundPlan.For(RoundHarness.JobId, 1, [1], NoScaling, 1e12);
        var check = aggregator.KeyCheckRequest(othersPlan);
        // (An honest aggregator's own check would name the victim's acceptance as wrong; this one passes them all on.)
        var seal = new SealRequest(RoundHarness.JobId, 1,
            harness.Parties.Select(p => p.Round.CheckKey(p == harness[0] ? check with { PlanDigest = victimsPlan.Digest } : check)).ToList());
        foreach (var p in harness.Parties)
        {
            var refused = Assert.Throws<RoundRefusedException>(() => p.Round.PrepareSeal(seal, p == harness[0] ? victimsPlan : othersPlan, RoundHarness.BasisFor(1)));
            Assert.Contains("accepted another round key, other statements or another plan", refused.Message);
        }
    }

    [Fact]
    public void A_member_accepts_one_key_and_plan_per_round_so_it_cannot_be_told_another_plan_afterwards_even_after_a_restart()
    {
        // The attack: everyone's acceptance of plan A, then everyone's of plan B, then the victim's for A again: each
        // member then held a full set for the plan it last checked; the victim sealed for A, the others for B.
        var harness = new RoundHarness(3);
        var aggregator = harness.RevealedRound(1);
        var planA = RoundPlan.For(RoundHarness.JobId, 1, [1], NoScaling, 30);
        var planB = RoundPlan.For(RoundHarness.JobId, 1, [1], NoScaling, 1e12);
        var checkA = aggregator.KeyCheckRequest(planA);
        foreach (var p in harness.Parties)
            aggregator.AcceptKeyAcceptance(p.Round.CheckKey(checkA));
        foreach (var p in harness.Parties)
        {
            Assert.Contains("already checked another round key or plan this round",
                Assert.Throws<RoundRefusedException>(() => p.Round.CheckKey(checkA with { PlanDigest = planB.Digest })).Message);
            p.Restart();
            Assert.Contains("already checked another round key or plan this round",
                Assert.Throws<RoundRefusedException>(() => p.Round.CheckKey(checkA with { PlanDigest = planB.Digest })).Message);
            p.Round.CheckKey(checkA); // the same key and plan again (a retry after the restart): answered
        }
    }

    [Fact]
    public void A_member_is_refused_training_from_another_plan_than_the_one_the_round_key_was_checked_for()
    {
        var harness = new RoundHarness(3);
        var aggregator = harness.KeyedRound(1);
        var other = RoundPlan.For(RoundHarness.JobId, 1, [1], NoScaling, 1e12);
        var refused = Assert.Throws<RoundRefusedException>(() => harness[0].Round.PrepareSeal(aggregator.SealRequest(), other, RoundHarness.BasisFor(1)));
        Assert.Contains("not the one the round key was checked for", refused.Message);
        harness[0].Round.PrepareSeal(aggregator.SealRequest(), RoundHarness.PlanFor(1), RoundHarness.BasisFor(1)); // the plan it was checked for goes on
    }

    [Fact]
    public void A_second_sum_from_the_same_basis_over_fewer_members_is_refused_even_after_a_restart()
    {
        // The attack: open Σ over every member, claim a dropout, open Σ over the rest from the same model and rows (members
        // retrain to the same updates), subtract: the left-out member's update. Another version number, weight normaliser
        // or job does not make another basis: the basis is what the member trains from.
        var harness = new RoundHarness(4);
        var updates = RoundHarness.Updates(4, Length, seed: 5);
        var basis = RoundHarness.BasisFor(3);
        Finish(harness, 7, harness.Parties, updates, RoundPlan.For(RoundHarness.JobId, 3, [1, 2, 3], NoScaling, 10), basis);
        foreach (var p in harness.Parties)
            p.Restart();

        var rest = harness.Parties.Take(3).ToList();
        var again = RoundPlan.For(RoundHarness.JobId, 4, [1, 2, 3], NoScaling, 11);
        var aggregator = harness.RevealedRound(8, rest);
        foreach (var p in rest)
            aggregator.AcceptKeyAcceptance(p.Round.CheckKey(aggregator.KeyCheckRequest(again)));
        foreach (var p in rest)
            Assert.Contains("already helped open a sum from this global model and these rows over other members",
                Assert.Throws<RoundRefusedException>(() => p.Round.PrepareSeal(aggregator.SealRequest(), again, basis)).Message);

        // Over the same members (the honest retry after a member came back) the same basis is fine: nothing new opens.
        Finish(harness, 9, harness.Parties, updates, again, basis);
        // And from the next basis, any members that meet the minimum.
        Finish(harness, 10, rest, updates, again, RoundHarness.BasisFor(4));
    }

    [Fact]
    public void Two_jobs_sealed_from_one_basis_over_different_members_open_only_the_first_sum()
    {
        // The attack: in two jobs of the same parties (one dataset split, one seed per model version), seal from one basis
        // over S in the first and over S ∖ {v} in the second before either opens, then open both and subtract. Each member
        // checks its opened sums again when it is asked to decrypt.
        var first = new RoundHarness(4);
        var second = first.AnotherJob("job-2");
        var updates = RoundHarness.Updates(4, Length, seed: 8);
        var basis = RoundHarness.BasisFor(1);
        var rest = second.Parties.Take(3).ToList();
        var overAll = Sealed(first, 1, first.Parties, updates, RoundPlan.For(first.Job, 1, [1, 2, 3], NoScaling, 10), basis);
        var overRest = Sealed(second, 1, rest, updates, RoundPlan.For(second.Job, 1, [1, 2, 3], NoScaling, 10), basis);

        first.Finish(overAll);
        RoundHarness.AggregateChecked(overRest, rest);
        var decrypt = overRest.DecryptRequest();
        foreach (var p in rest)
            Assert.Contains("already helped open a sum from this global model and these rows over other members",
                Assert.Throws<RoundRefusedException>(() => p.Round.Decrypt(decrypt)).Message);
        // The first job's parties, the same organisations, remember the sum over all four.
        Assert.All(first.Parties, p => Assert.Single(p.Opened));
    }

    [Fact]
    public void The_basis_is_what_the_member_trains_from_however_the_plan_is_written()
    {
        // The attack on a basis over the plan's bytes: the scaling listed in another order, padded with an identity entry, or
        // −0 for a zero weight: each trains the very same update but counted as a new basis. (A plan changed by an ulp that
        // changes a scaled value is another basis: nearly the same update, the multi-round limit VerifiedAggregation.md states.)
        var rows = new TabularData([54f, 240f, 1f, 61f, 300f, 0f, 47f, 199f, 1f], [1f, 0f, 1f], ["age", "chol", "sex=male"]);
        FeatureScaling scaling = new(["age", "chol"], [54.0, 246.0], [9.0, 51.0]);
        var basis = RoundPlan.BasisOf([0.5f, 0f, -1f], scaling.Apply(rows));
        FeatureScaling[] rewritten =
        [
            new(["chol", "age"], [246.0, 54.0], [51.0, 9.0]),
            new(["chol", "age", "sex=male"], [246.0, 54.0, 0.0], [51.0, 9.0, 1.0]),
        ];
        foreach (var other in rewritten)
            Assert.Equal(basis, RoundPlan.BasisOf([0.5f, 0f, -1f], other.Apply(rows)));
        Assert.Equal(basis, RoundPlan.BasisOf([0.5f, -0f, -1f], scaling.Apply(rows)));
        // What changes the update changes the basis; what cannot be trained on is refused.
        Assert.NotEqual(basis, RoundPlan.BasisOf([0.5f, 0f, -1.0000001f], scaling.Apply(rows)));
        Assert.NotEqual(basis, RoundPlan.BasisOf([0.5f, 0f, -1f], new FeatureScaling(["age", "chol"], [54.0, 246.0], [9.0, 52.0]).Apply(rows)));
        Assert.Throws<ArgumentException>(() => RoundPlan.BasisOf([float.NaN], scaling.Apply(rows)));
        Assert.Throws<ArgumentException>(() => RoundPlan.For("CH/job-a", 3, [0f], new(["age", "age"], [1, 2], [1, 1]), 300));
        Assert.Throws<ArgumentException>(() => RoundPlan.For("CH/job-a", 3, [0f], new(["age"], [1], [0]), 300));
    }

    [Fact]
    public void Values_beyond_the_bound_are_clipped_not_refused_so_no_answer_tells_where_they_lie()
    {
        // The attack: a refusal for a value beyond the bound named it (and its index); asked again and again with other
        // settings, refusals read the update; even a bare refusal is a bit (is some value beyond B/w?) the job could bisect
        // over rounds by moving the weight normaliser. Here values are clipped to the bound, the weight is at most 1, and the
        // only refusal left (a weight above 1: the normaliser is below the member's sample count, which it reports anyway)
        // ends the round.
        var harness = new RoundHarness(3);
        var aggregator = harness.KeyedRound(1);
        var updates = RoundHarness.Updates(3, Length, seed: 3);
        updates[0][7] = 9f;
        updates[0][8] = float.NaN;
        for (int i = 0; i < 3; i++)
        {
            harness[i].Round.PrepareSeal(aggregator.SealRequest(), RoundHarness.PlanFor(1), RoundHarness.BasisFor(1));
            var sealedUpdate = harness[i].Round.Seal(1, updates[i], 1.0 / 3);
            Assert.Equal(i == 0 ? 2 : 0, sealedUpdate.Clipped);
            aggregator.AcceptSealed(sealedUpdate);
        }
        var opened = harness.Finish(aggregator);
        Assert.InRange(opened.WeightedSum[7] * 3 - updates[1][7] - updates[2][7], 4 - 1e-4, 4 + 1e-4);

        var other = new RoundHarness(3);
        var round = other.KeyedRound(1);
        other[0].Round.PrepareSeal(round.SealRequest(), RoundHarness.PlanFor(1), RoundHarness.BasisFor(1));
        Assert.Throws<UpdateOutOfBoundsException>(() => other[0].Round.Seal(1, new float[Length], 2));
        Assert.Equal(RoundStage.Abandoned, other[0].Round.Record!.Stage);
        Assert.Contains("abandoned", Assert.Throws<RoundRefusedException>(() => other[0].Round.Seal(1, new float[Length], 0.5)).Message);
    }

    private static AggregatedUpdate Finish(RoundHarness harness, int round, IReadOnlyList<Party> members, float[][] updates, RoundPlan plan, byte[] basis) =>
        harness.Finish(Sealed(harness, round, members, updates, plan, basis), members);

    /// <summary>Steps 1–4 played honestly from <paramref name="plan"/> and <paramref name="basis"/>, each member weighing its update by ¼.</summary>
    private static AggregatorRound Sealed(RoundHarness harness, int round, IReadOnlyList<Party> members, float[][] updates, RoundPlan plan, byte[] basis)
    {
        var aggregator = harness.RevealedRound(round, members);
        foreach (var p in members)
            aggregator.AcceptKeyAcceptance(p.Round.CheckKey(aggregator.KeyCheckRequest(plan)));
        foreach (var p in members)
        {
            p.Round.PrepareSeal(aggregator.SealRequest(), plan, basis);
            aggregator.AcceptSealed(p.Round.Seal(round, (float[])updates[harness.Parties.IndexOf(p)].Clone(), 0.25));
        }
        return aggregator;
    }
}
