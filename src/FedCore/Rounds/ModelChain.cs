using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FedCore.Aggregation.Protection;
using FedCore.Aggregation.Strategies;
using FedCore.Data;
using FedCore.Learning;

namespace FedCore.Rounds;

/// <summary>
/// Where a participant stands in a job's model chain (README: "The model chain"): the version the next training round
/// must start from, that round's plan digest, the digests of the model and of the server optimiser's state, and what it
/// fixed at the start: the scaling and weight normaliser, the server strategy, and <see cref="Origin"/>, the chain's start
/// without the job's id (its dataset, version 0's model, scaling and normaliser; version 0's model is drawn for the job,
/// so two jobs' chains share no origin). <see cref="LastOpening"/> (SHA-256 of the opened plaintext it advanced by
/// last) makes a repeated advance answerable. <see cref="Rows"/>: the training rows each party's signed moments count, which
/// fix the total weight of every round's sum. Stored by the host with the round record.
/// </summary>
public sealed record ModelChainRecord(
    int Version,
    byte[] PlanDigest,
    byte[] ModelDigest,
    byte[]? OptimizerDigest,
    string[] FeatureNames,
    double[] Mean,
    double[] StandardDeviation,
    double WeightNormaliser,
    StrategyOptions Strategy,
    byte[] Origin,
    byte[]? LastOpening = null,
    IReadOnlyDictionary<string, long>? Rows = null)
{
    /// <summary>
    /// Its place in every chain from <see cref="Origin"/>: a member opens each position over one set of members only, and
    /// reveals its part of an opening from it in one round only (<see cref="OpenedSums"/>).
    /// </summary>
    public byte[] Position => Transcript.Hash("chain-position", Origin, Transcript.Int(Version));

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public FeatureScaling Scaling => new(FeatureNames, Mean, StandardDeviation);

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Reads what <see cref="ToBytes"/> wrote; anything else is an <see cref="ArgumentException"/>.</summary>
    public static ModelChainRecord FromBytes(byte[] bytes)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelChainRecord>(bytes, Json) ?? throw new ArgumentException("A participant's model chain record is empty.");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"A participant's model chain record cannot be read: {e.Message}", nameof(bytes), e);
        }
    }
}

/// <summary>
/// The rules of the model chain, one place for both sides: version 0 is the pinned model specification's initial
/// parameters for a seed drawn from the pinned seed and the job (<see cref="InitialModel"/>), trained under the scaling and normaliser every party's signed feature moments give;
/// version v + 1 is the pinned server strategy's step from version v by the mean of the sum opened from a round trained
/// on version v. The job computes its models here and every member checks them here, so both get the same bits.
/// </summary>
public static class ModelChain
{
    /// <summary>The scaling and weight normaliser from every party's moments, combined in party order.</summary>
    public static (FeatureScaling Scaling, double WeightNormaliser) ScalingOf(IReadOnlyList<FeatureMoments> moments)
    {
        var combined = FeatureMoments.Combine(moments);
        return (FeatureScaling.FromMoments(combined), Math.Max(1, combined.Count));
    }

    /// <summary>
    /// Version 0's model for a job: the model's initial parameters for a seed drawn from the dataset's pinned seed and the
    /// job. Two jobs of the same parties, data and seed so start from models far apart, never from the same one: a second
    /// job from the same model would redo its sums with the first job's in view (README: "The model chain").
    /// </summary>
    public static float[] InitialModel(Learning.ModelSpec spec, long seed, string jobId)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        byte[] digest = Transcript.Hash("initial-model", BitConverter.GetBytes(seed), Transcript.Text(jobId));
        return Learning.ModelFactory.InitialParameters(spec, System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(digest));
    }

    /// <summary>Version 0 of a job: its initial model and the record a member of <paramref name="dataset"/> starts from.</summary>
    public static ModelChainRecord Start(string jobId, ReadOnlySpan<float> initial, FeatureScaling scaling, double weightNormaliser, StrategyOptions strategy, string dataset,
        IReadOnlyDictionary<string, long> rows)
    {
        byte[] model = ModelDigest(initial);
        var plan = RoundPlan.ForModelDigest(jobId, 0, model, scaling, weightNormaliser);
        byte[] origin = Transcript.Hash("chain-origin", Transcript.Text(dataset), RoundPlan.ForModelDigest("", 0, model, scaling, weightNormaliser).Digest);
        return new(0, plan.Digest, model, null, scaling.FeatureNames, scaling.Mean, scaling.StandardDeviation, weightNormaliser, strategy, origin, Rows: rows);
    }

    /// <summary>
    /// Why an opened sum's total weight is not <paramref name="rows"/> / N, the weight the members' training rows give (within
    /// the scheme's decryption error and floating-point rounding), or null if it is. A sum of more weight divides every
    /// member's update by more: a colluder adding weight to its own part could shrink each step and hold the model nearly
    /// still, the nearby bases a cross-round read needs (branch review/spot).
    /// </summary>
    public static string? WeightProblem(AggregatedUpdate opened, long rows, double weightNormaliser)
    {
        ArgumentNullException.ThrowIfNull(opened);
        double expected = rows / weightNormaliser;
        return Math.Abs(opened.TotalWeight - expected) <= opened.Tolerance + 1e-9 * Math.Max(1, expected)
            ? null
            : $"the updates carry a total weight of {opened.TotalWeight:G6}, but the members' {rows} rows give {expected:G6}; an update's weight is not its row count";
    }

    /// <summary>The next model from <paramref name="global"/> and the opened sum of a round trained on it.</summary>
    public static ServerStepResult Next(ServerStrategy strategy, ReadOnlySpan<float> global, ServerOptimizerState? state, AggregatedUpdate opened)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(opened);
        if (opened.WeightedSum.Length != global.Length)
            throw new ArgumentException($"The opened sum has {opened.WeightedSum.Length} values; the model has {global.Length}.", nameof(opened));
        // Pooled: on the reference machine touching fresh memory costs ≈ 3 ms per MB, far more than filling it.
        float[] mean = ArrayPool<float>.Shared.Rent(global.Length);
        try
        {
            opened.MeanInto(mean.AsSpan(0, global.Length));
            return strategy.Step(global, mean.AsSpan(0, global.Length), state);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(mean);
        }
    }

    /// <summary>The record after a step from <paramref name="record"/> to <paramref name="next"/> by the opened plaintext <paramref name="openingDigest"/>.</summary>
    public static ModelChainRecord Advanced(string jobId, ModelChainRecord record, ServerStepResult next, byte[] openingDigest)
    {
        byte[] model = ModelDigest(next.Global);
        return record with
        {
            Version = record.Version + 1,
            PlanDigest = RoundPlan.ForModelDigest(jobId, record.Version + 1, model, record.Scaling, record.WeightNormaliser).Digest,
            ModelDigest = model,
            OptimizerDigest = OptimizerDigest(next.State),
            LastOpening = openingDigest,
        };
    }

    public static byte[] ModelDigest(ReadOnlySpan<float> model) => SHA256.HashData(MemoryMarshal.AsBytes(model));

    public static byte[]? OptimizerDigest(ServerOptimizerState? state) =>
        state is null ? null : Transcript.Hash("optimizer-state", ModelDigest(state.FirstMoment), ModelDigest(state.SecondMoment));
}

