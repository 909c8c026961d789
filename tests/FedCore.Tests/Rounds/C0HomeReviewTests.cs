using System.Reflection;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Wire;
using FedCore.Rounds;
using Federation.Tests.Shared;

namespace FedCore.Tests.Rounds;

/// <summary>
/// Review of 0dace46 ("a member's c0 never leaves it"; branch review/c0home). Parties 0 and 1 are honest, party 2 colludes
/// with the aggregator. The colluder never makes a c0 at all: it sends masks of its choosing (zeros) and signs whatever
/// fingerprints and part commitments the aggregator needs. What the attacker computes uses only what it holds: the masks,
/// the honest parts, the colluder's own key share and pairwise pads. The true c0 of an honest member is read by reflection
/// from the member's working memory only to compare against (ground truth, not the attacker's knowledge).
/// </summary>
public class C0HomeReviewTests
{
    private static readonly CkksParameters P = RoundHarness.Parameters;
    private static readonly Modulus Q0 = P.Context.WireModulus;
    private const int N = 4096;
    private const int Length = 6000; // + the weight: two ciphertexts
    private const int Chunks = 2;
    private static readonly ulong T = Q0.Value / 7;
    private static double Scale => P.ScaleForBound(4);

    // ---- Claim 2: "even knowing s, the aggregator holds no honest ciphertext to decrypt" ---------------------------

    [Fact]
    public void Known_limit_a_colluders_lie_over_an_aggregate_zero_in_one_ciphertext_and_shifted_by_a_constant_in_another_hands_the_aggregator_every_honest_c0_and_the_round_secret_but_the_pads_still_hide_each_update()
    {
        // The forged aggregate shown to every honest member: ciphertext 0 is the honest aggregate plus the constant T, ciphertext
        // 1 is zero. Both pass step 5 (only key, length and the flooding budget are checked) and step 6 with the colluder's
        // lie. Ciphertext 0 of the opening gives the honest members' secret s_H (so s = s_H + s_c); ciphertext 1 of each part
        // IS that member's c0 (plus its flooding noise): the honest ciphertext the docs say the aggregator never holds.
        var round = SealedRound();
        var agg = Polynomials(round.Check.AggregateMasks);
        var forged = MasksFrom(round.Check.AggregateMasks, [AddConstant(agg[0], T), new ulong[N]]);
        var fingerprints = round.Honest.Select(p => p.Round.CheckAggregate(round.Check with { AggregateMasks = forged })).ToList();
        fingerprints.Add(Lie(round, forged, fingerprints));
        var parts = Reveal(round, [fingerprints, fingerprints]);

        // Ciphertext 0: X = P₀ + P₁ + (colluder's pads) + s_c·agg = Δ·w·(m₀ + m₁) + s_H·T + noise.
        var x0 = OpenedLessColluder(round, parts, 0);
        var sH = x0.Select(c => (long)Math.Round((double)Q0.ToCentered(c) / T)).ToArray();
        Assert.Equal(RoundHarness.SecretOf(round.Key, round.HonestSecrets), sH);
        var s = sH.Zip(RoundHarness.SecretOf(round.Key, [round.ColluderSecret])).Select(z => z.First + z.Second).ToArray();

        // Ciphertext 1: each part is its member's c0, up to the member's flooding noise (a uniform value would be ~q₀/4 off).
        for (int i = 0; i < 2; i++)
            AssertCloseToTrueC0(parts[i][1], round.TrueC0[i][1], $"member {i}'s part of ciphertext 1");

        // With s and c0ᵢ it decrypts each honest ciphertext whole: Δ·w·mᵢ + padᵢ. The pads are what still protect.
        AssertOnlyTheHonestSumComesOut(round, s, [.. parts.Select(p => p[1])], chunk: 1);
    }

