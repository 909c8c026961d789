using System.Text;
using FedCore.Aggregation.Integrity;
using FedCore.Audit;

namespace FedCore.Tests.Audit;

/// <summary>
/// A dishonest log operator against the countries' co-signers (<see cref="TreeHeadCosigner"/>). Each test is an attempt
/// to get a country to co-sign a head that does not extend what it co-signed before; it asserts the refusal and its
/// reason, and that the refused head leaves the co-signer's state as it was.
/// </summary>
public class TreeHeadCosignerAttackTests
{
    internal static readonly ParticipantSigningKey Operator = ParticipantSigningKey.Generate();
    internal static readonly ParticipantSigningKey Intruder = ParticipantSigningKey.Generate();
    internal static readonly Dictionary<string, ParticipantSigningKey> Silos = new()
    {
        ["HU"] = ParticipantSigningKey.Generate(),
        ["CH"] = ParticipantSigningKey.Generate(),
        ["US"] = ParticipantSigningKey.Generate(),
    };
    internal static readonly Dictionary<string, byte[]> CountryKeys = Silos.ToDictionary(s => s.Key, s => s.Value.PublicKey);
    internal static readonly DateTimeOffset T0 = new(2025, 3, 1, 9, 0, 0, TimeSpan.Zero);

    /// <summary>The honest history: entry i is "entry i".</summary>
    private static byte[] Entry(int i) => Encoding.UTF8.GetBytes($"{{\"entry\":{i}}}");

    /// <summary>A history that agrees with the honest one except at entry <paramref name="changed"/>.</summary>
    private static MerkleTree Log(int size, int changed = -1) =>
        MerkleTree.FromEntries(Enumerable.Range(0, size).Select(i => i == changed ? Encoding.UTF8.GetBytes($"{{\"entry\":{i},\"rewritten\":true}}") : Entry(i)));

    private static SignedTreeHead Head(MerkleTree tree, int seconds, ParticipantSigningKey? key = null) =>
        SignedTreeHead.Sign(TreeHead.Of(tree, T0.AddSeconds(seconds)), key ?? Operator);

    private static TreeHeadCosigner Cosigner(string country, TreeHead? last = null) =>
        new(country, Silos[country], Operator.PublicKey, last);

    private static DateTimeOffset Now => T0.AddHours(1);

    /// <summary>A co-signer that has co-signed the honest head of <paramref name="size"/> entries.</summary>
    private static TreeHeadCosigner CosignedAt(string country, int size)
    {
        var cosigner = Cosigner(country);
        Assert.True(cosigner.Cosign(Head(Log(size), size), [], Now).IsCosigned);
        return cosigner;
    }

    private static void AssertRefused(TreeHeadCosigner cosigner, SignedTreeHead head, IReadOnlyList<byte[]>? proof, CosignRefusal expected, string because)
    {
        var before = cosigner.Last;
        var outcome = cosigner.Cosign(head, proof, Now);
        Assert.False(outcome.IsCosigned);
        Assert.Null(outcome.Cosignature);
        Assert.Equal(expected, outcome.Refusal);
        Assert.Contains(because, outcome.Reason);
        Assert.Equal(before, cosigner.Last);
    }

    // ---- Honest flow -------------------------------------------------------------------------------------------

    [Fact]
    public void An_honest_log_growing_1_5_9_is_cosigned_by_HU_CH_and_US_and_every_head_verifies()
    {
        var log = new MerkleTree();
        var cosigners = Silos.Keys.ToDictionary(c => c, c => Cosigner(c));
        var persisted = new Dictionary<string, byte[]>();
        int step = 0;
        foreach (int size in new[] { 1, 5, 9 })
        {
            while (log.Size < size)
                log.AppendEntry(Entry((int)log.Size));
            var head = Head(log, ++step);
            foreach (var (country, cosigner) in cosigners)
            {
                var proof = cosigner.Last is { } last ? log.ConsistencyProof(last.Size) : [];
                var outcome = cosigner.Cosign(head, proof, Now);
                Assert.True(outcome.IsCosigned, outcome.ToString());
                persisted[country] = cosigner.Last!.Encode();
                head = head.WithCosignature(outcome.Cosignature!);
            }
            Assert.Equal(TreeHeadVerdict.Valid, head.Verify(Operator.PublicKey, CountryKeys));
            Assert.Equal(["CH", "HU", "US"], head.Cosignatures.Keys);
            // What an auditor reads back from an export verifies the same.
            Assert.Equal(TreeHeadVerdict.Valid, SignedTreeHead.Read(head.Write()).Verify(Operator.PublicKey, CountryKeys));

            // A silo that restarts from its persisted 48 bytes carries on where it was.
            foreach (var country in Silos.Keys)
                cosigners[country] = Cosigner(country, TreeHead.Decode(persisted[country]));
        }
        Assert.All(cosigners.Values, c => Assert.Equal(9, c.Last!.Size));
    }

