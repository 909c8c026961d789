using System.Runtime.InteropServices;
using FedCore.Data;

namespace FedCore.Rounds;

/// <summary>
/// What the members of a round train from and weigh their updates by (README: "The round plan"); everything else that
/// shapes an update (model, training settings, split, seed) a participant pinned when it accepted the job.
/// <see cref="Basis"/> fixes what an update is: the global model and the feature scaling. <see cref="Digest"/> adds the
/// model version and the weight normaliser. The digest enters the key challenge, so members told different plans make
/// key fingerprints that cannot add up; the basis is what a participant remembers of every sum it helped open.
/// </summary>
public sealed class RoundPlan
{
    private RoundPlan(byte[] basis, byte[] digest)
    {
        Basis = basis;
        Digest = digest;
    }

    /// <summary>H(job, global model, feature scaling): two rounds of one basis produce the same updates.</summary>
    public byte[] Basis { get; }

    /// <summary>H(basis, model version, weight normaliser): the same for every member of a round, or the round key fails.</summary>
    public byte[] Digest { get; }

    public static RoundPlan For(string jobId, int globalVersion, ReadOnlySpan<float> global, FeatureScaling scaling, double weightNormaliser)
    {
        ArgumentNullException.ThrowIfNull(scaling);
        if (!(weightNormaliser > 0) || double.IsInfinity(weightNormaliser))
            throw new ArgumentOutOfRangeException(nameof(weightNormaliser), weightNormaliser, "The weight normaliser must be a positive finite number.");
        byte[] basis = Transcript.Hash("plan-basis",
        [
            Transcript.Text(jobId),
            System.Security.Cryptography.SHA256.HashData(MemoryMarshal.AsBytes(global)),
            Transcript.Hash("scaling", scaling.FeatureNames.Select(Transcript.Text)),
            MemoryMarshal.AsBytes(scaling.Mean.AsSpan()).ToArray(),
            MemoryMarshal.AsBytes(scaling.StandardDeviation.AsSpan()).ToArray(),
        ]);
        byte[] digest = Transcript.Hash("plan", basis, Transcript.Int(globalVersion), BitConverter.GetBytes(weightNormaliser));
        return new RoundPlan(basis, digest);
    }
}
