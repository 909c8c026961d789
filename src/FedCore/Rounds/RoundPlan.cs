using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FedCore.Data;

namespace FedCore.Rounds;

/// <summary>
/// What the members of a round are told to train from and weigh their updates by (README: "The round plan"); everything
/// else that shapes an update (model, training settings, split, seeds) a participant pinned or holds itself.
/// <see cref="Digest"/> is over the plan as sent: job, model version, global model, feature scaling, weight normaliser.
/// It enters the key acceptance, so members told different plans sign acceptances that differ.
/// </summary>
public sealed class RoundPlan
{
    private RoundPlan(byte[] digest, bool isExplanation) => (Digest, IsExplanation) = (digest, isExplanation);

    /// <summary>H(job, model version, global model, feature scaling, weight normaliser): the same for every member of a round, or the round key fails.</summary>
    public byte[] Digest { get; }

    /// <summary>True for an explanation round's plan (<see cref="ForExplanation"/>), false for a training round's.</summary>
    public bool IsExplanation { get; }

    /// <exception cref="ArgumentException">The scaling is inconsistent or not finite, or the normaliser is not positive.</exception>
    public static RoundPlan For(string jobId, int globalVersion, ReadOnlySpan<float> global, FeatureScaling scaling, double weightNormaliser) =>
        Of("plan", jobId, globalVersion, ModelChain.ModelDigest(global), scaling, weightNormaliser);

    /// <summary><see cref="For(string, int, ReadOnlySpan{float}, FeatureScaling, double)"/> from the model's digest (<see cref="ModelChain.ModelDigest"/>), for a caller that has it.</summary>
    public static RoundPlan ForModelDigest(string jobId, int globalVersion, byte[] globalDigest, FeatureScaling scaling, double weightNormaliser) =>
        Of("plan", jobId, globalVersion, globalDigest, scaling, weightNormaliser);

    /// <summary>
    /// The plan of a round that sums each member's permutation importance of model <paramref name="version"/> on its test
    /// split (FedCore/Learning/Explanation) instead of training from it. Its own digest domain: members told to explain and
    /// members told to train cannot share a round key, so no sum mixes an update with an importance vector.
    /// </summary>
    public static RoundPlan ForExplanation(string jobId, int version, ReadOnlySpan<float> model, FeatureScaling scaling, double weightNormaliser) =>
        Of("explanation-plan", jobId, version, ModelChain.ModelDigest(model), scaling, weightNormaliser);

    private static RoundPlan Of(string domain, string jobId, int globalVersion, byte[] globalDigest, FeatureScaling scaling, double weightNormaliser)
    {
        ArgumentNullException.ThrowIfNull(scaling);
        if (globalDigest is not { Length: 32 })
            throw new ArgumentException("A model digest is the 32 bytes of SHA-256.", nameof(globalDigest));
        if (!(weightNormaliser > 0) || double.IsInfinity(weightNormaliser))
            throw new ArgumentOutOfRangeException(nameof(weightNormaliser), weightNormaliser, "The weight normaliser must be a positive finite number.");
        if (scaling.Mean.Length != scaling.FeatureNames.Length || scaling.StandardDeviation.Length != scaling.FeatureNames.Length)
            throw new ArgumentException($"The feature scaling names {scaling.FeatureNames.Length} features but has {scaling.Mean.Length} means and {scaling.StandardDeviation.Length} deviations.", nameof(scaling));
        if (scaling.FeatureNames.Distinct(StringComparer.Ordinal).Count() != scaling.FeatureNames.Length)
            throw new ArgumentException("The feature scaling names a feature twice.", nameof(scaling));
        for (int k = 0; k < scaling.FeatureNames.Length; k++)
            if (!double.IsFinite(scaling.Mean[k]) || !double.IsFinite(scaling.StandardDeviation[k]) || !(scaling.StandardDeviation[k] > 0))
                throw new ArgumentException($"The feature scaling of '{scaling.FeatureNames[k]}' is not a finite mean with a positive finite deviation.", nameof(scaling));
        byte[] rawScaling = Transcript.Hash("scaling",
        [
            Transcript.Hash("names", scaling.FeatureNames.Select(Transcript.Text)),
            MemoryMarshal.AsBytes(scaling.Mean.AsSpan()).ToArray(),
            MemoryMarshal.AsBytes(scaling.StandardDeviation.AsSpan()).ToArray(),
        ]);
        return new RoundPlan(Transcript.Hash(domain, Transcript.Text(jobId), Transcript.Int(globalVersion), globalDigest,
            rawScaling, BitConverter.GetBytes(weightNormaliser)), domain == "explanation-plan");
    }

    /// <summary>
    /// The basis of a member's update: H(global model, the scaled rows and labels it trains on), −0 read as 0. Everything
    /// else its training depends on is pinned (model, settings, its dataset's split) or, like the shuffling seed, follows
    /// from them and the model version, so one basis yields one update per seed, in any job and however the plan was
    /// written. A value that is not finite is refused.
    /// </summary>
    public static byte[] BasisOf(ReadOnlySpan<float> global, TabularData scaledTrain)
    {
        ArgumentNullException.ThrowIfNull(scaledTrain);
        return Transcript.Hash("update-basis", CanonicalHash(global, "global model"), CanonicalHash(scaledTrain.Features, "scaled rows"),
            CanonicalHash(scaledTrain.Labels, "labels"), Transcript.Int(scaledTrain.FeatureCount));
    }

    /// <summary>
    /// The basis of a member's importance vector: H(its test rows and labels, unscaled), and nothing the job chooses. Not the
    /// model: with the model in it, two explanations of models an ulp apart over S and S ∖ {v} would open as two bases and
    /// give v's vector. So a member's test split opens over one set of members only, whatever the model, version or job.
    /// </summary>
    public static byte[] ExplanationBasisOf(TabularData test)
    {
        ArgumentNullException.ThrowIfNull(test);
        return Transcript.Hash("explanation-basis", CanonicalHash(test.Features, "test rows"), CanonicalHash(test.Labels, "labels"), Transcript.Int(test.FeatureCount));
    }

    private static byte[] CanonicalHash(ReadOnlySpan<float> values, string what)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<float> chunk = stackalloc float[1024];
        for (int start = 0; start < values.Length; start += chunk.Length)
        {
            var part = values.Slice(start, Math.Min(chunk.Length, values.Length - start));
            for (int i = 0; i < part.Length; i++)
            {
                if (!float.IsFinite(part[i]))
                    throw new ArgumentException($"Value {start + i} of the {what} is not a finite number.", nameof(values));
                chunk[i] = part[i] == 0 ? 0f : part[i];
            }
            hash.AppendData(MemoryMarshal.AsBytes(chunk[..part.Length]));
        }
        return hash.GetHashAndReset();
    }
}
