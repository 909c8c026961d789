using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Rlwe;

namespace FedCore.Crypto.Benchmarks;

/// <summary>What to measure. Defaults are the scenario: 10 participants, a 10^6-parameter update.</summary>
public sealed record HeBenchmarkOptions
{
    public int Participants { get; init; } = 10;

    public int ModelParameters { get; init; } = 1_000_000;

    /// <summary>Times the whole scenario runs; best and median are reported.</summary>
    public int ScenarioRuns { get; init; } = 3;

    /// <summary>Timed batches per single-ciphertext operation; best and median batch are reported.</summary>
    public int Batches { get; init; } = 30;

    public int OperationsPerBatch { get; init; } = 20;

    /// <summary>Minimum time each operation runs before it is timed, so that the JIT has produced optimised code.</summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromMilliseconds(400);

    /// <summary>Declared bound on aggregate slot values (scale rule).</summary>
    public double Bound { get; init; } = 16;
}

/// <summary>
/// Figures for one parameter set. Single-ciphertext timings are microseconds per operation (median of batches,
/// and best batch); scenario timings are seconds on one thread. encryptMicros is public-key encryption of an encoded
/// plaintext (encodeMicros is separate); addMicros accumulates one ciphertext into a sum; decryptShareMicros is one
/// participant's flooded share; combineMicros adds every participant's share to c0. floodingNanosPerSample is one
/// value of a share's flooding noise (median of batches of N). bytesPerParameter is the serialised encrypted update
/// divided by its number of values.
/// </summary>
public sealed record HeBenchmarkResult
{
    public required string ParameterSet { get; init; }
    public required int RingDimension { get; init; }
    public required int LogQ { get; init; }
    public required int WireModulusBits { get; init; }
    public required int ValuesPerCiphertext { get; init; }
    public required double EncodeMicros { get; init; }
    public required double EncodeMicrosBest { get; init; }
    public required double EncryptMicros { get; init; }
    public required double EncryptMicrosBest { get; init; }
    public required double AddMicros { get; init; }
    public required double AddMicrosBest { get; init; }
    public required double DecryptShareMicros { get; init; }
    public required double DecryptShareMicrosBest { get; init; }
    public required double CombineMicros { get; init; }
    public required double CombineMicrosBest { get; init; }
    public required double DecodeMicros { get; init; }
    public required double DecodeMicrosBest { get; init; }
    public required double NttMicros { get; init; }
    public required double FloodingNanosPerSample { get; init; }
    /// <summary>The same single-ciphertext operations with the vector (System.Runtime.Intrinsics) paths switched off.</summary>
    public required double EncodeMicrosScalar { get; init; }
    public required double EncryptMicrosScalar { get; init; }
    public required double DecryptShareMicrosScalar { get; init; }
    public required double DecodeMicrosScalar { get; init; }
    public required double NttMicrosScalar { get; init; }
    public required double BytesPerParameter { get; init; }
    public required int Participants { get; init; }
    public required int ModelParameters { get; init; }
    public required double EncryptSecondsPerParticipant { get; init; }
    public required double EncryptSecondsPerParticipantBest { get; init; }
    /// <summary>One participant's encode + encrypt of the whole update with the vector paths off (one run).</summary>
    public required double EncryptSecondsPerParticipantScalar { get; init; }
    public required double TotalSeconds { get; init; }
    public required double TotalSecondsBest { get; init; }
    /// <summary>Largest |decrypted mean − plaintext mean| in the scenario: the benchmark checks itself.</summary>
    public required double MaxAbsError { get; init; }
    public required string Simd { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJsonLine() => JsonSerializer.Serialize(this, JsonOptions);
}

/// <summary>
/// Measures the CKKS layer for `federation bench he`. Runs on the calling thread only (the targets are per core);
/// run it from a Release build. Not a test: it prints figures, it does not judge them.
/// </summary>
public static class HeBenchmark
{
    public static IEnumerable<HeBenchmarkResult> RunStandardSets(HeBenchmarkOptions? options = null) =>
        CkksParameters.Standard.Select(p => Run(p, options));

    public static void WriteJsonLines(TextWriter writer, IEnumerable<HeBenchmarkResult> results)
    {
        ArgumentNullException.ThrowIfNull(writer);
        foreach (HeBenchmarkResult result in results)
        {
            writer.WriteLine(result.ToJsonLine());
            writer.Flush();
        }
    }

