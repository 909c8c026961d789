using System.Security.Cryptography;
using FedCore.Aggregation.Protection;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Wire;
using FedCore.Rounds;
using Federation.Tests.Shared;

namespace FedCore.Tests.Rounds;

/// <summary>
/// A dishonest aggregator, alone or with colluding participants, against honest participants playing the pure protocol
/// (<see cref="ParticipantRound"/>). Each test is an attack that works against a weaker design; it asserts what the
/// attacker gets here. Parties 0 and 1 are honest; party 2, when it appears, colludes with the aggregator.
/// </summary>
public class AggregatorAttackTests
{
    private static readonly Modulus Q0 = RoundHarness.Parameters.Context.WireModulus;
    private const int Length = 3000; // one ciphertext
    private const int N = 4096;

    // ---- The aggregator alone --------------------------------------------------------------------------------

    [Fact]
    public void The_aggregator_alone_cannot_pass_off_one_participants_masks_as_the_sum()
    {
        var harness = new RoundHarness(3);
        var aggregator = harness.SealedRound(1, RoundHarness.Updates(3, Length));
        var honest = aggregator.AggregateCheckRequest();
        AssertEveryoneRefuses(harness, honest with { AggregateMasks = Sealed(harness, aggregator, 0) }); // what it received: the masks
    }

    [Fact]
    public void The_aggregator_alone_cannot_forge_an_aggregate_that_passes_the_check_at_points_it_could_compute()
    {
        // The attack on the earlier, key-bound sketch: knowing the check's coefficients before fixing the aggregate, the
        // aggregator adds a difference δ the check cannot see. Here it takes the points the honest aggregate's challenge
        // gives and adds δ = Π (y − yᵢ) over them (read as coefficients: exactly invisible at those points). But the
        // points come from a hash of the aggregate itself, so the forged aggregate has other points.
        var harness = new RoundHarness(3);
        var aggregator = harness.SealedRound(1, RoundHarness.Updates(3, Length));
        var honest = aggregator.AggregateCheckRequest();
        var masks = CiphertextMasks.FromBytes(honest.AggregateMasks, RoundHarness.Parameters);
        var challenge = RoundChallenges.AggregateChallenge(RoundChallenges.SetDigest(RoundHarness.JobId, 1, aggregator.Participants),
            honest.AggregateMasks, aggregator.Participants, honest.Commitments.ToDictionary(c => c.ParticipantId, c => c.Payload));
        var points = PointsOf(masks, challenge);
        // δ(y) = Π (y − yᵢ): coefficients of y^d … y^0; the fingerprint reads coefficient k as that of y^{D−1−k}.
        var delta = new ulong[points.Length + 1];
        delta[0] = 1;
        foreach (ulong y in points)
            for (int d = points.Length; d >= 1; d--)
                delta[d] = Q0.Subtract(delta[d], Q0.Multiply(delta[d - 1], y));
        var forged = ShiftCoefficients(masks, (k, c) => k >= N - delta.Length ? Q0.Add(c, delta[k - (N - delta.Length)]) : c);
        Assert.True(LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(forged, RoundHarness.Parameters), challenge)
            .Matches(LinearFingerprint.OfMasks(masks, challenge))); // invisible at the points it knew
        AssertEveryoneRefuses(harness, honest with { AggregateMasks = forged });
        // Nor can it try another aggregate in the same round: a member checks one.
        foreach (var p in harness.Parties)
            Assert.Contains("it already checked another aggregate", Assert.Throws<RoundRefusedException>(() => p.Round.CheckAggregate(honest)).Message);

