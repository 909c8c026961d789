using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Cryptography;
using FedCore.Aggregation.Integrity;
using FedCore.Aggregation.Protection;
using FedCore.Crypto.Ckks;
using FedCore.Rounds;
using Federation.Tests.Shared;

namespace FedCore.Tests.Rounds;

/// <summary>
/// Review (branch review/memo) of 0760128 (a member drops its sealed update after step 5), d3737e3 (the chain's plan from
/// the model's digest; the host's audit digest from the commitment) and 95723fe (VerifyingKeys remembers the signatures
/// that verified). The attacker is the aggregator, with colluding members where a test says so. Every attack here was
/// refused: each test asserts the defence.
/// </summary>
public class MemoReviewTests
{
    private static readonly CkksParameters P = RoundHarness.Parameters;

    // ---- 1. The signature memo (VerifyingKeys) -------------------------------------------------------------------

    [Fact]
    public void A_signature_memo_never_accepts_a_verified_step_8_message_relabelled_as_another_party_purpose_round_or_scheme()
    {
        // Round 1 of a chained job up to step 7b: every member verified every part commitment (6b) and step-7 answer (7b),
        // so each is in its memo. At step 8 the aggregator relabels what the members signed, keeping the signature bytes,
        // hoping a memo hit lends them the earlier verification. Every relabelling is refused, by the member that verified
        // the original; the honest request then advances every party.
        var job = new ChainedJob();
        var members = job.Harness.Parties;
        var aggregator = job.Decrypted(1, members);
        var honest = job.Opening(aggregator, members);
        var judge = members[0];
        foreach (var m in honest.PartCommitments)
            Assert.True(Memoized(judge.Round, RoundPurpose.PartCommitment, m), $"{m.ParticipantId}'s part commitment is not memoized: the attack would test nothing");
        foreach (var m in honest.OpeningFingerprints)
            Assert.True(Memoized(judge.Round, RoundPurpose.OpeningFingerprint, m), $"{m.ParticipantId}'s step-7 answer is not memoized");

        var (c1, c2) = (honest.PartCommitments[1], honest.PartCommitments[2]);
        var (a1, a2) = (honest.OpeningFingerprints[1], honest.OpeningFingerprints[2]);
        var forged = new (string What, OpeningRequest Request)[]
        {
            // Two members' commitments swapped by name (each signature verified, under the other name).
            ("commitments under swapped names", honest with { PartCommitments = Replace(honest.PartCommitments, (1, c2 with { ParticipantId = c1.ParticipantId }), (2, c1 with { ParticipantId = c2.ParticipantId })) }),
            // Answers swapped by name.
            ("answers under swapped names", honest with { OpeningFingerprints = Replace(honest.OpeningFingerprints, (1, a2 with { ParticipantId = a1.ParticipantId }), (2, a1 with { ParticipantId = a2.ParticipantId })) }),
            // A member's part commitment offered as its step-7 answer (the same party, another purpose).
            ("a part commitment as an answer", honest with { OpeningFingerprints = Replace(honest.OpeningFingerprints, (1, c1)) }),
            // A step-7 answer as a part commitment.
            ("an answer as a part commitment", honest with { PartCommitments = Replace(honest.PartCommitments, (1, a1)) }),
            // The whole request relabelled round 2 (the ledger's job/round check passes; only the signature can refuse).
            ("the round relabelled", Relabel(honest, m => m with { Round = 2 }) with { Round = 2 }),
            // The messages claimed under the simulation scheme.
            ("the scheme relabelled", Relabel(honest, m => m with { Scheme = PlaintextSimulation.SchemeName })),
        };
        foreach (var (what, request) in forged)
        {
            var refused = Assert.Throws<RoundRefusedException>(() => judge.Round.AdvanceChain(request, job.Global, job.State));
            Assert.True(refused.Message.Contains("signature does not verify") || refused.Message.Contains("scheme"), $"{what}: {refused.Message}");
            Assert.Equal(0, judge.Round.Chain!.Version);
        }
        job.Advance(aggregator, honest, members);
    }

