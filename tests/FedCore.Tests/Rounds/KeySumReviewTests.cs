using System.Security.Cryptography;
using FedCore.Crypto.Multiparty;
using FedCore.Learning;
using FedCore.Rounds;
using Federation.Tests.Shared;

namespace FedCore.Tests.Rounds;

/// <summary>
/// Review of the round key summed by each member (branch review/keysum, after "Round key summed by each member from
/// committed shares"). The claim attacked: nobody, the aggregator alone or with colluders (two members honest), gets
/// honest members to seal under a key whose secret it knows or opens a round without every member's share; so dropout
/// retries give nothing beyond sums recorded as opened; and members shown different plans, keys or statements refuse each
/// other at step 4. Each test asserts the refusal; the two attacks that worked (a masking key that is no point, a chain
/// advanced between a member's seal and its share) were fixed after the review. Parties 0 and 1 are honest; party 2
/// colludes with the aggregator unless said otherwise. Through grains: the masking key in DecryptionGuardTests; the
/// chain-position read needs two disjoint rounds of at least three honest members plus the victim (seven parties), more
/// than the grain fixture's four, and ParticipantGrain.Decrypt calls the same method with no check of its own.
/// </summary>
public class KeySumReviewTests
{
    private const string Job = RoundHarness.JobId;
    private const int Length = 3000;

    // ---- Commitments (step 1–2) ------------------------------------------------------------------------------------

    [Fact]
    public void Equivocated_colluder_commitments_get_both_honest_members_to_reveal_but_no_key_of_the_attackers_making_and_each_refuses_the_other_at_step_4()
    {
        // The colluder signs two commitments. Member 0 is shown {C0, C1, Cc} and reveals p0; only then does the colluder make
        // Cc' for a share p_rogue − p0 (the best it can do: it has p0, not p1) and member 1 is shown {C0, C1, Cc'} and reveals.
        // Each sums a key of its own view at step 3 and signs an acceptance of it; neither key is one the attacker can
        // decrypt (member 1's still holds s1), and each member refuses the other's acceptance at step 4.
        var harness = new RoundHarness(3);
        var (h0, h1, colluder) = (harness[0], harness[1], harness[2]);
        var key = harness.Aggregator(1).KeyRequest();
        var commitments = harness.Parties.Select(p => p.Round.Commit(key)).ToList();
        var viewA = new KeyRevealRequest(Job, 1, commitments);
        var reveal0 = h0.Round.Reveal(viewA);
        var revealC = colluder.Round.Reveal(viewA); // its honest statement, for view A

        var (rogue, target, secrets) = CkksAttackTools.RogueShare(RoundHarness.Parameters, [reveal0.PublicShare]);
        byte[] statementC2 = [.. revealC.Statement.Payload[..32], .. SHA256.HashData(rogue), .. revealC.Statement.Payload[64..]];
        var commitmentC2 = colluder.Sign(RoundPurpose.KeyCommitment, Job, 1, SHA256.HashData(statementC2));
        var viewB = new KeyRevealRequest(Job, 1, [commitments[0], commitments[1], commitmentC2]);
        var reveal1 = h1.Round.Reveal(viewB);
        // Member 0, asked to reveal again against view B, refuses: one set of commitments per round.
        Assert.Contains("already revealed its key share against other commitments", Assert.Throws<RoundRefusedException>(() => h0.Round.Reveal(viewB)).Message);

        var plan = RoundHarness.Plan.Digest;
        var checkA = new KeyCheckRequest(Job, 1, [reveal0.Statement, reveal1.Statement, revealC.Statement], [reveal0.PublicShare, reveal1.PublicShare, revealC.PublicShare], plan);
        var statementC2Signed = colluder.Sign(RoundPurpose.KeyStatement, Job, 1, statementC2);
        var checkB = new KeyCheckRequest(Job, 1, [reveal0.Statement, reveal1.Statement, statementC2Signed], [reveal0.PublicShare, reveal1.PublicShare, rogue], plan);
        // Each refuses the other's view: the statements are not the ones it saw committed.
        Assert.Contains("not the ones whose commitments it saw", Assert.Throws<RoundRefusedException>(() => h0.Round.CheckKey(checkB)).Message);
        Assert.Contains("not the ones whose commitments it saw", Assert.Throws<RoundRefusedException>(() => h1.Round.CheckKey(checkA)).Message);
        var accept0 = h0.Round.CheckKey(checkA);
        var accept1 = h1.Round.CheckKey(checkB);
        Assert.NotEqual(accept0.Payload, accept1.Payload);

        // The key member 1 summed is target + p1: the attacker's secret does not open it.
        var keyB = CollectivePublicKey.Combine(checkB.PublicShares.Select(s => PublicKeyShare.FromBytes(s, RoundHarness.Parameters)));
        var values = Enumerable.Range(0, Length).Select(i => Math.Sin(i)).ToArray();
        var attackerSecret = RoundHarness.SecretOf(target, secrets);
        Assert.True(MaxError(RoundHarness.DecryptWithSecret(EncryptedVector.Encrypt(keyB, values, 4), attackerSecret), values) > 1);

        // Step 4: whatever the colluder signs, each honest member finds the other's acceptance is not its own.
        foreach (var (member, mine, theirs, other) in new[] { (h0, accept0, accept1, h1.Id), (h1, accept1, accept0, h0.Id) })
        {
            var request = new SealRequest(Job, 1, [mine, theirs, colluder.Sign(RoundPurpose.KeyAcceptance, Job, 1, mine.Payload)]);
            var refused = Assert.Throws<RoundRefusedException>(() => member.Round.PrepareSeal(request, RoundHarness.Plan, RoundHarness.BasisFor(1)));
            Assert.Contains($"{other} accepted another round key, other statements or another plan", refused.Message);
            Assert.Throws<RoundRefusedException>(() => member.Round.Seal(1, new float[10], 0.3));
        }
    }

