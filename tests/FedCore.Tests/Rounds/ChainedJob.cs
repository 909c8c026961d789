using FedCore.Crypto.Multiparty;
using FedCore.Aggregation.Strategies;
using FedCore.Data;
using FedCore.Learning;
using FedCore.Rounds;

namespace FedCore.Tests.Rounds;

/// <summary>
/// A job of four parties (or a harness of the test's choosing, so two jobs can share parties and their opened sums) with
/// real rows and training, played through the model chain: honestly by default, or from plans and seal paths of the
/// aggregator's choosing. Keeps what the aggregator received in the last round.
/// </summary>
internal sealed class ChainedJob
{
    public const long Seed = 11;
    public const string Dataset = "heart:0.8:11";
    public static readonly ModelSpec Spec = ModelSpec.Logistic(3, 2);
    public static readonly string[] Features = ["a", "b", "c"];
    public static readonly TrainingOptions DefaultOptions = new() { Epochs = 2, BatchSize = 16, LearningRate = 0.1, Seed = 7 };

    private readonly ServerStrategy _server;

    /// <param name="options">How every member trains (<see cref="DefaultOptions"/> unless given: DP-SGD, say).</param>
    /// <param name="moments">What party i signs at step 0 instead of its rows' true moments (a colluder's, say); the job's scaling and N follow.</param>
    public ChainedJob(RoundHarness? harness = null, bool start = true, StrategyOptions? strategy = null, TrainingOptions? options = null,
        Func<int, FeatureMoments, FeatureMoments>? moments = null)
    {
        Harness = harness ?? new RoundHarness(4);
        Options = options ?? DefaultOptions;
        Strategy = strategy ?? new StrategyOptions("fedavg");
        _server = ServerStrategy.Create(Strategy);
        Rows = Enumerable.Range(0, Harness.Parties.Count).Select(i =>
        {
            var random = new Random(i);
            var x = Enumerable.Range(0, 3 * 60).Select(_ => (float)(50 + 20 * (random.NextDouble() - 0.5))).ToArray();
            var y = Enumerable.Range(0, 60).Select(r => x[3 * r] + x[3 * r + 2] > 100 ? 1f : 0f).ToArray();
            return new TabularData(x, y, Features);
        }).ToList();
        var signed = Rows.Select((r, i) => moments is null ? FeatureMoments.Compute(r, Features) : moments(i, FeatureMoments.Compute(r, Features))).ToList();
        Moments = Harness.Parties.Select((p, i) => p.Sign(RoundPurpose.FeatureMoments, Id, 0, SignedMoments.Encode(signed[i]))).ToList();
        (Scaling, Normaliser) = ModelChain.ScalingOf(signed);
        Global = ModelChain.InitialModel(Spec, Seed, Id);
        if (start)
            foreach (var p in Harness.Parties)
                p.Round.StartChain(Moments, Spec, Seed, Strategy, Dataset);
    }

    public RoundHarness Harness { get; }
    public string Id => Harness.Job;
    public List<TabularData> Rows { get; }
    public List<SignedMessage> Moments { get; }
    public FeatureScaling Scaling { get; }
    public double Normaliser { get; }
    public StrategyOptions Strategy { get; }
    public TrainingOptions Options { get; }
    public float[] Global { get; private set; }
    public float[]? Previous { get; private set; }
    public ServerOptimizerState? State { get; private set; }
    public int Version { get; private set; }

    /// <summary>What the aggregator received in the last round played: each member's sealed update and signed part (c0ᵢ + hᵢ).</summary>
    public Dictionary<string, Sealed> LastSealed { get; } = [];

    /// <summary>What each member sealed in the last round played, weighted, in the clear (the test's view, not the aggregator's).</summary>
    public Dictionary<string, double[]> LastWeightedUpdates { get; } = [];
    public Dictionary<string, SignedMessage> LastParts { get; } = [];

    public RoundPlan Plan => PlanOf(Global, Scaling);

    public RoundPlan PlanOf(float[] model, FeatureScaling scaling, int? version = null) => RoundPlan.For(Id, version ?? Version, model, scaling, Normaliser);

    public TabularData ScaledRows(Party p, FeatureScaling? scaling = null) => (scaling ?? Scaling).Apply(Rows[Harness.Parties.FindIndex(q => q.Id == p.Id)]);

    public float[] UpdateOf(Party p, float[] global, FeatureScaling scaling, TrainingOptions? options = null) =>
        LocalTrainer.Train(Spec, global, ScaledRows(p, scaling), options ?? Options).Parameters.Select((v, j) => v - global[j]).ToArray();

    public float[][] UpdatesFrom(float[] global, FeatureScaling scaling) => [.. Harness.Parties.Select(p => UpdateOf(p, global, scaling))];

    /// <summary>What member p seals from <paramref name="global"/>: w·u with w = its rows / N (the weight, last, is not included).</summary>
    public double[] WeightedUpdateOf(Party p, float[] global, FeatureScaling scaling, TrainingOptions? options = null)
    {
        double w = ScaledRows(p, scaling).RowCount / Normaliser;
        return UpdateOf(p, global, scaling, options).Select(u => w * u).ToArray();
    }

    /// <summary>Steps 1–3 for a plan of the aggregator's choosing.</summary>
    public AggregatorRound Keyed(int round, IReadOnlyList<Party> members, float[] model, FeatureScaling scaling, int? version = null)
    {
        var plan = PlanOf(model, scaling, version);
        var aggregator = Harness.RevealedRound(round, members);
        foreach (var p in members)
            aggregator.AcceptKeyAcceptance(p.Round.CheckKey(aggregator.KeyCheckRequest(plan)));
        return aggregator;
    }

