using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Rounds;
using Federation.Tests.Shared;

namespace FedCore.Tests.Rounds;

/// <summary>
/// Steps 6–8 against a colluding member (README: "Why each check is there"; VerifiedAggregation.md, section 2): the
/// aggregator and one colluder try to make every honest party advance its model chain by an opened plaintext other than
/// the sum of the members' parts, the move that would bring two nearly equal consecutive models back. Each part is
/// committed before any is revealed, and spot-checked after R and every nonce are fixed.
/// </summary>
public class OpeningSpotCheckTests
{
    private static readonly CkksParameters Parameters = CkksParameters.Default;
    private const ulong Shift = 1UL << 30; // moves every decoded value by about 2³⁰/Δ, far beyond the decryption tolerance

    [Fact]
    public void A_colluder_lying_in_its_opening_fingerprint_cannot_move_the_members_models_because_its_committed_part_does_not_add_up()
    {
        // The former known limit: the colluder signs the fingerprint of its part plus δ, so the altered plaintext adds up by
        // fingerprint. δ changes every coefficient, as cancelling a round's update needs (a value's encoding spans its whole
        // polynomial). Its leaves, from the part it committed to before seeing any other, do not add up to R + δ.
        var attack = new Attack();
        var colluder = attack.Colluder;
        var lie = attack.Answers.ToList();
        var own = OpeningSpotCheck.SplitNonce(lie[3].Payload)!.Value;
        var forgedFingerprint = LinearFingerprint.Sum([LinearFingerprint.FromBytes(own.Fingerprint, Parameters), LinearFingerprint.OfOpening(attack.Delta, attack.Challenge)]);
        lie[3] = colluder.Sign(RoundPurpose.OpeningFingerprint, attack.Job.Id, 1, OpeningSpotCheck.JoinNonce(own.Nonce, forgedFingerprint.ToBytes()));
        var forged = attack.Request(lie, attack.Leaves(lie));
        attack.EveryPartyRefuses(forged, "not the sum of the parts the members committed to");

        // Without the lie, the fingerprints themselves do not add up.
        attack.EveryPartyRefuses(attack.Request(attack.Answers, attack.Leaves(attack.Answers)), "not the sum of the members' parts");
    }

    [Fact]
    public void A_colluder_cannot_open_leaves_of_a_part_it_did_not_commit_to()
    {
        var attack = new Attack();
        var lie = attack.Answers.ToList();
        var own = OpeningSpotCheck.SplitNonce(lie[3].Payload)!.Value;
        var forgedFingerprint = LinearFingerprint.Sum([LinearFingerprint.FromBytes(own.Fingerprint, Parameters), LinearFingerprint.OfOpening(attack.Delta, attack.Challenge)]);
        lie[3] = attack.Colluder.Sign(RoundPurpose.OpeningFingerprint, attack.Job.Id, 1, OpeningSpotCheck.JoinNonce(own.Nonce, forgedFingerprint.ToBytes()));
        var leaves = attack.Leaves(lie);
        // Its part plus δ, opened at the same positions with paths in a tree of its own: they add up, but are not in the part it committed to.
        var altered = Attack.Shifted(attack.ColludersPart);
        var positions = OpeningSpotCheck.Positions(attack.Challenge, lie.Select(a => OpeningSpotCheck.SplitNonce(a.Payload)!.Value.Nonce), OpeningSpotCheck.LeafCount(altered));
        leaves[3] = attack.Colluder.Sign(RoundPurpose.OpenedLeaves, attack.Job.Id, 1, OpeningSpotCheck.Open(altered, OpeningSpotCheck.Tree(altered), positions));
        attack.EveryPartyRefuses(attack.Request(lie, leaves), $"the leaves {attack.Colluder.Id} opened do not check: the leaf at position {positions[0]} is not in the part it committed to");
    }

    [Fact]
    public void A_colluder_committing_to_another_part_after_the_parts_were_revealed_is_refused()
    {
        // It commits again, to its part plus δ, and shows the parties that commitment: the honest members answered step 7 at
        // the challenge over the commitments they revealed against, so their fingerprints are at another challenge.
        var attack = new Attack();
        var altered = Attack.Shifted(attack.ColludersPart);
        byte[] nonce = OpeningSpotCheck.SplitNonce(attack.Answers[3].Payload)!.Value.Nonce; // its own, so the honest members open their leaves
        var commitments = attack.Commitments.ToList();
        commitments[3] = attack.Colluder.Sign(RoundPurpose.PartCommitment, attack.Job.Id, 1, OpeningSpotCheck.Commitment(OpeningSpotCheck.Tree(altered).Root, nonce));
        var challenge = RoundChallenges.OpeningChallenge(attack.SetDigest, attack.Job.Plan.Digest, attack.OpenedDigest,
            RoundChallenges.PartCommitmentsDigest(attack.Ids, commitments.ToDictionary(c => c.ParticipantId, c => c.Payload)));
        var answers = attack.Answers.ToList();
        answers[3] = attack.Colluder.Sign(RoundPurpose.OpeningFingerprint, attack.Job.Id, 1, OpeningSpotCheck.JoinNonce(nonce, LinearFingerprint.OfOpening(altered, challenge).ToBytes()));
        var forged = attack.Request(answers, attack.Leaves(answers)) with { PartCommitments = commitments };
        attack.EveryPartyRefuses(forged, "a fingerprint was made for another challenge");
    }