    [Fact]
    public void A_signature_memo_never_carries_a_verification_to_another_job_whose_round_is_relabelled_to_match()
    {
        // Two jobs of the same parties; the aggregator takes a part commitment every member of job A verified and relabels it
        // for job B, same round (what a memo keyed without the job would accept). Each ParticipantRound has its own memo, and
        // the statement names the job: refused.
        var harness = new RoundHarness(3);
        var other = harness.AnotherJob("job-2");
        var aggregator = harness.SealedRound(1, RoundHarness.Updates(3, 50));
        var reveal = RoundHarness.Committed(aggregator, harness.Parties);
        foreach (var p in harness.Parties)
            p.Round.RevealPart(reveal); // every member verified every part commitment of job A round 1
        var b = other.SealedRound(1, RoundHarness.Updates(3, 50, seed: 2));
        var bReveal = RoundHarness.Committed(b, other.Parties);
        // Party 1's job-A commitment relabelled for job B, in place of its job-B one.
        var stolen = reveal.PartCommitments[1] with { JobId = other.Job };
        var forged = bReveal with { PartCommitments = Replace(bReveal.PartCommitments, (1, stolen)) };
        Assert.Contains("signature does not verify", Assert.Throws<RoundRefusedException>(() => other[0].Round.RevealPart(forged)).Message);
        // And job A's member, which verified the original, refuses it relabelled too.
        Assert.Contains("request is for job", Assert.Throws<RoundRefusedException>(() => harness[0].Round.RevealPart(forged)).Message);
    }

    [Fact]
    public void A_signature_memo_never_lends_one_key_sets_verification_to_another_key_set_that_maps_the_same_party_id_to_another_key()
    {
        // Job A pins party-0 → K0, party-1 → K1; an attacker's job B (or a stale membership) pins them swapped. Whatever job B's
        // keys verified must not count in job A, through the set or any view of it.
        using var k0 = ParticipantSigningKey.Generate();
        using var k1 = ParticipantSigningKey.Generate();
        var a = new VerifyingKeys(new Dictionary<string, byte[]> { ["XX/party-0"] = k0.PublicKey, ["XX/party-1"] = k1.PublicKey });
        var b = new VerifyingKeys(new Dictionary<string, byte[]> { ["XX/party-0"] = k1.PublicKey, ["XX/party-1"] = k0.PublicKey });
        byte[] message = SignedStatement.For(RoundPurpose.PartCommitment, "job-1", 1, "XX/party-0", CkksProtection.SchemeName, new byte[64]).ToBytes();
        byte[] byK1 = k1.Sign(message);
        Assert.True(b.Verifies("XX/party-0", message, byK1)); // memoized in b as party-0's
        Assert.True(b.Of(["XX/party-0"]).Verifies("XX/party-0", message, byK1));
        Assert.False(a.Verifies("XX/party-0", message, byK1));
        Assert.False(a.Of(["XX/party-0", "XX/party-1"]).Verifies("XX/party-0", message, byK1));
        // Within one set, a view's party maps to the root's key: the memo entry of party-1 (K1) never answers for party-0.
        Assert.True(a.Verifies("XX/party-1", message, byK1));
        Assert.False(a.Of(["XX/party-0"]).Verifies("XX/party-0", message, byK1));
        Assert.False(a.Verifies("XX/party-0", message, byK1));
    }

    [Fact]
    public void A_signature_memo_key_has_no_collision_between_the_message_digest_the_signature_bytes_and_the_party()
    {
        // The memo key is (party, Base64(SHA-256(message) ‖ signature)). The digest is always 32 bytes, so moving bytes
        // between the two halves changes the digest; signatures of other lengths, a prefix or an extension, never verified
        // and are not in it; parties whose ids are prefixes or differ by case or a trailing byte are other keys.
        using var key = ParticipantSigningKey.Generate();
        using var attacker = ParticipantSigningKey.Generate();
        var keys = new VerifyingKeys(new Dictionary<string, byte[]>
        {
            ["XX/a"] = key.PublicKey, ["XX/a "] = attacker.PublicKey, ["XX/A"] = attacker.PublicKey, ["XX/"] = attacker.PublicKey, ["XX/a\0"] = attacker.PublicKey,
        });
        byte[] message = "step-7 answer of XX/a"u8.ToArray();
        byte[] signature = key.Sign(message);
        Assert.True(keys.Verifies("XX/a", message, signature));
        Assert.All(new[] { "XX/a ", "XX/A", "XX/", "XX/a\0" }, id => Assert.False(keys.Verifies(id, message, signature)));
        Assert.False(keys.Verifies("XX/a", message, [.. signature, 0]));
        Assert.False(keys.Verifies("XX/a", message, signature[..^1]));
        Assert.False(keys.Verifies("XX/a", message, []));
        Assert.False(keys.Verifies("XX/a", [.. message, 0], signature));
        Assert.False(keys.Verifies("XX/a", message[..^1], signature));
        // The message's digest moved into the "signature" half: SHA-256(m') ‖ s' = SHA-256(m) ‖ s needs a digest collision.
        byte[] glued = [.. SHA256.HashData(message), .. signature];
        Assert.False(keys.Verifies("XX/a", [], glued[..^32]));
        Assert.True(keys.Verifies("XX/a", message, signature));
    }

