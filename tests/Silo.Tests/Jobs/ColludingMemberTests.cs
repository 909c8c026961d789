using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using FedCore.Aggregation.Integrity;
using FedCore.Crypto.Wire;
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
/// The job's claims against a colluding member (FedCore/Rounds/README.md, "Messages": masks of another length at step 4,
/// a committed part under another header at step 6b), played through real grains: the sample federation on three
/// country silos, its real participant grains and the real job grain. The colluder is a member whose participant grain
/// answers honestly and whose answer is then replaced, on its own silo, by one it forged and signed with its own key;
/// the honest members' answers are held until the colluder's has gone out, so the forgery arrives first. The pure
/// protocol's tests are <c>AggregatorAttackTests</c> and <c>PerfReviewTests</c>. Both claims hold in a round as the job
/// first runs it, and in a round the job takes up again from step 6b after a member dropped out (a colluder can drop out
/// on purpose), which failed before the job kept the round's length and key id for it.
/// </summary>
public sealed class ColludingMemberTests(ITestOutputHelper output)
{
    // The last member in the job's (ordinal) member order. The job checks a step's replies as they arrive and, once all
    // are in, fails with the first refusal in member order: with the colluder last, an error naming it means that no
    // honest member's reply was refused.
    private const string Colluder = "US/long-beach";
    private static readonly string[] Honest = ["CH/zurich", "HU/budapest", "US/cleveland"];

    [Fact]
    public async Task A_colluders_masks_of_another_length_sent_first_are_refused_in_its_name_and_not_the_honest_members()
    {
        // Before the job named the round's length, the first masks to arrive set it: a colluder's of another length, sent
        // first, got every honest member's masks refused in their names (branch review/c0home). Three lengths: one value
        // more and one fewer in as many ciphertexts, and a whole ciphertext more.
        var clock = Stopwatch.StartNew();
        using var dir = new TempDirectory("federation-colluder-masks");
        var colluder = new ColludingMember(Colluder, nameof(IParticipantGrain.Train));
        await using var federation = await StartAsync(dir, colluder);

        var forgeries = new (string Name, int Extra)[] { ("one-more", 1), ("one-fewer", -1), ("a-ciphertext-more", 4096) };
        foreach (var (name, extra) in forgeries)
        {
            var job = $"CH/colluder-masks-{name}";
            int? honestLength = null;
            colluder.Forge(job, report => ForgeMasks(colluder, (LocalTrainingReport)report, extra, out honestLength));
            var status = await TestFederations.RunAsync(federation, TestFederations.SampleJob with { Rounds = 1 }, job);

            colluder.AssertCameFirst(job);
            Assert.True(status.Phase == JobPhase.Failed, $"{job}: {status.Phase} {status.Error}");
            Assert.Equal(SealedLength(), honestLength);
            Assert.True(status.Error!.Contains($"the sealed update from {Colluder} carries {honestLength + extra} values; the round's carry {honestLength}")
                && !Honest.Any(status.Error.Contains), $"{job}: {status.Error}");
            output.WriteLine($"{job}: {status.Error}");
        }

        // The control: the same federation, filters and order, without the forgery, completes.
        var control = await TestFederations.RunToCompletionAsync(federation, TestFederations.SampleJob with { Rounds = 1 }, "CH/colluder-masks-control");
        colluder.AssertCameFirst("CH/colluder-masks-control");
        Assert.All(control.Rounds, r => Assert.Equal(4, r.Participants.Count));
        output.WriteLine($"{nameof(A_colluders_masks_of_another_length_sent_first_are_refused_in_its_name_and_not_the_honest_members)}: {clock.Elapsed.TotalSeconds:F1}s");
    }