    [Fact]
    public void An_aggregator_cannot_show_each_honest_member_its_own_aggregate_so_no_opening_gives_one_members_key_share()
    {
        // The review's attack (branch review/c0home): step 5 asked again with other masks, so that each honest member's
        // fingerprint exists at the other's challenge: member 0 shown M₀ = agg + (T, 0), member 1 shown M₁ = agg + (0, T).
        // Both would commit (the colluder lying at both challenges), and the opening would give T·s₀ in ciphertext 0 and
        // T·s₁ in ciphertext 1: each honest key share alone, and with it each member's c0. A member now checks one aggregate
        // a round: asked again with another, it refuses.
        var round = SealedRound();
        var agg = Polynomials(round.Check.AggregateMasks);
        byte[][] shown = [MasksFrom(round.Check.AggregateMasks, [AddConstant(agg[0], T), agg[1]]), MasksFrom(round.Check.AggregateMasks, [agg[0], AddConstant(agg[1], T)])];
        var own = new[] { Check(0, 0), Check(1, 1) };
        foreach (var (member, other) in new[] { (0, 1), (1, 0) })
        {
            var refused = Assert.Throws<RoundRefusedException>(() => Check(member, other));
            Assert.Equal(RoundRefusal.AggregateRefused, refused.Code);
            Assert.Contains("it already checked another aggregate", refused.Message);
        }
        // Shown one each, at their first ask: neither finds the other's fingerprint at its own challenge, and neither
        // commits, whatever the colluder signs.
        List<SignedMessage> at0 = [own[0], own[1]], at1 = [own[0], own[1]];
        at0.Add(Lie(round, shown[0], at0));
        at1.Add(Lie(round, shown[1], at1));
        Assert.Throws<RoundRefusedException>(() => round.Honest[0].Round.Decrypt(new DecryptRequest(RoundHarness.JobId, 1, at0)));
        Assert.Throws<RoundRefusedException>(() => round.Honest[1].Round.Decrypt(new DecryptRequest(RoundHarness.JobId, 1, at1)));
        Assert.All(round.Honest, p => Assert.NotNull(p.Round.Record!.Secret)); // nothing given

        SignedMessage Check(int member, int shownIndex) => round.Honest[member].Round.CheckAggregate(round.Check with { AggregateMasks = shown[shownIndex] });
    }

    [Fact]
    public void Across_a_dropout_retry_the_same_update_resealed_under_a_new_key_carries_fresh_pads_so_even_both_c0s_and_both_secrets_give_nothing()
    {
        // The worst case of the attacks above, twice: the attacker holds c0 and s of one update in round 1 (abandoned before
        // step 6) and in its retry, round 2. Each decrypts to Δ·w·m + pad_r; if the retry reused its pads, the difference
        // would be small (0 up to noise). It is uniform: the masking context names the round, key and statements.
        var harness = new RoundHarness(3);
        var updates = RoundHarness.Updates(3, Length);
        var decrypted = new List<ulong[]>();
        for (int r = 1; r <= 2; r++)
        {
            var aggregator = harness.SealedRound(r, updates);
            var s = RoundHarness.CollectiveSecret(aggregator.RoundKey, harness.Parties.Select(p => p.Round.Record!));
            var plain = MultiplyBySecret(s, Polynomials(harness.SealedUpdates[(r, harness[0].Id)])[0]);
            var c0 = TrueC0Of(harness[0])[0];
            decrypted.Add([.. plain.Select((c, j) => Q0.Add(c, c0[j]))]);
            Assert.True(Decode(decrypted[^1]).Take(N).Select((v, j) => Math.Abs(v - updates[0][j] / 3)).Max() > 1, $"round {r} gave the update alone");
        }
        var difference = decrypted[0].Zip(decrypted[1]).Select(z => Math.Abs((double)Q0.ToCentered(Q0.Subtract(z.First, z.Second)))).ToArray();
        Assert.True(difference.Count(d => d > Q0.Value / 8.0) > N / 3, "the retry's pads are the first round's");
    }

    // ---- Claim 3: what the aggregator no longer sees (a colluder's c0 and scale) --------------------------------------

