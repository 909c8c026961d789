using FedCore.Aggregation.Protection;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Data;
using FedCore.Rounds;
using Xunit.Abstractions;

namespace FedCore.Tests.Rounds;

/// <summary>
/// Review of the total-weight check at step 8 (branch review/spot-2, with its report WeightReview.md). The claim: the
/// aggregator with one colluder cannot make consecutive model versions nearly equal, which would let it read one member's
/// update by differencing sums over S and S ∖ {v} from two nearly equal bases. Every party now checks that the opened
/// total weight is Σ rows / N, the rows each member's moments counted at step 0. Known_limit tests show attacks that work
/// as documented (and measure them); the others assert refusals.
/// </summary>
public class WeightReviewTests(ITestOutputHelper output)
{
    private const double Bound = 4; // RoundHarness's pinned update bound

    // ---- Finding 1: row-count inflation at step 0 ---------------------------------------------------------------------

    [Fact]
    public void Known_limit_a_colluder_signing_a_huge_row_count_at_step_0_holds_the_model_still_and_the_aggregator_reads_one_update_from_consecutive_versions()
    {
        // The colluder (party 3) signs its true moments scaled to K rows (sums × K/60: the same mean and deviation, so the
        // scaling stays plausible). N = 180 + K, honest weights are 60/N, its own K/N ≈ 1. It seals zeros with its entitled
        // weight: every check passes, including step 8's total weight (Σ rows / N = 1 exactly), and the mean is damped by
        // (180/N). Version 0 over S, version 1 over S ∖ {party 0}; the read is the difference of the two opened sums (minus
        // the colluder's own contributions, zero), compared with party 0's weighted update.
        var honest = ReadWithInflation(rows: 60);
        var inflated = new Dictionary<long, (double Step, double ReadError, double Normaliser)>();
        foreach (long k in new long[] { 6_000, 600_000 })
            inflated[k] = ReadWithInflation(k);
        output.WriteLine($"honest chain:      step {honest.Step:E3}, read error {honest.ReadError:P2} (N = {honest.Normaliser})");
        foreach (var (k, r) in inflated)
            output.WriteLine($"colluder K = {k,7}: step {r.Step:E3} ({honest.Step / r.Step:F0}x smaller), read error {r.ReadError:P4} (N = {r.Normaliser})");

        Assert.True(honest.ReadError > 0.1, $"honest read error {honest.ReadError}");
        Assert.True(inflated[6_000].Step < honest.Step / 20, $"step {inflated[6_000].Step} vs honest {honest.Step}");
        Assert.True(inflated[6_000].ReadError < honest.ReadError / 20, $"read error {inflated[6_000].ReadError} vs honest {honest.ReadError}");
        Assert.True(inflated[600_000].ReadError < 0.01, $"read error {inflated[600_000].ReadError}");
    }

    /// <summary>
    /// A job whose colluder (party 3) signed <paramref name="rows"/> rows at step 0 (60 is the truth: the honest chain) and
    /// seals zeros at its weight rows / N unless honest; version 0 over all four, version 1 over parties 1–3.
    /// </summary>
    private (double Step, double ReadError, double Normaliser) ReadWithInflation(long rows)
    {
        bool honestChain = rows == 60;
        var job = new ChainedJob(moments: (i, m) => i == 3 && !honestChain ? Inflated(m, rows) : m);
        var members = job.Harness.Parties;
        var colluder = members[3];
        // Visible before anyone trains: every party's chain holds the colluder's signed count, and N from it.
        foreach (var p in members)
        {
            Assert.Equal(rows, p.Round.Chain!.Rows![colluder.Id]);
            Assert.Equal(180 + rows, p.Round.Chain.WeightNormaliser);
        }
        Func<Party, (float[], double)?> zeros = p => p == colluder && !honestChain ? (new float[job.Global.Length], rows / job.Normaliser) : null;
        var v0 = job.Global;
        var (first, sealed0) = Play(job, 1, members, zeros);
        double step = Norm(job.Global.Select((g, j) => (double)g - v0[j]).ToArray());
        var rest = members.Skip(1).ToList();
        var (second, sealed1) = Play(job, 2, rest, zeros, advance: false);
        var read = first.WeightedSum.Select((s, j) => s - second.WeightedSum[j] - sealed0[colluder.Id][j] + sealed1[colluder.Id][j]).ToArray();
        return (step, ChainedJob.RelativeError(read, sealed0[members[0].Id]), job.Normaliser);
    }