    [Fact]
    public void The_first_head_a_silo_sees_is_accepted_without_a_proof_and_the_empty_log_is_a_prefix_of_every_log()
    {
        var fresh = Cosigner("HU");
        Assert.True(fresh.Cosign(Head(Log(7), 1), null, Now).IsCosigned); // trust on first use
        Assert.Equal(7, fresh.Last!.Size);

        var empty = Cosigner("CH");
        Assert.True(empty.Cosign(Head(new MerkleTree(), 1), [], Now).IsCosigned);
        AssertRefused(empty, Head(Log(3), 2), [new byte[32]], CosignRefusal.BadProof, "must be empty");
        Assert.True(empty.Cosign(Head(Log(3), 2), [], Now).IsCosigned);
    }

    [Fact]
    public void The_same_head_again_or_the_same_tree_at_a_later_time_is_cosigned_again()
    {
        var hu = CosignedAt("HU", 5);
        Assert.True(hu.Cosign(Head(Log(5), 5), [], Now).IsCosigned); // a lost answer, asked again
        Assert.True(hu.Cosign(Head(Log(5), 60), [], Now).IsCosigned); // nothing appended for a minute
        Assert.Equal(T0.AddSeconds(60), hu.Last!.Time);
    }

    // ---- Forks -------------------------------------------------------------------------------------------------

    [Fact]
    public void A_log_that_shows_a_country_another_history_of_the_same_size_is_refused_as_a_fork()
    {
        var hu = CosignedAt("HU", 5);
        AssertRefused(hu, Head(Log(5, changed: 3), 6), [], CosignRefusal.Fork, "a different history of the same log");
        AssertRefused(hu, Head(Log(5, changed: 3), 6), [Log(5).Root], CosignRefusal.Fork, "a different history of the same log");
    }

    [Fact]
    public void A_log_that_rewrites_an_entry_and_grows_is_refused_whichever_proof_it_sends()
    {
        var hu = CosignedAt("HU", 5);
        var forked = Log(9, changed: 3);
        var forkedHead = Head(forked, 9);
        // The forked tree's own proof from 5 is honest about the fork: its size-5 root is not the one HU signed.
        AssertRefused(hu, forkedHead, forked.ConsistencyProof(5), CosignRefusal.Inconsistent, "could let the log show HU a different history");
        // The honest tree's proof from 5 to 9 leads to the honest root of 9, not the forked one.
        AssertRefused(hu, forkedHead, Log(9).ConsistencyProof(5), CosignRefusal.Inconsistent, "different history");
        // A rewrite after the entries HU saw is no fork: the log only appended.
        Assert.True(hu.Cosign(Head(Log(9, changed: 7), 9), Log(9, changed: 7).ConsistencyProof(5), Now).IsCosigned);
    }

    [Fact]
    public void A_log_that_shows_two_countries_two_histories_can_never_get_one_head_cosigned_by_both()
    {
        // The operator shows HU the honest history and CH one with entry 2 rewritten, and each co-signs its own.
        // Whichever history it then grows, the country that saw the other one refuses: no head of size 9 carries both.
        foreach (int changed in new[] { -1, 2 })
        {
            var hu = Cosigner("HU");
            var ch = Cosigner("CH");
            Assert.True(hu.Cosign(Head(Log(5), 5), [], Now).IsCosigned);
            Assert.True(ch.Cosign(Head(Log(5, changed: 2), 5), [], Now).IsCosigned);

            var grown = Log(9, changed);
            var head = Head(grown, 9);
            var proof = grown.ConsistencyProof(5);
            var outcomes = new Dictionary<string, CosignOutcome> { ["HU"] = hu.Cosign(head, proof, Now), ["CH"] = ch.Cosign(head, proof, Now) };
            string refusing = changed == -1 ? "CH" : "HU";
            Assert.Equal(CosignRefusal.Inconsistent, outcomes[refusing].Refusal);
            Assert.Single(outcomes.Values, o => o.IsCosigned);
            // Nor does the operator get there by showing the refusing country its own history's proof: it is a different root.
            var other = Log(9, changed == -1 ? 2 : -1);
            var refuser = refusing == "HU" ? hu : ch;
            Assert.False(refuser.Cosign(head, other.ConsistencyProof(5), Now).IsCosigned);
        }
    }

    // ---- Rollback, time ----------------------------------------------------------------------------------------

    [Fact]
    public void A_log_that_rolls_back_to_fewer_entries_is_refused_even_when_they_are_an_honest_prefix()
    {
        var hu = CosignedAt("HU", 9);
        AssertRefused(hu, Head(Log(5), 10), [], CosignRefusal.Rollback, "fewer than the 9 HU co-signed before");
        AssertRefused(hu, Head(Log(5), 10), Log(9).ConsistencyProof(5), CosignRefusal.Rollback, "take entries back");
    }

