using System.Buffers;
using FedCore.Aggregation.Protection;
using FedCore.Aggregation.Strategies;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Wire;
using FedCore.Rounds;
using FedCore.Tests.Aggregation;
using Federation.Tests.Shared;

namespace FedCore.Tests.Rounds;

/// <summary>
/// A review of commit 3deaf6e (branch review/fused): a member's part of the opening made straight from its secret at
/// step 5 (<see cref="OpenedPlaintext.Part(EncryptedVector, SecretKeyShare, CollectivePublicKey, CiphertextMasks)"/>),
/// the rounding done in place (<c>RoundedPolynomial.Round</c>), and the chain's mean in a pooled buffer
/// (<see cref="ModelChain.Next"/>). Each test plays an attacker or a careless caller against the change.
/// </summary>
public sealed class FusedPartReviewTests
{
    private static readonly CkksParameters Parameters = RoundHarness.Parameters;
    private static readonly Modulus Q0 = Parameters.Context.WireModulus;

    // ---- 1. Correctness: the new part is the old part, and the two mix ------------------------------------------

    [Fact]
    public void Rounding_in_place_gives_what_writing_and_reading_back_gives_for_random_coefficients_and_those_next_to_q0()
    {
        ulong q0 = Parameters.WireModulus;
        const ulong Half = 1UL << (CkksParameters.RoundingBits - 1), Step = 1UL << CkksParameters.RoundingBits;
        int n = Parameters.RingDimension;
        ulong[] edges = [0, 1, Half - 1, Half, Half + 1, Step - 1, Step, q0 - 1, q0 - 2, q0 - Half, q0 - Half - 1, q0 - Half + 1,
            q0 - Step, q0 - Step - Half, q0 - Step + Half, (q0 - 1) & ~(Step - 1), ((q0 - 1) & ~(Step - 1)) - 1, ((q0 - 1) & ~(Step - 1)) + Half,
            ((q0 - 1) & ~(Step - 1)) + Half - 1];
        edges = [.. edges.Where(v => v < q0)];
        var random = new Random(5);
        int checkedValues = 0;
        for (int batch = 0; batch < 64; batch++)
        {
            var values = new ulong[n];
            for (int j = 0; j < n; j++)
                values[j] = batch == 0 && j < edges.Length ? edges[j]
                    : batch == 1 ? q0 - 1 - (ulong)random.NextInt64(0, 1L << 20) // the top of [0, q0), where the rounded value wraps
                    : (ulong)random.NextInt64(0, (long)q0);
            Assert.All(values, v => Assert.True(v < q0));

            var rounded = (ulong[])values.Clone();
            RoundedPolynomial.Round(Parameters, rounded);

            var writer = new WireWriter(WireKind.DecryptionShare, Parameters, RoundedPolynomial.PackedLength(Parameters));
            var written = (ulong[])values.Clone();
            RoundedPolynomial.Write(writer, Parameters, written);
            var readBack = new ulong[n];
            RoundedPolynomial.Read(writer.ToArray().AsSpan(WireFormat.HeaderLength), Parameters, readBack);

            for (int j = 0; j < n; j++)
            {
                Assert.True(rounded[j] == readBack[j], $"coefficient {values[j]}: rounded in place {rounded[j]}, written and read back {readBack[j]}");
                Assert.True(rounded[j] < q0);
                // And it is the nearest multiple of 2^16, mod q0 (off by at most half a step, going round q0).
                long off = Q0.ToCentered(Q0.Subtract(rounded[j], values[j]));
                Assert.True(Math.Abs(off) <= (long)Half, $"coefficient {values[j]} rounded to {rounded[j]}: off by {off}");
                checkedValues++;
            }
        }
        Assert.Equal(64 * n, checkedValues);
    }