    [Fact]
    public async Task A_colluders_committed_part_under_another_header_revealed_first_is_refused_in_its_name_and_not_the_honest_parts()
    {
        // The Merkle commitment covers a part's coefficients only, so a colluder can reveal its committed coefficients under
        // another header (scale, length, round key). Before the job held parts to the round's header, the first part to
        // arrive set it, and every honest part after it was refused in its member's name (branch review/perf).
        var clock = Stopwatch.StartNew();
        using var dir = new TempDirectory("federation-colluder-part");
        var colluder = new ColludingMember(Colluder, nameof(IParticipantGrain.RevealPart));
        await using var federation = await StartAsync(dir, colluder);

        foreach (var field in new[] { "scale", "length", "key" })
        {
            var job = $"CH/colluder-part-{field}";
            colluder.Forge(job, reply => ForgePart(colluder, (PartReply)reply, field));
            var status = await TestFederations.RunAsync(federation, TestFederations.SampleJob with { Rounds = 1 }, job);

            colluder.AssertCameFirst(job);
            Assert.True(status.Phase == JobPhase.Failed, $"{job}: {status.Phase} {status.Error}");
            Assert.True(status.Error!.Contains($"the part of {Colluder} is not") && !Honest.Any(status.Error.Contains), $"{job}: {status.Error}");
            output.WriteLine($"{job}: {status.Error}");
        }

        var control = await TestFederations.RunToCompletionAsync(federation, TestFederations.SampleJob with { Rounds = 1 }, "CH/colluder-part-control");
        colluder.AssertCameFirst("CH/colluder-part-control");
        Assert.All(control.Rounds, r => Assert.Equal(4, r.Participants.Count));
        output.WriteLine($"{nameof(A_colluders_committed_part_under_another_header_revealed_first_is_refused_in_its_name_and_not_the_honest_parts)}: {clock.Elapsed.TotalSeconds:F1}s");
    }