    [Fact]
    public void A_colluder_copying_an_honest_members_commitment_so_as_to_reuse_its_statement_is_refused_before_anyone_reveals()
    {
        // Copying C0 would let the colluder present member 0's statement (and share) as its own once revealed; the key would
        // hold p0 twice. Commitments are not allowed to be copies.
        var harness = new RoundHarness(3);
        var key = harness.Aggregator(1).KeyRequest();
        var commitments = harness.Parties.Select(p => p.Round.Commit(key)).ToList();
        var copy = harness[2].Sign(RoundPurpose.KeyCommitment, Job, 1, commitments[0].Payload);
        foreach (var p in harness.Parties.Take(2))
            Assert.Contains("the same payload was already sent by another participant (a copy)",
                Assert.Throws<RoundRefusedException>(() => p.Round.Reveal(new KeyRevealRequest(Job, 1, [commitments[0], commitments[1], copy]))).Message);
        Assert.All(harness.Parties.Take(2), p => Assert.Equal(RoundStage.Keyed, p.Round.Record!.Stage));
    }

    // ---- Shares of the colluder's making (step 3) ------------------------------------------------------------------

    [Fact]
    public void A_colluder_committing_to_a_zero_or_a_stale_key_share_gets_it_summed_in_but_the_round_key_still_hides_behind_both_honest_secrets()
    {
        // Members check each share's hash and CRS seed, not that it is of the form −a·s + e: a zero polynomial or an honest
        // member's share of an earlier round (its CRS seed bytes rewritten) is summed in. Neither helps: committed before any
        // reveal, it cannot cancel an honest share, and the key's secret still contains s0 + s1.
        var parameters = RoundHarness.Parameters;
        var ring = parameters.Context.Ring;
        var earlier = new RoundHarness(3);
        earlier.RevealedRound(1);
        var staleShareOfParty0 = PublicKeyShare.FromBytes(PublicShareOf(earlier[0]), parameters);

        foreach (var kind in new[] { "zero", "stale" })
        {
            var harness = new RoundHarness(3);
            var colluder = harness[2];
            var key = harness.Aggregator(1).KeyRequest();
            var commitments = harness.Parties.Select(p => p.Round.Commit(key)).ToList();
            byte[] crs = RoundChallenges.CrsSeed(RoundChallenges.SetDigest(Job, 1, key.Participants));
            byte[] share = kind == "zero"
                ? new PublicKeyShare(parameters, crs, ring.NewPolynomial(ring.Moduli.Count)).ToBytes()
                : new PublicKeyShare(parameters, crs, staleShareOfParty0.P).ToBytes();
            byte[] honestStatement = StatementOf(colluder, key.Participants);
            byte[] statement = [.. honestStatement[..32], .. SHA256.HashData(share), .. honestStatement[64..]];
            commitments[2] = colluder.Sign(RoundPurpose.KeyCommitment, Job, 1, SHA256.HashData(statement));
            var reveal = new KeyRevealRequest(Job, 1, commitments);
            var reveals = harness.Parties.Take(2).Select(p => p.Round.Reveal(reveal)).ToList();
            var check = new KeyCheckRequest(Job, 1, [reveals[0].Statement, reveals[1].Statement, colluder.Sign(RoundPurpose.KeyStatement, Job, 1, statement)],
                [reveals[0].PublicShare, reveals[1].PublicShare, share], RoundHarness.Plan.Digest);
            var acceptances = harness.Parties.Take(2).Select(p => p.Round.CheckKey(check)).ToList();
            Assert.Equal(acceptances[0].Payload, acceptances[1].Payload); // summed in, the same key for both

            var roundKey = CollectivePublicKey.Combine(check.PublicShares.Select(s => PublicKeyShare.FromBytes(s, parameters)));
            var values = Enumerable.Range(0, Length).Select(i => Math.Sin(i)).ToArray();
            var sealedValues = EncryptedVector.Encrypt(roundKey, values, 4);
            // The attacker knows the colluder's secret (0 for the zero share) and everything revealed: not s0 + s1.
            Assert.True(MaxError(RoundHarness.DecryptWithSecret(sealedValues, new long[parameters.RingDimension]), values) > 1, kind);
            // Only s0 + s1 (read here from the honest records, which no attacker holds) opens the zero-share key.
            if (kind == "zero")
                Assert.True(MaxError(RoundHarness.DecryptWithSecret(sealedValues, RoundHarness.CollectiveSecret(roundKey, harness.Parties.Take(2).Select(p => p.Round.Record!))), values) < 1e-6);
        }
    }

