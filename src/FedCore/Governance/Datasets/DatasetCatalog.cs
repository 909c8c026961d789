using System.Collections.Immutable;
using FedCore.Governance.Canonical;
using FedCore.Governance.Membership;

namespace FedCore.Governance.Datasets;

/// <summary>
/// The dataset catalog as a participant trusts it: entries each signed by its organisation's current key in a verified
/// membership. Made only by <see cref="Verify"/>. Metadata only; the rows never leave their silo.
/// </summary>
public sealed class DatasetCatalog
{
    private readonly ImmutableSortedDictionary<string, DatasetEntry> _entries;

    private DatasetCatalog(ImmutableSortedDictionary<string, DatasetEntry> entries, long membershipSerial)
    {
        _entries = entries;
        MembershipSerial = membershipSerial;
    }

    /// <summary>The membership record whose keys the entries were verified with.</summary>
    public long MembershipSerial { get; }

    /// <summary>The entries, ordered by organisation and name.</summary>
    public IEnumerable<DatasetEntry> Entries => _entries.Values;

    /// <summary>
    /// Accepts entries that keep their format's rules, belong to a member, verify with that member's current key, and
    /// are registered once per organisation and name. (An organisation that rotates its key signs its entries again.)
    /// </summary>
    /// <exception cref="DatasetEntryException">An entry is refused; the message names it and the rule.</exception>
    public static DatasetCatalog Verify(IEnumerable<SignedDatasetEntry> entries, VerifiedMembership membership)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(membership);
        var accepted = ImmutableSortedDictionary.CreateBuilder<string, DatasetEntry>(StringComparer.Ordinal);
        foreach (var signed in entries)
        {
            var entry = signed?.Entry ?? throw new ArgumentException("An entry is null.", nameof(entries));
            try
            {
                entry.Check($"dataset '{entry.Name}' of '{entry.Organisation}'", "$");
            }
            catch (GovernanceFormatException e)
            {
                throw new DatasetEntryException(entry.Organisation, entry.Name, $"{e.JsonPath}: {e.Problem}");
            }
            var owner = membership.Find(entry.Organisation)
                ?? throw new DatasetEntryException(entry.Organisation, entry.Name, $"'{entry.Organisation}' is not a member of the federation (membership record {membership.Serial})");
            if (!Statement.Verify(owner.SigningKey, DatasetEntry.Tag, entry.CanonicalBytes(), signed.Signature))
                throw new DatasetEntryException(entry.Organisation, entry.Name,
                    $"the signature does not verify with the organisation's key in membership record {membership.Serial} (altered, forged, or signed with a key since rotated)");
            if (!accepted.TryAdd(entry.Key, entry))
                throw new DatasetEntryException(entry.Organisation, entry.Name, "is registered twice");
        }
        return new DatasetCatalog(accepted.ToImmutable(), membership.Serial);
    }

    public bool Contains(string organisation, string name) => Find(organisation, name) is not null;

    public DatasetEntry? Find(string organisation, string name) => _entries.GetValueOrDefault(DatasetEntry.KeyOf(organisation, name));
}