    [Fact]
    public void A_colluders_change_to_one_leaf_is_refused_where_a_spot_check_lands_on_it_and_every_leaf_of_a_small_part_is_checked()
    {
        // The known limit, asserted where it is decided: a change confined to one leaf passes whenever none of the 32
        // positions lands on it, which at 10⁶ parameters (3,920 leaves) is almost always. This model has one polynomial of
        // 16 leaves, no more than there are spot checks, so every leaf is opened and the change is always caught. Such a
        // change moves every decoded value of its polynomial a little; here it stays within the decryption tolerance, since
        // it would otherwise move the total weight past what the members' rows give.
        var attack = new Attack(firstLeafOnly: true, shift: 1UL << 12);
        var lie = attack.Answers.ToList();
        var own = OpeningSpotCheck.SplitNonce(lie[3].Payload)!.Value;
        var forgedFingerprint = LinearFingerprint.Sum([LinearFingerprint.FromBytes(own.Fingerprint, Parameters), LinearFingerprint.OfOpening(attack.Delta, attack.Challenge)]);
        lie[3] = attack.Colluder.Sign(RoundPurpose.OpeningFingerprint, attack.Job.Id, 1, OpeningSpotCheck.JoinNonce(own.Nonce, forgedFingerprint.ToBytes()));
        var forged = attack.Request(lie, attack.Leaves(lie));
        long leaves = OpeningSpotCheck.LeafCount(attack.Delta);
        var positions = OpeningSpotCheck.Positions(attack.Challenge, lie.Select(a => OpeningSpotCheck.SplitNonce(a.Payload)!.Value.Nonce), leaves);
        Assert.True(leaves <= OpeningSpotCheck.SpotChecks);
        Assert.Equal(Enumerable.Range(0, (int)leaves).Select(i => (long)i), positions);
        attack.EveryPartyRefuses(forged, "they differ at leaf 0");

        // Where a part has more leaves than spot checks, positions are a sample: 32 distinct ones of 3,920 at 10⁶ parameters.
        var sample = OpeningSpotCheck.Positions(attack.Challenge, [own.Nonce], 3_920);
        Assert.Equal(OpeningSpotCheck.SpotChecks, sample.Distinct().Count());
        Assert.All(sample, p => Assert.InRange(p, 0, 3_919));
    }

    [Fact]
    public void A_member_reveals_its_part_only_against_every_members_commitment_once_and_the_same_part_after_a_restart()
    {
        var job = new ChainedJob();
        var members = job.Harness.Parties;
        var decrypt = job.AggregateChecked(1, members).DecryptRequest();
        var commitments = members.Select(p => p.Round.Decrypt(decrypt)).ToList();
        var p0 = members[0];

        // Before every member committed: no part (a colluder would choose its own with the others in view).
        Assert.Contains("missing from XX/party-3", Assert.Throws<RoundRefusedException>(() => p0.Round.RevealPart(new PartRevealRequest(job.Id, 1, commitments.Take(3).ToList()))).Message);
        var part = p0.Round.RevealPart(new PartRevealRequest(job.Id, 1, commitments));
        // Against other commitments (a colluder's second one): refused, also after a restart; the same ones get the same part.
        var other = commitments.ToList();
        other[3] = members[3].Sign(RoundPurpose.PartCommitment, job.Id, 1, new byte[OpeningSpotCheck.CommitmentLength]);
        Assert.Contains("other part commitments", Assert.Throws<RoundRefusedException>(() => p0.Round.RevealPart(new PartRevealRequest(job.Id, 1, other))).Message);
        job.Harness[0].Restart();
        p0 = job.Harness[0];
        Assert.Contains("other part commitments", Assert.Throws<RoundRefusedException>(() => p0.Round.RevealPart(new PartRevealRequest(job.Id, 1, other))).Message);
        Assert.Equal(part.Payload, job.Harness[0].Round.RevealPart(new PartRevealRequest(job.Id, 1, commitments)).Payload);
    }

    [Fact]
    public void A_member_answers_step_7_for_one_opened_plaintext_per_round_also_after_a_restart_so_the_aggregator_cannot_draw_the_spot_checks()
    {
        var job = new ChainedJob();
        var members = job.Harness.Parties;
        var aggregator = job.Decrypted(1, members);
        var check = aggregator.OpeningCheckRequest();
        var answer = members[0].Round.CheckOpening(check);
        var another = check with { OpenedDigest = RoundHarness.Sha256([1]) };
        Assert.Contains("another opened plaintext", Assert.Throws<RoundRefusedException>(() => members[0].Round.CheckOpening(another)).Message);
        job.Harness[0].Restart();
        Assert.Contains("another opened plaintext", Assert.Throws<RoundRefusedException>(() => job.Harness[0].Round.CheckOpening(another)).Message);
        // The same plaintext again: the same nonce (and fingerprint), stored before it first left.
        Assert.Equal(answer.Payload, job.Harness[0].Round.CheckOpening(check).Payload);
    }