    [Fact]
    public void A_colluders_part_at_another_scale_or_its_masks_of_another_length_are_refused_in_its_own_name_and_the_honest_round_goes_on()
    {
        // Masks of one ciphertext more than the honest members' (which came first): refused, naming the colluder.
        var updates = RoundHarness.Updates(3, Length);
        var spoilt = new RoundHarness(3);
        var first = spoilt.KeyedRound(1);
        var sealRequest = first.SealRequest();
        for (int i = 0; i < 2; i++)
        {
            spoilt[i].Round.PrepareSeal(sealRequest, RoundHarness.Plan, RoundHarness.BasisFor(1));
            first.AcceptSealed(spoilt[i].Round.Seal(1, updates[i], 1.0 / 3));
        }
        var longer = CkksAttackTools.Sent(P, RoundHarness.CraftCiphertext(first.RoundKey, Length + 1 + N, 4, (_, _) => 0, (_, _) => 0));
        var refused = Assert.Throws<RoundRefusedException>(() => first.AcceptSealed(new Sealed(longer, spoilt[2].Sign(RoundPurpose.Update, RoundHarness.JobId, 1, RoundHarness.Sha256(longer)))));
        Assert.Contains("XX/party-2", refused.Message);
        Assert.Equal(RoundRefusal.Rejected, refused.Code);

        var harness = new RoundHarness(3);
        var colluder = harness[2];
        var aggregator = harness.SealedRound(1, updates);
        // Steps 5–6 honest; the colluder reveals a part at twice the scale, committed to honestly (the root covers coefficients only).
        var reveal = RoundHarness.Committed(aggregator, harness.Parties);
        var parts = harness.Parties.Select(p => p.Round.RevealPart(reveal)).ToList();
        byte[] doubled = parts[2].Payload.ToArray();
        int scaleAt = WireFormat.HeaderLength + 36;
        BitConverter.GetBytes(2 * BitConverter.ToDouble(doubled, scaleAt)).CopyTo(doubled, scaleAt);
        Assert.Equal(OpeningSpotCheck.Tree(OpenedPlaintext.FromBytes(doubled, P)).Root, OpeningSpotCheck.Tree(OpenedPlaintext.FromBytes(parts[2].Payload, P)).Root);
        var refusedPart = Assert.Throws<RoundRefusedException>(() => aggregator.AcceptPart(colluder.Sign(RoundPurpose.OpeningPart, RoundHarness.JobId, 1, doubled)));
        Assert.Contains("XX/party-2", refusedPart.Message);
        Assert.Contains("scale", refusedPart.Message);
        // The honest parts are taken after it.
        aggregator.AcceptPart(parts[0]);
        aggregator.AcceptPart(parts[1]);
    }

    // ---- The round and what the attacker does -----------------------------------------------------------------------

    private sealed record Round(RoundHarness Harness, AggregatorRound Aggregator, CollectivePublicKey Key, float[][] Updates, List<Party> Honest, Party Colluder,
        ulong[][] ColluderPads, SecretKeyShare ColluderSecret, List<SecretKeyShare> HonestSecrets, List<ulong[][]> HonestMasks, List<ulong[][]> TrueC0,
        AggregateCheckRequest Check);

