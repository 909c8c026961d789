using System.Text.Json;
using FedCore.Aggregation.Integrity;
using FedCore.Aggregation.Protection;
using FedCore.Aggregation.Strategies;
using FedCore.Data;
using FedCore.Learning;

namespace FedCore.Rounds.Benchmarks;

/// <summary>What to measure: the bench round scenario's model and sizes, without silos, training or storage.</summary>
public sealed record ProtocolBenchmarkOptions
{
    public int Participants { get; init; } = 10;

    /// <summary>The MLP's hidden widths: 15 inputs, two classes; [1000, 985] is 1 002 971 parameters.</summary>
    public IReadOnlyList<int> Hidden { get; init; } = [1000, 985];

    public int Rounds { get; init; } = 2;

    /// <summary>Rounds played first and not counted (JIT, first-touch of memory).</summary>
    public int WarmUpRounds { get; init; } = 1;

    public double UpdateBound { get; init; } = 4;
}

/// <summary>
/// CPU seconds per counted round: per step, the mean over participants (<see cref="ParticipantSteps"/>) and the
/// aggregator's total divided by the participants (<see cref="AggregatorSteps"/>); the totals scaled to 10⁶
/// parameters as `bench round` reports them, and the payload bytes one participant sends and receives (the model, its
/// sealed update, the aggregate's masks, its part, the opening and leaves at step 8, the members' public key shares).
/// </summary>
public sealed record ProtocolBenchmarkResult(
    string Benchmark,
    int Participants,
    int ModelParameters,
    int RoundsCounted,
    double CryptoCpuSecondsPerParticipant,
    double AggregatorCpuSecondsPerParticipant,
    long BytesPerParticipant,
    IReadOnlyDictionary<string, double> ParticipantSteps,
    IReadOnlyDictionary<string, double> AggregatorSteps);

/// <summary>
/// The round protocol (README next to this folder's parent) played honestly by every party on one thread: steps 0–8 of
/// <see cref="ParticipantRound"/> and <see cref="AggregatorRound"/> with a random update in place of training, each
/// step timed by the caller's thread CPU clock. It measures what `bench round`'s cryptoCpuSecondsPerParticipant and
/// aggregatorCpuSecondsPerParticipant contain, step by step, without silos, messaging or storage around it.
/// </summary>
public static class ProtocolBenchmark
{
    private const string JobId = "bench-protocol";
    private const string Dataset = "bench:0.8:1";
    private const int Rows = 60, Features = 15;