    [Fact]
    public void Under_an_agreement_that_caps_one_partys_share_of_the_rows_an_inflated_count_is_refused_before_anyone_trains()
    {
        // The agreement's training terms may cap one party's share of all parties' training rows (training.maxRowShare). At
        // 0.5 the colluder counts at most as many rows as all others together, so its zeros damp a step at most 2×; 6 000
        // rows against 180 are refused at step 0 by every party, and the honest counts start the chain.
        var inflated = new ChainedJob(start: false, moments: (i, m) => i == 3 ? Inflated(m, 6_000) : m);
        foreach (var p in inflated.Harness.Parties)
            Assert.Contains("count 6000 of the parties' 6180 training rows, more than the agreement's share of 0.5",
                Assert.Throws<RoundRefusedException>(() => p.Round.StartChain(inflated.Moments, ChainedJob.Spec, ChainedJob.Seed, inflated.Strategy, ChainedJob.Dataset, maxRowShare: 0.5)).Message);
        var honest = new ChainedJob(start: false);
        Assert.Equal(0, honest.Harness[0].Round.StartChain(honest.Moments, ChainedJob.Spec, ChainedJob.Seed, honest.Strategy, ChainedJob.Dataset, maxRowShare: 0.5).Version);
    }

    /// <summary>The same mean and deviation over <paramref name="rows"/> rows: every sum scaled by rows / count.</summary>
    private static FeatureMoments Inflated(FeatureMoments m, long rows)
    {
        double f = (double)rows / m.Count;
        return new FeatureMoments(m.FeatureNames, rows, [.. m.Sum.Select(s => s * f)], [.. m.SumOfSquares.Select(s => s * f)]);
    }

    [Fact]
    public void Known_limit_no_check_of_the_moments_alone_can_bound_a_row_count_they_are_consistent_at_any_scale()
    {
        // What a party could check of another's signed moments: a positive count, finite sums, Σx² ≥ 0, and Cauchy–Schwarz
        // (Σx)² ≤ n·Σx². All are homogeneous of degree 1 or 2 in the count: scaling every sum by K/n keeps them true, and
        // keeps the mean and deviation the scaling takes from them. Only something outside the moments (a cap on a party's
        // share of N, or a row count fixed before the job) bounds it.
        var rows = new ChainedJob(start: false).Rows[3];
        var truth = FeatureMoments.Compute(rows, ChainedJob.Features);
        var inflated = Inflated(truth, 1_000_000_000);
        var decoded = SignedMoments.Decode(SignedMoments.Encode(inflated));
        for (int k = 0; k < truth.FeatureNames.Length; k++)
        {
            Assert.True(decoded.Sum[k] * decoded.Sum[k] <= decoded.Count * decoded.SumOfSquares[k] * (1 + 1e-12));
        }
        var a = FeatureScaling.FromMoments(truth);
        var b = FeatureScaling.FromMoments(decoded);
        for (int k = 0; k < a.Mean.Length; k++)
        {
            Assert.Equal(a.Mean[k], b.Mean[k], 9);
            Assert.Equal(a.StandardDeviation[k], b.StandardDeviation[k], 6);
        }
    }

    // ---- Finding 2: predictive cancellation (no weight, no forged part) ---------------------------------------------------------------------------