    /// <summary>Key shares, the key, masked sealed updates and the aggregate's masks, as an honest round makes them (as CkksProtectionTests does).</summary>
    private static (List<SecretKeyShare> Secrets, CollectivePublicKey Key, List<EncryptedVector> Sealed, CiphertextMasks Masks) Play(
        CkksProtection scheme, float[][] updates, double[] weights)
    {
        var secrets = updates.Select(_ => SecretKeyShare.Generate(Parameters, new byte[32])).ToList();
        var key = CollectivePublicKey.Combine(secrets.Select(s => s.PublicKeyShare));
        var sealedUpdates = PairwiseMaskTests.SealMasked(scheme, key, updates, weights);
        var sum = scheme.NewAggregate(key);
        for (int i = 0; i < sealedUpdates.Count; i++)
            sum.Add($"p{i}", CkksAttackTools.Sent(Parameters, sealedUpdates[i]));
        return (secrets, key, [.. sealedUpdates.Select(s => EncryptedVector.FromBytes(s, Parameters))], sum.Masks());
    }

    /// <summary>The part made the old way: the share written out, sent (its bytes), read back and added to the member's c0.</summary>
    private static OpenedPlaintext OldPart(EncryptedVector sealedUpdate, SecretKeyShare secret, CollectivePublicKey key, CiphertextMasks masks) =>
        OpenedPlaintext.Part(sealedUpdate, DecryptionShare.FromBytes(secret.CreateDecryptionShare(key, masks).ToBytes(), Parameters));

    [Theory]
    [InlineData(0b101)] // members 0 and 2 the new way, 1 the old
    [InlineData(0b010)]
    [InlineData(0b000)]
    [InlineData(0b111)]
    public void Parts_made_straight_from_the_secret_and_from_a_written_share_mixed_in_one_opening_decode_to_the_weighted_mean(int newWay)
    {
        var scheme = new CkksProtection(Parameters, bound: 4);
        var random = new Random(23);
        const int length = 5000; // two ciphertexts
        var updates = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray()).ToArray();
        double[] weights = [0.5, 0.3, 0.2];
        var (secrets, key, sealedUpdates, masks) = Play(scheme, updates, weights);
        Assert.Equal(2, masks.ChunkCount);

        var parts = secrets.Select((secret, i) => (newWay >> i & 1) == 1
            ? scheme.Part(sealedUpdates[i], secret, key, masks, secrets.Count)
            : OldPart(sealedUpdates[i], secret, key, masks)).ToList();
        var opened = scheme.Open(OpenedPlaintext.Sum(parts), secrets.Count);

