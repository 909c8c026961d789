using FedCore.Aggregation.Strategies;
using FedCore.Crypto.Multiparty;
using FedCore.Data;
using FedCore.Learning;
using FedCore.Rounds;

namespace FedCore.Tests.Rounds;

/// <summary>
/// The model chain (README: "The model chain"; VerifiedAggregation.md, section 1, "Across rounds"): the aggregator alone,
/// every member honest, against which models and scalings the members train on, round after round. Each attack worked
/// against the design before the chain (the first one is the former known limit); each test asserts that here it fails.
/// </summary>
public class ModelChainTests
{
    [Fact]
    public void The_aggregator_alone_cannot_read_one_update_from_two_rounds_whose_models_differ_only_in_a_dead_parameter()
    {
        // The attack: a sum over S from g, then "a retry without a dropout" over S ∖ {v} from g′, g with one weight moved
        // whose feature the scaling zeroes (deviation 10³⁰⁰): two bases, one update bit for bit, and the difference of the two
        // sums was v's update to 10⁻⁵. Both the moved model and the scaling are now refused: members train only on their
        // chain's version, under the scaling every party's signed moments give.
        var job = new ChainedJob();
        FeatureScaling deadFeature = new(["a", "b", "c"], [50, 50, 50], [5, 1e300, 10]);
        var gPrime = (float[])job.Global.Clone();
        gPrime[1] += 3f;
        Assert.Equal(job.UpdatesFrom(job.Global, deadFeature), job.UpdatesFrom(gPrime, deadFeature)); // the premise still holds

        foreach (var (round, model, scaling) in new[] { (1, job.Global, deadFeature), (2, gPrime, job.Scaling) })
        {
            var aggregator = job.Keyed(round, job.Harness.Parties, model, scaling);
            foreach (var p in job.Harness.Parties)
            {
                var refused = Assert.Throws<RoundRefusedException>(() => p.Round.PrepareTraining(aggregator.SealRequest(), job.PlanOf(model, scaling), [1]));
                Assert.Contains("not the one its model chain stands at", refused.Message); // before any row is used
            }
        }
    }

    [Fact]
    public void A_scaling_moved_by_one_ulp_is_refused_so_two_jobs_bases_cannot_be_made_almost_alike()
    {
        // Across jobs the same initial model and an almost identical scaling gave two bases and two almost identical updates.
        var job = new ChainedJob();
        var nudged = job.Scaling with { Mean = [.. job.Scaling.Mean] };
        nudged.Mean[0] = Math.BitIncrement(nudged.Mean[0]);
        var aggregator = job.Keyed(1, job.Harness.Parties, job.Global, nudged);
        Assert.Contains("not the one its model chain stands at",
            Assert.Throws<RoundRefusedException>(() => job.Harness[0].Round.PrepareTraining(aggregator.SealRequest(), job.PlanOf(job.Global, nudged), [1])).Message);
    }

    [Fact]
    public void A_weight_normaliser_other_than_the_moments_give_is_refused()
    {
        // The normaliser weighs every member's update: the aggregator chooses it no more than the model or the scaling.
        var job = new ChainedJob();
        var plan = RoundPlan.For(job.Id, 0, job.Global, job.Scaling, job.Normaliser * 2);
        var aggregator = job.Harness.RevealedRound(1);
        foreach (var p in job.Harness.Parties)
            aggregator.AcceptKeyAcceptance(p.Round.CheckKey(aggregator.KeyCheckRequest(plan)));
        foreach (var p in job.Harness.Parties)
            Assert.Contains("not the one its model chain stands at",
                Assert.Throws<RoundRefusedException>(() => p.Round.PrepareTraining(aggregator.SealRequest(), plan, [1])).Message);
    }

    [Fact]
    public void Every_party_advances_to_the_model_the_job_computes_and_one_that_missed_the_round_catches_up_from_the_signed_opening()
    {
        var job = new ChainedJob();
        var members = job.Harness.Parties.Take(3).ToList();
        var aggregator = job.Decrypted(1, members);
        var opening = job.Opening(aggregator, members);
        job.Advance(aggregator, opening, job.Harness.Parties); // the fourth party was not in the round
        foreach (var p in job.Harness.Parties)
        {
            Assert.Equal(1, p.Round.Chain!.Version);
            Assert.Equal(ModelChain.ModelDigest(job.Global), p.Round.Chain.ModelDigest);
            Assert.Equal(job.Plan.Digest, p.Round.Chain.PlanDigest);
        }
        // The same opening again (a job retrying after a crash) is answered; the next round trains on version 1 everywhere.
        Assert.Equal(1, job.Harness[0].Round.AdvanceChain(opening, [], null));
        var next = job.Decrypted(2, job.Harness.Parties);
        job.Advance(next, job.Opening(next, job.Harness.Parties), job.Harness.Parties);
        Assert.All(job.Harness.Parties, p => Assert.Equal(2, p.Round.Chain!.Version));
        Assert.True(job.Accuracy() > 0.7, $"accuracy {job.Accuracy()} after two rounds");
    }