    public static ProtocolBenchmarkResult Run(ProtocolBenchmarkOptions options, Func<double> cpuClock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(cpuClock);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Participants, RoundTerms.AbsoluteMinimum);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Rounds, 1);

        var spec = ModelSpec.Mlp(Features, options.Hidden, 2);
        var ids = Enumerable.Range(0, options.Participants).Select(i => $"XX/bench-{i:D4}").ToList();
        var keys = ids.ToDictionary(id => id, _ => ParticipantSigningKey.Generate());
        var publicKeys = keys.ToDictionary(k => k.Key, k => k.Value.PublicKey);
        var protection = new RoundProtection(CkksProtection.SchemeName, options.UpdateBound);
        var strategy = new StrategyOptions("fedavg");
        var names = Enumerable.Range(0, Features).Select(f => $"x{f}").ToArray();
        var random = new Random(1);
        var rows = ids.Select(_ => new TabularData(
            [.. Enumerable.Range(0, Rows * Features).Select(_ => (float)random.NextDouble())],
            [.. Enumerable.Range(0, Rows).Select(r => (float)(r % 2))], names)).ToList();
        var moments = rows.Select(r => FeatureMoments.Compute(r, names)).ToList();
        var signedMoments = ids.Select((id, i) => SignedBy(id, keys[id], RoundPurpose.FeatureMoments, 0, SignedMoments.Encode(moments[i]))).ToList();
        var (scaling, normaliser) = ModelChain.ScalingOf(moments);
        var parties = ids.Select(id => new ParticipantRound(new RoundTerms(JobId, id, ids, RoundTerms.AbsoluteMinimum, publicKeys, protection), null,
            bytes => keys[id].Sign(bytes), new OpenedSums(new Dictionary<string, string>()))).ToList();
        var server = ServerStrategy.Create(strategy);
        float[] global = ModelChain.InitialModel(spec, 1, JobId);
        ServerOptimizerState? state = null;

        var participantSeconds = new Dictionary<string, double>();
        var aggregatorSeconds = new Dictionary<string, double>();
        long bytes = 0;
        bool counting = false;
        T Time<T>(Dictionary<string, double> into, string step, Func<T> work)
        {
            double start = cpuClock();
            T result = work();
            if (counting)
                into[step] = into.GetValueOrDefault(step) + cpuClock() - start;
            return result;
        }
        T Party<T>(string step, Func<T> work) => Time(participantSeconds, step, work);
        void Aggregator(string step, Action work) => Time(aggregatorSeconds, step, () => { work(); return true; });
        void Exchange<T>(string step, Func<T> answer, string aggregatorStep, Action<T> accept)
        {
            T message = Party(step, answer);
            Aggregator(aggregatorStep, () => accept(message));
        }
        void Count(long payload) // what one participant sends or receives, the model-sized payloads and the key shares
        {
            if (counting)
                bytes += payload;
        }

        foreach (var p in parties)
            Party("0 start chain", () => p.StartChain(signedMoments, spec, 1, strategy, Dataset));
        for (int round = 1; round <= options.WarmUpRounds + options.Rounds; round++)
        {
            counting = round > options.WarmUpRounds;
            var plan = RoundPlan.For(JobId, round - 1, global, scaling, normaliser);
            var aggregator = new AggregatorRound(JobId, round, ids, publicKeys, protection);
            var keyRequest = aggregator.KeyRequest();
            foreach (var p in parties)
                Exchange("1 key commitment", () => p.Commit(keyRequest), "1 key commitments", aggregator.AcceptCommitment);
            var reveal = aggregator.RevealRequest();
            foreach (var p in parties)
                Exchange("2 key reveal", () => p.Reveal(reveal), "2 key reveals", aggregator.AcceptReveal);
            KeyCheckRequest check = null!;
            Aggregator("3 key check", () => check = aggregator.KeyCheckRequest(plan));
            foreach (var p in parties)
            {
                Count(check.PublicShares.Sum(s => (long)s.Length));
                Exchange("3 key check", () => p.CheckKey(check), "3 key acceptances", aggregator.AcceptKeyAcceptance);
            }
            var sealRequest = aggregator.SealRequest();
            for (int i = 0; i < parties.Count; i++)
            {
                var p = parties[i];
                var scaled = scaling.Apply(rows[i]);
                Party("4 prepare", () => { p.PrepareTraining(sealRequest, plan, RoundPlan.BasisOf(global, scaled)); return true; });
                var update = new float[global.Length];
                for (int j = 0; j < update.Length; j++)
                    update[j] = (float)((random.NextDouble() - 0.5) * 1e-3);
                var sealedUpdate = Party("4 seal", () => p.Seal(round, update, rows[i].RowCount / normaliser));
                Count(global.Length * sizeof(float) + sealedUpdate.SealedUpdate.Length);
                Aggregator("4 add sealed", () => aggregator.AcceptSealed(sealedUpdate));
            }
            AggregateCheckRequest aggregateCheck = null!;
            Aggregator("5 aggregate", () => aggregateCheck = aggregator.AggregateCheckRequest());
            foreach (var p in parties)
            {
                Count(aggregateCheck.AggregateMasks.Length);
                Exchange("5 aggregate check", () => p.CheckAggregate(aggregateCheck), "5 fingerprints", aggregator.AcceptAggregateFingerprint);
            }
            var decrypt = aggregator.DecryptRequest();
            foreach (var p in parties)
                Exchange("6 decrypt and commit", () => p.Decrypt(decrypt), "6 part commitments", aggregator.AcceptPartCommitment);
            var partReveal = aggregator.PartRevealRequest();
            foreach (var p in parties)
            {
                var part = Party("6b reveal part", () => p.RevealPart(partReveal));
                Count(part.Payload.Length);
                Aggregator("6b parts", () => aggregator.AcceptPart(part));
            }
            OpeningCheckRequest openingCheck = null!;
            Aggregator("7 opened sum", () => openingCheck = aggregator.OpeningCheckRequest());
            foreach (var p in parties)
                Exchange("7 opening check", () => p.CheckOpening(openingCheck), "7 fingerprints", aggregator.AcceptOpeningFingerprint);
            var spots = aggregator.SpotCheckRequest();
            foreach (var p in parties)
                Exchange("7b open leaves", () => p.OpenLeaves(spots), "7b leaves", aggregator.AcceptOpenedLeaves);
            OpeningRequest opening = null!;
            var (model, modelState) = (global, state);
            Aggregator("8 opening and next model", () =>
            {
                opening = aggregator.OpeningRequest();
                var next = ModelChain.Next(server, model, modelState, aggregator.Open());
                (global, state) = (next.Global, next.State);
            });
            foreach (var p in parties)
            {
                Count(opening.Opened.Length + opening.OpenedLeaves.Sum(l => (long)l.Payload.Length) + model.Length * sizeof(float));
                Party("8 advance chain", () => p.AdvanceChain(opening, model, modelState));
            }
        }

        double perMillion = 1e6 / global.Length, counted = options.Rounds, n = options.Participants;
        var participant = participantSeconds.ToDictionary(s => s.Key, s => Math.Round(s.Value / counted / n, 4));
        var aggregatorPer = aggregatorSeconds.ToDictionary(s => s.Key, s => Math.Round(s.Value / counted / n, 4));
        return new ProtocolBenchmarkResult("round-protocol", options.Participants, global.Length, options.Rounds,
            Math.Round(participantSeconds.Values.Sum() / counted / n * perMillion, 4),
            Math.Round(aggregatorSeconds.Values.Sum() / counted / n * perMillion, 4),
            (long)(bytes / counted / n), participant, aggregatorPer);
    }

    public static string ToJsonLine(ProtocolBenchmarkResult result) =>
        JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web));

    private static SignedMessage SignedBy(string id, ParticipantSigningKey key, string purpose, int round, byte[] payload) =>
        new(id, JobId, round, CkksProtection.SchemeName,
            payload, key.Sign(SignedStatement.For(purpose, JobId, round, id, CkksProtection.SchemeName, payload).ToBytes()));
}
