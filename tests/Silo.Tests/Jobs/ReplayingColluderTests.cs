using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using FedCore.Aggregation.Integrity;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Jobs;
using FedCore.Rounds;
using Federation.Contracts.Jobs;
using Federation.Contracts.Participants;
using Federation.Contracts.Transfer;
using Federation.Silo.Grains;
using Federation.Silo.Hosting;
using Federation.Tests.Shared;
using Xunit.Abstractions;

namespace Federation.Silo.Tests.Jobs;

/// <summary>
/// VerifiedAggregation.md, section 2: a colluder replaying a rerandomised honest update learns nothing of it, played
/// through real grains (the pure protocol's test is <c>AggregatorAttackTests.A_colluder_replaying_an_honest_update_…</c>).
/// The sample federation on three country silos, its real participant grains and the real job grain; the colluder is
/// US/long-beach. A colluding member runs what software it likes on its own silo: here its participant grain keys the
/// round and trains honestly, then a filter on its silo replaces what it seals, both in the answer that leaves (signed
/// with its own key) and in the round its grain holds, so that its real grain carries the replay through steps 5 to 7b
/// as its own update (its fingerprint of the replayed masks, its part c0′ + s_c·M). The aggregator, which the colluder
/// serves, hands it the victim's masks as they come in (the test takes them off the victim's answer).
/// </summary>
public sealed class ReplayingColluderTests(ITestOutputHelper output)
{
    private const string Colluder = "US/long-beach";
    private const string Victim = "CH/zurich";
    private static readonly string[] Members = ["CH/zurich", "HU/budapest", "US/cleveland", "US/long-beach"];
    private static readonly CkksParameters Parameters = CkksParameters.Default;

    [Fact]
    public async Task A_colluder_replaying_an_honest_update_rerandomised_gets_an_opening_of_garbage_the_job_refuses_and_stores_no_model_from()
    {
        // The colluder seals, as its own, the victim's masks rerandomised: c1 = c1_victim + c1′ of a fresh encryption of a zero
        // update under the round key (its weight in the weight slot, and its own pairwise masks in c0, as any seal), keeping
        // c0′ as its c0. The copy check sees different bytes, every check of steps 5–7b passes, and the job opens
        // R = Σ honest c0ᵢ + c0′ + s·M = Δ·Σ wᵢuᵢ + s·c1_victim + noise: s·c1_victim without the victim's c0 is uniform,
        // and R decodes to garbage, which the job refuses before it stores any model.
        var clock = Stopwatch.StartNew();
        using var dir = new TempDirectory("federation-replay");
        var colluder = new ReplayingMember();
        await using var federation = await StartAsync(dir, colluder);

        const string job = "CH/replay-attack";
        var (status, attack, values, weight) = await ReplayAsync(federation, colluder, job, withVictimsMasks: true);
        // Garbage with respect to any update: N is the rows of all four members, so any honest sum has total weight at most 1
        // and every weighted value within ±4 (the bound). Nothing else the colluder holds enters: its pads, c0′ and key
        // share are in R already, and s·c1_victim needs every honest sᵢ. (A garbage value falls within ±4 about one time in
        // a hundred, hence three in four, not all.)
        var all = values.Append(weight).ToArray();
        int beyond = all.Count(v => Math.Abs(v) > Bound);
        output.WriteLine($"{job}: {beyond} of {all.Length} opened values (the weight among them) beyond ±{Bound}; magnitudes {all.Min(Math.Abs):G3} to {all.Max(Math.Abs):G3}; total weight {weight:G6}");
        Assert.True(beyond > all.Length * 3 / 4, $"{job}: only {beyond} of {all.Length} opened values beyond ±{Bound}: the opening reads as a sum of updates");

        // The job refuses it as a sum no honest seals make, once opened (after step 7b), and no model version comes from it.
        Assert.True(status.Phase == JobPhase.Failed, $"{job}: {status.Phase} {status.Error}");
        string where = $"Job {job} round {attack.Round}: ckks: ";
        Assert.True(weight > 0 && weight <= 4 * Bound
            ? status.Error!.Contains(where + "opened weighted sum ") && status.Error.Contains("an update in the sum is malformed.")
            : status.Error!.Contains(where + $"the opened total weight is {weight}, outside (0, 16] for 4 updates sealed with bound 4; an update in the sum is malformed."),
            $"{job}: {status.Error}");
        Assert.Equal(0, status.CompletedRounds);
        Assert.Equal(0, status.LatestModelVersion);
        output.WriteLine($"{job}: {status.Error}");

        // The control: the same colluder, filter and forgery (its grain holding a seal of the test's making, re-signed with its
        // key) without the victim's masks, a zero update of its own: the round opens a plausible sum, and completes.
        const string control = "CH/replay-control";
        (status, _, values, weight) = await ReplayAsync(federation, colluder, control, withVictimsMasks: false);
        Assert.True(status.Phase == JobPhase.Completed, $"{control}: {status.Phase} {status.Error}");
        Assert.Equal(1, status.LatestModelVersion);
        Assert.Equal(1.0, weight, 3); // every member's rows over all rows
        Assert.All(values, v => Assert.InRange(v, -Bound * weight - 1e-3, Bound * weight + 1e-3));
        output.WriteLine($"{control}: opened values within ±{values.Max(Math.Abs):G3}; total weight {weight:G6}");
        output.WriteLine($"{nameof(A_colluder_replaying_an_honest_update_rerandomised_gets_an_opening_of_garbage_the_job_refuses_and_stores_no_model_from)}: {clock.Elapsed.TotalSeconds:F1}s");
    }