    [Fact]
    public void A_signature_memo_cleared_at_its_limit_still_refuses_forgeries_and_stays_bounded_under_concurrent_use()
    {
        // The aggregator floods a party with genuine signatures (past rounds' messages) to make the memo clear, and interleaves
        // forgeries, from two threads: no forgery is ever accepted, every genuine one is, and the memo never outgrows its limit
        // by more than the racing threads.
        using var alice = ParticipantSigningKey.Generate();
        using var bob = ParticipantSigningKey.Generate();
        var keys = new VerifyingKeys(new Dictionary<string, byte[]> { ["XX/alice"] = alice.PublicKey, ["XX/bob"] = bob.PublicKey });
        int limit = (int)typeof(VerifyingKeys).GetField("_memoLimit", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(keys)!;
        Assert.Equal(4096, limit);
        var messages = Enumerable.Range(0, limit + 300).Select(i => BitConverter.GetBytes(i)).ToArray();
        var signatures = messages.Select(m => alice.Sign(m)).ToArray();
        var wrong = new ConcurrentBag<string>();
        int maxSeen = 0;
        Parallel.For(0, messages.Length, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            if (!keys.Verifies("XX/alice", messages[i], signatures[i]))
                wrong.Add($"genuine {i} refused");
            if (keys.Verifies("XX/bob", messages[i], signatures[i]))
                wrong.Add($"alice's {i} accepted as bob's");
            if (keys.Verifies("XX/alice", messages[(i + 1) % messages.Length], signatures[i]))
                wrong.Add($"{i} accepted for another message");
            int count = Memo(keys).Count;
            InterlockedMax(ref maxSeen, count);
        });
        Assert.Empty(wrong);
        Assert.True(maxSeen <= limit + 2, $"the memo held {maxSeen} entries");
        // After the clears, the earliest genuine signature verifies again (by ECDSA), and a forgery still does not.
        Assert.True(keys.Verifies("XX/alice", messages[0], signatures[0]));
        Assert.False(keys.Verifies("XX/alice", messages[0], signatures[1]));
    }

    // ---- 2. Step 5: the sealed update dropped once the part and fingerprint are made -----------------------------

    [Fact]
    public void A_member_that_dropped_its_sealed_update_answers_step_5_again_only_with_its_pinned_answer_and_never_for_another_aggregate_or_commitments()
    {
        // After step 5 the member holds no sealed update. The aggregator asks again: with the same request (a retry), with one
        // member's masks as the aggregate, with masks of another length, and with a colluder's re-signed commitment. The
        // retry gets the very same signed answer (same signature bytes: nothing was made again); everything else is refused
        // as an aggregate refusal (no crash on the dropped update); the round then opens the honest sum.
        const int length = 100;
        var harness = new RoundHarness(3);
        var updates = RoundHarness.Updates(3, length);
        var aggregator = harness.SealedRound(1, updates);
        var check = aggregator.AggregateCheckRequest();
        var answers = harness.Parties.Select(p => p.Round.CheckAggregate(check)).ToList();
        var victim = harness[0];
        Assert.Null(SealedUpdateInMemory(victim.Round)); // dropped: the attack is on the dropped state
        var partBefore = PartInMemory(victim.Round);

        var again = victim.Round.CheckAggregate(check);
        Assert.Equal(answers[0].Payload, again.Payload);
        Assert.Equal(answers[0].Signature, again.Signature);

        var oneMembersMasks = harness.SealedUpdates[(1, harness[1].Id)];
        var longer = CkksAttackTools.Sent(P, RoundHarness.CraftCiphertext(aggregator.RoundKey, length + 1 + P.RingDimension, 4, (_, _) => 0, (_, _) => 0));
        var resigned = harness[2].Sign(RoundPurpose.Update, RoundHarness.JobId, 1, RandomNumberGenerator.GetBytes(32));
        var attempts = new (string What, AggregateCheckRequest Request, string Reason)[]
        {
            ("one member's masks as the aggregate", check with { AggregateMasks = oneMembersMasks }, "it already checked another aggregate"),
            ("masks of another length", check with { AggregateMasks = longer }, "not of its update's length"),
            ("a colluder's other commitment", check with { Commitments = Replace(check.Commitments, (2, resigned)) }, "other commitments"),
            ("the colluder's commitment re-signed (same payload, other signature bytes)", check with { Commitments = Replace(check.Commitments, (2, harness[2].Sign(RoundPurpose.Update, RoundHarness.JobId, 1, check.Commitments[2].Payload))) }, ""),
        };
        foreach (var (what, request, reason) in attempts)
        {
            if (reason.Length == 0)
            {
                // The same commitments (payloads): the same challenge, so the same pinned answer, nothing new.
                Assert.Equal(answers[0].Signature, victim.Round.CheckAggregate(request).Signature);
                continue;
            }
            var refused = Assert.Throws<RoundRefusedException>(() => victim.Round.CheckAggregate(request));
            Assert.Equal(RoundRefusal.AggregateRefused, refused.Code);
            Assert.True(refused.Message.Contains(reason), $"{what}: {refused.Message}");
        }
        Assert.Same(partBefore, PartInMemory(victim.Round)); // no part for another aggregate was made

        foreach (var a in answers)
            aggregator.AcceptAggregateFingerprint(a);
        var decrypt = aggregator.DecryptRequest();
        foreach (var p in harness.Parties)
            aggregator.AcceptPartCommitment(p.Round.Decrypt(decrypt));
        var reveal = aggregator.PartRevealRequest();
        foreach (var p in harness.Parties)
            aggregator.AcceptPart(p.Round.RevealPart(reveal));
        var mean = aggregator.Open().Mean();
        Assert.True(Enumerable.Range(0, length).Max(i => Math.Abs(updates.Average(u => u[i]) - mean[i])) < 1e-6);
    }