    public static HeBenchmarkResult Run(CkksParameters parameters, HeBenchmarkOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        options ??= new HeBenchmarkOptions();
        if (options.Participants < 1 || options.ModelParameters < 1 || options.ScenarioRuns < 1 || options.Batches < 1 || options.OperationsPerBatch < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "Every count in the options must be positive.");

        var rng = new Random(12345);
        byte[] seed = CommonReferencePolynomial.NewSeed();
        SecretKeyShare[] secrets = Enumerable.Range(0, options.Participants).Select(_ => SecretKeyShare.Generate(parameters, seed)).ToArray();
        CollectivePublicKey key = CollectivePublicKey.Combine(secrets.Select(s => s.PublicKeyShare));

        // Scalar first: with dynamic PGO, a branch never taken while a method warms up is compiled as cold code, so
        // whichever path runs second would be handicapped if it shared a method body with the first.
        SingleCiphertextTimes scalar;
        double scalarEncryptSeconds;
        bool saved = VectorArithmetic.Enabled;
        try
        {
            VectorArithmetic.Enabled = false;
            scalar = MeasureSingleCiphertext(parameters, options, key, secrets, rng);
            double[] update = Enumerable.Range(0, options.ModelParameters).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            var watch = Stopwatch.StartNew();
            EncryptedVector.Encrypt(key, update, options.Bound);
            scalarEncryptSeconds = watch.Elapsed.TotalSeconds;
        }
        finally
        {
            VectorArithmetic.Enabled = saved;
        }
        SingleCiphertextTimes vector = MeasureSingleCiphertext(parameters, options, key, secrets, rng);

        // The scenario: every participant encrypts its weighted update, the aggregator sums, all decrypt jointly.
        var encryptSeconds = new List<double>();
        var totalSeconds = new List<double>();
        double maxError = 0;
        long wireBytes = 0;
        for (int run = 0; run < options.ScenarioRuns; run++)
        {
            double[][] updates = Enumerable.Range(0, options.Participants)
                .Select(_ => Enumerable.Range(0, options.ModelParameters).Select(_ => (rng.NextDouble() * 2 - 1) / options.Participants).ToArray())
                .ToArray();
            var encrypted = new EncryptedVector[options.Participants];
            double total = 0;
            for (int i = 0; i < options.Participants; i++)
            {
                var watch = Stopwatch.StartNew();
                encrypted[i] = EncryptedVector.Encrypt(key, updates[i], options.Bound);
                double seconds = watch.Elapsed.TotalSeconds;
                encryptSeconds.Add(seconds);
                total += seconds;
            }
            var rest = Stopwatch.StartNew();
            EncryptedVector aggregate = EncryptedVector.Sum(encrypted);
            DecryptionShare[] shares = secrets.Select(s => s.CreateDecryptionShare(key, aggregate)).ToArray();
            double[] result = JointDecryption.Combine(key, aggregate, shares);
            total += rest.Elapsed.TotalSeconds;
            totalSeconds.Add(total);

            for (int j = 0; j < options.ModelParameters; j++)
            {
                double expected = 0;
                for (int i = 0; i < options.Participants; i++)
                    expected += updates[i][j];
                maxError = Math.Max(maxError, Math.Abs(result[j] - expected));
            }
            wireBytes = encrypted[0].WireLength;
        }

        return new HeBenchmarkResult
        {
            ParameterSet = parameters.Name,
            RingDimension = parameters.RingDimension,
            LogQ = parameters.LogQ,
            WireModulusBits = parameters.WireModulusBits,
            ValuesPerCiphertext = parameters.ValuesPerCiphertext,
            EncodeMicros = vector.Encode.Median,
            EncodeMicrosBest = vector.Encode.Best,
            EncryptMicros = vector.Encrypt.Median,
            EncryptMicrosBest = vector.Encrypt.Best,
            AddMicros = vector.Add.Median,
            AddMicrosBest = vector.Add.Best,
            DecryptShareMicros = vector.DecryptShare.Median,
            DecryptShareMicrosBest = vector.DecryptShare.Best,
            CombineMicros = vector.Combine.Median,
            CombineMicrosBest = vector.Combine.Best,
            DecodeMicros = vector.Decode.Median,
            DecodeMicrosBest = vector.Decode.Best,
            NttMicros = vector.Ntt.Median,
            FloodingNanosPerSample = vector.Flooding.Median * 1000 / parameters.RingDimension,
            EncodeMicrosScalar = scalar.Encode.Median,
            EncryptMicrosScalar = scalar.Encrypt.Median,
            DecryptShareMicrosScalar = scalar.DecryptShare.Median,
            DecodeMicrosScalar = scalar.Decode.Median,
            NttMicrosScalar = scalar.Ntt.Median,
            BytesPerParameter = (double)wireBytes / options.ModelParameters,
            Participants = options.Participants,
            ModelParameters = options.ModelParameters,
            EncryptSecondsPerParticipant = Median(encryptSeconds),
            EncryptSecondsPerParticipantBest = encryptSeconds.Min(),
            EncryptSecondsPerParticipantScalar = scalarEncryptSeconds,
            TotalSeconds = Median(totalSeconds),
            TotalSecondsBest = totalSeconds.Min(),
            MaxAbsError = maxError,
            Simd = VectorArithmetic.Describe(),
        };
    }

