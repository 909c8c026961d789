using FedCore.Aggregation.Protection;

namespace FedCore.Rounds;

/// <summary>The protection a participant pinned for a job: the scheme and the bound on update values.</summary>
public sealed record RoundProtection(string Scheme, double UpdateBound)
{
    public bool IsSimulation => Scheme == PlaintextSimulation.SchemeName;

    public override string ToString() => $"{Scheme} (bound ±{UpdateBound})";
}

/// <summary>
/// What a participant pinned when it accepted a job, and decides every round by: the job's parties, the least number
/// of them a round may have, each party's signing key (from the verified membership, never from the job), and the
/// protection. No request can change any of it (README: "Who decides what").
/// </summary>
public sealed record RoundTerms
{
    /// <summary>A round of fewer members would let the aggregator and one colluder read the third's update.</summary>
    public const int AbsoluteMinimum = 3;

    public RoundTerms(string jobId, string self, IEnumerable<string> parties, int minimumParticipants,
        IReadOnlyDictionary<string, byte[]> partyKeys, RoundProtection protection)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        ArgumentException.ThrowIfNullOrEmpty(self);
        ArgumentNullException.ThrowIfNull(partyKeys);
        ArgumentNullException.ThrowIfNull(protection);
        var sorted = parties.Order(StringComparer.Ordinal).ToList();
        if (sorted.Distinct(StringComparer.Ordinal).Count() != sorted.Count)
            throw new ArgumentException("A party is listed twice.", nameof(parties));
        if (!sorted.Contains(self))
            throw new ArgumentException($"'{self}' is not among the job's parties.", nameof(self));
        if (minimumParticipants < AbsoluteMinimum)
            throw new ArgumentOutOfRangeException(nameof(minimumParticipants), minimumParticipants, $"A round needs at least {AbsoluteMinimum} participants.");
        if (minimumParticipants > sorted.Count)
            throw new ArgumentOutOfRangeException(nameof(minimumParticipants), minimumParticipants, $"The job has only {sorted.Count} parties.");
        foreach (var party in sorted)
            if (!partyKeys.ContainsKey(party))
                throw new ArgumentException($"No signing key for party '{party}'.", nameof(partyKeys));
        if (!(protection.UpdateBound > 0) || !double.IsFinite(protection.UpdateBound))
            throw new ArgumentOutOfRangeException(nameof(protection), protection.UpdateBound, "The update bound must be a positive number.");
        JobId = jobId;
        Self = self;
        Parties = sorted;
        MinimumParticipants = minimumParticipants;
        PartyKeys = sorted.ToDictionary(p => p, p => partyKeys[p], StringComparer.Ordinal);
        Protection = protection;
    }

    public string JobId { get; }

    public string Self { get; }

    /// <summary>The job's parties, sorted by ordinal id.</summary>
    public IReadOnlyList<string> Parties { get; }

    public int MinimumParticipants { get; }

    public IReadOnlyDictionary<string, byte[]> PartyKeys { get; }

    public RoundProtection Protection { get; }

    /// <summary>The refusal for a round set that the terms do not allow, or null: within the parties, at least the minimum, itself in it, sorted and distinct.</summary>
    internal string? ProblemWithSet(IReadOnlyList<string> set) =>
        ProblemWithRoundOf(set) ?? (set.Contains(Self) ? null : "it is not among the round's participants");

    /// <summary>As <see cref="ProblemWithSet"/>, itself in the set or not: whether the set could be any round of the job.</summary>
    internal string? ProblemWithRoundOf(IReadOnlyList<string> set)
    {
        if (set.Count < MinimumParticipants)
            return $"the round has {set.Count} participants; the job's terms require at least {MinimumParticipants}";
        for (int i = 1; i < set.Count; i++)
            if (string.CompareOrdinal(set[i - 1], set[i]) >= 0)
                return "the round's participants are not listed once each in ordinal order";
        var outsider = set.FirstOrDefault(p => !PartyKeys.ContainsKey(p));
        return outsider is null ? null : $"'{outsider}' is not a party of the job";
    }
}