    [Fact]
    public void A_member_refuses_step_5_after_step_6_or_after_a_restart_without_crashing_on_its_dropped_update()
    {
        var harness = new RoundHarness(3);
        var aggregator = harness.SealedRound(1, RoundHarness.Updates(3, 100));
        var check = aggregator.AggregateCheckRequest();
        foreach (var p in harness.Parties)
            aggregator.AcceptAggregateFingerprint(p.Round.CheckAggregate(check));
        var decrypt = aggregator.DecryptRequest();
        var committed = harness[0].Round.Decrypt(decrypt);

        // Step 5 after step 6, the same request and another: refused by stage, its part and commitment unchanged.
        var forgedMasks = harness.SealedUpdates[(1, harness[1].Id)];
        foreach (var request in new[] { check, check with { AggregateMasks = forgedMasks } })
            Assert.Contains("already committed to its part", Assert.Throws<RoundRefusedException>(() => harness[0].Round.CheckAggregate(request)).Message);
        Assert.Equal(committed.Payload, harness[0].Round.Record!.Part!.Commitment);

        // A member restarted between steps 5 and 6 lost its part: step 5 again is refused as a restart, not answered anew.
        harness[1].Restart();
        foreach (var request in new[] { check, check with { AggregateMasks = forgedMasks } })
            Assert.Equal(RoundRefusal.Restarted, Assert.Throws<RoundRefusedException>(() => harness[1].Round.CheckAggregate(request)).Code);
        Assert.Equal(RoundRefusal.Restarted, Assert.Throws<RoundRefusedException>(() => harness[1].Round.Decrypt(decrypt)).Code);
    }

    [Fact]
    public void A_step_5_whose_signing_failed_once_pins_nothing_so_its_retry_gets_a_signed_answer_and_another_aggregate_is_still_refused()
    {
        // Found by this review (older than 0760128): the challenge was pinned before the answer was signed, so a signing
        // that threw once (a key store that failed) left every retry of the same aggregate answered with null. It is now
        // pinned together with the signed answer.
        var harness = new RoundHarness(3);
        var member = harness[0];
        bool failing = false;
        var flaky = new ParticipantRound(member.Round.Terms, null, b => failing ? throw new CryptographicException("key store unavailable") : member.Key.Sign(b),
            new OpenedSums(member.Opened), TimeProvider.System);
        typeof(Party).GetProperty(nameof(Party.Round))!.SetValue(member, flaky);
        var aggregator = harness.SealedRound(1, RoundHarness.Updates(3, 100));
        var check = aggregator.AggregateCheckRequest();

        failing = true;
        Assert.Throws<CryptographicException>(() => member.Round.CheckAggregate(check));
        failing = false;
        var answer = member.Round.CheckAggregate(check);
        Assert.NotNull(answer);
        Assert.Equal(answer.Signature, member.Round.CheckAggregate(check).Signature);
        var forged = harness.SealedUpdates[(1, harness[1].Id)];
        Assert.Contains("it already checked another aggregate", Assert.Throws<RoundRefusedException>(() => member.Round.CheckAggregate(check with { AggregateMasks = forged })).Message);
    }