    [Fact]
    public async Task A_colluders_part_under_another_header_revealed_first_in_a_round_taken_up_again_is_refused_in_its_name()
    {
        // Found by this test (branch review/grains-colluder). The colluder drops out of step 6b once (its call fails as an
        // unreachable silo's does; any member can), so the job takes the same protocol round up again from step 6b
        // (ResumeRoundAsync) with no masks. It used to hold the parts to the first one's length and key, which the
        // colluder, revealing first, chose, and the honest part after it was refused in its member's name. The job now
        // names the length and keeps the round key's id with the commitments it stores.
        var clock = Stopwatch.StartNew();
        using var dir = new TempDirectory("federation-colluder-resumed-part");
        var colluder = new ColludingMember(Colluder, nameof(IParticipantGrain.RevealPart));
        await using var federation = await StartAsync(dir, colluder);

        foreach (var field in new[] { "scale", "length", "key" })
        {
            var job = $"CH/colluder-resumed-part-{field}";
            colluder.DropOutOnce(job);
            colluder.Forge(job, reply => ForgePart(colluder, (PartReply)reply, field));
            var status = await TestFederations.RunAsync(federation, TestFederations.SampleJob with { Rounds = 1 }, job);

            colluder.AssertDroppedOutOnce(job);
            colluder.AssertCameFirst(job);
            Assert.True(status.Phase == JobPhase.Failed, $"{job}: {status.Phase} {status.Error}");
            Assert.True(status.Error!.Contains($"the part of {Colluder} is not") && !Honest.Any(status.Error.Contains), $"{job}: {status.Error}");
            output.WriteLine($"{job}: {status.Error}");
        }

        // The control: the same dropout, taken up again, without the forgery, completes.
        const string control = "CH/colluder-resumed-part-control";
        colluder.DropOutOnce(control);
        var completed = await TestFederations.RunToCompletionAsync(federation, TestFederations.SampleJob with { Rounds = 1 }, control);
        colluder.AssertDroppedOutOnce(control);
        colluder.AssertCameFirst(control);
        Assert.Equal(1, completed.CompletedRounds);
        output.WriteLine($"{nameof(A_colluders_part_under_another_header_revealed_first_in_a_round_taken_up_again_is_refused_in_its_name)}: {clock.Elapsed.TotalSeconds:F1}s");
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /// <summary>The sample federation with the colluder's filter on every silo, set up, and the colluder's own signing key read.</summary>
    private static async Task<LocalFederation> StartAsync(TempDirectory dir, ColludingMember colluder)
    {
        (var federation, colluder.SigningKey) = await ColludingFederation.StartAsync(dir, Colluder, colluder.OnCallAsync);
        return federation;
    }

    /// <summary>The values every member of the sample job seals: the model's parameters and the weight.</summary>
    private static int SealedLength() =>
        (int)FedCore.Learning.ParameterLayout.For(FedCore.Learning.ModelSpec.Parse(TestFederations.SampleJob.ModelJson, "sample")).TotalLength + 1;

    /// <summary>
    /// The colluder's own sealed masks with <paramref name="extra"/> values more (or fewer) in the length field, and
    /// whole ciphertexts more where the length needs them (copies of its last): well-formed masks under the round key,
    /// committed to and signed with its key.
    /// </summary>
    private static LocalTrainingReport ForgeMasks(ColludingMember colluder, LocalTrainingReport report, int extra, out int? honestLength)
    {
        var masks = report.SealedUpdate.Inline ?? throw new InvalidOperationException("The colluder's masks came as a transfer; the test forges inline ones only.");
        const int lengthAt = WireFormat.HeaderLength + 32, bodyAt = lengthAt + 4;
        int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(masks.AsSpan(lengthAt));
        const int n = 4096; // values a ciphertext carries (CkksParameters.Default)
        int chunks = (length + n - 1) / n, forgedChunks = (length + extra + n - 1) / n;
        int polynomial = (masks.Length - bodyAt) / chunks;
        var forged = new byte[bodyAt + forgedChunks * polynomial];
        masks.AsSpan(0, Math.Min(masks.Length, forged.Length)).CopyTo(forged);
        for (int chunk = chunks; chunk < forgedChunks; chunk++)
            masks.AsSpan(masks.Length - polynomial).CopyTo(forged.AsSpan(bodyAt + chunk * polynomial));
        BinaryPrimitives.WriteUInt32LittleEndian(forged.AsSpan(lengthAt), (uint)(length + extra));
        honestLength = length;
        return report with { SealedUpdate = Payload.OfInline(forged), Commitment = colluder.Sign(report.Commitment, RoundPurpose.Update, SHA256.HashData(forged)) };
    }

    /// <summary>
    /// The colluder's own part, the coefficients it committed to, under another header (CkksAttackTools.WithHeader),
    /// signed with its key.
    /// </summary>
    private static PartReply ForgePart(ColludingMember colluder, PartReply reply, string field)
    {
        var part = CkksAttackTools.WithHeader(reply.PartBytes.Inline ?? throw new InvalidOperationException("The colluder's part came as a transfer; the test forges inline ones only."), field);
        // The signed part travels with an empty payload, its bytes apart; the signature is over the bytes.
        return new PartReply(colluder.Sign(reply.Part, RoundPurpose.OpeningPart, part) with { Payload = [] }, Payload.OfInline(part));
    }

    /// <summary>
    /// The colluder and the order of one step's answers. On every silo its filter lets each participant grain answer;
    /// for a job the test runs, the colluder's answer is replaced by its forgery (if any) and marks the step sent, and each
    /// honest member's answer waits until then and one more second (the job checks the colluder's first). A colluder's
    /// answer that does not come within a minute is recorded and the honest ones go on: the test then fails, not hangs.
    /// In a job it drops out of once, the colluder's first call of the step fails as a silo that cannot be reached does,
    /// and that attempt's answers are neither held nor forged.
    /// </summary>
    private sealed class ColludingMember(string id, string method)
    {
        private static readonly TimeSpan Wait = TimeSpan.FromMinutes(1), Margin = TimeSpan.FromSeconds(1);
        private readonly ConcurrentDictionary<string, Func<object, object>> _forgeries = new();
        private readonly ConcurrentDictionary<string, int> _dropOuts = new(); // job → the round dropped out of (0 until then)
        private readonly ConcurrentDictionary<(string Job, int Round, string Member), int> _calls = new();
        private readonly ConcurrentDictionary<(string Job, int Round, int Call), TaskCompletionSource> _sent = new();
        private readonly ConcurrentDictionary<string, int> _colluderFirst = new(), _late = new(), _droppedOut = new();

        public byte[] SigningKey { get; set; } = [];

        public void Forge(string job, Func<object, object> forge) => _forgeries[job] = forge;

        public void DropOutOnce(string job) => _dropOuts[job] = 0;

        public async Task OnCallAsync(IIncomingGrainCallContext context)
        {
            (string Job, int Round)? step = context.InterfaceMethod.DeclaringType != typeof(IParticipantGrain) || context.InterfaceMethod.Name != method ? null
                : context.Request.GetArgument(0) switch
                {
                    RoundAssignment a => (a.JobId, a.Round),
                    RoundPartRevealRequest r => (r.JobId, r.Round),
                    _ => null,
                };
            if (step is not ({ } job, var round) || !job.StartsWith("CH/colluder-", StringComparison.Ordinal))
            {
                await context.Invoke();
                return;
            }
            var member = context.TargetId.Key.ToString()!;
            // The n-th call of the step to each member is the n-th attempt at it (a protocol round taken up again keeps its number).
            int call = _calls.AddOrUpdate((job, round, member), 1, (_, n) => n + 1);
            bool droppedAttempt = call == 1 && _dropOuts.TryGetValue(job, out var dropped) && (dropped == 0 || dropped == round);
            if (droppedAttempt && member == id && _dropOuts.TryUpdate(job, round, 0))
            {
                _droppedOut.AddOrUpdate(job, 1, (_, n) => n + 1);
                throw new TimeoutException($"test: {id} drops out of {method} once");
            }
            await context.Invoke();
            if (droppedAttempt)
                return;
            var sent = _sent.GetOrAdd((job, round, call), _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
            if (member == id)
            {
                if (_forgeries.TryGetValue(job, out var forge))
                    context.Result = forge(context.Result!);
                _colluderFirst.AddOrUpdate(job, 1, (_, n) => n + 1);
                sent.TrySetResult();
                return;
            }
            try
            {
                await sent.Task.WaitAsync(Wait);
                await Task.Delay(Margin);
            }
            catch (TimeoutException)
            {
                _late.AddOrUpdate(job, 1, (_, n) => n + 1);
            }
        }

        /// <summary>The colluder's answer went out before every honest one, in every round of <paramref name="job"/> the step ran.</summary>
        public void AssertCameFirst(string job)
        {
            Assert.True(_colluderFirst.GetValueOrDefault(job) > 0, $"{job}: the colluder was never asked to {method}.");
            Assert.True(_late.GetValueOrDefault(job) == 0, $"{job}: honest members answered {method} before the colluder did.");
        }

        /// <summary>The colluder dropped out of the step once in <paramref name="job"/>, and the job asked it again.</summary>
        public void AssertDroppedOutOnce(string job) => Assert.True(_droppedOut.GetValueOrDefault(job) == 1, $"{job}: the colluder dropped out {_droppedOut.GetValueOrDefault(job)} times.");

        /// <summary><paramref name="original"/> as the colluder's signed message of <paramref name="purpose"/> over <paramref name="payload"/>.</summary>
        public SignedPayload Sign(SignedPayload original, string purpose, byte[] payload)
        {
            using var key = ParticipantSigningKey.Import(SigningKey);
            var statement = SignedStatement.For(purpose, original.JobId, original.Round, original.ParticipantId, original.Scheme, payload);
            return original with { Payload = payload, Signature = key.Sign(statement.ToBytes()) };
        }
    }
}
