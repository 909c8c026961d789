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
        var victimsMasks = CiphertextMasks.Of(EncryptedVector.FromBytes(Sealed(harness, aggregator, 0), RoundHarness.Parameters)).ToBytes();
        AssertEveryoneRefuses(harness, honest with { AggregateMasks = victimsMasks });
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

        // And a constant in place of the masks, the start of the attack that read the round's secret from the shares.
        AssertEveryoneRefuses(harness, honest with { AggregateMasks = ShiftCoefficients(masks, (k, _) => k == 0 ? Q0.Value / 7 : 0) });
    }

    [Fact]
    public void The_aggregator_alone_cannot_hand_out_a_round_key_whose_secret_it_knows()
    {
        var harness = new RoundHarness(3);
        var aggregator = harness.RevealedRound(1);
        var honest = aggregator.KeyCheckRequest(RoundHarness.Plan);

        // Its own key over the round's CRS seed, with the honest members' share ids written in: only p differs.
        var crs = CollectivePublicKey.FromBytes(honest.RoundKey, RoundHarness.Parameters).CrsSeed.ToArray();
        var own = CollectivePublicKey.Combine(Enumerable.Range(0, 3).Select(_ => SecretKeyShare.Generate(RoundHarness.Parameters, crs).PublicKeyShare)).ToBytes();
        int pLength = own.Length - (WireFormat.HeaderLength + 32 + 4 + 3 * 16);
        byte[] forgedKey = [.. honest.RoundKey[..^pLength], .. own[^pLength..]];
        var forged = honest with { RoundKey = forgedKey };
        var fingerprints = harness.Parties.Select(p => p.Round.CheckKey(forged)).ToList(); // the share ids pass...
        foreach (var p in harness.Parties)
        {
            var refused = Assert.Throws<RoundRefusedException>(() => p.Round.PrepareSeal(new SealRequest(RoundHarness.JobId, 1, fingerprints), RoundHarness.Plan, RoundHarness.BasisFor(1)));
            Assert.Contains("not the sum of the members' key shares", refused.Message); // ...the fingerprints do not
        }
        // A key of other shares altogether fails earlier, on its share ids.
        Assert.Contains("not exactly the members'", Assert.Throws<RoundRefusedException>(() => harness[0].Round.CheckKey(honest with { RoundKey = own })).Message);
    }

    // ---- The aggregator with a colluding participant ---------------------------------------------------------

    [Fact]
    public void A_colluder_sending_a_ciphertext_of_chosen_structure_exposes_the_round_secret_but_no_single_honest_update()
    {
        // The colluder plays the key steps honestly, then sends c1 = t ≈ q0/7 (the constant polynomial) and c0 = its own masks, and
        // fingerprints that honestly: every check passes. The opened sum is Δ·(honest updates) + t·s: the aggregator
        // reads the round's whole secret s off it, and with s decrypts any ciphertext alone.
        var harness = new RoundHarness(3);
        var updates = RoundHarness.Updates(3, Length);
        var aggregator = harness.KeyedRound(1);
        var colluder = harness[2];
        var key = aggregator.RoundKey;
        var colludersMasks = MasksOf(harness, aggregator, colluder);
        ulong t = Q0.Value / 7;
        var crafted = RoundHarness.CraftCiphertext(key, Length + 1, 4, (_, j) => colludersMasks[j], (_, j) => j == 0 ? t : 0);
        var sealRequest = aggregator.SealRequest();
        var honestSealed = new List<byte[]>();
        for (int i = 0; i < 2; i++)
        {
            harness[i].Round.PrepareSeal(sealRequest, RoundHarness.Plan, RoundHarness.BasisFor(1));
            var s = harness[i].Round.Seal(1, updates[i], 1.0 / 3);
            honestSealed.Add(s.SealedUpdate);
            aggregator.AcceptSealed(s);
        }
        aggregator.AcceptSealed(new Sealed(crafted, colluder.Sign(RoundPurpose.Update, RoundHarness.JobId, 1, RoundHarness.Sha256(crafted))));
        var trueSecret = RoundHarness.CollectiveSecret(key, harness.Parties.Select(p => p.Round.Record!));

        var check = aggregator.AggregateCheckRequest();
        var fingerprints = harness.Parties.Take(2).Select(p => p.Round.CheckAggregate(check)).ToList();
        var challenge = LinearFingerprint.FromBytes(fingerprints[0].Payload, RoundHarness.Parameters).Challenge.ToArray();
        fingerprints.Add(colluder.Sign(RoundPurpose.AggregateFingerprint, RoundHarness.JobId, 1,
            LinearFingerprint.OfMasks(EncryptedVector.FromBytes(crafted, RoundHarness.Parameters), challenge).ToBytes()));
        var decrypt = new DecryptRequest(RoundHarness.JobId, 1, fingerprints);
        var shares = harness.Parties.Take(2).Select(p => DecryptionShare.FromBytes(p.Round.Decrypt(decrypt).Payload, RoundHarness.Parameters)).ToList();
        shares.Add(ShareOf(colluder, key, check.AggregateMasks)); // the colluder's own share, from its own secret

        // The attack works on the encryption: the round's secret, coefficient by coefficient.
        var opened = RawSum([.. honestSealed, crafted], shares);
        var recovered = opened.Select(c => (long)Math.Round((double)Q0.ToCentered(c) / t)).ToArray();
        Assert.Equal(trueSecret, recovered);

        // It gets the sum of the honest updates (the colluder knows its own masks, the negation of theirs)...
        var honestSum = RoundHarness.DecryptWithSecret(EncryptedVector.Sum(honestSealed.Select(b => EncryptedVector.FromBytes(b, RoundHarness.Parameters))),
            recovered, colludersMasks.Select(m => Q0.Negate(m)).ToArray());
        Assert.True(MaxError(honestSum, i => (updates[0][i] + updates[1][i]) / 3) < 1e-6);
        // ...but an honest update alone decrypts to its one-time pad.
        var alone = RoundHarness.DecryptWithSecret(EncryptedVector.FromBytes(honestSealed[0], RoundHarness.Parameters), recovered);
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
        var victims = Sealed(harness, aggregator, 0);
        var victimsMasks = CiphertextMasks.Of(EncryptedVector.FromBytes(victims, RoundHarness.Parameters)).ToBytes();
        var forged = honest with { AggregateMasks = victimsMasks };

        var fingerprints = harness.Parties.Take(2).Select(p => p.Round.CheckAggregate(forged)).ToList();
        var challenge = LinearFingerprint.FromBytes(fingerprints[0].Payload, RoundHarness.Parameters).Challenge.ToArray();
        var target = LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(victimsMasks, RoundHarness.Parameters), challenge);
        var lie = Difference(target, fingerprints.Select(f => LinearFingerprint.FromBytes(f.Payload, RoundHarness.Parameters)));
        fingerprints.Add(harness[2].Sign(RoundPurpose.AggregateFingerprint, RoundHarness.JobId, 1, lie));
        var decrypt = new DecryptRequest(RoundHarness.JobId, 1, fingerprints);
        var shares = harness.Parties.Take(2).Select(p => DecryptionShare.FromBytes(p.Round.Decrypt(decrypt).Payload, RoundHarness.Parameters)).ToList();
        shares.Add(ShareOf(harness[2], aggregator.RoundKey, victimsMasks));

        var decrypted = RawSum([victims], shares);
        var values = Decode(decrypted, EncryptedVector.FromBytes(victims, RoundHarness.Parameters).Scale);
        Assert.True(MaxError(values, i => updates[0][i] / 3) > 1, "the victim's update alone stays masked");
    }

    [Fact]
    public void A_colluder_replaying_an_honest_update_rerandomised_learns_nothing_of_it()
    {
        // The copy check sees different bytes; the sum now holds the victim's update twice, and its masks once too often.
        var harness = new RoundHarness(3);
        var updates = RoundHarness.Updates(3, Length);
        var aggregator = harness.KeyedRound(1);
        var sealRequest = aggregator.SealRequest();
        var sealedUpdates = new List<byte[]>();
        for (int i = 0; i < 2; i++)
        {
            harness[i].Round.PrepareSeal(sealRequest, RoundHarness.Plan, RoundHarness.BasisFor(1));
            var s = harness[i].Round.Seal(1, updates[i], 1.0 / 3);
            sealedUpdates.Add(s.SealedUpdate);
            aggregator.AcceptSealed(s);
        }
        var victim = EncryptedVector.FromBytes(sealedUpdates[0], RoundHarness.Parameters);
        var replay = victim.Add(EncryptedVector.Encrypt(aggregator.RoundKey, new double[Length + 1], 4)).ToBytes();
        aggregator.AcceptSealed(new Sealed(replay, harness[2].Sign(RoundPurpose.Update, RoundHarness.JobId, 1, RoundHarness.Sha256(replay))));
        sealedUpdates.Add(replay);

        var check = aggregator.AggregateCheckRequest();
        var fingerprints = harness.Parties.Take(2).Select(p => p.Round.CheckAggregate(check)).ToList();
        var challenge = LinearFingerprint.FromBytes(fingerprints[0].Payload, RoundHarness.Parameters).Challenge.ToArray();
        fingerprints.Add(harness[2].Sign(RoundPurpose.AggregateFingerprint, RoundHarness.JobId, 1, LinearFingerprint.OfMasks(EncryptedVector.FromBytes(replay, RoundHarness.Parameters), challenge).ToBytes()));
        var decrypt = new DecryptRequest(RoundHarness.JobId, 1, fingerprints);
        var shares = harness.Parties.Take(2).Select(p => DecryptionShare.FromBytes(p.Round.Decrypt(decrypt).Payload, RoundHarness.Parameters)).ToList();
        shares.Add(ShareOf(harness[2], aggregator.RoundKey, check.AggregateMasks));

        var values = Decode(RawSum(sealedUpdates, shares), victim.Scale);
        Assert.True(MaxError(values, i => (2 * updates[0][i] + updates[1][i]) / 3) > 1);
        Assert.True(MaxError(values, i => updates[0][i] / 3) > 1);
    }

    [Fact]
    public void Known_limit_with_one_colluder_dropout_retries_from_one_basis_give_every_honest_update()
    {
        // Asserts that the attack SUCCEEDS (VerifiedAggregation.md, section 2, "Across a dropout retry"): it is to fail, and
        // this test to be turned round, once a retry no longer reseals. The colluder's false key fingerprint makes a key of
        // the aggregator's making pass; it decrypts each round's honest sum with no honest share, so no honest member records
        // the basis as opened, and "retries" over {0, 1}, {1, 2}, {0, 2} (each with the colluder) give every update.
        var harness = new RoundHarness(4);
        var colluder = harness[3];
        var updates = RoundHarness.Updates(3, Length, seed: 21);
        var plan = RoundHarness.Plan;
        double[] HonestSum(int round, int a, int b)
        {
            var members = new[] { harness[a], harness[b], colluder };
            var aggregator = harness.RevealedRound(round, members);
            var honestCheck = aggregator.KeyCheckRequest(plan);
            var (rogueKey, secret) = RogueKey(honestCheck.RoundKey, 3);
            var check = honestCheck with { RoundKey = rogueKey };
            var fingerprints = members.Take(2).ToDictionary(p => p.Id, p => p.Round.CheckKey(check));
            var challenge = LinearFingerprint.FromBytes(fingerprints.Values.First().Payload, RoundHarness.Parameters).Challenge.ToArray();
            var target = LinearFingerprint.OfKey(CollectivePublicKey.FromBytes(rogueKey, RoundHarness.Parameters), challenge);
            fingerprints[colluder.Id] = colluder.Sign(RoundPurpose.KeyFingerprint, RoundHarness.JobId, round,
                Difference(target, fingerprints.Values.Select(f => LinearFingerprint.FromBytes(f.Payload, RoundHarness.Parameters))));
            var seal = new SealRequest(RoundHarness.JobId, round, aggregator.Participants.Select(id => fingerprints[id]).ToList());
            var sealedUpdates = members.Take(2).Select(p =>
            {
                p.Round.PrepareSeal(seal, plan, RoundHarness.BasisFor(1));
                return EncryptedVector.FromBytes(p.Round.Seal(round, (float[])updates[harness.Parties.IndexOf(p)].Clone(), 0.25).SealedUpdate, RoundHarness.Parameters);
            }).ToList();
            var colludersMasks = MasksOf(harness, aggregator, colluder, CollectivePublicKey.FromBytes(rogueKey, RoundHarness.Parameters));
            return RoundHarness.DecryptWithSecret(EncryptedVector.Sum(sealedUpdates), secret, colludersMasks.Select(m => Q0.Negate(m)).ToArray());
        }
        var s01 = HonestSum(1, 0, 1);
        var s12 = HonestSum(2, 1, 2);
        var s02 = HonestSum(3, 0, 2);

        // u0 = (s01 + s02 − s12)/2, u1 = (s01 + s12 − s02)/2, u2 = (s02 + s12 − s01)/2, each weighed by ¼.
        double[] Half(double[] a, double[] b, double[] minus) => a.Select((x, i) => (x + b[i] - minus[i]) / 2).ToArray();
        Assert.True(MaxError(Half(s01, s02, s12), i => 0.25 * updates[0][i]) < 1e-4, "member 0's update read");
        Assert.True(MaxError(Half(s01, s12, s02), i => 0.25 * updates[1][i]) < 1e-4, "member 1's update read");
        Assert.True(MaxError(Half(s02, s12, s01), i => 0.25 * updates[2][i]) < 1e-4, "member 2's update read");
        Assert.All(harness.Parties.Take(3), p => Assert.Empty(p.Opened));
    }

    /// <summary>A key over the round's CRS seed with the honest key's share ids written in, from <paramref name="shares"/> shares of the test's own; and its secret.</summary>
    private static (byte[] Key, long[] Secret) RogueKey(byte[] honestKey, int shares)
    {
        var crs = CollectivePublicKey.FromBytes(honestKey, RoundHarness.Parameters).CrsSeed.ToArray();
        var own = Enumerable.Range(0, shares).Select(_ => SecretKeyShare.Generate(RoundHarness.Parameters, crs)).ToList();
        var ownKey = CollectivePublicKey.Combine(own.Select(s => s.PublicKeyShare)).ToBytes();
        int pLength = ownKey.Length - (WireFormat.HeaderLength + 32 + 4 + shares * 16);
        byte[] forged = [.. honestKey[..^pLength], .. ownKey[^pLength..]];
        return (forged, RoundHarness.SecretOf(CollectivePublicKey.FromBytes(forged, RoundHarness.Parameters), own));
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

    private static DecryptionShare ShareOf(Party party, CollectivePublicKey key, byte[] masks) =>
        SecretKeyShare.FromBytes(party.Round.Record!.Secret!, RoundHarness.Parameters).CreateDecryptionShare(key, CiphertextMasks.FromBytes(masks, RoundHarness.Parameters));

    private static ulong[] RawSum(IEnumerable<byte[]> sealedUpdates, IEnumerable<DecryptionShare> shares) =>
        CkksAttackTools.RawSum(RoundHarness.Parameters, sealedUpdates, shares);

    private static double[] Decode(ulong[] raw, double scale)
    {
        var values = new double[Length + 1];
        RoundHarness.Parameters.Context.Encoder.Decode(raw, Q0, scale, values);
        return values;
    }

    private static byte[] Difference(LinearFingerprint target, IEnumerable<LinearFingerprint> others)
    {
        // target − Σ others, value by value and modulus by modulus: the fingerprint a liar needs so that the sum matches.
        var moduli = target.ModulusCount == 1 ? [Q0] : RoundHarness.Parameters.Context.Ring.Moduli;
        int count = target.ModulusCount * LinearFingerprint.Points;
        var bytes = target.ToBytes();
        var parts = others.Select(o => o.ToBytes()).ToList();
        for (int i = 0; i < count; i++)
        {
            int at = bytes.Length - 8 * (count - i);
            ulong v = BitConverter.ToUInt64(bytes, at);
            foreach (var p in parts)
                v = moduli[i / LinearFingerprint.Points].Subtract(v, BitConverter.ToUInt64(p, at));
            BitConverter.GetBytes(v).CopyTo(bytes, at);
        }
        return bytes;
    }

    private static double MaxError(double[] values, Func<int, double> expected) =>
        Enumerable.Range(0, Length).Max(i => Math.Abs(values[i] - expected(i)));
}