    // ---- 3. The plan from a model digest, and the host's audit digest -----------------------------------------------

    [Fact]
    public void A_plan_from_a_model_digest_is_the_plan_from_the_model_for_every_model_so_no_chain_step_is_planned_otherwise()
    {
        var scaling = new FedCore.Data.FeatureScaling(["a", "b"], [1.5, -2], [0.5, 3]);
        var random = new Random(5);
        List<float[]> models =
        [
            [], [0f], [-0f], [float.NaN], [BitConverter.Int32BitsToSingle(0x7fc00001)], [float.Epsilon, -float.Epsilon, float.MaxValue],
            [.. Enumerable.Range(0, 1000).Select(_ => (float)random.NextDouble())],
        ];
        foreach (var model in models)
            foreach (string job in new[] { "", "job-1", "CH/jöb" })
                foreach (int version in new[] { 0, 1, int.MaxValue })
                {
                    var fromModel = RoundPlan.For(job, version, model, scaling, 300);
                    var fromDigest = RoundPlan.ForModelDigest(job, version, ModelChain.ModelDigest(model), scaling, 300);
                    Assert.Equal(fromModel.Digest, fromDigest.Digest);
                    Assert.False(fromDigest.IsExplanation);
                    Assert.NotEqual(RoundPlan.ForExplanation(job, version, model, scaling, 300).Digest, fromDigest.Digest);
                }
        // -0 and 0 are different models to the plan (as before the change: the raw bytes are hashed).
        Assert.NotEqual(RoundPlan.For("job-1", 0, [0f], scaling, 1).Digest, RoundPlan.ForModelDigest("job-1", 0, ModelChain.ModelDigest([-0f]), scaling, 1).Digest);
        // Anything but a SHA-256 is refused, and the digest array is read once (changing it afterwards changes no plan).
        foreach (byte[]? digest in new[] { null, new byte[31], new byte[33], [] })
            Assert.ThrowsAny<ArgumentException>(() => RoundPlan.ForModelDigest("job-1", 0, digest!, scaling, 1));
        byte[] mutable = ModelChain.ModelDigest([1f]);
        var plan = RoundPlan.ForModelDigest("job-1", 0, mutable, scaling, 1);
        mutable[0] ^= 1;
        Assert.Equal(RoundPlan.For("job-1", 0, [1f], scaling, 1).Digest, plan.Digest);
    }

    [Fact]
    public void A_model_chain_started_and_advanced_from_model_digests_stands_at_the_plans_and_origin_the_models_give()
    {
        // The chain's plan digest at version 0 and after an honest step is the one RoundPlan.For gives for the model, and the
        // origin (which keys every chain position in OpenedSums) is the one the model gave before the change.
        var job = new ChainedJob();
        var chain = job.Harness[0].Round.Chain!;
        Assert.Equal(RoundPlan.For(job.Id, 0, job.Global, job.Scaling, job.Normaliser).Digest, chain.PlanDigest);
        byte[] origin = Transcript.Hash("chain-origin", Transcript.Text(ChainedJob.Dataset), RoundPlan.For("", 0, job.Global, job.Scaling, job.Normaliser).Digest);
        Assert.Equal(origin, chain.Origin);
        var direct = ModelChain.Start(job.Id, job.Global, job.Scaling, job.Normaliser, job.Strategy, ChainedJob.Dataset, new Dictionary<string, long>());
        Assert.Equal(chain.PlanDigest, direct.PlanDigest);
        Assert.Equal(origin, direct.Origin);

        var members = job.Harness.Parties;
        var aggregator = job.Decrypted(1, members);
        job.Advance(aggregator, job.Opening(aggregator, members), members);
        foreach (var p in members)
        {
            Assert.Equal(RoundPlan.For(job.Id, 1, job.Global, job.Scaling, job.Normaliser).Digest, p.Round.Chain!.PlanDigest);
            Assert.Equal(ModelChain.ModelDigest(job.Global), p.Round.Chain.ModelDigest);
        }
        // The next round's plan, made from the model as a host makes it, is accepted at step 4 (PrepareTraining).
        job.Decrypted(2, members);
    }

