using FedCore.Aggregation.Protection;
using FedCore.Data;
using FedCore.Rounds;
using Federation.Contracts.Errors;
using Federation.Contracts.Jobs;
using Federation.Contracts.Participants;
using Federation.Contracts.Transfer;
using Federation.Silo.Hosting;
using Orleans.Core.Internal;

namespace Federation.Silo.Tests.Jobs;

/// <summary>
/// Review of the model chain's wiring through the grains (branch review/chain-grains): the aggregator (the test, or any
/// cluster caller) against honest participant grains, their storage and their restarts; and the job grain against one
/// honest event. A test named <c>Known_limit_…</c> documents an attack that works; the others assert what the review found
/// broken is now refused (the silo stop, an untrained version explained) or what held.
/// </summary>
public sealed partial class DecryptionGuardTests
{
    // ---- helpers ------------------------------------------------------------------------------------------------

    /// <summary>One honest training round over <paramref name="driver"/>'s members, decrypted, and every member's opening fingerprint asked (step 7).</summary>
    private static async Task<(AggregatedUpdate Opened, OpeningRequest Opening)> ReviewOpenAndCheckAsync(RoundDriver driver)
    {
        await driver.KeyAsync();
        await driver.TrainAsync();
        var opened = await driver.OpenAsync();
        return (opened, await driver.OpeningAsync());
    }

    private static EvaluationAssignment ReviewScore(string job, int version, float[] model, FeatureScaling scaling) =>
        new(job, version, Payload.OfInline(FloatBytes.From(model)), new FeatureScalingMessage(scaling.FeatureNames, scaling.Mean, scaling.StandardDeviation));

    private async Task ReviewRestartAsync(string id) => await Grain(id).AsReference<IGrainManagementExtension>().DeactivateOnIdle();

    // ---- 4. availability: one honest event -----------------------------------------------------------------------

    [Fact]
    public async Task A_silo_stop_between_decryption_and_the_opening_check_makes_the_job_wait_for_the_same_members_not_leave_one_out()
    {
        // The sample job (four hospitals, at least three per round). Budapest's silo stops the moment Budapest is asked for its
        // opening fingerprint in round 1 (step 7): every member already gave its decryption share, so each recorded version 0's
        // basis and chain position as opened over all four. The review found the job dropping Budapest and retrying over the
        // three others, each of which refused (over other members), which failed the job for good (branch
        // review/chain-grains). Now the job stored the members it asked to decrypt, and waits for exactly them: here Budapest
        // never comes back, so it stops after its attempts naming Budapest, and no member refuses anything.
        using var dir = new TempDirectory("federation-review-stop");
        LocalFederation? federation = null;
        int stops = 0;
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var options = TestFederations.Options(dir.Path, "US", "HU", "CH") with
        {
            ConfigureSilo = silo => silo.AddOutgoingGrainCallFilter(async context =>
            {
                try { await context.Invoke(); }
                catch (Exception e) when (context.InterfaceMethod.DeclaringType == typeof(IParticipantGrain))
                {
                    seen.Enqueue($"{context.InterfaceMethod.Name}->{context.TargetId}: {e.GetType().FullName} [{e.InnerException?.GetType().FullName}] {e.Message}");
                    throw;
                }
            }).AddIncomingGrainCallFilter(async context =>
            {
                if (context.InterfaceMethod.Name == nameof(IParticipantGrain.CheckOpening) && context.TargetId.Key.ToString() == "HU/budapest"
                    && context.Request.GetArgument(0) is RoundOpeningCheckRequest { JobId: "CH/review-stop" }
                    && Interlocked.Exchange(ref stops, 1) == 0)
                {
                    // The silo goes down as the call arrives: the job's call times out, as it does when a silo dies silently,
                    // and Budapest stays unreachable for the rest of the job.
                    _ = Task.Run(() => federation!.StopCountryAsync("HU"));
                    throw new TimeoutException("test: Budapest's silo stopped during the opening check");
                }
                await context.Invoke();
            }),
        };
        federation = await LocalFederation.StartAsync(options);
        await using (federation)
        {
            await TestFederations.SetUpSampleAsync(federation);
            var status = await TestFederations.RunAsync(federation, TestFederations.SampleJob with { Rounds = 2 }, "CH/review-stop");

            Assert.Equal(1, stops);
            var calls = string.Join("\n", seen);
            Assert.True(status.Phase == JobPhase.Failed, $"{status.Phase} {status.Error}\n{calls}");
            Assert.Equal(0, status.CompletedRounds);
            Assert.True(status.Error!.Contains("did not complete in") && status.Error.Contains("HU/budapest"), $"{status.Error}\n{calls}");
            Assert.DoesNotContain("already helped open", status.Error);
        }
    }