    [Fact]
    public void A_colluder_share_over_another_CRS_or_a_statement_for_another_member_set_is_refused_at_step_3()
    {
        var harness = new RoundHarness(4);
        var members = harness.Parties.Take(3).ToList();
        var colluder = harness[2];
        var key = harness.Aggregator(1, members).KeyRequest();

        // (a) A share over the CRS of another set (members 0, 1, 3), committed before any reveal.
        {
            var commitments = members.Select(p => p.Round.Commit(key)).ToList();
            byte[] otherCrs = RoundChallenges.CrsSeed(RoundChallenges.SetDigest(Job, 1, [harness[0].Id, harness[1].Id, harness[3].Id]));
            byte[] share = SecretKeyShare.Generate(RoundHarness.Parameters, otherCrs).PublicKeyShare.ToBytes();
            byte[] honest = StatementOf(colluder, key.Participants);
            byte[] statement = [.. honest[..32], .. SHA256.HashData(share), .. honest[64..]];
            commitments[2] = colluder.Sign(RoundPurpose.KeyCommitment, Job, 1, SHA256.HashData(statement));
            var reveals = members.Take(2).Select(p => p.Round.Reveal(new KeyRevealRequest(Job, 1, commitments))).ToList();
            var check = new KeyCheckRequest(Job, 1, [reveals[0].Statement, reveals[1].Statement, colluder.Sign(RoundPurpose.KeyStatement, Job, 1, statement)],
                [reveals[0].PublicShare, reveals[1].PublicShare, share], RoundHarness.Plan.Digest);
            foreach (var p in members.Take(2))
                Assert.Contains("a public key share is not over this round's common reference polynomial",
                    Assert.Throws<RoundRefusedException>(() => p.Round.CheckKey(check)).Message);
            Assert.All(members.Take(2), p => Assert.Null(p.Round.Record!.KeyChecked)); // nothing stored: refusing cost nothing
        }

        // (b) A statement naming another member set's digest (the colluder commits to it from the start).
        {
            var next = harness.Aggregator(2, members).KeyRequest();
            var commitments = members.Select(p => p.Round.Commit(next)).ToList();
            byte[] honest = StatementOf(colluder, next.Participants, round: 2);
            byte[] statement = [.. RoundChallenges.SetDigest(Job, 2, [harness[0].Id, harness[2].Id, harness[3].Id]), .. honest[32..]];
            commitments[2] = colluder.Sign(RoundPurpose.KeyCommitment, Job, 2, SHA256.HashData(statement));
            var reveals = members.Take(2).Select(p => p.Round.Reveal(new KeyRevealRequest(Job, 2, commitments))).ToList();
            var check = new KeyCheckRequest(Job, 2, [reveals[0].Statement, reveals[1].Statement, colluder.Sign(RoundPurpose.KeyStatement, Job, 2, statement)],
                [reveals[0].PublicShare, reveals[1].PublicShare, PublicShareOf(colluder)], RoundPlan.For(Job, 2, [2], new FedCore.Data.FeatureScaling([], [], []), 1).Digest);
            foreach (var p in members.Take(2))
                Assert.Contains("a statement is not for this round's participants", Assert.Throws<RoundRefusedException>(() => p.Round.CheckKey(check)).Message);
        }

        // (c) Statements and shares of another job's round over the same members and round number.
        {
            var other = harness.AnotherJob("job-2");
            var otherRound = other.RevealedRound(3, other.Parties.Take(3).ToList()).KeyCheckRequest(RoundHarness.PlanFor(3));
            var mine = harness.RevealedRound(3, members).KeyCheckRequest(RoundHarness.PlanFor(3));
            foreach (var p in members.Take(2))
                Assert.Contains("this is job 'job-1' round 3", Assert.Throws<RoundRefusedException>(() => p.Round.CheckKey(mine with { Statements = otherRound.Statements, PublicShares = otherRound.PublicShares })).Message);
        }
    }