        // And a constant in place of the masks, the start of the attack that read the round's secret from the shares.
        var another = new RoundHarness(3);
        var constant = another.SealedRound(1, RoundHarness.Updates(3, Length)).AggregateCheckRequest();
        AssertEveryoneRefuses(another, constant with
        {
            AggregateMasks = ShiftCoefficients(CiphertextMasks.FromBytes(constant.AggregateMasks, RoundHarness.Parameters), (k, _) => k == 0 ? Q0.Value / 7 : 0),
        });
    }

    [Fact]
    public void The_aggregator_alone_cannot_hand_out_a_round_key_whose_secret_it_knows()
    {
        // Each member sums the round key itself from the members' shares, each the one its owner's statement names: the
        // aggregator has no key to send, and a share of its making in a member's place is refused.
        var harness = new RoundHarness(3);
        var aggregator = harness.RevealedRound(1);
        var honest = aggregator.KeyCheckRequest(RoundHarness.Plan);
        var (rogue, secret) = AdaptiveShare(honest, 2);
        AssertTheKeyWouldDecryptWith(honest, 2, rogue, secret);
        foreach (var p in harness.Parties)
            Assert.Contains("the public key share of XX/party-2 is not the one its statement names",
                Assert.Throws<RoundRefusedException>(() => p.Round.CheckKey(honest with { PublicShares = [honest.PublicShares[0], honest.PublicShares[1], rogue] })).Message);
        // Nor can it leave a share out or send them in another order.
        Assert.Contains("2 public key shares for 3 members",
            Assert.Throws<RoundRefusedException>(() => harness[0].Round.CheckKey(honest with { PublicShares = honest.PublicShares.Take(2).ToList() })).Message);
        Assert.Contains("the public key share of XX/party-0 is not the one",
            Assert.Throws<RoundRefusedException>(() => harness[0].Round.CheckKey(honest with { PublicShares = [.. honest.PublicShares.Reverse()] })).Message);
        // Refusing stored nothing: the honest request still passes.
        Assert.All(harness.Parties, p => p.Round.CheckKey(honest));
    }

    // ---- The aggregator with a colluding participant ---------------------------------------------------------

    [Fact]
    public void A_colluder_sending_a_ciphertext_of_chosen_structure_exposes_the_round_secret_but_no_single_honest_update()
    {
        // The colluder plays the key steps honestly, then sends masks c1 = t ≈ q0/7 (the constant polynomial), keeps as its
        // c0 its own pairwise masks, and fingerprints that honestly: every check passes. The opened sum is Δ·(honest
        // updates) + t·s: the aggregator reads the round's whole secret s off it. But it holds no honest member's c0.
        var harness = new RoundHarness(3);
        var updates = RoundHarness.Updates(3, Length);
        var aggregator = harness.KeyedRound(1);
        var colluder = harness[2];
        var key = aggregator.RoundKey;
        var colludersMasks = MasksOf(harness, aggregator, colluder);
        ulong t = Q0.Value / 7;
        var crafted = RoundHarness.CraftCiphertext(key, Length + 1, 4, (_, j) => colludersMasks[j], (_, j) => j == 0 ? t : 0);
        var craftedSent = Sent(crafted);
        var sealRequest = aggregator.SealRequest();
        var honestSent = new List<byte[]>();
        for (int i = 0; i < 2; i++)
        {
            harness[i].Round.PrepareSeal(sealRequest, RoundHarness.Plan, RoundHarness.BasisFor(1));
            var s = harness[i].Round.Seal(1, updates[i], 1.0 / 3);
            honestSent.Add(s.SealedUpdate);
            aggregator.AcceptSealed(s);
        }
        aggregator.AcceptSealed(new Sealed(craftedSent, colluder.Sign(RoundPurpose.Update, RoundHarness.JobId, 1, RoundHarness.Sha256(craftedSent))));
        var trueSecret = RoundHarness.CollectiveSecret(key, harness.Parties.Select(p => p.Round.Record!));
        var honestSecrets = SecretsBeforeStep6(harness.Parties.Take(2));

        var check = aggregator.AggregateCheckRequest();
        var fingerprints = harness.Parties.Take(2).Select(p => p.Round.CheckAggregate(check)).ToList();
        var challenge = LinearFingerprint.FromBytes(fingerprints[0].Payload, RoundHarness.Parameters).Challenge.ToArray();
        fingerprints.Add(colluder.Sign(RoundPurpose.AggregateFingerprint, RoundHarness.JobId, 1,
            LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(craftedSent, RoundHarness.Parameters), challenge).ToBytes()));
        var decrypt = new DecryptRequest(RoundHarness.JobId, 1, fingerprints);
        var parts = HonestParts(harness.Parties.Take(2).ToList(), colluder, decrypt);
        // The opening: the honest parts and the colluder's own, its c0 plus its share.
        var opened = Sum([.. parts.Select(First), CkksAttackTools.C0Of(RoundHarness.Parameters, crafted), ShareOf(colluder, key, check.AggregateMasks)]);

        // The attack works on the encryption: the round's secret, coefficient by coefficient.
        var recovered = opened.Select(c => (long)Math.Round((double)Q0.ToCentered(c) / t)).ToArray();
        Assert.Equal(trueSecret, recovered);

        // It gets the sum of the honest updates (the opening less t·s; the colluder's c0, its masks, cancels theirs)...
        var honestSum = Decode(opened.Select((c, j) => Q0.Subtract(c, Q0.Multiply(t, Q0.FromSigned(recovered[j])))).ToArray(), Scale);
        Assert.True(MaxError(honestSum, i => (updates[0][i] + updates[1][i]) / 3) < 1e-6);
        // ...but of an honest member it holds only what it was sent, the masks (no c0 ever leaves a member), and its part.
        Assert.Throws<HeFormatException>(() => EncryptedVector.FromBytes(honestSent[0], RoundHarness.Parameters));
        Assert.Equal(honestSent[0], CiphertextMasks.FromBytes(honestSent[0], RoundHarness.Parameters).ToBytes());
        // Even its c0, had it leaked, decrypts under s to the update plus its one-time pad. (These are the right c0s:
        // both together decrypt to the honest sum, as the opening did.)
        var leaked = parts.Select((part, i) => CkksAttackTools.Rejoin(RoundHarness.Parameters, key, Length + 1, 4,
            CkksAttackTools.C0AsIfLeaked(RoundHarness.Parameters, part, honestSecrets[i], check.AggregateMasks), honestSent[i])).ToList();
        Assert.True(MaxError(RoundHarness.DecryptWithSecret(EncryptedVector.Sum(leaked), recovered, colludersMasks.Select(m => Q0.Negate(m)).ToArray()),
            i => (updates[0][i] + updates[1][i]) / 3) < 1e-6);
        var alone = RoundHarness.DecryptWithSecret(leaked[0], recovered);
        Assert.True(MaxError(alone, i => updates[0][i] / 3) > 1);
        // Without the pairwise masks the same secret would read it exactly: the masks are what protect it.
        var unmasked = new CkksProtection(RoundHarness.Parameters, 4).Seal(updates[0], 1.0 / 3, key, null);
        Assert.True(MaxError(RoundHarness.DecryptWithSecret(unmasked, recovered), i => updates[0][i] / 3) < 1e-6);
    }

    [Fact]
    public void A_colluder_signing_a_false_fingerprint_gets_a_forged_aggregate_decrypted_but_it_shows_a_one_time_pad()
    {
        var harness = new RoundHarness(3);
        var updates = RoundHarness.Updates(3, Length);
        var aggregator = harness.SealedRound(1, updates);
        var honest = aggregator.AggregateCheckRequest();
        var victimsMasks = Sealed(harness, aggregator, 0);
        var forged = honest with { AggregateMasks = victimsMasks };
        var honestSecrets = SecretsBeforeStep6(harness.Parties.Take(2));

        var fingerprints = harness.Parties.Take(2).Select(p => p.Round.CheckAggregate(forged)).ToList();
        var challenge = LinearFingerprint.FromBytes(fingerprints[0].Payload, RoundHarness.Parameters).Challenge.ToArray();
        var target = LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(victimsMasks, RoundHarness.Parameters), challenge);
        var lie = CkksAttackTools.FingerprintLie(target, fingerprints.Select(f => LinearFingerprint.FromBytes(f.Payload, RoundHarness.Parameters)));
        fingerprints.Add(harness[2].Sign(RoundPurpose.AggregateFingerprint, RoundHarness.JobId, 1, lie));
        var decrypt = new DecryptRequest(RoundHarness.JobId, 1, fingerprints);
        var parts = HonestParts(harness.Parties.Take(2).ToList(), harness[2], decrypt);

        // The forged aggregate decrypted: c0₀ + s·c1₀ + c0₁, the victim's update under its pad and under member 1's c0,
        // which stays in member 1's part (no c0 leaves a member).
        var decrypted = Sum([.. parts.Select(First), ShareOf(harness[2], aggregator.RoundKey, victimsMasks)]);
        Assert.True(MaxError(Decode(decrypted, Scale), i => updates[0][i] / 3) > 1, "the victim's update does not show");
        // Even with member 1's c0 taken out, as if it had leaked: the victim's update shows only under its one-time pad.
        var c0OfOne = CkksAttackTools.C0AsIfLeaked(RoundHarness.Parameters, parts[1], honestSecrets[1], victimsMasks);
        var lessOne = decrypted.Select((c, j) => Q0.Subtract(c, c0OfOne[j])).ToArray();
        Assert.True(MaxError(Decode(lessOne, Scale), i => updates[0][i] / 3) > 1, "the victim's update alone stays masked");
    }

    [Fact]
    public void A_colluder_lying_about_a_constant_aggregate_reads_no_honest_key_share_off_a_part()
    {
        // The first attack, with a colluder's false fingerprint to get it past the check: the aggregate's masks are
        // a constant T in the first ciphertext, so each honest part is c0ᵢ + sᵢ·T + eᵢ there. When members sent their whole
        // sealed update, the part less c0ᵢ gave sᵢ coefficient by coefficient; with c0ᵢ kept home the read is noise.
        var harness = new RoundHarness(3);
        var aggregator = harness.SealedRound(1, RoundHarness.Updates(3, Length));
        var honest = aggregator.AggregateCheckRequest();
        ulong t = Q0.Value / 7;
        var constant = ShiftCoefficients(CiphertextMasks.FromBytes(honest.AggregateMasks, RoundHarness.Parameters), (k, _) => k == 0 ? t : 0);
        var forged = honest with { AggregateMasks = constant };
        var honestSecrets = SecretsBeforeStep6(harness.Parties.Take(2));

        var fingerprints = harness.Parties.Take(2).Select(p => p.Round.CheckAggregate(forged)).ToList();
        var challenge = LinearFingerprint.FromBytes(fingerprints[0].Payload, RoundHarness.Parameters).Challenge.ToArray();
        var target = LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(constant, RoundHarness.Parameters), challenge);
        fingerprints.Add(harness[2].Sign(RoundPurpose.AggregateFingerprint, RoundHarness.JobId, 1,
            CkksAttackTools.FingerprintLie(target, fingerprints.Select(f => LinearFingerprint.FromBytes(f.Payload, RoundHarness.Parameters)))));
        var parts = HonestParts(harness.Parties.Take(2).ToList(), harness[2], new DecryptRequest(RoundHarness.JobId, 1, fingerprints));

        for (int i = 0; i < 2; i++)
        {
            var truth = RoundHarness.SecretOf(aggregator.RoundKey, [honestSecrets[i]]);
            var read = First(parts[i]).Select(c => (long)Math.Round((double)Q0.ToCentered(c) / t)).ToArray();
            // A uniform c0 makes each read one of seven values: about one in seven agrees by chance.
            Assert.True(read.Zip(truth).Count(x => x.First == x.Second) < N / 4, $"member {i}'s part gave away its key share");
        }
    }

    [Fact]
    public void A_colluders_masks_of_another_length_sent_first_are_refused_in_its_name_and_the_honest_ones_go_in()
    {
        // Without the round's length the first masks to arrive set it, so a colluder's of another length, sent first, got
        // the honest members' refused in their names (branch review/c0home). The job names the length every member seals.
        var harness = new RoundHarness(3) { SealedLength = CkksProtection.SealedLength(Length) };
        var updates = RoundHarness.Updates(3, Length);
        var aggregator = harness.KeyedRound(1);
        var colluder = harness[2];
        var longer = Sent(RoundHarness.CraftCiphertext(aggregator.RoundKey, Length + 1 + N, 4, (_, _) => 0, (_, _) => 0));
        var refused = Assert.Throws<RoundRefusedException>(() =>
            aggregator.AcceptSealed(new Sealed(longer, colluder.Sign(RoundPurpose.Update, RoundHarness.JobId, 1, RoundHarness.Sha256(longer)))));
        Assert.Contains($"the sealed update from {colluder.Id} carries {Length + 1 + N} values; the round's carry {Length + 1}", refused.Message);
        var sealRequest = aggregator.SealRequest();
        for (int i = 0; i < 2; i++)
        {
            harness[i].Round.PrepareSeal(sealRequest, RoundHarness.Plan, RoundHarness.BasisFor(1));
            aggregator.AcceptSealed(harness[i].Round.Seal(1, updates[i], 1.0 / 3)); // accepted, whatever came first
        }
    }

    [Fact]
    public void A_colluder_replaying_an_honest_update_rerandomised_learns_nothing_of_it()
    {
        // It holds only the victim's masks, so it replays them rerandomised (c1₀ + c1′ of a fresh encryption of zero) and
        // keeps c0′ as its own c0: the copy check sees different bytes, and the opening holds s·c1₀ without the victim's c0.
        var harness = new RoundHarness(3);
        var updates = RoundHarness.Updates(3, Length);
        var aggregator = harness.KeyedRound(1);
        var sealRequest = aggregator.SealRequest();
        var sent = new List<byte[]>();
        for (int i = 0; i < 2; i++)
        {
            harness[i].Round.PrepareSeal(sealRequest, RoundHarness.Plan, RoundHarness.BasisFor(1));
            var s = harness[i].Round.Seal(1, updates[i], 1.0 / 3);
            sent.Add(s.SealedUpdate);
            aggregator.AcceptSealed(s);
        }
        var zero = EncryptedVector.Encrypt(aggregator.RoundKey, new double[Length + 1], 4);
        var zeroC0 = new ulong[N];
        var zeroC1 = new ulong[N];
        var victimsC1 = new ulong[N];
        zero.ReadC0(0, zeroC0);
        zero.ReadC1(0, zeroC1);
        CiphertextMasks.FromBytes(sent[0], RoundHarness.Parameters).ReadC1(0, victimsC1);
        var replay = RoundHarness.CraftCiphertext(aggregator.RoundKey, Length + 1, 4, (_, j) => zeroC0[j], (_, j) => Q0.Add(victimsC1[j], zeroC1[j]));
        var replaySent = Sent(replay);
        Assert.NotEqual(sent[0], replaySent);
        aggregator.AcceptSealed(new Sealed(replaySent, harness[2].Sign(RoundPurpose.Update, RoundHarness.JobId, 1, RoundHarness.Sha256(replaySent))));

        var check = aggregator.AggregateCheckRequest();
        var fingerprints = harness.Parties.Take(2).Select(p => p.Round.CheckAggregate(check)).ToList();
        var challenge = LinearFingerprint.FromBytes(fingerprints[0].Payload, RoundHarness.Parameters).Challenge.ToArray();
        fingerprints.Add(harness[2].Sign(RoundPurpose.AggregateFingerprint, RoundHarness.JobId, 1,
            LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(replaySent, RoundHarness.Parameters), challenge).ToBytes()));
        var decrypt = new DecryptRequest(RoundHarness.JobId, 1, fingerprints);
        var parts = HonestParts(harness.Parties.Take(2).ToList(), harness[2], decrypt);

        var values = Decode(Sum([.. parts.Select(First), CkksAttackTools.C0Of(RoundHarness.Parameters, replay), ShareOf(harness[2], aggregator.RoundKey, check.AggregateMasks)]), Scale);
        Assert.True(MaxError(values, i => (2 * updates[0][i] + updates[1][i]) / 3) > 1);
        Assert.True(MaxError(values, i => updates[0][i] / 3) > 1);
    }

    [Fact]
    public void A_colluder_cannot_pick_its_key_share_after_seeing_the_others_so_no_round_key_is_of_the_aggregators_making()
    {
        // The attack on the earlier key check, where members compared fingerprints instead of summing the shares: the colluder
        // signed the fingerprint that made a key of the aggregator's making add up. The aggregator then decrypted each round's
        // honest sum with no honest share, so no member recorded the basis as opened, and dropout "retries" over {0, 1},
        // {1, 2} and {0, 2} (each with the colluder) gave every update (VerifiedAggregation.md, section 2). Here the share it
        // would need, p_rogue − the others' shares, can only be picked once the others are revealed, and by then its own is
        // committed.
        var harness = new RoundHarness(4);
        var colluder = harness[3];
        var members = new[] { harness[0], harness[1], colluder };
        var aggregator = harness.RevealedRound(1, members);
        var honest = aggregator.KeyCheckRequest(RoundHarness.Plan);
        var (rogue, secret) = AdaptiveShare(honest, 2);
        AssertTheKeyWouldDecryptWith(honest, 2, rogue, secret);
        List<byte[]> shares = [honest.PublicShares[0], honest.PublicShares[1], rogue];

        // In its place under its statement, it is not the share the statement names...
        foreach (var p in members.Take(2))
            Assert.Contains("the public key share of XX/party-3 is not the one its statement names",
                Assert.Throws<RoundRefusedException>(() => p.Round.CheckKey(honest with { PublicShares = shares })).Message);
        // ...and under a new statement the colluder signs, the statement is not the one it committed to before the others revealed.
        var statement = honest.Statements[2].Payload;
        byte[] renamed = [.. statement[..32], .. SHA256.HashData(rogue), .. statement[64..]];
        List<SignedMessage> statements = [honest.Statements[0], honest.Statements[1], colluder.Sign(RoundPurpose.KeyStatement, RoundHarness.JobId, 1, renamed)];
        foreach (var p in members.Take(2))
            Assert.Contains("not the ones whose commitments it saw before it revealed its own",
                Assert.Throws<RoundRefusedException>(() => p.Round.CheckKey(honest with { Statements = statements, PublicShares = shares })).Message);
        // Nor can it commit late: a member reveals only against every member's commitment.
        var next = harness.Aggregator(2, members);
        var early = members.Take(2).Select(p => p.Round.Commit(next.KeyRequest())).ToList();
        Assert.Contains("missing from XX/party-3",
            Assert.Throws<RoundRefusedException>(() => harness[0].Round.Reveal(new KeyRevealRequest(RoundHarness.JobId, 2, early))).Message);
        Assert.All(harness.Parties.Take(3), p => Assert.Empty(p.Opened));
    }

    /// <summary>The share that makes the round key the attacker's, in member <paramref name="index"/>'s place; and that key's secret.</summary>
    private static (byte[] Share, long[] Secret) AdaptiveShare(KeyCheckRequest honest, int index)
    {
        var (share, target, secrets) = CkksAttackTools.RogueShare(RoundHarness.Parameters, honest.PublicShares.Where((_, i) => i != index));
        return (share, RoundHarness.SecretOf(target, secrets));
    }

    /// <summary>The attack's premise: had the members summed <paramref name="share"/> in, the key would decrypt with <paramref name="secret"/>.</summary>
    private static void AssertTheKeyWouldDecryptWith(KeyCheckRequest honest, int index, byte[] share, long[] secret)
    {
        var key = CollectivePublicKey.Combine(honest.PublicShares.Select((s, i) => PublicKeyShare.FromBytes(i == index ? share : s, RoundHarness.Parameters)));
        var values = Enumerable.Range(0, Length).Select(i => Math.Sin(i)).ToArray();
        Assert.True(MaxError(RoundHarness.DecryptWithSecret(EncryptedVector.Encrypt(key, values, 4), secret), i => values[i]) < 1e-6);
    }

    // ---- Helpers ---------------------------------------------------------------------------------------------

    private static void AssertEveryoneRefuses(RoundHarness harness, AggregateCheckRequest forged)
    {
        var fingerprints = harness.Parties.Select(p => p.Round.CheckAggregate(forged)).ToList();
        foreach (var p in harness.Parties)
        {
            var refused = Assert.Throws<RoundRefusedException>(() => p.Round.Decrypt(new DecryptRequest(RoundHarness.JobId, 1, fingerprints)));
            Assert.Equal(RoundRefusal.AggregateRefused, refused.Code);
            Assert.Contains("not the sum of the members' updates", refused.Message);
            Assert.NotNull(p.Round.Record!.Secret); // nothing given, nothing spent
        }
    }

    /// <summary>The sealed update the aggregator received from party <paramref name="index"/>.</summary>
    private static byte[] Sealed(RoundHarness harness, AggregatorRound aggregator, int index) =>
        harness.SealedUpdates[(aggregator.Round, harness[index].Id)];

    private static ulong[] PointsOf(CiphertextMasks masks, byte[] challenge)
    {
        // The points are not exposed: recover them from fingerprints of unit vectors (F(e_{D−2}) = y, for each point).
        int start = WireFormat.HeaderLength + 36;
        var unit = masks.ToBytes();
        Array.Clear(unit, start, unit.Length - start);
        int bitOffset = (N - 2) * RoundHarness.Parameters.WireModulusBits;
        unit[start + bitOffset / 8] |= (byte)(1 << (bitOffset % 8));
        var bytes = LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(unit, RoundHarness.Parameters), challenge).ToBytes();
        return Enumerable.Range(0, LinearFingerprint.Points).Select(i => BitConverter.ToUInt64(bytes, bytes.Length - 8 * (LinearFingerprint.Points - i))).ToArray();
    }

    /// <summary>Masks with every coefficient of the (single) ciphertext mapped by <paramref name="map"/>.</summary>
    private static byte[] ShiftCoefficients(CiphertextMasks masks, Func<int, ulong, ulong> map)
    {
        var c1 = new ulong[N];
        masks.ReadC1(0, c1);
        for (int k = 0; k < N; k++)
            c1[k] = map(k, c1[k]);
        var bytes = masks.ToBytes();
        var packed = new byte[BitPacking.PackedLength(N, RoundHarness.Parameters.WireModulusBits)];
        BitPacking.Pack(c1, RoundHarness.Parameters.WireModulusBits, packed);
        packed.CopyTo(bytes, WireFormat.HeaderLength + 36);
        return bytes;
    }

    /// <summary>The colluder's pairwise masks for the round (it knows its masking key and its neighbours' public keys).</summary>
    private static ulong[] MasksOf(RoundHarness harness, AggregatorRound aggregator, Party colluder, CollectivePublicKey? key = null)
    {
        var check = aggregator.KeyCheckRequest(RoundHarness.Plan);
        var statements = check.Statements.ToDictionary(s => s.ParticipantId, s => s.Payload);
        var setDigest = RoundChallenges.SetDigest(RoundHarness.JobId, aggregator.Round, aggregator.Participants);
        var context = RoundChallenges.MaskingContext(setDigest, (key ?? aggregator.RoundKey).KeyId.ToArray(), RoundChallenges.StatementsDigest(aggregator.Participants, statements));
        using var own = MaskingKeyPair.Import(colluder.Round.Record!.MaskingKey!);
        var neighbours = statements.Where(s => s.Key != colluder.Id).Select(s => (s.Key, s.Value[64..])).ToList();
        using var masks = PairwiseMasks.Derive(RoundHarness.Parameters, own, colluder.Id, neighbours, context);
        var polynomial = new ulong[N];
        masks.AddTo(polynomial);
        return polynomial;
    }

    private static ulong[] ShareOf(Party party, CollectivePublicKey key, byte[] masks)
    {
        var share = new ulong[N];
        SecretKeyShare.FromBytes(party.Round.Record!.Secret!, RoundHarness.Parameters).CreateDecryptionShare(key, CiphertextMasks.FromBytes(masks, RoundHarness.Parameters)).ReadChunk(0, share);
        return share;
    }

    /// <summary>
    /// Steps 6–6b for the honest members, the colluder committing to anything: each one's revealed part c0ᵢ + hᵢ, all the
    /// aggregator gets of its c0.
    /// </summary>
    private static List<byte[]> HonestParts(IReadOnlyList<Party> honest, Party colluder, DecryptRequest decrypt)
    {
        var commitments = honest.Select(p => p.Round.Decrypt(decrypt)).Append(colluder.Sign(RoundPurpose.PartCommitment, RoundHarness.JobId, decrypt.Round, new byte[64])).ToList();
        var reveal = new PartRevealRequest(RoundHarness.JobId, decrypt.Round, commitments);
        return [.. honest.Select(p => p.Round.RevealPart(reveal).Payload)];
    }

    /// <summary>The members' key shares as their records hold them until step 6 erases them (only a test can read them).</summary>
    private static List<SecretKeyShare> SecretsBeforeStep6(IEnumerable<Party> parties) =>
        [.. parties.Select(p => SecretKeyShare.FromBytes(p.Round.Record!.Secret!, RoundHarness.Parameters))];

    private static ulong[] First(byte[] part) => CkksAttackTools.FirstPolynomial(RoundHarness.Parameters, part);

    private static ulong[] Sum(IEnumerable<ulong[]> polynomials) => CkksAttackTools.Sum(RoundHarness.Parameters, polynomials);

    private static byte[] Sent(byte[] sealedUpdate) => CkksAttackTools.Sent(RoundHarness.Parameters, sealedUpdate);

    /// <summary>The scale every update of the harness's scheme (bound 4) is sealed at.</summary>
    private static double Scale => RoundHarness.Parameters.ScaleForBound(4);

    private static double[] Decode(ulong[] raw, double scale)
    {
        var values = new double[Length + 1];
        RoundHarness.Parameters.Context.Encoder.Decode(raw, Q0, scale, values);
        return values;
    }


    private static double MaxError(double[] values, Func<int, double> expected) =>
        Enumerable.Range(0, Length).Max(i => Math.Abs(values[i] - expected(i)));
}