    [Fact]
    public void Known_limit_a_colluder_sealing_minus_the_previous_honest_sum_holds_the_model_still_within_a_few_rounds_and_the_aggregator_reads_one_update_from_consecutive_versions()
    {
        // No forged part, no forged weight: the colluder seals, as its update, minus the honest members' weighted sum of the
        // previous version (which the aggregator opened: opened sum minus the colluder's own contribution), divided by its
        // weight 1/4 and clipped to the bound. Version k + 1 = version k + (H_k − H_{k−1}), and once the model slows, H_k
        // ≈ H_{k−1} holds better every round: a contraction towards a fixed model. Measured per version k: the step, and the
        // error of the read "version k over S, version k + 1 over S ∖ {party 0}" (the other members' drift over v's update,
        // computed from their deterministic training: what the protocol read gives up to the decryption noise); then the
        // read is played through the protocol at the last version and agrees.
        const int versions = 5;
        var (honestSteps, honestErrors, _) = Chain(cancel: false, versions, out _);
        var (steps, errors, job) = Chain(cancel: true, versions, out var state);
        for (int k = 0; k < versions; k++)
            output.WriteLine($"version {k}: honest step {honestSteps[k]:E3} read error {honestErrors[k]:P2} | cancelling step {steps[k]:E3} read error {errors[k]:P3}");

        // The protocol read at version `versions` (over S, cancelling) and `versions + 1` over S ∖ {party 0}.
        var members = job.Harness.Parties;
        var colluder = members[3];
        var (first, sealed0) = Play(job, 2 * versions + 1, members, state.Cancel);
        var predicted = PredictedReadError(job, sealed0, colluder);
        var (second, sealed1) = Play(job, 2 * versions + 2, [.. members.Skip(1)], _ => null, advance: false);
        var read = first.WeightedSum.Select((s, j) => s - second.WeightedSum[j] - sealed0[colluder.Id][j] + sealed1[colluder.Id][j]).ToArray();
        double error = ChainedJob.RelativeError(read, sealed0[members[0].Id]);
        output.WriteLine($"protocol read at versions {versions}/{versions + 1}: {error:P3} (predicted {predicted:P3}); honest at 0/1 {honestErrors[0]:P2}");

        Assert.True(errors[versions - 1] < honestErrors[versions - 1] / 5, $"{errors[versions - 1]} vs honest {honestErrors[versions - 1]}");
        Assert.True(error < honestErrors[0] / 10, $"protocol read {error} vs honest {honestErrors[0]}");
    }

    private sealed class Canceller(ChainedJob job, Party colluder)
    {
        public double[]? LastHonestSum;

        public (float[], double)? Cancel(Party p)
        {
            if (p != colluder || LastHonestSum is null)
                return null;
            double w = job.ScaledRows(p).RowCount / job.Normaliser;
            return (LastHonestSum.Select(s => (float)(-s / w)).ToArray(), w);
        }
    }

    /// <summary>
    /// <paramref name="versions"/> rounds over all four parties from version 0, the colluder (party 3) cancelling the
    /// previous round's honest sum if <paramref name="cancel"/>; per version the step and the predicted read error.
    /// </summary>
    private (double[] Steps, double[] Errors, ChainedJob Job) Chain(bool cancel, int versions, out Canceller state)
    {
        var job = new ChainedJob();
        var members = job.Harness.Parties;
        var colluder = members[3];
        state = new Canceller(job, colluder);
        var steps = new double[versions];
        var errors = new double[versions];
        for (int k = 0; k < versions; k++)
        {
            var v = job.Global;
            var (opened, sealedUpdates) = Play(job, 2 * k + 1, members, cancel ? state.Cancel : _ => null);
            steps[k] = Norm(job.Global.Select((g, j) => (double)g - v[j]).ToArray());
            errors[k] = PredictedReadError(job, sealedUpdates, colluder);
            if (cancel)
                state.LastHonestSum = opened.WeightedSum.Select((s, j) => s - sealedUpdates[colluder.Id][j]).ToArray();
        }
        return (steps, errors, job);
    }

