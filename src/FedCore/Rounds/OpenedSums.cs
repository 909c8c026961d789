namespace FedCore.Rounds;

/// <summary>
/// What a participant remembers, across all its rounds and jobs, of the sums it helped open (README: "The round plan"):
/// for each basis (<see cref="RoundPlan.BasisOf"/>: global model and the scaled rows trained on), the members of that sum,
/// both as hex digests; and for each chain position, the job and round in which it revealed its part of an opening from
/// it (step 6b). Its host keeps <see cref="Entries"/> in the participant's storage and writes it with the round record: a
/// step that adds an entry marks the record changed.
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

    /// <summary>The job and round in which it revealed its part of an opening from <paramref name="position"/> (a chain position), if it did.</summary>
    internal string? RevealedIn(byte[] position) => Entries.TryGetValue(RevealedKey(position), out var where) ? where : null;

    internal void MarkRevealed(byte[] position, string where) => Entries[RevealedKey(position)] = where;

    private static string RevealedKey(byte[] position) => "revealed:" + Convert.ToHexString(position);

    private static string MembersKey(IReadOnlyList<string> members) => Convert.ToHexString(RoundChallenges.MembersDigest(members));
}