    /// <summary>Steps 1–4: the honest members seal honestly; the colluder sends zero masks and keeps its pads and key share.</summary>
    private static Round SealedRound()
    {
        var harness = new RoundHarness(3);
        var updates = RoundHarness.Updates(3, Length);
        var aggregator = harness.KeyedRound(1);
        var colluder = harness[2];
        var pads = ColluderPads(aggregator, colluder);
        var sealRequest = aggregator.SealRequest();
        var honest = harness.Parties.Take(2).ToList();
        var secrets = honest.Select(p => SecretKeyShare.FromBytes(p.Round.Record!.Secret!, P)).ToList();
        var masks = new List<ulong[][]>();
        var truth = new List<ulong[][]>();
        foreach (var p in honest)
        {
            p.Round.PrepareSeal(sealRequest, RoundHarness.Plan, RoundHarness.BasisFor(1));
            var mine = p.Round.Seal(1, updates[honest.IndexOf(p)], 1.0 / 3);
            aggregator.AcceptSealed(mine);
            masks.Add(Polynomials(mine.SealedUpdate));
            truth.Add(TrueC0Of(p));
        }
        var colluders = CkksAttackTools.Sent(P, RoundHarness.CraftCiphertext(aggregator.RoundKey, Length + 1, 4, (_, _) => 0, (_, _) => 0));
        aggregator.AcceptSealed(new Sealed(colluders, colluder.Sign(RoundPurpose.Update, RoundHarness.JobId, 1, RoundHarness.Sha256(colluders))));
        return new Round(harness, aggregator, aggregator.RoundKey, updates, honest, colluder, pads, SecretKeyShare.FromBytes(colluder.Round.Record!.Secret!, P),
            secrets, masks, truth, aggregator.AggregateCheckRequest());
    }