    [Fact]
    public void A_head_dated_before_the_last_one_cosigned_is_refused_as_time_going_backwards()
    {
        var hu = CosignedAt("HU", 5); // dated T0 + 5 s
        AssertRefused(hu, Head(Log(9), 4), Log(9).ConsistencyProof(5), CosignRefusal.TimeBackwards, "time goes backwards");
        AssertRefused(hu, Head(Log(5), 4), [], CosignRefusal.TimeBackwards, "time goes backwards");
    }

    [Fact]
    public void A_head_dated_in_the_silos_future_is_refused_so_the_log_cannot_claim_a_time_it_has_not_reached()
    {
        var hu = Cosigner("HU");
        var head = SignedTreeHead.Sign(TreeHead.Of(Log(3), Now + TreeHeadCosigner.MaxClockSkew + TimeSpan.FromMilliseconds(1)), Operator);
        AssertRefused(hu, head, [], CosignRefusal.TimeInFuture, "after this silo's clock");
        Assert.True(hu.Cosign(SignedTreeHead.Sign(TreeHead.Of(Log(3), Now + TreeHeadCosigner.MaxClockSkew), Operator), [], Now).IsCosigned);
    }

    // ---- The operator's signature --------------------------------------------------------------------------------

    [Fact]
    public void A_head_signed_by_another_key_than_the_operators_is_refused()
    {
        var hu = CosignedAt("HU", 5);
        AssertRefused(hu, Head(Log(9), 9, Intruder), Log(9).ConsistencyProof(5), CosignRefusal.OperatorSignature, "does not verify with the operator key");
    }

    [Fact]
    public void A_head_whose_fields_were_changed_after_the_operator_signed_is_refused()
    {
        var hu = CosignedAt("HU", 5);
        var signed = Head(Log(9), 9);
        var grown = Log(10);
        // The operator's signature of the 9-entry head, put on the 10-entry head (with a valid proof for it).
        var relabelled = SignedTreeHead.Create(TreeHead.Of(grown, T0.AddSeconds(9)), signed.Signature, []);
        AssertRefused(hu, relabelled, grown.ConsistencyProof(5), CosignRefusal.OperatorSignature, "does not verify with the operator key");
        // Same tree, another time.
        var redated = SignedTreeHead.Create(TreeHead.Of(Log(9), T0.AddSeconds(10)), signed.Signature, []);
        AssertRefused(hu, redated, Log(9).ConsistencyProof(5), CosignRefusal.OperatorSignature, "altered");
    }

    [Fact]
    public void A_country_cosignature_passed_off_as_the_operators_signature_is_refused()
    {
        // A silo key signs under another tag and with its country appended: its signature is no operator signature,
        // even for a co-signer told (wrongly) that this silo's key is the operator's.
        var head = Head(Log(5), 5);
        var cosigned = Cosigner("HU").Cosign(head, [], Now).Cosignature!;
        var confused = new TreeHeadCosigner("CH", Silos["CH"], Silos["HU"].PublicKey, null);
        AssertRefused(confused, SignedTreeHead.Create(head.Head, cosigned.Signature, []), [], CosignRefusal.OperatorSignature, "operator key");
    }

    // ---- Proofs for other sizes --------------------------------------------------------------------------------

    [Fact]
    public void A_proof_made_for_other_sizes_is_refused()
    {
        var nine = Log(12);
        var head = Head(Log(9), 9);
        var refused = new List<CosignRefusal>();
        foreach (var (from, to) in new[] { (4, 9), (6, 9), (5, 8), (5, 10), (1, 9), (5, 12), (3, 7), (8, 9) })
        {
            var hu = CosignedAt("HU", 5);
            var outcome = hu.Cosign(head, nine.ConsistencyProof(from, to), Now);
            Assert.False(outcome.IsCosigned, $"a proof {from}→{to} for 5→9");
            Assert.Contains(outcome.Refusal, new[] { CosignRefusal.BadProof, CosignRefusal.Inconsistent });
            Assert.Equal(5, hu.Last!.Size);
            refused.Add(outcome.Refusal);
        }
        Assert.Contains(CosignRefusal.BadProof, refused); // most have the wrong length for 5 → 9 ...
        var correct = CosignedAt("HU", 5);
        var proof = Log(9).ConsistencyProof(5);
        AssertRefused(correct, head, [.. proof, new byte[32]], CosignRefusal.BadProof, "need exactly");
        AssertRefused(correct, head, proof[..^1], CosignRefusal.BadProof, "need exactly");
        AssertRefused(correct, head, null, CosignRefusal.BadProof, "no consistency proof");
        AssertRefused(correct, head, [], CosignRefusal.BadProof, "malformed");
        Assert.True(correct.Cosign(head, proof, Now).IsCosigned); // ... and the right one still goes through
    }

