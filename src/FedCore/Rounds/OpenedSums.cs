namespace FedCore.Rounds;

/// <summary>
/// What a participant remembers, across all its rounds and jobs, of the sums it helped open (README: "The round plan"):
/// for each basis (<see cref="RoundPlan.BasisOf"/>: global model and the scaled rows trained on), the members of that sum, both as hex
/// digests. Its host keeps <see cref="Entries"/> in the participant's storage and writes it with the round record: a
/// decryption adds an entry and marks the record changed.
/// </summary>
public sealed class OpenedSums(IDictionary<string, string> entries)
{
    public OpenedSums()
        : this(new Dictionary<string, string>())
    {
    }

    public IDictionary<string, string> Entries { get; } = entries ?? throw new ArgumentNullException(nameof(entries));

    /// <summary>True if a sum from <paramref name="basis"/> was opened over other members than <paramref name="members"/>.</summary>
    internal bool OpenedOverOthers(byte[] basis, IReadOnlyList<string> members) =>
        Entries.TryGetValue(Convert.ToHexString(basis), out var opened) && opened != MembersKey(members);

    internal void Add(byte[] basis, IReadOnlyList<string> members) => Entries[Convert.ToHexString(basis)] = MembersKey(members);

    private static string MembersKey(IReadOnlyList<string> members) => Convert.ToHexString(RoundChallenges.MembersDigest(members));
}