    private readonly record struct Timing(double Median, double Best);

    private sealed record SingleCiphertextTimes(Timing Encode, Timing Encrypt, Timing Add, Timing DecryptShare, Timing Combine, Timing Decode, Timing Ntt, Timing Flooding);

    /// <summary>Each operation on one ciphertext (N values), through the same code the public API runs.</summary>
    private static SingleCiphertextTimes MeasureSingleCiphertext(
        CkksParameters parameters, HeBenchmarkOptions options, CollectivePublicKey key, SecretKeyShare[] secrets, Random rng)
    {
        int n = parameters.RingDimension;
        CkksContext context = parameters.Context;
        Modulus q0 = context.WireModulus;
        double scale = parameters.ScaleForBound(options.Bound);
        double[] values = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var plaintext = new ulong[n];
        var c0 = new ulong[n];
        var c1 = new ulong[n];
        using var encryptor = new PublicKeyEncryptor(key.Prepared, context.Errors);
        using var random = AesCtrRandom.FromSystemEntropy("FedCore/CKKS/benchmark");

        Timing encode = Time(options, () => context.Encoder.Encode(values, scale, q0, plaintext));
        Timing encrypt = Time(options, () =>
        {
            encryptor.EncryptZero(random, c0, c1);
            RnsRing.AddInPlace(q0, c0, plaintext);
        });
        EncryptedVector one = EncryptedVector.Encrypt(key, values, options.Bound);
        EncryptedVector other = EncryptedVector.Encrypt(key, values, options.Bound);
        // The aggregator's step: one more ciphertext added into the running sum, through EncryptedVectorSum itself.
        var running = new EncryptedVectorSum();
        running.Add(one);
        Timing add = Time(options, () => running.Add(other));
        Timing share = Time(options, () => secrets[0].CreateDecryptionShare(key, one));
        DecryptionShare[] shares = secrets.Select(s => s.CreateDecryptionShare(key, one)).ToArray();
        var combined = new ulong[n];
        var addend = new ulong[n];
        Timing combine = Time(options, () =>
        {
            one.ReadC0(0, combined);
            foreach (DecryptionShare s in shares)
            {
                s.ReadChunk(0, addend);
                RnsRing.AddInPlace(q0, combined, addend);
            }
        });
        var decoded = new double[n];
        Timing decode = Time(options, () => context.Encoder.Decode(combined, q0, one.Scale, decoded));
        Timing ntt = Time(options, () => context.WireTransform.Forward(c0));
        var noise = new long[n];
        Timing flooding = Time(options, () => context.Flooding.Sample(random, noise));
        return new SingleCiphertextTimes(encode, encrypt, add, share, combine, decode, ntt, flooding);
    }

    /// <summary>Median and best of the per-operation time over batches, in microseconds, after a warm-up batch set.</summary>
    private static Timing Time(HeBenchmarkOptions options, Action operation)
    {
        // Warm up long enough for tiered compilation to replace the first, unoptimised code (it waits for ~100 ms
        // without new methods being called before it recompiles hot ones).
        long warmUpStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < 50 || Stopwatch.GetElapsedTime(warmUpStart) < options.WarmUp; i++)
            operation();
        var perOperation = new List<double>(options.Batches);
        for (int batch = 0; batch < options.Batches; batch++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < options.OperationsPerBatch; i++)
                operation();
            perOperation.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / options.OperationsPerBatch);
        }
        return new Timing(Median(perOperation), perOperation.Min());
    }

    private static double Median(List<double> samples)
    {
        double[] sorted = [.. samples.Order()];
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

}
