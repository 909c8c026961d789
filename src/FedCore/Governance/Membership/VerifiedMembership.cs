using System.Collections.Immutable;

namespace FedCore.Governance.Membership;

/// <summary>What a silo keeps to trust a membership again without re-reading it: the serial and digest of a verified record.</summary>
public sealed record MembershipPin(long Serial, string Digest);

/// <summary>
/// The membership as of the latest record of a chain that <see cref="MembershipChain.Verify"/> accepted: who is who,
/// in which country, with which key. There is no other way to make one, so holding one means the chain was checked.
/// </summary>
public sealed class VerifiedMembership
{
    private readonly ImmutableSortedDictionary<string, OrganisationEntry> _organisations;

    internal VerifiedMembership(MembershipRecord latest, string digest)
    {
        Federation = latest.Federation;
        Serial = latest.Serial;
        IssuedAt = latest.IssuedAt;
        Digest = digest;
        _organisations = latest.Organisations.ToImmutableSortedDictionary(o => o.Entry.Id, o => o.Entry, StringComparer.Ordinal);
    }

    public string Federation { get; }

    public long Serial { get; }

    public DateTimeOffset IssuedAt { get; }

    /// <summary>Lower-case hex SHA-256 of the latest record's canonical bytes.</summary>
    public string Digest { get; }

    /// <summary>Pin this, and pass it to the next <see cref="MembershipChain.Verify"/>: a rewritten or rolled-back history is then refused.</summary>
    public MembershipPin Pin => new(Serial, Digest);

    /// <summary>The member organisations, ordered by id.</summary>
    public IEnumerable<OrganisationEntry> Organisations => _organisations.Values;

    public bool Contains(string id) => _organisations.ContainsKey(id);

    /// <summary>The organisation's entry (country, legal name, members, signing key), or null when it is not a member.</summary>
    public OrganisationEntry? Find(string id) => _organisations.GetValueOrDefault(id);
}
