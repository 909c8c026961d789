using FedCore.Aggregation.Protection;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Wire;
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
    private static readonly FedCore.Data.FeatureScaling NoScaling = new([], [], []);

    [Fact]
    public void Members_told_different_plans_make_key_fingerprints_that_do_not_add_up()
    {
        // The attack: every member but the victim is given a huge weight normaliser (its weight vanishes in the sum), so
        // the honest "sum" is the victim's update. Here each member's key fingerprint is at a challenge over the plan it was
        // told, so one member told another plan breaks everyone's key check before anyone trains.
        var harness = new RoundHarness(3);
        var aggregator = harness.RevealedRound(1);
        var victimsPlan = RoundPlan.For(RoundHarness.JobId, 1, [1], NoScaling, 300);
        var othersPlan = RoundPlan.For(RoundHarness.JobId, 1, [1], NoScaling, 1e12);
        var check = aggregator.KeyCheckRequest(othersPlan);
        // (An honest aggregator's own check would name the victim's fingerprint as wrong; this one passes them all on.)
        var seal = new SealRequest(RoundHarness.JobId, 1,
            harness.Parties.Select(p => p.Round.CheckKey(p == harness[0] ? check with { PlanDigest = victimsPlan.Digest } : check)).ToList());
        foreach (var p in harness.Parties)
        {
            var refused = Assert.Throws<RoundRefusedException>(() => p.Round.PrepareSeal(seal, p == harness[0] ? victimsPlan : othersPlan));
            Assert.Contains("another challenge", refused.Message);
        }
    }

    [Fact]
    public void A_member_is_refused_training_from_another_plan_than_the_one_the_round_key_was_checked_for()
    {
        var harness = new RoundHarness(3);
        var aggregator = harness.KeyedRound(1);
        var other = RoundPlan.For(RoundHarness.JobId, 1, [1], NoScaling, 1e12);
        var refused = Assert.Throws<RoundRefusedException>(() => harness[0].Round.PrepareSeal(aggregator.SealRequest(), other));
        Assert.Contains("not the one the round key was checked for", refused.Message);
        harness[0].Round.PrepareSeal(aggregator.SealRequest(), RoundHarness.PlanFor(1)); // the plan it was checked for goes on
    }

    [Fact]
    public void A_second_sum_from_the_same_global_model_over_fewer_members_is_refused_even_after_a_restart()
    {
        // The attack: open Σ over every member, claim a dropout, open Σ over the rest from the same model (members retrain
        // to the same updates), subtract: the left-out member's update. Another version number or weight normaliser does
        // not make it another basis.
        var harness = new RoundHarness(4);
        var updates = RoundHarness.Updates(4, Length, seed: 5);
        var plan = RoundPlan.For(RoundHarness.JobId, 3, [1, 2, 3], NoScaling, 10);
        Finish(harness, 7, harness.Parties, updates, plan);
        foreach (var p in harness.Parties)
            p.Restart();

        var rest = harness.Parties.Take(3).ToList();
        var again = RoundPlan.For(RoundHarness.JobId, 4, [1, 2, 3], NoScaling, 11);
        var aggregator = harness.RevealedRound(8, rest);
        foreach (var p in rest)
            aggregator.AcceptKeyFingerprint(p.Round.CheckKey(aggregator.KeyCheckRequest(again)));
        foreach (var p in rest)
            Assert.Contains("already helped open a sum from this global model and feature scaling over other members",
                Assert.Throws<RoundRefusedException>(() => p.Round.PrepareSeal(aggregator.SealRequest(), again)).Message);

        // Over the same members (the honest retry after a member came back) the same basis is fine: nothing new opens.
        Finish(harness, 9, harness.Parties, updates, again);
        // And from the next global model, any members that meet the minimum.
        Finish(harness, 10, rest, updates, RoundPlan.For(RoundHarness.JobId, 4, [4, 5, 6], NoScaling, 10));
    }

    [Fact]
    public void The_same_model_under_another_job_or_re_encoded_is_the_same_basis()
    {
        // Else the aggregator opens the second sum under another job id, or from the model with +0 written as −0, or from
        // the scaling with its features in another order or with an identity entry added: all train to the same updates.
        var scaling = new FedCore.Data.FeatureScaling(["age", "chol"], [54.0, 0.0], [9.0, 51.0]);
        var plan = RoundPlan.For("CH/job-a", 3, [0.5f, 0f, -1f], scaling, 300);
        var others = new[]
        {
            RoundPlan.For("CH/job-b", 3, [0.5f, 0f, -1f], scaling, 300),
            RoundPlan.For("CH/job-a", 4, [0.5f, -0f, -1f], scaling, 300),
            RoundPlan.For("CH/job-a", 3, [0.5f, 0f, -1f], new(["chol", "age", "oldpeak"], [-0.0, 54.0, 0.0], [51.0, 9.0, 1.0]), 1e12),
        };
        foreach (var other in others)
        {
            Assert.Equal(plan.Basis, other.Basis);
            Assert.NotEqual(plan.Digest, other.Digest); // as sent, each is another plan: members must all be sent the same one
        }
        Assert.NotEqual(plan.Basis, RoundPlan.For("CH/job-a", 3, [0.5f, 0f, -1.0000001f], scaling, 300).Basis);
        Assert.Throws<ArgumentException>(() => RoundPlan.For("CH/job-a", 3, [float.NaN], scaling, 300));
        Assert.Throws<ArgumentException>(() => RoundPlan.For("CH/job-a", 3, [0f], new(["age", "age"], [1, 2], [1, 1]), 300));
        Assert.Throws<ArgumentException>(() => RoundPlan.For("CH/job-a", 3, [0f], new(["age"], [1], [0]), 300));
    }

    [Fact]
    public void A_refused_seal_names_no_value_and_ends_the_round_so_it_cannot_be_asked_again()
    {
        // The attack: a value beyond the bound was named with its index; asked again and again with other settings (a
        // larger learning rate), each refusal read one coordinate of the update; a weight above 1 made the encoder's own
        // check throw the weighted value. Here the refusal says only that something is beyond the bound, once.
        var harness = new RoundHarness(3);
        var aggregator = harness.KeyedRound(1);
        var victim = harness[0];
        victim.Round.PrepareSeal(aggregator.SealRequest(), RoundHarness.PlanFor(1));
        var update = RoundHarness.Updates(1, Length, seed: 3)[0].Select(v => v * 10).ToArray(); // |u| up to 5 > 4
        var refused = Assert.Throws<UpdateOutOfBoundsException>(() => victim.Round.Seal(1, update, 0.5));
        int first = Array.FindIndex(update, v => Math.Abs(v) > 4);
        Assert.Equal(first, refused.Index); // for the participant's own log
        Assert.DoesNotContain(update[first].ToString(), refused.Message);
        Assert.DoesNotContain(first.ToString(), refused.Message.Replace("±4", ""));
        Assert.Equal(RoundStage.Abandoned, victim.Round.Record!.Stage);
        Assert.Null(victim.Round.Record.MaskingKey);
        Assert.Contains("abandoned", Assert.Throws<RoundRefusedException>(() => victim.Round.Seal(1, new float[Length], 0.5)).Message);

        // The second path: every value within the bound, the weight above 1, the weighted values beyond it.
        var other = new RoundHarness(3);
        var round = other.KeyedRound(1);
        other[0].Round.PrepareSeal(round.SealRequest(), RoundHarness.PlanFor(1));
        var weighted = Assert.Throws<UpdateOutOfBoundsException>(() => other[0].Round.Seal(1, Enumerable.Repeat(3f, Length).ToArray(), 2));
        Assert.DoesNotContain("6", weighted.Message.Replace("±4", ""));
        Assert.Equal(RoundStage.Abandoned, other[0].Round.Record!.Stage);
    }

    [Fact]
    public void A_round_key_of_the_aggregators_choosing_does_not_move_the_masking_graph()
    {
        // The attack (rounds above the complete graph's 59 members): with one colluder lying in its key fingerprint, any
        // round key passes; the graph was drawn from a context holding the key's id, so the aggregator ground keys until
        // two honest members were not neighbours, and read each honest update alone under colluders' masks only. Here
        // the graph is drawn from what the members committed to; the two honest members below are neighbours in it, and
        // the update the attacker reads with the ground key is still under their shared pad.
        const int members = 60;
        Assert.False(MaskingGraph.IsComplete(members));
        var harness = new RoundHarness(members);
        var aggregator = harness.RevealedRound(1);
        var honestCheck = aggregator.KeyCheckRequest(RoundHarness.PlanFor(1));
        var statements = honestCheck.Statements.ToDictionary(s => s.ParticipantId, s => s.Payload);
        var setDigest = RoundChallenges.SetDigest(RoundHarness.JobId, 1, aggregator.Participants);
        var statementsDigest = RoundChallenges.StatementsDigest(aggregator.Participants, statements);

        // Two neighbours in the graph the members drew are the honest ones; the other 58 collude (their secrets are the attacker's).
        var graph = RoundChallenges.GraphSeed(setDigest, statementsDigest);
        var honest = new[] { harness[0], harness.Parties.First(p => p != harness[0] && MaskingGraph.NeighboursOf(harness[0].Id, aggregator.Participants, graph).Contains(p.Id)) };
        var colluders = harness.Parties.Except(honest).ToList();

        // Grind keys of its own until, under the key-bound context, the honest pair would not be neighbours.
        byte[]? key = null;
        long[]? secret = null;
        byte[]? context = null;
        for (int tries = 0; key is null && tries < 3000; tries++)
        {
            var (candidate, s) = OwnKey(honestCheck.RoundKey);
            var c = RoundChallenges.MaskingContext(setDigest, CollectivePublicKey.FromBytes(candidate, RoundHarness.Parameters).KeyId.ToArray(), statementsDigest);
            if (!MaskingGraph.NeighboursOf(honest[0].Id, aggregator.Participants, c).Contains(honest[1].Id))
                (key, secret, context) = (candidate, s, c);
        }
        Assert.NotNull(key);

        var forged = honestCheck with { RoundKey = key };
        var fingerprints = honest.Select(p => p.Round.CheckKey(forged)).ToList();
        var challenge = RoundChallenges.KeyChallenge(setDigest, key, statementsDigest, honestCheck.PlanDigest);
        foreach (var c in colluders.Skip(1))
            fingerprints.Add(c.Sign(RoundPurpose.KeyFingerprint, RoundHarness.JobId, 1,
                LinearFingerprint.OfKey(PublicKeyShare.FromBytes(PublicShareOf(c), RoundHarness.Parameters), challenge).ToBytes()));
        var target = LinearFingerprint.OfKey(CollectivePublicKey.FromBytes(key, RoundHarness.Parameters), challenge).ToBytes();
        fingerprints.Add(colluders[0].Sign(RoundPurpose.KeyFingerprint, RoundHarness.JobId, 1, FingerprintLie(target, fingerprints.Select(f => f.Payload))));

        var updates = RoundHarness.Updates(2, Length, seed: 11);
        for (int i = 0; i < 2; i++)
        {
            honest[i].Round.PrepareSeal(new SealRequest(RoundHarness.JobId, 1, fingerprints), RoundHarness.PlanFor(1)); // the lie passes...
            var sealedUpdate = EncryptedVector.FromBytes(honest[i].Round.Seal(1, updates[i], 0.5).SealedUpdate, RoundHarness.Parameters);
            // ...and the attacker strips what the colluders it believes are the victim's only neighbours added.
            var believed = MaskingGraph.NeighboursOf(honest[i].Id, aggregator.Participants, context!);
            var colludersMasks = MasksWith(colluders.Where(c => believed.Contains(c.Id)), honest[i].Id, statements[honest[i].Id][64..], context!);
            var read = RoundHarness.DecryptWithSecret(sealedUpdate, secret!, colludersMasks);
            int victim = i;
            Assert.True(Enumerable.Range(0, Length).Max(j => Math.Abs(read[j] - 0.5 * updates[victim][j])) > 1,
                $"honest member {honest[i].Id}'s update stays under its pad with {honest[1 - i].Id}");
        }
    }

    // ---- What the attacker computes ------------------------------------------------------------------------------

    private static AggregatedUpdate Finish(RoundHarness harness, int round, IReadOnlyList<Party> members, float[][] updates, RoundPlan plan)
    {
        var aggregator = harness.RevealedRound(round, members);
        foreach (var p in members)
            aggregator.AcceptKeyFingerprint(p.Round.CheckKey(aggregator.KeyCheckRequest(plan)));
        foreach (var p in members)
        {
            p.Round.PrepareSeal(aggregator.SealRequest(), plan);
            aggregator.AcceptSealed(p.Round.Seal(round, updates[harness.Parties.IndexOf(p)], 0.25));
        }
        return harness.Finish(aggregator, members);
    }

    private static byte[] PublicShareOf(Party p) =>
        SecretKeyShare.FromBytes(p.Round.Record!.Secret!, RoundHarness.Parameters).PublicKeyShare.ToBytes();

    /// <summary>A round key with the members' CRS seed and share ids, but p of a secret s* of the attacker's own.</summary>
    private static (byte[] Key, long[] Secret) OwnKey(byte[] honestKey)
    {
        var crs = CollectivePublicKey.FromBytes(honestKey, RoundHarness.Parameters).CrsSeed.ToArray();
        var mine = SecretKeyShare.Generate(RoundHarness.Parameters, crs);
        var own = CollectivePublicKey.Combine([mine.PublicKeyShare]).ToBytes();
        int pLength = own.Length - (WireFormat.HeaderLength + 32 + 4 + 16);
        byte[] key = [.. honestKey[..^pLength], .. own[^pLength..]];
        var one = EncryptedVector.Trusted(RoundHarness.CraftCiphertext(CollectivePublicKey.FromBytes(key, RoundHarness.Parameters), 1, 4, (_, _) => 0, (_, j) => j == 0 ? 1UL : 0UL), RoundHarness.Parameters);
        var q0 = RoundHarness.Parameters.Context.WireModulus;
        return (key, mine.PartialDecryptionWithoutFlooding(one, 0).Select(q0.ToCentered).ToArray());
    }

    /// <summary>target − Σ others, value by value: the fingerprint a liar signs so that the sum matches.</summary>
    private static byte[] FingerprintLie(byte[] target, IEnumerable<byte[]> others)
    {
        var chain = RoundHarness.Parameters.Context.Ring.Moduli;
        var bytes = (byte[])target.Clone();
        var parts = others.ToList();
        int values = chain.Count * LinearFingerprint.Points;
        for (int i = 0; i < values; i++)
        {
            int at = bytes.Length - 8 * (values - i);
            Modulus q = chain[i / LinearFingerprint.Points];
            ulong v = BitConverter.ToUInt64(bytes, at);
            foreach (var p in parts)
                v = q.Subtract(v, BitConverter.ToUInt64(p, at));
            BitConverter.GetBytes(v).CopyTo(bytes, at);
        }
        return bytes;
    }

    /// <summary>The pads the victim added with the given colluders, from the colluders' side (each is the negation of theirs).</summary>
    private static ulong[] MasksWith(IEnumerable<Party> colluders, string victim, byte[] victimsMaskingKey, byte[] context)
    {
        var q0 = RoundHarness.Parameters.Context.WireModulus;
        var sum = new ulong[RoundHarness.Parameters.RingDimension];
        foreach (var c in colluders)
        {
            using var own = MaskingKeyPair.Import(c.Round.Record!.MaskingKey!);
            using var masks = PairwiseMasks.Derive(RoundHarness.Parameters, own, c.Id, [(victim, victimsMaskingKey)], context);
            masks.AddTo(sum);
        }
        return sum.Select(q0.Negate).ToArray();
    }
}