    /// <summary>
    /// The error of reading party 0's weighted update from version k's sum over S and version k + 1's (the job's current
    /// model after the round) over S ∖ {party 0}, from the honest members' deterministic training (the colluder's part is
    /// known and drops out).
    /// </summary>
    private static double PredictedReadError(ChainedJob job, Dictionary<string, double[]> sealedAtK, Party colluder)
    {
        var members = job.Harness.Parties;
        var next = job.Global;
        double[] truth = sealedAtK[members[0].Id];
        var others = members.Skip(1).Where(p => p != colluder).ToList();
        var drift = new double[truth.Length];
        foreach (var p in others)
        {
            var atK = sealedAtK[p.Id];
            var atNext = job.WeightedUpdateOf(p, next, job.Scaling);
            for (int j = 0; j < drift.Length; j++)
                drift[j] += atK[j] - atNext[j];
        }
        var read = truth.Select((t, j) => t + drift[j]).ToArray();
        return ChainedJob.RelativeError(read, truth);
    }

    // ---- Finding 3: the tolerance on the total weight ------------------------------------------------------------------

    [Fact]
    public void The_total_weight_tolerance_lets_a_colluder_damp_a_step_by_a_negligible_fraction_even_with_many_members()
    {
        // WeightProblem allows |Σw − rows/N| ≤ Tolerance (10 σ of the decryption error, growing with |S|) + 1e-9. The most a
        // colluder's part can add to the total weight so is that tolerance; the damping is 1 / (1 + tolerance / Σw), Σw ≤ 1
        // (Σw = rows / N, which for |S| of the parties is at least |S| / (parties × the largest share)).
        var parameters = CkksParameters.Default;
        foreach (int members in new[] { 4, 10, 100, 1000 })
        {
            double tolerance = 10 * NoiseFloodingBudget.ErrorStandardDeviation(parameters, members, Bound);
            output.WriteLine($"|S| = {members,4}: tolerance on Σw {tolerance:E2} (damping {tolerance:P6} of a full round's weight 1)");
            Assert.True(tolerance < 1e-3, $"tolerance {tolerance} at |S| = {members}");
        }
        // Through the pure protocol at |S| = 4: the largest addition within tolerance passes and damps by a part in 10⁵ or less.
        double at4 = 10 * NoiseFloodingBudget.ErrorStandardDeviation(parameters, 4, Bound);
        Assert.True(at4 < 1e-5, $"{at4}");
    }

    // ---- Finding 4: steps 6–6b, a colluder's two commitments -----------------------------------------------------------