    /// <summary>The fingerprint the colluder signs so that the given ones add up to the fingerprint of <paramref name="shown"/>.</summary>
    private static SignedMessage Lie(Round round, byte[] shown, IReadOnlyList<SignedMessage> honest)
    {
        var challenge = LinearFingerprint.FromBytes(honest[0].Payload, P).Challenge.ToArray();
        var target = CkksAttackTools.FingerprintLie(LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(shown, P), challenge),
            honest.Select(f => LinearFingerprint.FromBytes(f.Payload, P)));
        return round.Colluder.Sign(RoundPurpose.AggregateFingerprint, RoundHarness.JobId, 1, target);
    }

    /// <summary>Steps 6–6b: each honest member commits with its list of fingerprints, the colluder to anything; the honest parts, per ciphertext.</summary>
    private static List<ulong[][]> Reveal(Round round, IReadOnlyList<List<SignedMessage>> fingerprints)
    {
        var commitments = round.Honest.Select((p, i) => p.Round.Decrypt(new DecryptRequest(RoundHarness.JobId, 1, fingerprints[i])))
            .Append(round.Colluder.Sign(RoundPurpose.PartCommitment, RoundHarness.JobId, 1, new byte[64])).ToList();
        var reveal = new PartRevealRequest(RoundHarness.JobId, 1, commitments);
        return [.. round.Honest.Select(p =>
        {
            var part = OpenedPlaintext.FromBytes(p.Round.RevealPart(reveal).Payload, P);
            return Enumerable.Range(0, part.ChunkCount).Select(k => { var c = new ulong[N]; part.ReadChunk(k, c); return c; }).ToArray();
        })];
    }

    /// <summary>P₀ + P₁ + the colluder's pads + s_c·agg in ciphertext <paramref name="k"/>: what the honest parts open to, less what the colluder knows.</summary>
    private static ulong[] OpenedLessColluder(Round round, List<ulong[][]> parts, int k)
    {
        var share = round.ColluderSecret.PartialDecryptionWithoutFlooding(CiphertextMasks.FromBytes(round.Check.AggregateMasks, P), k);
        return CkksAttackTools.Sum(P, [parts[0][k], parts[1][k], round.ColluderPads[k], share]);
    }

    private static void AssertCloseToTrueC0(ulong[] recovered, ulong[] truth, string what)
    {
        double worst = recovered.Zip(truth).Max(z => Math.Abs((double)Q0.ToCentered(Q0.Subtract(z.First, z.Second))));
        Assert.True(worst < Q0.Value / 1024.0, $"{what} is {worst:E3} from the true c0 (q₀ = {Q0.Value:E3})");
        Assert.True(worst < Scale, $"{what}: the difference {worst:E3} is below the scale {Scale:E3}");
    }

    /// <summary>Each recovered honest ciphertext decrypts under s to its update plus its pad (garbage); both together to the honest sum.</summary>
    private static void AssertOnlyTheHonestSumComesOut(Round round, long[] s, IReadOnlyList<ulong[]> c0, int chunk)
    {
        int start = chunk * N, count = Length - start;
        var alone = new List<ulong[]>();
        for (int i = 0; i < 2; i++)
        {
            var plain = MultiplyBySecret(s, round.HonestMasks[i][chunk]);
            for (int j = 0; j < N; j++)
                plain[j] = Q0.Add(plain[j], c0[i][j]);
            alone.Add(plain);
            var values = Decode(plain);
            Assert.True(Enumerable.Range(0, count).Max(j => Math.Abs(values[j] - round.Updates[i][start + j] / 3)) > 1, $"member {i}'s update came out alone");
        }
        var sum = Decode(CkksAttackTools.Sum(P, [alone[0], alone[1], round.ColluderPads[chunk]]));
        Assert.True(Enumerable.Range(0, count).Max(j => Math.Abs(sum[j] - (round.Updates[0][start + j] + round.Updates[1][start + j]) / 3)) < 1e-6,
            "these are the right c0s: together they decrypt to the honest sum");
    }

    private static double[] Decode(ulong[] raw)
    {
        var values = new double[N];
        P.Context.Encoder.Decode(raw, Q0, Scale, values);
        return values;
    }

    private static ulong[] MultiplyBySecret(long[] secret, ulong[] a) => CkksAttackTools.MultiplyBySecret(P, secret, a);

    private static ulong[] AddConstant(ulong[] polynomial, ulong t)
    {
        var copy = (ulong[])polynomial.Clone();
        copy[0] = Q0.Add(copy[0], t);
        return copy;
    }

    private static ulong[][] Polynomials(byte[] masks)
    {
        var parsed = CiphertextMasks.FromBytes(masks, P);
        return [.. Enumerable.Range(0, parsed.ChunkCount).Select(k => { var c = new ulong[N]; parsed.ReadC1(k, c); return c; })];
    }

    private static byte[] MasksFrom(byte[] shape, ulong[][] polynomials) =>
        CiphertextMasks.FromPolynomials(CiphertextMasks.FromBytes(shape, P), polynomials.SelectMany(p => p).ToArray()).ToBytes();

    /// <summary>Ground truth only: the c0 halves of the member's sealed update, from its working memory (never sent).</summary>
    private static ulong[][] TrueC0Of(Party member)
    {
        var memory = typeof(ParticipantRound).GetField("_memory", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(member.Round)!;
        var sealedUpdate = (EncryptedVector)memory.GetType().GetField("SealedUpdate")!.GetValue(memory)!;
        return [.. Enumerable.Range(0, sealedUpdate.ChunkCount).Select(k => { var c = new ulong[N]; sealedUpdate.ReadC0(k, c); return c; })];
    }

    /// <summary>The colluder's pairwise pads for the round, per ciphertext (it knows its masking key and its neighbours' public keys).</summary>
    private static ulong[][] ColluderPads(AggregatorRound aggregator, Party colluder)
    {
        var check = aggregator.KeyCheckRequest(RoundHarness.Plan);
        var statements = check.Statements.ToDictionary(s => s.ParticipantId, s => s.Payload);
        var setDigest = RoundChallenges.SetDigest(RoundHarness.JobId, aggregator.Round, aggregator.Participants);
        var context = RoundChallenges.MaskingContext(setDigest, aggregator.RoundKey.KeyId.ToArray(), RoundChallenges.StatementsDigest(aggregator.Participants, statements));
        using var own = MaskingKeyPair.Import(colluder.Round.Record!.MaskingKey!);
        var neighbours = statements.Where(s => s.Key != colluder.Id).Select(s => (s.Key, s.Value[64..])).ToList();
        using var masks = PairwiseMasks.Derive(P, own, colluder.Id, neighbours, context);
        return [.. Enumerable.Range(0, Chunks).Select(_ => { var p = new ulong[N]; masks.AddTo(p); return p; })];
    }
}