    /// <summary>
    /// Steps 1–6 with every member honest, each training on its own rows, from the plan the aggregator chose (the chain's by
    /// default), sealed through <see cref="ParticipantRound.PrepareTraining"/> or, as a host could before the review, PrepareSeal.
    /// </summary>
    public AggregatorRound Decrypted(int round, IReadOnlyList<Party> members, float[]? model = null, FeatureScaling? scaling = null, bool throughChain = true)
    {
        model ??= Global;
        scaling ??= Scaling;
        var plan = PlanOf(model, scaling);
        var aggregator = Keyed(round, members, model, scaling);
        LastSealed.Clear();
        LastParts.Clear();
        LastWeightedUpdates.Clear();
        foreach (var p in members)
        {
            var scaled = ScaledRows(p, scaling);
            if (throughChain)
                p.Round.PrepareTraining(aggregator.SealRequest(), plan, RoundPlan.BasisOf(model, scaled));
            else
                p.Round.PrepareSeal(aggregator.SealRequest(), plan, RoundPlan.BasisOf(model, scaled));
            var update = LocalTrainer.Train(Spec, model, scaled, Options).Parameters.Select((v, j) => v - model[j]).ToArray();
            LastWeightedUpdates[p.Id] = [.. update.Select(u => u * scaled.RowCount / Normaliser)];
            var sealedUpdate = p.Round.Seal(round, update, scaled.RowCount / Normaliser);
            LastSealed[p.Id] = sealedUpdate;
            aggregator.AcceptSealed(sealedUpdate);
        }
        RoundHarness.CheckAndDecrypt(aggregator, members, (p, share) => LastParts[p.Id] = share);
        return aggregator;
    }

    /// <summary>Steps 1–5 from the chain's plan, every member honest: the decrypt request is ready (a test plays step 6 its own way).</summary>
    public AggregatorRound AggregateChecked(int round, IReadOnlyList<Party> members)
    {
        var aggregator = Keyed(round, members, Global, Scaling);
        foreach (var p in members)
        {
            var scaled = ScaledRows(p);
            p.Round.PrepareTraining(aggregator.SealRequest(), Plan, RoundPlan.BasisOf(Global, scaled));
            aggregator.AcceptSealed(p.Round.Seal(round, UpdateOf(p, Global, Scaling), scaled.RowCount / Normaliser));
        }
        RoundHarness.AggregateChecked(aggregator, members);
        return aggregator;
    }

    /// <summary>Steps 7 and 7b played honestly: the request every party checks at step 8.</summary>
    public OpeningRequest Opening(AggregatorRound aggregator, IReadOnlyList<Party> members)
    {
        var check = aggregator.OpeningCheckRequest();
        foreach (var p in members)
            aggregator.AcceptOpeningFingerprint(p.Round.CheckOpening(check));
        var spots = aggregator.SpotCheckRequest();
        foreach (var p in members)
            aggregator.AcceptOpenedLeaves(p.Round.OpenLeaves(spots));
        return aggregator.OpeningRequest();
    }

    /// <summary>
    /// Steps 7 and 7b for a plaintext of the aggregator's making, the honest one (the sum of the members' parts) edited in
    /// place: what it then shows every party at step 8. Members answer step 7 once per round, so it replaces <see cref="Opening"/>.
    /// </summary>
    public OpeningRequest OpeningOf(AggregatorRound aggregator, IReadOnlyList<Party> members, Action<byte[]> edit)
    {
        byte[] opened = OpenedPlaintext.Sum([.. members.Select(p => OpenedPlaintext.FromBytes(LastParts[p.Id].Payload, RoundHarness.Parameters))]).ToBytes();
        edit(opened);
        var check = new OpeningCheckRequest(Id, aggregator.Round, RoundHarness.Sha256(opened));
        var answers = members.Select(p => p.Round.CheckOpening(check)).ToList();
        var leaves = members.Select(p => p.Round.OpenLeaves(new SpotCheckRequest(Id, aggregator.Round, answers))).ToList();
        return new OpeningRequest(Id, aggregator.Round, [.. members.Select(p => p.Id)], opened, aggregator.PartRevealRequest().PartCommitments, answers, leaves);
    }

    /// <summary>The model the job's chain would step to from this round's opened sum.</summary>
    public float[] NextModel(AggregatorRound aggregator) => ModelChain.Next(_server, Global, State, aggregator.Open()).Global;

    /// <summary>Step 8: the parties advance, and the job takes its next model from the same opened sum.</summary>
    public void Advance(AggregatorRound aggregator, OpeningRequest request, IEnumerable<Party> parties)
    {
        foreach (var p in parties)
            Assert.Equal(Version + 1, p.Round.AdvanceChain(request, Global, State));
        var next = ModelChain.Next(_server, Global, State, aggregator.Open());
        Previous = Global;
        (Global, State) = (next.Global, next.State);
        Version++;
    }

    /// <summary>The model's accuracy over every party's rows.</summary>
    public double Accuracy() => Rows.Average(r => ModelEvaluator.Evaluate(Spec, Global, Scaling.Apply(r)).Accuracy!.Value);

    public static double RelativeError(double[] read, double[] truth)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            diff += (read[i] - truth[i]) * (read[i] - truth[i]);
            norm += truth[i] * truth[i];
        }
        return Math.Sqrt(diff / norm);
    }
}