    // ---- Restarts and the seal paths (steps 2–4) --------------------------------------------------------------------

    [Fact]
    public void Restarts_between_steps_2_3_and_4_keep_one_set_of_commitments_one_key_and_plan_and_one_acceptance()
    {
        var harness = new RoundHarness(3);
        var aggregator = harness.RevealedRound(1);
        var check = aggregator.KeyCheckRequest(RoundHarness.Plan);
        var victim = harness[0];

        // Between 2 and 3: a restart keeps the commitments it revealed against (stored), and re-derives the same statement.
        victim.Restart();
        Assert.Equal(RoundStage.Revealed, victim.Round.Record!.Stage);
        var rogue = harness[2].Sign(RoundPurpose.KeyCommitment, Job, 1, RoundHarness.Sha256([9]));
        Assert.Contains("already revealed its key share against other commitments", Assert.Throws<RoundRefusedException>(() =>
            victim.Round.Reveal(new KeyRevealRequest(Job, 1, [aggregator.RevealRequest().Commitments[0], aggregator.RevealRequest().Commitments[1], rogue]))).Message);
        var acceptance = victim.Round.CheckKey(check);

        // Between 3 and 4: the key and plan it checked are stored; another plan is refused; the same one gives the same α.
        victim.Restart();
        Assert.Contains("already checked another round key or plan this round",
            Assert.Throws<RoundRefusedException>(() => victim.Round.CheckKey(check with { PlanDigest = RoundHarness.PlanFor(2).Digest })).Message);
        foreach (var p in harness.Parties.Skip(1))
            aggregator.AcceptKeyAcceptance(p.Round.CheckKey(check));
        victim.Restart();
        var lost = Assert.Throws<RoundRefusedException>(() => victim.Round.PrepareSeal(new SealRequest(Job, 1, [acceptance, .. harness.Parties.Skip(1).Select(p => p.Round.CheckKey(check))]), RoundHarness.Plan, RoundHarness.BasisFor(1)));
        Assert.Equal(RoundRefusal.Restarted, lost.Code);
        Assert.Equal(acceptance.Payload, victim.Round.CheckKey(check).Payload);

        // Between PrepareSeal and Seal: the verified flag is memory only.
        aggregator.AcceptKeyAcceptance(victim.Round.CheckKey(check));
        victim.Round.PrepareSeal(aggregator.SealRequest(), RoundHarness.Plan, RoundHarness.BasisFor(1));
        victim.Restart();
        Assert.Equal(RoundRefusal.Restarted, Assert.Throws<RoundRefusedException>(() => victim.Round.Seal(1, new float[10], 0.3)).Code);
    }