    [Fact]
    public void A_sealed_updates_recorded_digest_is_the_sha256_of_the_bytes_that_leave_and_a_mismatch_is_refused_by_the_job()
    {
        // CKKS: the commitment's payload (Sealed.Digest, what the host now audits) is SHA-256 of the masks sent.
        var harness = new RoundHarness(3);
        var aggregator = harness.KeyedRound(1);
        var request = aggregator.SealRequest();
        var sealedUpdates = new List<Sealed>();
        foreach (var (p, i) in harness.Parties.Select((p, i) => (p, i)))
        {
            p.Round.PrepareSeal(request, RoundHarness.PlanFor(1), RoundHarness.BasisFor(1));
            var s = p.Round.Seal(1, RoundHarness.Updates(3, 100)[i], 1.0 / 3);
            Assert.Equal(SHA256.HashData(s.SealedUpdate), s.Digest);
            sealedUpdates.Add(s);
        }
        // The plaintext simulation: the same.
        var simulation = new RoundHarness(3, new RoundProtection(PlaintextSimulation.SchemeName, 4));
        var clear = simulation[0].Round.SealInTheClear(1, [.. simulation.Parties.Select(p => p.Id)], [0.25f, -1f], 0.5);
        Assert.Equal(SHA256.HashData(clear.SealedUpdate), clear.Digest);

        // A Sealed whose bytes are not those committed to (swapped, or changed in place after sealing, so the recorded digest
        // would name other bytes than the job holds) is refused by the job in its sender's name.
        var swapped = sealedUpdates[0] with { SealedUpdate = sealedUpdates[1].SealedUpdate };
        Assert.NotEqual(SHA256.HashData(swapped.SealedUpdate), swapped.Digest);
        Assert.Contains("does not match the commitment", Assert.Throws<RoundRefusedException>(() => aggregator.AcceptSealed(swapped)).Message);
        byte[] changed = [.. sealedUpdates[0].SealedUpdate];
        changed[^1] ^= 1;
        Assert.Contains("does not match the commitment", Assert.Throws<RoundRefusedException>(() => aggregator.AcceptSealed(sealedUpdates[0] with { SealedUpdate = changed })).Message);
        foreach (var s in sealedUpdates)
            aggregator.AcceptSealed(s);
    }

    // ---- Helpers ---------------------------------------------------------------------------------------------------

    private static IReadOnlyList<SignedMessage> Replace(IReadOnlyList<SignedMessage> list, params (int Index, SignedMessage With)[] replacements)
    {
        var copy = list.ToList();
        foreach (var (index, with) in replacements)
            copy[index] = with;
        return copy;
    }

    private static OpeningRequest Relabel(OpeningRequest request, Func<SignedMessage, SignedMessage> relabel) => request with
    {
        PartCommitments = [.. request.PartCommitments.Select(relabel)],
        OpeningFingerprints = [.. request.OpeningFingerprints.Select(relabel)],
        OpenedLeaves = [.. request.OpenedLeaves.Select(relabel)],
    };

    private static ConcurrentDictionary<(string Party, string Signed), bool> Memo(VerifyingKeys keys) =>
        (ConcurrentDictionary<(string Party, string Signed), bool>)typeof(VerifyingKeys).GetField("_verified", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(keys)!;

    /// <summary>True if <paramref name="round"/>'s memo holds <paramref name="m"/> as verified under <paramref name="purpose"/>.</summary>
    private static bool Memoized(ParticipantRound round, string purpose, SignedMessage m)
    {
        var keys = (VerifyingKeys)typeof(ParticipantRound).GetField("_partyKeys", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(round)!;
        byte[] statement = SignedStatement.For(purpose, m.JobId, m.Round, m.ParticipantId, m.Scheme, m.Payload).ToBytes();
        return Memo(keys).ContainsKey((m.ParticipantId, Convert.ToBase64String([.. SHA256.HashData(statement), .. m.Signature])));
    }

    private static object? MemoryField(ParticipantRound round, string field)
    {
        var memory = typeof(ParticipantRound).GetField("_memory", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(round)!;
        return memory.GetType().GetField(field, BindingFlags.Public | BindingFlags.Instance)!.GetValue(memory);
    }

    private static object? SealedUpdateInMemory(ParticipantRound round) => MemoryField(round, "SealedUpdate");

    private static object? PartInMemory(ParticipantRound round) => MemoryField(round, "Part");

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