    [Fact]
    public void Known_limit_a_colluder_signing_two_part_commitments_can_make_honest_members_lock_onto_different_sets_and_the_version_never_advances()
    {
        // Before its first reveal a member reveals against any set of commitments its members signed. A colluder signs two;
        // the job shows party 0 one set and parties 1 and 2 the other. All reveal (each stores its set), so the aggregator
        // holds every part of the version, but their step-7 answers are at different challenges τ: no opening request passes
        // step 8 for everyone, and no round may redo the version (it was revealed). The chain is stuck: a denial of service
        // the aggregator and one colluder can cause at will; no second opening and no member's part against a set it did
        // not see.
        var job = new ChainedJob();
        var members = job.Harness.Parties;
        var colluder = members[3];
        var honest = members.Take(3).ToList();
        var aggregator = job.AggregateChecked(1, members);
        var decrypt = aggregator.DecryptRequest();
        foreach (var p in members)
            aggregator.AcceptPartCommitment(p.Round.Decrypt(decrypt));
        var setA = aggregator.PartRevealRequest();
        // The colluder's second commitment: another Merkle root (any 32 bytes it signs), the same nonce's hash.
        byte[] other = [.. new byte[32], .. setA.PartCommitments[3].Payload[32..]];
        var setB = setA with { PartCommitments = [.. setA.PartCommitments.Take(3), colluder.Sign(RoundPurpose.PartCommitment, job.Id, 1, other)] };
        var parts = new Dictionary<string, SignedMessage> { [members[0].Id] = members[0].Round.RevealPart(setA) };
        foreach (var p in honest.Skip(1))
            parts[p.Id] = p.Round.RevealPart(setB);
        parts[colluder.Id] = colluder.Round.RevealPart(setA);
        // Each keeps the set it saw first: the aggregator now holds every part of version 0.
        Assert.Contains("other part commitments", Assert.Throws<RoundRefusedException>(() => members[1].Round.RevealPart(setA)).Message);
        Assert.Contains("other part commitments", Assert.Throws<RoundRefusedException>(() => members[0].Round.RevealPart(setB)).Message);
        byte[] opened = OpenedPlaintext.Sum([.. members.Select(p => OpenedPlaintext.FromBytes(parts[p.Id].Payload, RoundHarness.Parameters))]).ToBytes();
        // Steps 7–7b for the true sum: party 0 and the colluder answer at τ(A), parties 1 and 2 at τ(B).
        var openingCheck = new OpeningCheckRequest(job.Id, 1, RoundHarness.Sha256(opened));
        var answers = members.Select(p => p.Round.CheckOpening(openingCheck)).ToList();
        var leaves = members.Select(p => p.Round.OpenLeaves(new SpotCheckRequest(job.Id, 1, answers))).ToList();
        foreach (var commitments in new[] { setA.PartCommitments, setB.PartCommitments })
        {
            var request = new OpeningRequest(job.Id, 1, [.. members.Select(p => p.Id)], opened, commitments, answers, leaves);
            foreach (var p in members)
            {
                Assert.Throws<RoundRefusedException>(() => p.Round.AdvanceChain(request, job.Global, null));
                Assert.Equal(0, p.Round.Chain!.Version);
            }
        }
        // And no round may redo the version: the job's chain is stuck.
        Assert.Contains("must be finished, not redone", Assert.Throws<RoundRefusedException>(() => job.Decrypted(2, members)).Message);
    }

    // ---- The round driver -------------------------------------------------------------------------------------------

    /// <summary>
    /// Steps 1–8 from the chain's version over <paramref name="members"/>: each trains honestly unless
    /// <paramref name="dishonest"/> gives it an update and weight to seal; every party advances unless told not to. Returns
    /// the opened sum and each member's sealed weighted values (after clipping).
    /// </summary>
    private static (AggregatedUpdate Opened, Dictionary<string, double[]> Sealed) Play(ChainedJob job, int round, IReadOnlyList<Party> members,
        Func<Party, (float[] Update, double Weight)?> dishonest, bool advance = true)
    {
        var aggregator = job.Keyed(round, members, job.Global, job.Scaling);
        var sealedValues = new Dictionary<string, double[]>();
        foreach (var p in members)
        {
            var scaled = job.ScaledRows(p);
            p.Round.PrepareTraining(aggregator.SealRequest(), job.Plan, RoundPlan.BasisOf(job.Global, scaled));
            var (update, w) = dishonest(p) ?? (job.UpdateOf(p, job.Global, job.Scaling), scaled.RowCount / job.Normaliser);
            update = [.. update];
            aggregator.AcceptSealed(p.Round.Seal(round, update, w)); // clips in place
            sealedValues[p.Id] = [.. update.Select(u => w * u)];
        }
        RoundHarness.CheckAndDecrypt(aggregator, members);
        if (!advance)
            return (aggregator.Open(), sealedValues);
        var opening = job.Opening(aggregator, members);
        var opened = aggregator.Open();
        job.Advance(aggregator, opening, job.Harness.Parties);
        return (opened, sealedValues);
    }

    private static double Norm(double[] v) => Math.Sqrt(v.Sum(x => x * x));
}