    [Fact]
    public void A_proof_for_the_same_size_must_be_empty()
    {
        var hu = CosignedAt("HU", 5);
        AssertRefused(hu, Head(Log(5), 6), [Log(5).Root], CosignRefusal.BadProof, "must be empty");
    }

    // ---- Co-signatures -----------------------------------------------------------------------------------------

    [Fact]
    public void A_cosignature_made_with_another_countrys_key_does_not_verify_and_the_verdict_names_the_country()
    {
        var head = Head(Log(5), 5);
        foreach (var country in Silos.Keys)
            head = head.WithCosignature(Cosigner(country).Cosign(head, [], Now).Cosignature!);
        Assert.True(head.Verify(Operator.PublicKey, CountryKeys).IsValid);

        // CH's silo is configured with HU's key: its co-signature is HU's key over "CH".
        var impostor = new TreeHeadCosigner("CH", Silos["HU"], Operator.PublicKey, null).Cosign(head, [], Now).Cosignature!;
        var withImpostor = SignedTreeHead.Create(head.Head, head.Signature, head.Cosignatures.SetItem("CH", impostor.Signature));
        var verdict = withImpostor.Verify(Operator.PublicKey, CountryKeys);
        Assert.Equal(TreeHeadFault.Cosignature, verdict.Fault);
        Assert.Equal("CH", verdict.Country);
        Assert.False(impostor.Verify(CountryKeys["CH"]));

        // HU's genuine co-signature moved under US does not verify either: the country is part of what is signed.
        var moved = SignedTreeHead.Create(head.Head, head.Signature, head.Cosignatures.SetItem("US", head.Cosignatures["HU"]));
        Assert.Equal((TreeHeadFault.Cosignature, "US"), Fault(moved.Verify(Operator.PublicKey, CountryKeys)));
        // Even with HU's key given for US.
        var keysWithHuAsUs = new Dictionary<string, byte[]>(CountryKeys) { ["US"] = CountryKeys["HU"] };
        Assert.Equal((TreeHeadFault.Cosignature, "US"), Fault(moved.Verify(Operator.PublicKey, keysWithHuAsUs)));

        // The operator's signature does not verify as a co-signature, even by a verifier holding the operator's key for HU.
        var asCosignature = SignedTreeHead.Create(head.Head, head.Signature, head.Cosignatures.SetItem("HU", head.Signature));
        var keysWithOperatorAsHu = new Dictionary<string, byte[]>(CountryKeys) { ["HU"] = Operator.PublicKey };
        Assert.Equal((TreeHeadFault.Cosignature, "HU"), Fault(asCosignature.Verify(Operator.PublicKey, keysWithOperatorAsHu)));
    }

    [Fact]
    public void A_cosignature_of_another_head_does_not_verify_and_cannot_be_added()
    {
        var five = Head(Log(5), 5);
        var nine = Head(Log(9), 9);
        var cosignedFive = Cosigner("HU").Cosign(five, [], Now).Cosignature!;
        Assert.Throws<ArgumentException>(() => nine.WithCosignature(cosignedFive));
        var transplanted = SignedTreeHead.Create(nine.Head, nine.Signature, [KeyValuePair.Create("HU", cosignedFive.Signature)]);
        Assert.Equal((TreeHeadFault.Cosignature, "HU"), Fault(transplanted.Verify(Operator.PublicKey, CountryKeys, requireEveryCountry: false)));
    }

    [Fact]
    public void Verification_names_the_operator_an_unknown_country_or_a_missing_one()
    {
        var head = Head(Log(5), 5);
        var hu = Cosigner("HU").Cosign(head, [], Now).Cosignature!;
        var withHu = head.WithCosignature(hu);
        Assert.Equal((TreeHeadFault.MissingCosignature, "CH"), Fault(withHu.Verify(Operator.PublicKey, CountryKeys)));
        Assert.True(withHu.Verify(Operator.PublicKey, CountryKeys, requireEveryCountry: false).IsValid);
        Assert.Equal((TreeHeadFault.UnknownCountry, "HU"), Fault(withHu.Verify(Operator.PublicKey, new Dictionary<string, byte[]> { ["CH"] = CountryKeys["CH"] })));
        Assert.Equal((TreeHeadFault.OperatorSignature, (string?)null), Fault(withHu.Verify(Intruder.PublicKey, CountryKeys)));
        Assert.Equal((TreeHeadFault.OperatorSignature, (string?)null), Fault(withHu.Verify([1, 2, 3], CountryKeys))); // not a key at all
    }

    private static (TreeHeadFault, string?) Fault(TreeHeadVerdict verdict) => (verdict.Fault, verdict.Country);
}