    [Fact]
    public void A_version_whose_parts_were_revealed_is_finished_never_redone()
    {
        // A redo from the same version would show the aggregator that version's sum before the colluders commit to their
        // parts: they would commit to its cancellation. After a restart the member answers the round from its stored part
        // instead. (Another job never starts from the same version: ModelChain.InitialModel draws its model for the job.)
        var job = new ChainedJob();
        var members = job.Harness.Parties;
        var first = job.Decrypted(1, members);
        Assert.Contains("must be finished, not redone", Assert.Throws<RoundRefusedException>(() => job.Decrypted(2, members)).Message);
        job.Harness[1].Restart();
        job.Advance(first, job.Opening(first, members), members);
        Assert.All(members, p => Assert.Equal(1, p.Round.Chain!.Version));
        Assert.All(members, p => Assert.Null(p.Round.OpeningPart)); // spent: the host drops the stored part
    }

    /// <summary>
    /// A round played honestly to step 6b; then the aggregator opens R + δ instead of R (δ in every coefficient, or in the
    /// first leaf only), the honest members answer step 7 for it, and the colluder (member 3) plays as each test says.
    /// </summary>
    private sealed class Attack
    {
        public Attack(bool firstLeafOnly = false, ulong shift = Shift)
        {
            Job = new ChainedJob();
            var members = Job.Harness.Parties;
            Ids = [.. members.Select(p => p.Id)];
            Colluder = members[3];
            var aggregator = Job.Decrypted(1, members);
            Commitments = aggregator.PartRevealRequest().PartCommitments;
            ColludersPart = OpenedPlaintext.FromBytes(Job.LastParts[Colluder.Id].Payload, Parameters);
            var honest = OpenedPlaintext.Sum([.. members.Select(p => OpenedPlaintext.FromBytes(Job.LastParts[p.Id].Payload, Parameters))]);
            Assert.Equal(1, honest.ChunkCount); // δ below is one polynomial
            Altered = Shifted(honest, firstLeafOnly, shift);
            Delta = Edit(honest, c =>
            {
                for (int j = 0; j < c.Length; j++)
                    c[j] = j < OpeningSpotCheck.LeafCoefficients || !firstLeafOnly ? shift : 0;
            });
            OpenedDigest = RoundHarness.Sha256(Altered.ToBytes());
            SetDigest = RoundChallenges.SetDigest(Job.Id, 1, Ids);
            Challenge = RoundChallenges.OpeningChallenge(SetDigest, Job.Plan.Digest, OpenedDigest,
                RoundChallenges.PartCommitmentsDigest(Ids, Commitments.ToDictionary(c => c.ParticipantId, c => c.Payload)));
            var check = new OpeningCheckRequest(Job.Id, 1, OpenedDigest);
            Answers = [.. members.Select(p => p.Round.CheckOpening(check))];
        }

        public ChainedJob Job { get; }
        public List<string> Ids { get; }
        public Party Colluder { get; }
        public IReadOnlyList<SignedMessage> Commitments { get; }
        public OpenedPlaintext ColludersPart { get; }
        public OpenedPlaintext Altered { get; }
        public OpenedPlaintext Delta { get; }
        public byte[] OpenedDigest { get; }
        public byte[] SetDigest { get; }
        public byte[] Challenge { get; }

        /// <summary>Every member's honest step-7 answer for R + δ.</summary>
        public IReadOnlyList<SignedMessage> Answers { get; }

        /// <summary>Step 7b: every member opens its own committed part at the positions the (possibly forged) answers draw.</summary>
        public List<SignedMessage> Leaves(IReadOnlyList<SignedMessage> answers) =>
            [.. Job.Harness.Parties.Select(p => p.Round.OpenLeaves(new SpotCheckRequest(Job.Id, 1, answers)))];

        public OpeningRequest Request(IReadOnlyList<SignedMessage> answers, IReadOnlyList<SignedMessage> leaves) =>
            new(Job.Id, 1, Ids, Altered.ToBytes(), Commitments, answers, leaves);

        public void EveryPartyRefuses(OpeningRequest forged, string reason)
        {
            foreach (var p in Job.Harness.Parties.Take(3))
            {
                Assert.Contains(reason, Assert.Throws<RoundRefusedException>(() => p.Round.AdvanceChain(forged, Job.Global, null)).Message);
                Assert.Equal(0, p.Round.Chain!.Version);
            }
        }

        public static OpenedPlaintext Shifted(OpenedPlaintext plaintext, bool firstLeafOnly = false, ulong shift = Shift) => Edit(plaintext, c =>
        {
            for (int j = 0; j < (firstLeafOnly ? OpeningSpotCheck.LeafCoefficients : c.Length); j++)
                c[j] = (c[j] + shift) % Parameters.WireModulus;
        });

        private static OpenedPlaintext Edit(OpenedPlaintext plaintext, Action<ulong[]> edit) => CkksAttackTools.EditFirstPolynomial(plaintext, edit);
    }
}