    [Fact]
    public void A_member_cannot_be_made_to_seal_under_a_key_it_did_not_sum_or_without_a_fresh_step_4()
    {
        var harness = new RoundHarness(3);
        var victim = harness[0];
        var aggregator = harness.Aggregator(1);
        foreach (var p in harness.Parties)
            aggregator.AcceptCommitment(p.Round.Commit(aggregator.KeyRequest()));
        // Before revealing: nothing to seal with.
        Assert.Contains("it has not revealed its key share yet", Assert.Throws<RoundRefusedException>(() => victim.Round.Seal(1, new float[10], 0.3)).Message);
        foreach (var p in harness.Parties)
            aggregator.AcceptReveal(p.Round.Reveal(aggregator.RevealRequest()));
        // Revealed but no key summed: PrepareSeal and Seal both refuse (no key in memory).
        var noKey = new SealRequest(Job, 1, []);
        Assert.Equal(RoundRefusal.Restarted, Assert.Throws<RoundRefusedException>(() => victim.Round.PrepareSeal(noKey, RoundHarness.Plan, RoundHarness.BasisFor(1))).Code);
        Assert.Equal(RoundRefusal.Restarted, Assert.Throws<RoundRefusedException>(() => victim.Round.Seal(1, new float[10], 0.3)).Code);

        var check = aggregator.KeyCheckRequest(RoundHarness.Plan);
        foreach (var p in harness.Parties)
            aggregator.AcceptKeyAcceptance(p.Round.CheckKey(check));
        // Key summed, step 4 not passed: Seal refuses.
        Assert.Equal(RoundRefusal.Restarted, Assert.Throws<RoundRefusedException>(() => victim.Round.Seal(1, new float[10], 0.3)).Code);
        // Step 4 for another plan than the one checked, and for an explanation plan: refused.
        Assert.Contains("is not the one the round key was checked for",
            Assert.Throws<RoundRefusedException>(() => victim.Round.PrepareSeal(aggregator.SealRequest(), RoundHarness.PlanFor(2), RoundHarness.BasisFor(1))).Message);
        Assert.Contains("the plan is a training round's",
            Assert.Throws<RoundRefusedException>(() => victim.Round.PrepareExplanation(aggregator.SealRequest(), RoundHarness.Plan, RoundHarness.BasisFor(1))).Message);
        // Step 4 passed, then the key checked again (the same, as it must be): the flag is cleared, Seal refuses until step 4 again.
        victim.Round.PrepareSeal(aggregator.SealRequest(), RoundHarness.Plan, RoundHarness.BasisFor(1));
        victim.Round.CheckKey(check);
        Assert.Equal(RoundRefusal.Restarted, Assert.Throws<RoundRefusedException>(() => victim.Round.Seal(1, new float[10], 0.3)).Code);
        // Acceptances of another round (the same members, round 1 of another job) are not this round's.
        var other = harness.AnotherJob("job-2").KeyedRound(1);
        Assert.Contains("this is job 'job-1' round 1",
            Assert.Throws<RoundRefusedException>(() => victim.Round.PrepareSeal(new SealRequest(Job, 1, other.SealRequest().KeyAcceptances), RoundHarness.Plan, RoundHarness.BasisFor(1))).Message);
    }

    // ---- The masking keys in the statements ------------------------------------------------------------------------

    [Fact]
    public void A_colluders_masking_key_that_is_no_P256_point_is_refused_at_step_3_before_any_member_trains()
    {
        // The review's attack (a denial of service): the masking key was first used at Seal, after the member trained and
        // charged its dataset's DP ledger; the refusal there left the round at "revealed", so the job could send Train again
        // and again. Now every statement's masking key is checked at step 3, before the member signs its acceptance.
        var harness = new RoundHarness(3);
        var colluder = harness[2];
        var key = harness.Aggregator(1).KeyRequest();
        var commitments = harness.Parties.Select(p => p.Round.Commit(key)).ToList();
        byte[] honest = StatementOf(colluder, key.Participants);
        byte[] notAPoint = [0x04, .. Enumerable.Repeat((byte)0x11, 64)];
        byte[] statement = [.. honest[..64], .. notAPoint];
        commitments[2] = colluder.Sign(RoundPurpose.KeyCommitment, Job, 1, SHA256.HashData(statement));
        var reveals = harness.Parties.Take(2).Select(p => p.Round.Reveal(new KeyRevealRequest(Job, 1, commitments))).ToList();
        var check = new KeyCheckRequest(Job, 1, [reveals[0].Statement, reveals[1].Statement, colluder.Sign(RoundPurpose.KeyStatement, Job, 1, statement)],
            [reveals[0].PublicShare, reveals[1].PublicShare, PublicShareOf(colluder)], RoundHarness.Plan.Digest);
        foreach (var p in harness.Parties.Take(2))
        {
            Assert.Contains("The masking key of XX/party-2 is not a point of P-256", Assert.Throws<RoundRefusedException>(() => p.Round.CheckKey(check)).Message);
            Assert.Null(p.Round.Record!.KeyChecked); // nothing accepted, so step 4 cannot pass
        }
    }

