using FedCore.Rounds;
using Federation.Tests.Shared;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Federation.Contracts.Transfer;

namespace Federation.Silo.Tests.Jobs;

/// <summary>
/// The model chain (FedCore/Rounds/README.md, "The model chain"), through real grains: the aggregator alone against which
/// models the members train on and how their chains advance. The same attacks as FedCore's ModelChainTests.
/// </summary>
public sealed partial class DecryptionGuardTests
{
    [Fact]
    public async Task The_aggregator_alone_cannot_make_members_train_on_a_model_off_their_chain()
    {
        // The cross-round attack's second round: the chain's model with one weight moved (a dead parameter, or an ulp).
        var driver = new RoundDriver("CH/chain-model", 1, await AcceptAsync("CH/chain-model", Honest), _keys);
        await driver.StartChainsAsync();
        foreach (var id in Honest)
            Assert.Equal(0, await Grain(id).GetModelChainVersion("CH/chain-model"));
        driver.Global = (float[])driver.Global.Clone();
        driver.Global[3] = MathF.BitIncrement(driver.Global[3]);
        await driver.KeyAsync();
        foreach (var id in Honest)
        {
            var refused = await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).Train(driver.Assignment(driver.KeyAcceptances)));
            Assert.Contains("not the one its model chain stands at (version 0", refused.Message);
        }
    }

    [Fact]
    public async Task The_aggregator_alone_cannot_make_members_advance_by_an_opened_sum_it_altered_and_a_member_that_missed_the_round_catches_up()
    {
        // A round over three of the sample's four parties; the aggregator shows an opened plaintext a coefficient off (the
        // nearby model the cross-round attack needs) with the fingerprints the members gave for the honest one. Every party
        // refuses; the honest opening advances them all, Long Beach (not in the round) included, to the model the job's rule
        // gives. (Asked at step 7 for the altered plaintext itself, the members' parts do not add up to it: FedCore's
        // ModelChainTests; a member answers step 7 for one plaintext per round, so that round would stall.)
        const string job = "CH/chain-opening";
        var everyone = await AcceptAsync(job, SampleParties, agreement: TestFederations.SampleJob.Agreement);
        var three = everyone.Where(m => m.Id != LongBeach).ToList();
        var driver = new RoundDriver(job, 1, three, _keys);
        await driver.StartChainsAsync(everyone);
        await driver.KeyAsync();
        await driver.TrainAsync();
        var opened = await driver.OpenAsync();

        var honest = await driver.OpeningAsync();
        byte[] altered = (byte[])honest.Opened.Clone();
        altered[^1] ^= 0x01;
        var forged = honest with { Opened = altered };
        foreach (var m in everyone)
        {
            var refused = await Assert.ThrowsAsync<FederationOperationException>(() => Grain(m.Id).AdvanceModelChain(RoundDriver.AdvanceOf(job, 0, forged, driver.Global)));
            Assert.Contains("a fingerprint was made for another challenge", refused.Message);
            Assert.Equal(0, await Grain(m.Id).GetModelChainVersion(job));
        }
        foreach (var m in everyone)
            Assert.Equal(1, await Grain(m.Id).AdvanceModelChain(RoundDriver.AdvanceOf(job, 0, honest, driver.Global)));

        // Their version 1 is the job's rule applied to the sum: a round from it is accepted by every party, Long Beach included.
        var second = new RoundDriver(job, 2, everyone, _keys) { Global = RoundDriver.SampleNext(driver.Global, opened), Scaling = driver.Scaling, WeightNormaliser = driver.WeightNormaliser, Version = 1 };
        await second.KeyAsync();
        await second.TrainAsync();
        Assert.Equal(4, second.Reports.Count);
    }

    [Fact]
    public async Task A_colluder_lying_in_its_opening_fingerprint_cannot_move_the_honest_members_models()
    {
        // The former known limit (VerifiedAggregation.md, section 2): the aggregator opens R + δ, δ in every coefficient (what
        // cancelling a round's update needs), and the colluder signs the fingerprint of its part plus δ, so R + δ adds up by
        // fingerprint. The colluder committed to its part before any was revealed; at the spot checks its leaves, in that
        // part, do not add up to R + δ, and leaves of its part plus δ are not in the part it committed to.
        const string job = "CH/chain-colluder-opening";
        var colluder = new ColluderMember(Colluder, _colluderKey);
        var members = await AcceptAsync(job, [.. Honest.Take(2), Colluder], colluder);
        var driver = new RoundDriver(job, 1, members, _keys);
        await driver.StartChainsAsync();
        await driver.KeyAsync();
        await driver.TrainAsync();
        await driver.OpenAsync();

        var parameters = FedCore.Crypto.Ckks.CkksParameters.Default;
        var delta = new ulong[parameters.RingDimension];
        Array.Fill(delta, 1UL << 30);
        var altered = CkksAttackTools.AddToFirstPolynomial(FedCore.Crypto.Multiparty.OpenedPlaintext.FromBytes(driver.Opened(), parameters), delta);
        var alteredDigest = System.Security.Cryptography.SHA256.HashData(altered.ToBytes());
        var ids = driver.Members.Select(m => m.Id).ToList();
        var commitments = driver.Aggregator.PartRevealRequest().PartCommitments;
        var challenge = RoundChallenges.OpeningChallenge(RoundChallenges.SetDigest(job, 1, ids), driver.Plan.Digest, alteredDigest,
            RoundChallenges.PartCommitmentsDigest(ids, commitments.ToDictionary(c => c.ParticipantId, c => c.Payload)));
        byte[] nonce = colluder.Round!.Record!.Part!.Nonce;
        var colludersPart = driver.Parts[Colluder];
        var lie = FedCore.Crypto.Multiparty.LinearFingerprint.Sum([FedCore.Crypto.Multiparty.LinearFingerprint.OfOpening(colludersPart, challenge),
            FedCore.Crypto.Multiparty.LinearFingerprint.OfOpening(CkksAttackTools.EditFirstPolynomial(colludersPart, c => delta.CopyTo(c, 0)), challenge)]);
        var answers = new List<SignedPayload>();
        foreach (var id in ids)
            answers.Add(id == Colluder ? colluder.Sign(RoundPurpose.OpeningFingerprint, job, 1, OpeningSpotCheck.JoinNonce(nonce, lie.ToBytes()))
                : await Grain(id).CheckOpening(new RoundOpeningCheckRequest(job, 1, alteredDigest)));
        var positions = OpeningSpotCheck.Positions(challenge, answers.Select(a => OpeningSpotCheck.SplitNonce(a.Payload)!.Value.Nonce), OpeningSpotCheck.LeafCount(altered));
        var spots = new RoundSpotCheckRequest(job, 1, answers);
        async Task<OpeningRequest> ForgedAsync(FedCore.Crypto.Multiparty.OpenedPlaintext colludersLeaves)
        {
            var leaves = new List<SignedMessage>();
            foreach (var id in ids)
                leaves.Add(ColluderMember.Core(id == Colluder
                    ? colluder.Sign(RoundPurpose.OpenedLeaves, job, 1, OpeningSpotCheck.Open(colludersLeaves, OpeningSpotCheck.Tree(colludersLeaves), positions))
                    : await Grain(id).OpenLeaves(spots)));
            return new OpeningRequest(job, 1, ids, altered.ToBytes(), commitments, [.. answers.Select(ColluderMember.Core)], leaves);
        }
        var ownLeaves = await ForgedAsync(colludersPart);
        var shiftedLeaves = await ForgedAsync(CkksAttackTools.AddToFirstPolynomial(colludersPart, delta));
        foreach (var id in Honest.Take(2))
        {
            Assert.Contains("not the sum of the parts the members committed to",
                (await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).AdvanceModelChain(RoundDriver.AdvanceOf(job, 0, ownLeaves, driver.Global)))).Message);
            Assert.Contains($"the leaves {Colluder} opened do not check",
                (await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).AdvanceModelChain(RoundDriver.AdvanceOf(job, 0, shiftedLeaves, driver.Global)))).Message);
            Assert.Equal(0, await Grain(id).GetModelChainVersion(job));
        }
    }

    [Fact]
    public async Task A_colluder_adding_weight_to_its_part_cannot_damp_the_honest_members_step()
    {
        // Committed blind, its part plus the encoding of (0, …, 0, 7): the opened total weight grows by 7, and the mean every
        // party steps by shrinks 8× (branch review/spot did it with 14 and four parties, 15×). Every other check passes; the honest parties refuse the weight,
        // which their signed row counts fix.
        const string job = "CH/chain-colluder-weight";
        var parameters = FedCore.Crypto.Ckks.CkksParameters.Default;
        var colluder = new ColluderMember(Colluder, _colluderKey)
        {
            AlterPart = part =>
            {
                var values = new double[part.Length];
                values[^1] = 3.5; // encoded twice: the encoder's own range check is tighter than what decodes
                var addend = new ulong[parameters.RingDimension];
                parameters.Context.Encoder.Encode(values, part.Scale, parameters.Context.WireModulus, addend);
                var delta = addend.Select(a => parameters.Context.WireModulus.Add(a, a)).ToArray();
                return CkksAttackTools.AddToFirstPolynomial(part, delta);
            },
        };
        var members = await AcceptAsync(job, [.. Honest.Take(2), Colluder], colluder);
        var driver = new RoundDriver(job, 1, members, _keys);
        await driver.StartChainsAsync();
        await driver.KeyAsync();
        await driver.TrainAsync();
        var opened = await driver.OpenAsync();
        Assert.True(opened.TotalWeight > 7, $"the opened weight is {opened.TotalWeight}");
        var opening = await driver.OpeningAsync();
        foreach (var id in Honest.Take(2))
        {
            Assert.Contains("an update's weight is not its row count",
                (await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).AdvanceModelChain(RoundDriver.AdvanceOf(job, 0, opening, driver.Global)))).Message);
            Assert.Equal(0, await Grain(id).GetModelChainVersion(job));
        }
    }

    [Fact]
    public async Task Under_an_agreement_that_caps_one_partys_share_of_the_rows_a_colluders_inflated_count_is_refused_before_anyone_trains()
    {
        // A colluder that signs many rows weighs its own update (zeros) against the others' and holds the model nearly still
        // (WeightReviewTests.Known_limit_…). Under training.maxRowShare = 0.5 every honest party refuses to start the chain.
        const string job = "CH/chain-capped-rows";
        var colluder = new ColluderMember(Colluder, _colluderKey) { SignedRows = 100_000 };
        var members = await AcceptAsync(job, [.. Honest, Colluder], colluder, agreement: CappedAgreement);
        var driver = new RoundDriver(job, 1, members, _keys);
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => driver.StartChainsAsync());
        Assert.Contains($"the feature moments of {Colluder} count 100000 of the parties'", refused.Message);
        Assert.Contains("more than the agreement's share of 0.5", refused.Message);
        foreach (var id in Honest)
            Assert.Equal(-1, await Grain(id).GetModelChainVersion(job));
    }

    [Fact]
    public async Task The_aggregator_alone_cannot_have_a_member_score_a_model_of_its_making()
    {
        // The scoring oracle: loss, accuracy and AUC of any model the job sent, on the member's test split, in the clear. Now
        // a member scores (and explains) only the version its chain stands at, under the chain's scaling.
        var driver = new RoundDriver("CH/chain-score", 1, await AcceptAsync("CH/chain-score", Honest), _keys);
        await driver.StartChainsAsync();
        var scaling = new FeatureScalingMessage(driver.Scaling!.FeatureNames, driver.Scaling.Mean, driver.Scaling.StandardDeviation);
        var own = await Grain("HU/budapest").Evaluate(new EvaluationAssignment("CH/chain-score", 0, Payload.OfInline(FloatBytes.From(driver.Global)), scaling));
        Assert.True(own.Samples > 0);
        var crafted = (float[])driver.Global.Clone();
        crafted[^1] = 40; // a large bias: the "model" answers the share of positive labels
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() =>
            Grain("HU/budapest").Evaluate(new EvaluationAssignment("CH/chain-score", 0, Payload.OfInline(FloatBytes.From(crafted)), scaling)));
        Assert.Equal(RoundRefusal.OffChain, refused.Code);
        var otherScaling = scaling with { Mean = [.. scaling.Mean.Select((m, i) => i == 0 ? m + 1 : m)] };
        Assert.Equal(RoundRefusal.OffChain, (await Assert.ThrowsAsync<FederationOperationException>(() =>
            Grain("HU/budapest").Evaluate(new EvaluationAssignment("CH/chain-score", 0, Payload.OfInline(FloatBytes.From(driver.Global)), otherScaling)))).Code);
    }

    [Fact]
    public async Task Under_an_agreement_that_bounds_the_training_a_member_refuses_a_server_learning_rate_that_keeps_models_nearly_equal()
    {
        // The cross-round read that remains with the chain (ModelChainReviewTests.Known_limit_…): a server learning rate of
        // 10⁻⁶ makes consecutive versions nearly equal. The sample agreement (and the guard's, made from it) fixes FedAvg at
        // a rate of 1 and a floor of 0.001 on the local rate.
        var tiny = Invitation("CH/chain-tiny-rate", Honest) with { Strategy = new Federation.Contracts.Jobs.StrategySettings("fedavg", 1e-6, 0.9, 0.99, 1e-3) };
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").AcceptJob(tiny));
        Assert.Contains("server learning rate 1E-06", refused.Message);
        var slow = Invitation("CH/chain-tiny-local", Honest);
        slow = slow with { Training = slow.Training with { LearningRate = 1e-7 } };
        Assert.Contains("local learning rate is 1E-07", (await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").AcceptJob(slow))).Message);
    }
}