    [Fact]
    public async Task A_restart_between_decryption_and_the_opening_check_loses_nothing_and_the_round_is_finished_never_redone()
    {
        // Version 0 opened over the three honest hospitals (Long Beach, a party, left out). Budapest restarts before step 7:
        // its part was stored before it committed to it, so it still answers. A redo over other members (Long Beach in
        // Budapest's place) is refused by those who opened version 0 already, and a redo over the same three by all three:
        // they revealed their parts of version 0, and a redo would show the aggregator that sum before colluders commit to
        // theirs. The round itself then finishes, and every party advances by it.
        const string job = "CH/review-restart-7";
        var everyone = await AcceptAsync(job, SampleParties, agreement: TestFederations.SampleJob.Agreement);
        var three = everyone.Where(m => m.Id != LongBeach).ToList();
        var first = new RoundDriver(job, 1, three, _keys);
        await first.StartChainsAsync(everyone);
        await first.KeyAsync();
        await first.TrainAsync();
        await first.OpenAsync();
        await ReviewRestartAsync("HU/budapest");

        var others = everyone.Where(m => m.Id != "HU/budapest").ToList();
        var swapped = new RoundDriver(job, 2, others, _keys) { Scaling = first.Scaling, WeightNormaliser = first.WeightNormaliser };
        await swapped.KeyAsync();
        foreach (var id in new[] { "CH/zurich", "US/cleveland" })
            Assert.Contains("already helped open a sum", (await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).Train(swapped.Assignment(swapped.KeyAcceptances)))).Message);
        var redo = new RoundDriver(job, 3, three, _keys) { Scaling = first.Scaling, WeightNormaliser = first.WeightNormaliser };
        await redo.KeyAsync();
        foreach (var m in three)
            Assert.Contains("must be finished, not redone", (await Assert.ThrowsAsync<FederationOperationException>(() => Grain(m.Id).Train(redo.Assignment(redo.KeyAcceptances)))).Message);

        var opening = await first.OpeningAsync();
        foreach (var m in everyone)
            Assert.Equal(1, await Grain(m.Id).AdvanceModelChain(RoundDriver.AdvanceOf(job, 0, opening, first.Global)));
    }

    // ---- 2. restarts cannot roll a chain back, restart it, or give a version two successors --------------------------

    [Fact]
    public async Task After_restarts_an_advanced_member_neither_rolls_back_nor_restarts_its_chain_nor_takes_a_second_successor()
    {
        const string job = "CH/review-restart-8";
        var members = await AcceptAsync(job, Honest);
        var first = new RoundDriver(job, 1, members, _keys);
        await first.StartChainsAsync();
        var (opened1, opening1) = await ReviewOpenAndCheckAsync(first);
        var v0 = first.Global;
        var v1 = RoundDriver.SampleNext(v0, opened1);
        var budapest = Grain("HU/budapest");

        Assert.Equal(1, await budapest.AdvanceModelChain(RoundDriver.AdvanceOf(job, 0, opening1, v0)));
        await ReviewRestartAsync("HU/budapest");
        Assert.Equal(1, await budapest.GetModelChainVersion(job));
        // The same advance again is answered (a retry), and changes nothing.
        Assert.Equal(1, await budapest.AdvanceModelChain(RoundDriver.AdvanceOf(job, 0, opening1, v0)));
        // A second opening of version 0 cannot be made (The_aggregator_alone_cannot_fork_…), and the first one with version 0's
        // model once more is answered as the retry it is, moving nothing.
        Assert.Equal(1, await budapest.AdvanceModelChain(RoundDriver.AdvanceOf(job, 0, opening1, v0)));

        // Its chain's start cannot be shown again to reset it: the same moments are answered without a reset, another job's
        // moments (signed by the same parties) are refused.
        var moments = await Task.WhenAll(Honest.Order(StringComparer.Ordinal).Select(id => Grain(id).ComputeFeatureMoments(job)));
        await budapest.StartModelChain(job, [.. moments.Select(m => m.Statement!)]);
        const string other = "CH/review-restart-8-other";
        await AcceptAsync(other, Honest);
        var otherMoments = await Task.WhenAll(Honest.Order(StringComparer.Ordinal).Select(id => Grain(id).ComputeFeatureMoments(other)));
        await Assert.ThrowsAsync<FederationOperationException>(() => budapest.StartModelChain(job, [.. otherMoments.Select(m => m.Statement!)]));
        await ReviewRestartAsync("HU/budapest");
        Assert.Equal(1, await budapest.GetModelChainVersion(job));

        // It scores version 1 only, after the restarts as before.
        Assert.True((await budapest.Evaluate(ReviewScore(job, 1, v1, first.Scaling!))).Samples > 0);
        Assert.Equal(RoundRefusal.OffChain, (await Assert.ThrowsAsync<FederationOperationException>(() => budapest.Evaluate(ReviewScore(job, 0, v0, first.Scaling!)))).Code);
    }

    [Fact]
    public async Task The_aggregator_alone_cannot_fork_the_parties_chains_with_two_openings_of_one_version()
    {
        // The former known limit: the aggregator ran version 0 twice over the same three members and advanced Budapest by
        // the first opening, Zurich and Cleveland by the second, two models a flooding noise apart; the job was stuck for
        // good. A member now reveals its part of a version's opening in one round only, so the second round is refused
        // before anyone trains, and the first one advances everyone alike.
        const string job = "CH/review-fork";
        var members = await AcceptAsync(job, Honest);
        var first = new RoundDriver(job, 1, members, _keys);
        await first.StartChainsAsync();
        var (_, opening1) = await ReviewOpenAndCheckAsync(first);
        var second = new RoundDriver(job, 2, members, _keys) { Scaling = first.Scaling, WeightNormaliser = first.WeightNormaliser };
        await second.KeyAsync();
        foreach (var m in members)
            Assert.Contains("must be finished, not redone", (await Assert.ThrowsAsync<FederationOperationException>(() => Grain(m.Id).Train(second.Assignment(second.KeyAcceptances)))).Message);
        foreach (var m in members)
            Assert.Equal(1, await Grain(m.Id).AdvanceModelChain(RoundDriver.AdvanceOf(job, 0, opening1, first.Global)));
    }

    [Fact]
    public async Task A_second_round_of_a_version_sealed_before_the_first_revealed_stops_at_step_6_and_the_first_finishes()
    {
        // Round 1 reaches step 6 (every member committed); round 2 from the same version is keyed and sealed; round 1's parts
        // are revealed, so the aggregator knows the version's sum before round 2's commitments exist. Round 2's step 6 is
        // refused by every member (committing would also replace round 1's stored part: branch review/spot), and round 1
        // finishes and advances everyone.
        const string job = "CH/review-interleaved";
        var members = await AcceptAsync(job, Honest);
        var first = new RoundDriver(job, 1, members, _keys);
        await first.StartChainsAsync();
        await first.KeyAsync();
        await first.TrainAsync();
        await first.CommitPartsAsync(await first.AggregateCheckedAsync());

        var second = new RoundDriver(job, 2, members, _keys) { Scaling = first.Scaling, WeightNormaliser = first.WeightNormaliser };
        await second.KeyAsync();
        await second.TrainAsync();
        var fingerprints2 = await second.FingerprintsAsync(second.AggregateCheck());
        await first.RevealPartsAsync();
        foreach (var m in members)
            Assert.Contains("that round must be finished", (await Assert.ThrowsAsync<FederationOperationException>(() => m.Decrypt(second.Decryption(fingerprints2)))).Message);

        var opening = await first.OpeningAsync();
        foreach (var m in members)
            Assert.Equal(1, await Grain(m.Id).AdvanceModelChain(RoundDriver.AdvanceOf(job, 0, opening, first.Global)));
    }

    // ---- 3. crafted advances from any cluster caller ------------------------------------------------------------------

    [Fact]
    public async Task Crafted_advances_from_any_cluster_caller_are_refused_leave_the_chain_where_it_was_and_name_no_value()
    {
        // Long Beach, a party left out of two rounds, stands at version 0 while the three others stand at 2. Every crafted
        // advance is refused with its chain unchanged (also across a restart); the two true openings, in order, bring it to 2.
        const string job = "CH/review-crafted";
        var everyone = await AcceptAsync(job, SampleParties, agreement: TestFederations.SampleJob.Agreement);
        var three = everyone.Where(m => m.Id != LongBeach).ToList();
        var first = new RoundDriver(job, 1, three, _keys);
        await first.StartChainsAsync(everyone);
        var (opened1, opening1) = await ReviewOpenAndCheckAsync(first);
        var v0 = first.Global;
        var v1 = RoundDriver.SampleNext(v0, opened1);
        foreach (var m in three)
            Assert.Equal(1, await Grain(m.Id).AdvanceModelChain(RoundDriver.AdvanceOf(job, 0, opening1, v0)));
        var second = new RoundDriver(job, 2, three, _keys) { Scaling = first.Scaling, WeightNormaliser = first.WeightNormaliser, Global = v1, Version = 1 };
        var (_, opening2) = await ReviewOpenAndCheckAsync(second);

        var longBeach = Grain(LongBeach);
        var good = RoundDriver.AdvanceOf(job, 0, opening1, v0);
        var fingerprints = good.Opening.Fingerprints;
        var crafted = new (string What, ModelChainAdvance Advance)[]
        {
            ("a version gap: version 1's opening on version 0's model", RoundDriver.AdvanceOf(job, 0, opening2, v0)),
            ("a version gap: version 1's opening with version 1's model", RoundDriver.AdvanceOf(job, 1, opening2, v1)),
            ("a model one value short", good with { Global = Payload.OfInline(FloatBytes.From(v0[..^1])) }),
            ("a model of the wrong byte length", good with { Global = Payload.OfInline([.. FloatBytes.From(v0), 1]) }),
            ("an optimiser state the chain does not hold", good with { FirstMoment = Payload.OfInline(FloatBytes.From(new float[v0.Length])), SecondMoment = Payload.OfInline(FloatBytes.From(new float[v0.Length])) }),
            ("the opened plaintext truncated", good with { Opening = good.Opening with { Opened = Payload.OfInline(opening1.Opened[..^8]) } }),
            ("an empty opened plaintext", good with { Opening = good.Opening with { Opened = Payload.OfInline([]) } }),
            ("a huge opened plaintext", good with { Opening = good.Opening with { Opened = Payload.OfInline(new byte[8 << 20]) } }),
            ("a fingerprint missing", good with { Opening = good.Opening with { Fingerprints = fingerprints.Skip(1).ToList() } }),
            ("a fingerprint twice", good with { Opening = good.Opening with { Fingerprints = [.. fingerprints, fingerprints[0]] } }),
            ("a fingerprint from another signer", good with { Opening = good.Opening with { Fingerprints = [fingerprints[0] with { ParticipantId = LongBeach }, .. fingerprints.Skip(1)] } }),
            ("a set below the minimum", good with { Opening = good.Opening with { Participants = opening1.Participants.Take(2).ToList(), Fingerprints = fingerprints.Take(2).ToList() } }),
            ("a set outside the parties", good with { Opening = good.Opening with { Participants = [.. opening1.Participants, "US/nobody"] } }),
            ("another round number", good with { Opening = good.Opening with { Round = 7 } }),
            ("another job's id", good with { JobId = "CH/review-crafted-other" }),
        };
        foreach (var (what, advance) in crafted)
        {
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => longBeach.AdvanceModelChain(advance));
            Assert.True(refused is FederationOperationException or ArgumentException, $"{what}: {refused.GetType().Name} {refused.Message}");
            Assert.True(refused.Message.Length < 1000, $"{what}: a refusal of {refused.Message.Length} characters");
            Assert.DoesNotContain(v0[0].ToString("R", System.Globalization.CultureInfo.InvariantCulture), refused.Message);
            Assert.Equal(0, await longBeach.GetModelChainVersion(job));
        }
        await ReviewRestartAsync(LongBeach);
        Assert.Equal(0, await longBeach.GetModelChainVersion(job));
        Assert.True((await longBeach.Evaluate(ReviewScore(job, 0, v0, first.Scaling!))).Samples > 0);

        // The true openings, in order (the job's catch-up), bring it to where the others stand.
        Assert.Equal(1, await longBeach.AdvanceModelChain(good));
        Assert.Equal(2, await longBeach.AdvanceModelChain(RoundDriver.AdvanceOf(job, 1, opening2, v1)));
    }

    // ---- 1. what a member explains -------------------------------------------------------------------------------------

    [Fact]
    public async Task A_member_explains_no_model_under_another_version_number_than_its_chain_stands_at()
    {
        // The review found version 0's (untrained) model explained under the number 7, which also picks the shuffle seeds and
        // spent the job's one explanation (branch review/chain-grains). The chain check now compares the version too.
        const string job = "CH/review-explain-label";
        var members = await AcceptAsync(job, Honest);
        var driver = new RoundDriver(job, 1, members, _keys);
        await driver.StartChainsAsync();
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => ExplainRoundAsync(job, 1, Honest, 7, driver.Global, driver.Scaling!, driver.WeightNormaliser));
        Assert.Equal(RoundRefusal.OffChain, refused.Code);
        Assert.Contains("not version 0 of its model chain", refused.Message);
    }
}