    private const double Bound = 4; // the sample job's update bound

    /// <summary>One round of the sample job with the colluder's replay: the job's status, what the attack saw, and the opened sum decoded.</summary>
    private static async Task<(JobStatus Status, Attack Attack, double[] Values, double Weight)> ReplayAsync(LocalFederation federation, ReplayingMember colluder, string job, bool withVictimsMasks)
    {
        colluder.Replay(job, withVictimsMasks);
        var status = await TestFederations.RunAsync(federation, TestFederations.SampleJob with { Rounds = 1 }, job);
        var attack = colluder.Of(job);

        // The attack ran as planned: the replay went in under the colluder's name, not a copy of the victim's bytes, and the
        // honest members let it through step 5 (the aggregate check), step 6 (fingerprints add up) and 6b (every part in).
        Assert.NotNull(attack.VictimsMasks);
        Assert.NotNull(attack.Replayed);
        Assert.NotEqual(attack.VictimsMasks, attack.Replayed);
        Assert.All(Members, m => Assert.True(attack.Parts.ContainsKey((attack.Round, m)), $"{job}: no part of {m} in round {attack.Round}"));
        // What the job opened (the digest it asked every member to check at step 7) is the sum of those parts: what the attacker holds.
        var opened = OpenedPlaintext.Sum([.. Members.Select(m => OpenedPlaintext.FromBytes(attack.Parts[(attack.Round, m)], Parameters))]);
        Assert.Equal(opened.Sha256(), attack.OpenedDigest[attack.Round]);
        var values = new double[opened.Length - 1];
        var weight = new double[1];
        opened.Decode(values, weight);
        return (status, attack, values, weight[0]);
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /// <summary>The sample federation with the colluder's filter on every silo, set up, and the colluder's own signing key read.</summary>
    private static async Task<LocalFederation> StartAsync(TempDirectory dir, ReplayingMember colluder)
    {
        (var federation, colluder.SigningKey) = await ColludingFederation.StartAsync(dir, Colluder, colluder.OnCallAsync);
        return federation;
    }

    /// <summary>What one job's attack saw: the victim's masks, the replay sent, every member's part (step 6b) and the digest the job opened (step 7).</summary>
    private sealed class Attack
    {
        public readonly TaskCompletionSource<byte[]> Victim = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool WithVictimsMasks;
        public int Round;
        public byte[]? VictimsMasks, Replayed;
        public readonly ConcurrentDictionary<int, byte[]> OpenedDigest = new(); // by protocol round: the job runs an explanation round after its last
        public readonly ConcurrentDictionary<(int Round, string Member), byte[]> Parts = new();
    }

    /// <summary>
    /// The colluder's filter, on every silo. At step 4 it takes the victim's masks off the victim's answer (the aggregator
    /// would hand them over) and, on the colluder's silo, once its grain has sealed honestly, builds the replay from its
    /// grain's own round (the round key, its masking key and its neighbours' masking keys), puts it in place of the sealed
    /// update its grain holds, and sends its masks committed to and signed with its key. At step 6b it records every
    /// member's part, at step 7 the digest of what the job opened.
    /// </summary>
    private sealed class ReplayingMember
    {
        private static readonly TimeSpan Wait = TimeSpan.FromMinutes(1);
        private readonly ConcurrentDictionary<string, Attack> _attacks = new();

        public byte[] SigningKey { get; set; } = [];

        public void Replay(string job, bool withVictimsMasks) => _attacks[job] = new Attack { WithVictimsMasks = withVictimsMasks };

        public Attack Of(string job) => _attacks[job];

        public async Task OnCallAsync(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod.DeclaringType != typeof(IParticipantGrain) || context.InterfaceMethod.Name is not
                (nameof(IParticipantGrain.Train) or nameof(IParticipantGrain.RevealPart) or nameof(IParticipantGrain.CheckOpening)))
            {
                await context.Invoke();
                return;
            }
            var member = context.TargetId.Key.ToString()!;
            switch (context.Request.GetArgument(0))
            {
                case RoundAssignment a when context.InterfaceMethod.Name == nameof(IParticipantGrain.Train) && _attacks.TryGetValue(a.JobId, out var attack):
                    if (member == Colluder)
                    {
                        await ReplayAsync(context, a, attack);
                        return;
                    }
                    await context.Invoke();
                    if (member == Victim)
                        attack.Victim.TrySetResult(((LocalTrainingReport)context.Result!).SealedUpdate.Inline
                            ?? throw new InvalidOperationException("The victim's masks came as a transfer; the test takes inline ones only."));
                    return;
                case RoundPartRevealRequest r when _attacks.TryGetValue(r.JobId, out var attack):
                    await context.Invoke();
                    attack.Parts[(r.Round, member)] = ((PartReply)context.Result!).PartBytes.Inline
                        ?? throw new InvalidOperationException("A part came as a transfer; the test takes inline ones only.");
                    return;
                case RoundOpeningCheckRequest o when _attacks.TryGetValue(o.JobId, out var attack):
                    attack.OpenedDigest[o.Round] = o.OpenedDigest;
                    await context.Invoke();
                    return;
                default:
                    await context.Invoke();
                    return;
            }
        }

        private async Task ReplayAsync(IIncomingGrainCallContext context, RoundAssignment assignment, Attack attack)
        {
            // Its own round, as its grain holds it after the key check: the masking key is erased once it seals, so it is read first.
            var grain = (ParticipantGrain)context.TargetContext.GrainInstance!;
            var rounds = (Dictionary<string, ParticipantRound>)Field(typeof(ParticipantGrain), "_rounds").GetValue(grain)!;
            var round = rounds[assignment.JobId];
            var record = round.Record!;
            byte[] maskingKey = record.MaskingKey!.ToArray();
            await context.Invoke(); // it keys and trains honestly, and seals its own update
            var report = (LocalTrainingReport)context.Result!;
            var memory = Field(typeof(ParticipantRound), "_memory").GetValue(round)!;
            var roundKey = (CollectivePublicKey)MemoryField(memory, "RoundKey");
            var maskingKeys = (Dictionary<string, byte[]>)MemoryField(memory, "MaskingKeys");
            var maskingContext = (byte[])MemoryField(memory, "MaskingContext");
            int length = (int)MemoryField(memory, "SealedLength");
            double ownWeight = report.TrainSamples / assignment.WeightNormaliser;
            attack.Round = assignment.Round;
            byte[] victims = await attack.Victim.Task.WaitAsync(Wait);
            attack.VictimsMasks = victims;

            // A fresh encryption of a zero update under the round key, as its grain would seal one: its weight, its own pads in c0.
            using var own = MaskingKeyPair.Import(maskingKey);
            using var pads = PairwiseMasks.Derive(Parameters, own, Colluder,
                [.. record.Participants.Where(p => p != Colluder).Select(p => (p, maskingKeys[p]))], maskingContext);
            var zero = EncryptedVector.EncryptWeighted(roundKey, new float[length - 1], ownWeight, round.Terms.Protection.UpdateBound, pads);
            var victimsMasks = CiphertextMasks.FromBytes(victims, Parameters);
            Assert.Equal(length, victimsMasks.Length);
            var q0 = Parameters.Context.WireModulus;
            int n = Parameters.RingDimension;
            var c0 = new ulong[zero.ChunkCount][];
            var c1 = new ulong[zero.ChunkCount][];
            for (int chunk = 0; chunk < zero.ChunkCount; chunk++)
            {
                (c0[chunk], c1[chunk]) = (new ulong[n], new ulong[n]);
                var theirs = new ulong[n];
                zero.ReadC0(chunk, c0[chunk]);
                zero.ReadC1(chunk, c1[chunk]);
                victimsMasks.ReadC1(chunk, theirs);
                if (attack.WithVictimsMasks)
                    for (int j = 0; j < n; j++)
                        c1[chunk][j] = q0.Add(c1[chunk][j], theirs[j]);
            }
            var replay = EncryptedVector.FromBytes(
                CkksAttackTools.CraftCiphertext(Parameters, roundKey, length, round.Terms.Protection.UpdateBound, (k, j) => c0[k][j], (k, j) => c1[k][j]), Parameters);
            var sent = CiphertextMasks.Of(replay);
            byte[] bytes = sent.ToBytes(), digest = SHA256.HashData(bytes);
            Assert.Equal(digest, sent.Digest.ToArray());

            // Its grain now holds the replay as what it sealed, and the job gets its masks committed to and signed with its key.
            SetMemoryField(memory, "SealedUpdate", replay);
            SetMemoryField(memory, "SealedDigest", digest);
            attack.Replayed = bytes;
            context.Result = report with { SealedUpdate = Payload.OfInline(bytes), Commitment = Sign(report.Commitment, RoundPurpose.Update, digest) };
        }

        private static FieldInfo Field(Type type, string name) =>
            type.GetField(name, BindingFlags.Instance | BindingFlags.NonPublic) ?? throw new MissingFieldException(type.Name, name);

        private static object MemoryField(object memory, string name) =>
            (memory.GetType().GetField(name) ?? throw new MissingFieldException(memory.GetType().Name, name)).GetValue(memory)
            ?? throw new InvalidOperationException($"The colluder's round holds no {name}.");

        private static void SetMemoryField(object memory, string name, object value) =>
            (memory.GetType().GetField(name) ?? throw new MissingFieldException(memory.GetType().Name, name)).SetValue(memory, value);

        /// <summary><paramref name="original"/> as the colluder's signed message of <paramref name="purpose"/> over <paramref name="payload"/>.</summary>
        private SignedPayload Sign(SignedPayload original, string purpose, byte[] payload)
        {
            using var key = ParticipantSigningKey.Import(SigningKey);
            var statement = SignedStatement.For(purpose, original.JobId, original.Round, original.ParticipantId, original.Scheme, payload);
            return original with { Payload = payload, Signature = key.Sign(statement.ToBytes()) };
        }
    }
}