        Assert.Equal(1.0, opened.TotalWeight, 6);
        var mean = opened.Mean();
        double worst = 0;
        for (int i = 0; i < length; i++)
            worst = Math.Max(worst, Math.Abs(Enumerable.Range(0, 3).Sum(k => weights[k] * updates[k][i]) - mean[i]));
        Assert.True(worst <= 1e-5, $"max |opened − plaintext weighted mean| = {worst:E2}");
    }

    [Fact]
    public void A_part_made_straight_from_the_secret_is_its_c0_plus_a_share_on_the_wire_grid_within_flooding_of_one_written_out()
    {
        // The new part must be one a written share could have made: part − c0 a rounded value (a multiple of 2^16, read
        // back mod q0), and within the two flooding draws (and one rounding step) of the old part of the same masks. A
        // rounding that forgot the shift back, or a c0 added twice or not at all, is off by far more.
        var scheme = new CkksProtection(Parameters, bound: 4);
        var updates = RoundHarness.Updates(2, 5000, seed: 3);
        var (secrets, key, sealedUpdates, masks) = Play(scheme, updates, [0.5, 0.5]);
        var fresh = OpenedPlaintext.Part(sealedUpdates[0], secrets[0], key, masks);
        var old = OldPart(sealedUpdates[0], secrets[0], key, masks);
        Assert.Equal(old.ToBytes().Length, fresh.ToBytes().Length);
        Assert.True(old.KeyId.Span.SequenceEqual(fresh.KeyId.Span));
        Assert.Equal((old.Length, old.Scale, old.ChunkCount), (fresh.Length, fresh.Scale, fresh.ChunkCount));

        int n = Parameters.RingDimension;
        ulong q0 = Parameters.WireModulus, step = 1UL << CkksParameters.RoundingBits;
        ulong maxRounded = Parameters.MaxRoundedCoefficient << CkksParameters.RoundingBits;
        long bound = 2 * 16 * (long)CkksParameters.StandardFloodingDeviation + 2 * (long)step; // 16σ per draw: never reached by chance
        var c0 = new ulong[n];
        var a = new ulong[n];
        var b = new ulong[n];
        int differing = 0;
        for (int chunk = 0; chunk < masks.ChunkCount; chunk++)
        {
            sealedUpdates[0].ReadC0(chunk, c0);
            fresh.ReadChunk(chunk, a);
            old.ReadChunk(chunk, b);
            for (int j = 0; j < n; j++)
            {
                ulong share = Q0.Subtract(a[j], c0[j]);
                bool onGrid = share % step == 0 || (share + q0) % step == 0 && share + q0 <= maxRounded;
                Assert.True(onGrid, $"chunk {chunk} coefficient {j}: part − c0 = {share} is no rounded share");
                long difference = Q0.ToCentered(Q0.Subtract(a[j], b[j]));
                Assert.True(Math.Abs(difference) <= bound, $"chunk {chunk} coefficient {j}: the two parts differ by {difference}");
                if (difference != 0)
                    differing++;
            }
        }
        Assert.True(differing > n, "each part has noise of its own"); // fresh flooding each time, not a replayed draw
    }

    [Fact]
    public void A_part_of_masks_under_another_round_key_or_of_another_length_is_refused_before_a_share_is_made()
    {
        var scheme = new CkksProtection(Parameters, bound: 4);
        var (secrets, key, sealedUpdates, masks) = Play(scheme, RoundHarness.Updates(2, 5000, seed: 4), [0.5, 0.5]);
        var (_, otherKey, otherSealed, otherMasks) = Play(scheme, RoundHarness.Updates(2, 5000, seed: 4), [0.5, 0.5]);
        var (_, _, _, shortMasks) = Play(scheme, RoundHarness.Updates(2, 100, seed: 4), [0.5, 0.5]);
        Assert.Throws<ArgumentException>(() => OpenedPlaintext.Part(sealedUpdates[0], secrets[0], key, otherMasks));
        Assert.Throws<ArgumentException>(() => OpenedPlaintext.Part(sealedUpdates[0], secrets[0], key, shortMasks));
        // The member's secret with the masks and update of a key it is not part of.
        Assert.Throws<ArgumentException>(() => OpenedPlaintext.Part(otherSealed[0], secrets[0], otherKey, otherMasks));
        // Through the scheme: a format refusal naming what it was making.
        var refused = Assert.Throws<SealedUpdateFormatException>(() => scheme.Part(sealedUpdates[0], secrets[0], key, otherMasks, 2));
        Assert.Contains("part of the opening", refused.Message);
    }

    // ---- 2. Ordering: the part exists from step 5 on, but nothing of it leaves before step 6's checks -------------

    /// <summary>The fingerprint of <paramref name="party"/>'s sealed update at the aggregate challenge of <paramref name="check"/>.</summary>
    private static byte[] OwnFingerprint(RoundHarness harness, AggregatorRound aggregator, AggregateCheckRequest check, int party) =>
        LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(harness.SealedUpdates[(aggregator.Round, harness[party].Id)], Parameters),
            RoundChallenges.AggregateChallenge(RoundChallenges.SetDigest(harness.Job, aggregator.Round, aggregator.Participants), check.AggregateMasks,
                aggregator.Participants, check.Commitments.ToDictionary(c => c.ParticipantId, c => c.Payload))).ToBytes();

    private static void AssertOpensTo(AggregatedUpdate sum, float[][] updates)
    {
        Assert.Equal(1.0, sum.TotalWeight, 3);
        for (int i = 0; i < sum.WeightedSum.Length; i++)
            Assert.Equal(updates.Average(u => u[i]), sum.WeightedSum[i], 3);
    }

    [Fact]
    public void Step_5_answers_only_the_fingerprint_of_its_own_masks_and_stores_or_hands_the_host_no_part()
    {
        // The part is made at step 5 now, but what step 5 answers is a function of public values only (its sealed c1 and
        // the challenge): the same bytes however often it is asked, whatever flooding noise the part drew. The host is
        // told to store nothing, and the previous round's stored part is untouched until step 6.
        var harness = new RoundHarness(3);
        var updates = RoundHarness.Updates(3, 8);
        var first = harness.SealedRound(1, updates);
        RoundHarness.CheckAndDecrypt(first, harness.Parties);
        var roundOneParts = harness.Parties.Select(p => p.Round.OpeningPart!).ToList();
        Assert.All(roundOneParts, Assert.NotNull);

        var aggregator = harness.SealedRound(2, RoundHarness.Updates(3, 8, seed: 2));
        var check = aggregator.AggregateCheckRequest();
        for (int i = 0; i < harness.Parties.Count; i++)
        {
            var p = harness[i];
            (p.Round.RecordChanged, p.Round.PartChanged) = (false, false);
            var once = p.Round.CheckAggregate(check);
            var twice = p.Round.CheckAggregate(check);
            Assert.Equal(OwnFingerprint(harness, aggregator, check, i), once.Payload);
            Assert.Equal(once.Payload, twice.Payload);
            Assert.False(p.Round.RecordChanged);
            Assert.False(p.Round.PartChanged);
            Assert.Same(roundOneParts[i], p.Round.OpeningPart); // round 1's part, as stored
            Assert.Equal(RoundStage.Sealed, p.Round.Record!.Stage);
            Assert.NotNull(p.Round.Record.Secret);
            Assert.Equal(1, p.Round.Record.Part!.Round);
            aggregator.AcceptAggregateFingerprint(once);
        }
        // Step 6 then replaces it, and the round opens to its sum.
        var decrypt = aggregator.DecryptRequest();
        foreach (var p in harness.Parties)
            aggregator.AcceptPartCommitment(p.Round.Decrypt(decrypt));
        Assert.All(harness.Parties, p => Assert.True(p.Round.PartChanged));
        Assert.All(harness.Parties.Select((p, i) => (p, i)), x => Assert.NotSame(roundOneParts[x.i], x.p.Round.OpeningPart));
        var reveal = aggregator.PartRevealRequest();
        foreach (var p in harness.Parties)
            aggregator.AcceptPart(p.Round.RevealPart(reveal));
        aggregator.OpeningCheckRequest();
        AssertOpensTo(aggregator.Open(), RoundHarness.Updates(3, 8, seed: 2));
    }

    [Fact]
    public void Forged_fingerprints_at_step_6_after_a_real_step_5_are_refused_and_the_part_made_at_step_5_never_leaves_but_stays_right()
    {
        // Party 2 colludes: after an honest step 5 it signs, as its aggregate fingerprint, its own plus party 0's (at the
        // right challenge, so it parses and has the shape; not a copy, which the ledger refuses as such), and so the
        // fingerprints no longer add up to the aggregate's.
        var harness = new RoundHarness(3);
        var updates = RoundHarness.Updates(3, 8);
        var aggregator = harness.SealedRound(1, updates);
        var check = aggregator.AggregateCheckRequest();
        var honestAnswers = harness.Parties.Select(p => p.Round.CheckAggregate(check)).ToList();
        var colluder = harness[2];
        var shifted = LinearFingerprint.Sum([LinearFingerprint.FromBytes(honestAnswers[2].Payload, Parameters),
            LinearFingerprint.FromBytes(OwnFingerprint(harness, aggregator, check, 0), Parameters)]).ToBytes();
        var forgedAnswer = colluder.Sign(RoundPurpose.AggregateFingerprint, harness.Job, 1, shifted);
        var forged = new DecryptRequest(harness.Job, 1, [honestAnswers[0], honestAnswers[1], forgedAnswer]);
        var missing = new DecryptRequest(harness.Job, 1, [honestAnswers[0], honestAnswers[1]]);
        // A fingerprint of its own, but of another aggregate (the challenge of masks with one coefficient changed).
        var otherMasks = (byte[])check.AggregateMasks.Clone();
        otherMasks[^1] ^= 1;
        var otherChallenge = OwnFingerprint(harness, aggregator, check with { AggregateMasks = otherMasks }, 2);
        var elsewhere = new DecryptRequest(harness.Job, 1, [honestAnswers[0], honestAnswers[1], colluder.Sign(RoundPurpose.AggregateFingerprint, harness.Job, 1, otherChallenge)]);

        foreach (var honest in harness.Parties.Take(2))
        {
            (honest.Round.RecordChanged, honest.Round.PartChanged) = (false, false);
            var refused = Assert.Throws<RoundRefusedException>(() => honest.Round.Decrypt(forged));
            Assert.Equal(RoundRefusal.AggregateRefused, refused.Code);
            Assert.Contains("not the sum of the members' updates", refused.Message);
            Assert.Contains("messages are missing", Assert.Throws<RoundRefusedException>(() => honest.Round.Decrypt(missing)).Message);
            Assert.Contains("another challenge", Assert.Throws<RoundRefusedException>(() => honest.Round.Decrypt(elsewhere)).Message);
            // Nothing left, nothing stored, nothing spent: no part, no commitment, the secret kept, no basis recorded.
            Assert.Null(honest.Round.OpeningPart);
            Assert.False(honest.Round.PartChanged);
            Assert.False(honest.Round.RecordChanged);
            Assert.Equal(RoundStage.Sealed, honest.Round.Record!.Stage);
            Assert.NotNull(honest.Round.Record.Secret);
            Assert.Null(honest.Round.Record.Part);
            Assert.Empty(honest.Opened);
            Assert.Throws<RoundRefusedException>(() => honest.Round.RevealPart(new PartRevealRequest(harness.Job, 1, [])));
        }

        // The honest fingerprints then: the part kept since step 5 is committed to, and the round opens to its sum.
        var decrypt = new DecryptRequest(harness.Job, 1, honestAnswers);
        foreach (var answer in honestAnswers)
            aggregator.AcceptAggregateFingerprint(answer);
        foreach (var p in harness.Parties)
            aggregator.AcceptPartCommitment(p.Round.Decrypt(decrypt));
        var reveal = aggregator.PartRevealRequest();
        foreach (var p in harness.Parties)
            aggregator.AcceptPart(p.Round.RevealPart(reveal));
        aggregator.OpeningCheckRequest();
        AssertOpensTo(aggregator.Open(), updates);
    }

    [Fact]
    public void A_second_step_5_with_other_masks_is_refused_and_one_with_the_same_gets_the_same_answer()
    {
        // The job asks party 0 for step 5 again with the victim's (party 1's) masks as the aggregate: refused, and what it
        // kept (part and fingerprints of the real aggregate) still commits to the real sum.
        var harness = new RoundHarness(3);
        var updates = RoundHarness.Updates(3, 8, seed: 9);
        var aggregator = harness.SealedRound(1, updates);
        var check = aggregator.AggregateCheckRequest();
        var answers = harness.Parties.Select(p => p.Round.CheckAggregate(check)).ToList();
        var victimsMasks = harness.SealedUpdates[(1, harness[1].Id)]; // what it sent: its masks
        var target = harness[0];
        var refused = Assert.Throws<RoundRefusedException>(() => target.Round.CheckAggregate(check with { AggregateMasks = victimsMasks }));
        Assert.Equal(RoundRefusal.AggregateRefused, refused.Code);
        Assert.Contains("it already checked another aggregate", refused.Message);
        // The same request again (a retry) gets the same signed answer.
        Assert.Equal(answers[0].Signature, target.Round.CheckAggregate(check).Signature);
        RoundHarness.CheckAndDecrypt(aggregator, harness.Parties); // asks step 5 again: the same answers
        aggregator.OpeningCheckRequest();
        AssertOpensTo(aggregator.Open(), updates);
    }

    [Fact]
    public void A_restart_between_step_5_and_step_6_loses_the_part_and_steps_5_to_6b_are_refused_as_restarted_with_nothing_given()
    {
        var harness = new RoundHarness(3);
        var aggregator = harness.SealedRound(1, RoundHarness.Updates(3, 8));
        RoundHarness.AggregateChecked(aggregator, harness.Parties);
        var decrypt = aggregator.DecryptRequest();
        var restarted = harness[0];
        restarted.Restart();
        restarted.Round.PartChanged = false;
        Assert.Equal(RoundRefusal.Restarted, Assert.Throws<RoundRefusedException>(() => restarted.Round.Decrypt(decrypt)).Code);
        Assert.Equal(RoundRefusal.Restarted, Assert.Throws<RoundRefusedException>(() => restarted.Round.CheckAggregate(aggregator.AggregateCheckRequest())).Code);
        Assert.Throws<RoundRefusedException>(() => restarted.Round.RevealPart(new PartRevealRequest(harness.Job, 1, [])));
        Assert.Null(restarted.Round.OpeningPart);
        Assert.False(restarted.Round.PartChanged);
        Assert.Equal(RoundStage.Sealed, restarted.Round.Record!.Stage);
        Assert.NotNull(restarted.Round.Record.Secret);
        Assert.Empty(restarted.Opened);
    }

    // ---- 3. Hygiene: buffers cleared, the pooled mean neither leaks nor is corrupted ------------------------------

    [Fact]
    public void The_unrounded_share_handed_to_the_callback_is_cleared_after_the_last_ciphertext_and_when_the_callback_throws()
    {
        var secrets = Enumerable.Range(0, 2).Select(_ => SecretKeyShare.Generate(Parameters, new byte[32])).ToList();
        var key = CollectivePublicKey.Combine(secrets.Select(s => s.PublicKeyShare));
        var masks = CiphertextMasks.Of(EncryptedVector.Encrypt(key, Enumerable.Range(0, 5000).Select(i => Math.Cos(i)).ToArray(), 4));

        ulong[]? seen = null;
        var chunks = new List<int>();
        int nonZeroWhileHeld = 0;
        secrets[0].ShareChunks(key, masks, (chunk, h) =>
        {
            Assert.True(seen is null || ReferenceEquals(seen, h)); // one buffer, reused
            seen = h;
            chunks.Add(chunk);
            nonZeroWhileHeld += h.Count(c => c != 0);
        });
        Assert.Equal(new[] { 0, 1 }, chunks);
        Assert.True(nonZeroWhileHeld > Parameters.RingDimension, "the callback saw the share");
        Assert.All(seen!, c => Assert.Equal(0UL, c));

        seen = null;
        chunks.Clear();
        var thrown = Assert.Throws<InvalidOperationException>(() => secrets[0].ShareChunks(key, masks, (chunk, h) =>
        {
            seen = h;
            chunks.Add(chunk);
            Assert.Contains(h, c => c != 0);
            throw new InvalidOperationException("the consumer failed");
        }));
        Assert.Equal("the consumer failed", thrown.Message);
        Assert.Equal(new[] { 0 }, chunks); // no further ciphertext after the failure
        Assert.All(seen!, c => Assert.Equal(0UL, c));
    }

    /// <summary>A strategy that records the mean it was handed, and can fail after reading it.</summary>
    private sealed class Recording(ServerStrategy inner, bool fail = false) : ServerStrategy
    {
        public float[]? Seen;
        public override string Name => inner.Name;

        public override ServerStepResult Step(ReadOnlySpan<float> global, ReadOnlySpan<float> meanUpdate, ServerOptimizerState? state)
        {
            Seen = meanUpdate.ToArray();
            if (fail)
                throw new InvalidOperationException("the strategy failed");
            return inner.Step(global, meanUpdate, state);
        }
    }

    private static (float[] Global, ServerOptimizerState State, AggregatedUpdate Opened) Inputs(int length, int seed)
    {
        var random = new Random(seed);
        float[] Values(double scale) => Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * scale)).ToArray();
        var global = Values(2);
        var state = new ServerOptimizerState(Values(0.1), Values(0.01).Select(v => Math.Abs(v)).ToArray());
        var opened = new AggregatedUpdate([.. Values(3).Select(v => (double)v * 0.7)], 0.7);
        return (global, state, opened);
    }

    [Theory]
    [InlineData("fedavg")]
    [InlineData("fedadam")]
    [InlineData("fedyogi")]
    public void A_pooled_mean_buffer_left_dirty_before_and_scribbled_on_after_changes_no_step_of_the_chain(string name)
    {
        const int length = 1000; // the pool hands out 1,024: the strategy must see exactly the model's length
        var (global, state, opened) = Inputs(length, 17);
        var strategy = ServerStrategy.Create(new StrategyOptions(name));
        var expected = strategy.Step(global, opened.Mean(), state);

        // Dirty: the buffer Next will rent holds NaN beyond and within the model's length.
        float[] dirty = ArrayPool<float>.Shared.Rent(length);
        Array.Fill(dirty, float.NaN);
        ArrayPool<float>.Shared.Return(dirty);

        var recording = new Recording(strategy);
        var next = ModelChain.Next(recording, global, state, opened);
        Assert.Equal(length, recording.Seen!.Length);
        Assert.Equal(opened.Mean(), recording.Seen);
        Assert.Equal(expected.Global, next.Global);
        Assert.Equal(expected.State?.FirstMoment, next.State?.FirstMoment);
        Assert.Equal(expected.State?.SecondMoment, next.State?.SecondMoment);

        // It went back to the pool (this thread's next rent of the size gets it), and what Next returned is no view of it.
        float[] again = ArrayPool<float>.Shared.Rent(length);
        try
        {
            Assert.Same(dirty, again);
            Array.Fill(again, 1e30f);
            Assert.Equal(expected.Global, next.Global);
            Assert.Equal(expected.State?.FirstMoment, next.State?.FirstMoment);
            Assert.DoesNotContain(next.Global, v => v == 1e30f);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(again);
        }

        // A second step from the buffer scribbled on gives the same model again (deterministic, as every party needs).
        Assert.Equal(expected.Global, ModelChain.Next(strategy, global, state, opened).Global);
    }

    [Fact]
    public void A_strategy_that_fails_gets_its_error_through_and_the_mean_buffer_still_goes_back_to_the_pool()
    {
        const int length = 777;
        var (global, state, opened) = Inputs(length, 3);
        float[] first = ArrayPool<float>.Shared.Rent(length);
        ArrayPool<float>.Shared.Return(first);
        var failing = new Recording(new FedAvg(), fail: true);
        Assert.Equal("the strategy failed", Assert.Throws<InvalidOperationException>(() => ModelChain.Next(failing, global, state, opened)).Message);
        Assert.Equal(opened.Mean(), failing.Seen);
        float[] again = ArrayPool<float>.Shared.Rent(length);
        Assert.Same(first, again);
        ArrayPool<float>.Shared.Return(again);
    }

    [Fact]
    public void A_mean_of_the_wrong_length_or_of_no_weight_is_refused_with_a_clear_message_and_nothing_written()
    {
        var opened = new AggregatedUpdate([1, 2, 3, 4], 2);
        var destination = Enumerable.Repeat(float.NaN, 3).ToArray();
        var tooShort = Assert.Throws<ArgumentException>(() => opened.MeanInto(destination));
        Assert.Equal("destination", tooShort.ParamName);
        Assert.StartsWith("The mean has 4 values, not 3.", tooShort.Message);
        Assert.All(destination, v => Assert.True(float.IsNaN(v)));
        Assert.StartsWith("The mean has 4 values, not 5.", Assert.Throws<ArgumentException>(() => opened.MeanInto(new float[5])).Message);
        var exact = new float[4];
        opened.MeanInto(exact);
        Assert.Equal(new[] { 0.5f, 1f, 1.5f, 2f }, exact);

        var unweighted = new AggregatedUpdate([1, 2, 3, 4], 0);
        Assert.Contains("a mean needs a positive weight", Assert.Throws<InvalidOperationException>(() => unweighted.MeanInto(new float[4])).Message);
        Assert.Contains("a mean needs a positive weight", Assert.Throws<InvalidOperationException>(() => new AggregatedUpdate([1], double.NaN).Mean()).Message);

        var strategy = new Recording(new FedAvg());
        var model = new float[5];
        var wrong = Assert.Throws<ArgumentException>(() => ModelChain.Next(strategy, model, null, opened));
        Assert.Equal("opened", wrong.ParamName);
        Assert.StartsWith("The opened sum has 4 values; the model has 5.", wrong.Message);
        Assert.Null(strategy.Seen); // refused before the strategy saw anything

        // The edge the pool treats apart: an empty model rents and returns the shared empty array, without complaint.
        Assert.Empty(ModelChain.Next(new FedAvg(), ReadOnlySpan<float>.Empty, null, new AggregatedUpdate([], 1)).Global);
    }
}