/// <summary>
/// A participant's feature moments as the payload it signs (purpose <see cref="RoundPurpose.FeatureMoments"/>, round 0):
/// every party of a job signs its own, and every member derives the job's scaling from all of them, so the aggregator
/// cannot choose a scaling (README: "The model chain").
/// Layout: feature count (int32), each name (int32 length, UTF-8), row count (int64), then the sums and the sums of
/// squares (float64 each), big-endian.
/// </summary>
public static class SignedMoments
{
    public static byte[] Encode(FeatureMoments moments)
    {
        ArgumentNullException.ThrowIfNull(moments);
        using var stream = new MemoryStream();
        var word = new byte[8];
        void Int(int value) { BinaryPrimitives.WriteInt32BigEndian(word, value); stream.Write(word, 0, 4); }
        void Long(long value) { BinaryPrimitives.WriteInt64BigEndian(word, value); stream.Write(word); }
        void Double(double value) { BinaryPrimitives.WriteDoubleBigEndian(word, value); stream.Write(word); }
        Int(moments.FeatureNames.Length);
        foreach (var name in moments.FeatureNames)
        {
            var bytes = Encoding.UTF8.GetBytes(name);
            Int(bytes.Length);
            stream.Write(bytes);
        }
        Long(moments.Count);
        foreach (var v in moments.Sum)
            Double(v);
        foreach (var v in moments.SumOfSquares)
            Double(v);
        return stream.ToArray();
    }

    /// <exception cref="FormatException">The payload is not what <see cref="Encode"/> writes, or its values are not finite.</exception>
    public static FeatureMoments Decode(ReadOnlySpan<byte> payload)
    {
        int at = 0;
        ReadOnlySpan<byte> Take(ReadOnlySpan<byte> data, int count, string what) =>
            count < 0 || data.Length - at < count ? throw new FormatException($"The feature moments end before their {what}.") : data.Slice((at += count) - count, count);
        int features = BinaryPrimitives.ReadInt32BigEndian(Take(payload, 4, "feature count"));
        if (features < 0 || features > 100_000)
            throw new FormatException($"The feature moments name {features} features.");
        var names = new string[features];
        for (int k = 0; k < features; k++)
            names[k] = Encoding.UTF8.GetString(Take(payload, BinaryPrimitives.ReadInt32BigEndian(Take(payload, 4, "name length")), "name"));
        long count = BinaryPrimitives.ReadInt64BigEndian(Take(payload, 8, "row count"));
        var sum = new double[features];
        var squares = new double[features];
        for (int k = 0; k < features; k++)
            sum[k] = BinaryPrimitives.ReadDoubleBigEndian(Take(payload, 8, "sums"));
        for (int k = 0; k < features; k++)
            squares[k] = BinaryPrimitives.ReadDoubleBigEndian(Take(payload, 8, "sums of squares"));
        if (at != payload.Length)
            throw new FormatException($"The feature moments carry {payload.Length - at} bytes after their sums of squares.");
        if (count < 0 || sum.Any(v => !double.IsFinite(v)) || squares.Any(v => !double.IsFinite(v) || v < 0))
            throw new FormatException("The feature moments hold a negative count or a value that is not finite.");
        return new FeatureMoments(names, count, sum, squares);
    }
}