    // ---- The chain position recorded with an opened sum ------------------------------------------------------------

    [Fact]
    public void A_member_whose_chain_was_advanced_between_its_seal_and_its_share_refuses_to_decrypt_so_no_position_is_left_free()
    {
        // The review's attack (the aggregator alone, every member honest, 7 parties, minimum 3): Decrypt recorded the position
        // the member's chain stood at when it decrypted, not the one it sealed from. Job 1's version 1: S = {0,1,2,3} seal;
        // S′ = {4,5,6} open it; every party advances to version 2; S then decrypted, recording version 2's position, and a
        // second job's version 1′ (an ulp from job 1's) opened over S ∖ {3}: Σ_S − Σ_{S∖{3}} read member 3's update to 2.7·10⁻⁷.
        // Now a member records the position it sealed from, and refuses to decrypt a sum its chain moved past.
        var job1 = new ChainedJob(new RoundHarness(7));
        var all1 = job1.Harness.Parties;
        var first = job1.Decrypted(1, all1);
        job1.Advance(first, job1.Opening(first, all1), all1);
        Assert.Equal(1, job1.Version);

        var s = all1.Take(4).ToList();
        var sPrime = all1.Skip(4).ToList();
        var g1 = job1.Global;
        var positionOfVersion1 = all1[0].Round.Chain!.Position;
        var overS = job1.Keyed(10, s, g1, job1.Scaling);
        foreach (var p in s)
        {
            var scaled = job1.ScaledRows(p);
            p.Round.PrepareTraining(overS.SealRequest(), job1.Plan, RoundPlan.BasisOf(g1, scaled));
            var update = LocalTrainer.Train(ChainedJob.Spec, g1, scaled, job1.Options).Parameters.Select((v, j) => v - g1[j]).ToArray();
            overS.AcceptSealed(p.Round.Seal(10, update, scaled.RowCount / job1.Normaliser));
        }
        var overSPrime = job1.Decrypted(11, sPrime);
        job1.Advance(overSPrime, job1.Opening(overSPrime, sPrime), all1);
        Assert.All(s, p => Assert.Equal(2, p.Round.Chain!.Version));

        var check = overS.AggregateCheckRequest();
        var fingerprints = s.Select(p => p.Round.CheckAggregate(check)).ToList();
        foreach (var p in s)
        {
            Assert.Contains("its model chain moved on (to version 2) since it sealed",
                Assert.Throws<RoundRefusedException>(() => p.Round.Decrypt(new DecryptRequest(job1.Id, 10, fingerprints))).Message);
            Assert.Equal(RoundStage.Sealed, p.Round.Record!.Stage); // no share given: Σ_S never opens
            Assert.DoesNotContain(Convert.ToHexString(positionOfVersion1), p.Opened.Keys);
        }
    }

    // ---- Helpers ---------------------------------------------------------------------------------------------------

    /// <summary>The party's honest statement for its current round (set digest ‖ H(p) ‖ X), from its stored record.</summary>
    private static byte[] StatementOf(Party party, IReadOnlyList<string> members, int round = 1)
    {
        var record = party.Round.Record!;
        using var masking = MaskingKeyPair.Import(record.MaskingKey!);
        return [.. RoundChallenges.SetDigest(Job, round, members), .. SHA256.HashData(PublicShareOf(party)), .. masking.PublicKey];
    }

    /// <summary>The party's public key share for its current round, from its stored secret.</summary>
    private static byte[] PublicShareOf(Party party) =>
        SecretKeyShare.FromBytes(party.Round.Record!.Secret!, RoundHarness.Parameters).PublicKeyShare.ToBytes();

    private static double MaxError(double[] values, double[] expected) =>
        Enumerable.Range(0, expected.Length).Max(i => Math.Abs(values[i] - expected[i]));
}
