using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FedCore.Data;

namespace FedCore.Rounds;

/// <summary>
/// What the members of a round train from and weigh their updates by (README: "The round plan"); everything else that
/// shapes an update (model, training settings, split, seed) a participant pinned when it accepted the job.
/// <see cref="Digest"/> is over the plan as sent: job, model version, global model, feature scaling, weight normaliser.
/// <see cref="Basis"/> is over what fixes the updates: the global model and the feature scaling in a canonical form (−0 as
/// 0, scaling entries sorted, identities dropped), not the job: the same model under two job ids, or re-encoded, is one
/// basis. The digest enters the key challenge, so members told different plans make key fingerprints that cannot add up;
/// the basis is what a participant remembers of every sum it helped open (<see cref="OpenedSums"/>).
/// </summary>
public sealed class RoundPlan
{
    private RoundPlan(byte[] basis, byte[] digest)
    {
        Basis = basis;
        Digest = digest;
    }

    /// <summary>H(canonical global model, canonical feature scaling): two rounds of one basis produce the same updates.</summary>
    public byte[] Basis { get; }

    /// <summary>H(job, model version, global model, feature scaling, weight normaliser): the same for every member of a round, or the round key fails.</summary>
    public byte[] Digest { get; }

    /// <exception cref="ArgumentException">A value is not finite, the scaling is inconsistent, or the normaliser is not positive.</exception>
    public static RoundPlan For(string jobId, int globalVersion, ReadOnlySpan<float> global, FeatureScaling scaling, double weightNormaliser)
    {
        ArgumentNullException.ThrowIfNull(scaling);
        if (!(weightNormaliser > 0) || double.IsInfinity(weightNormaliser))
            throw new ArgumentOutOfRangeException(nameof(weightNormaliser), weightNormaliser, "The weight normaliser must be a positive finite number.");
        var entries = CanonicalScaling(scaling);
        byte[] rawScaling = Transcript.Hash("scaling",
        [
            Transcript.Hash("names", scaling.FeatureNames.Select(Transcript.Text)),
            MemoryMarshal.AsBytes(scaling.Mean.AsSpan()).ToArray(),
            MemoryMarshal.AsBytes(scaling.StandardDeviation.AsSpan()).ToArray(),
        ]);
        byte[] basis = Transcript.Hash("plan-basis", CanonicalModelHash(global),
            Transcript.Hash("canonical-scaling", entries.SelectMany(e => new[] { Transcript.Text(e.Name), BitConverter.GetBytes(e.Mean), BitConverter.GetBytes(e.Deviation) })));
        byte[] digest = Transcript.Hash("plan", Transcript.Text(jobId), Transcript.Int(globalVersion), SHA256.HashData(MemoryMarshal.AsBytes(global)),
            rawScaling, BitConverter.GetBytes(weightNormaliser));
        return new RoundPlan(basis, digest);
    }

    /// <summary>SHA-256 of the model's values with −0 written as 0; a value that is not finite is refused.</summary>
    private static byte[] CanonicalModelHash(ReadOnlySpan<float> global)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<float> chunk = stackalloc float[1024];
        for (int start = 0; start < global.Length; start += chunk.Length)
        {
            var part = global.Slice(start, Math.Min(chunk.Length, global.Length - start));
            for (int i = 0; i < part.Length; i++)
            {
                if (!float.IsFinite(part[i]))
                    throw new ArgumentException($"The global model's value {start + i} is not a finite number.", nameof(global));
                chunk[i] = part[i] == 0 ? 0f : part[i];
            }
            hash.AppendData(MemoryMarshal.AsBytes(chunk[..part.Length]));
        }
        return hash.GetHashAndReset();
    }

    /// <summary>The scaling's entries by name, without those that change nothing (mean 0, deviation 1).</summary>
    private static List<(string Name, double Mean, double Deviation)> CanonicalScaling(FeatureScaling scaling)
    {
        if (scaling.Mean.Length != scaling.FeatureNames.Length || scaling.StandardDeviation.Length != scaling.FeatureNames.Length)
            throw new ArgumentException($"The feature scaling names {scaling.FeatureNames.Length} features but has {scaling.Mean.Length} means and {scaling.StandardDeviation.Length} deviations.", nameof(scaling));
        if (scaling.FeatureNames.Distinct(StringComparer.Ordinal).Count() != scaling.FeatureNames.Length)
            throw new ArgumentException("The feature scaling names a feature twice.", nameof(scaling));
        var entries = new List<(string, double, double)>();
        for (int k = 0; k < scaling.FeatureNames.Length; k++)
        {
            double mean = scaling.Mean[k], deviation = scaling.StandardDeviation[k];
            if (!double.IsFinite(mean) || !double.IsFinite(deviation) || !(deviation > 0))
                throw new ArgumentException($"The feature scaling of '{scaling.FeatureNames[k]}' is not a finite mean with a positive finite deviation.", nameof(scaling));
            if (mean != 0 || deviation != 1)
                entries.Add((scaling.FeatureNames[k], mean == 0 ? 0 : mean, deviation));
        }
        return entries.OrderBy(e => e.Item1, StringComparer.Ordinal).ToList();
    }
}