    [Fact]
    public void The_aggregator_alone_cannot_make_members_accept_an_opened_sum_it_altered()
    {
        // The attack: the chain's next model follows from the opened sum, so the aggregator shows a sum a little off (one
        // coefficient moved: the nearby model the cross-round attack needs). It asks for fingerprints of the altered
        // plaintext, so the challenge is the altered one's; the members' parts add up to the honest plaintext only.
        var job = new ChainedJob();
        var members = job.Harness.Parties;
        var aggregator = job.Decrypted(1, members);
        var forged = job.OpeningOf(aggregator, members, altered => altered[^1] ^= 0x01);
        foreach (var p in members)
            Assert.Contains("not the sum of the members' parts",
                Assert.Throws<RoundRefusedException>(() => p.Round.AdvanceChain(forged, job.Global, job.State)).Message);
        // Nor with honest fingerprints (another job's round, played honestly), nor with a model or optimiser state other than its chain's version.
        var other = new ChainedJob();
        var all = other.Harness.Parties;
        var honestRound = other.Decrypted(1, all);
        var honest = other.Opening(honestRound, all);
        foreach (var p in all)
        {
            Assert.Throws<RoundRefusedException>(() => p.Round.AdvanceChain(honest with { Opened = forged.Opened }, other.Global, other.State));
            var moved = (float[])other.Global.Clone();
            moved[0] += 1e-6f;
            Assert.Contains("not version 0 of its chain",
                Assert.Throws<RoundRefusedException>(() => p.Round.AdvanceChain(honest, moved, other.State)).Message);
            Assert.Equal(0, p.Round.Chain!.Version);
        }
    }

    [Fact]
    public void A_chain_takes_one_successor_per_version_so_two_openings_of_one_version_cannot_give_two_nearby_models()
    {
        // The attack: two openings of the same updates differ in their flooding noise, so each gives a model a hair from the
        // other; members split between the two would train on nearby bases. A second opening of version 0 needs a second
        // round from it, which members refuse once they revealed their parts of the first; and a member that advanced
        // stands at version 1's plan.
        var job = new ChainedJob();
        var members = job.Harness.Parties.Take(3).ToList();
        var first = job.Decrypted(1, members);
        Assert.Contains("must be finished, not redone", Assert.Throws<RoundRefusedException>(() => job.Decrypted(2, members)).Message);
        job.Advance(first, job.Opening(first, members), members);
        var retry = job.Keyed(3, members, job.Previous!, job.Scaling, version: 0);
        Assert.Contains("not the one its model chain stands at",
            Assert.Throws<RoundRefusedException>(() => members[0].Round.PrepareTraining(retry.SealRequest(), job.PlanOf(job.Previous!, job.Scaling, 0), [1])).Message);
    }

    [Fact]
    public void Two_parties_with_the_same_rows_sign_the_same_moments_and_the_chain_starts()
    {
        // A copy of another party's payload is refused for updates (a replay under a second name); moments may coincide.
        var job = new ChainedJob(start: false);
        var moments = job.Moments.ToList();
        moments[1] = job.Harness[1].Sign(RoundPurpose.FeatureMoments, job.Id, 0, moments[0].Payload);
        Assert.Equal(0, job.Harness[0].Round.StartChain(moments, ChainedJob.Spec, ChainedJob.Seed, job.Strategy, ChainedJob.Dataset).Version);
    }

    [Fact]
    public void A_chain_starts_only_from_every_partys_own_signed_moments_and_once()
    {
        var job = new ChainedJob(start: false);
        var p0 = job.Harness[0].Round;
        Assert.Contains("missing", Assert.Throws<RoundRefusedException>(() => p0.StartChain(job.Moments.Skip(1).ToList(), ChainedJob.Spec, ChainedJob.Seed, job.Strategy, ChainedJob.Dataset)).Message);
        // The aggregator's own moments in a party's name: its signature is not that party's.
        var forged = job.Moments.ToList();
        forged[1] = forged[1] with { Payload = SignedMoments.Encode(new FeatureMoments(["a", "b", "c"], 1, [0, 0, 0], [0, 0, 0])) };
        Assert.Throws<RoundRefusedException>(() => p0.StartChain(forged, ChainedJob.Spec, ChainedJob.Seed, job.Strategy, ChainedJob.Dataset));
        // Moments a party signed for another job.
        var otherJob = job.Moments.ToList();
        otherJob[2] = job.Harness[2].Sign(RoundPurpose.FeatureMoments, "job-2", 0, otherJob[2].Payload);
        Assert.Throws<RoundRefusedException>(() => p0.StartChain(otherJob, ChainedJob.Spec, ChainedJob.Seed, job.Strategy, ChainedJob.Dataset));

        var started = p0.StartChain(job.Moments, ChainedJob.Spec, ChainedJob.Seed, job.Strategy, ChainedJob.Dataset);
        Assert.Same(started, p0.StartChain(job.Moments, ChainedJob.Spec, ChainedJob.Seed, job.Strategy, ChainedJob.Dataset));
        // Signed moments of another split (a party asked twice, a row fewer): a second start is refused.
        var fewer = job.Moments.ToList();
        fewer[3] = job.Harness[3].Sign(RoundPurpose.FeatureMoments, job.Id, 0,
            SignedMoments.Encode(FeatureMoments.Compute(job.Rows[3].Select(Enumerable.Range(1, job.Rows[3].RowCount - 1).ToArray()), ChainedJob.Features)));
        Assert.Contains("already started from other feature moments", Assert.Throws<RoundRefusedException>(() => p0.StartChain(fewer, ChainedJob.Spec, ChainedJob.Seed, job.Strategy, ChainedJob.Dataset)).Message);
        job.Harness[0].Restart();
        Assert.Equal(started.PlanDigest, job.Harness[0].Round.Chain!.PlanDigest);
    }
}
