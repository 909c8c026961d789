using System.Collections.Immutable;
using FedCore.Aggregation.Integrity;
using FedCore.Governance.Canonical;

namespace FedCore.Governance.Datasets;

/// <summary>A catalog entry with its organisation's signature: tag <c>federation/dataset/entry/v1</c> over the canonical entry.</summary>
public sealed record SignedDatasetEntry(DatasetEntry Entry, ImmutableArray<byte> Signature)
{
    /// <summary>Signs an entry with its organisation's key (the caller holds the key, so it knows it is that organisation's).</summary>
    /// <exception cref="GovernanceFormatException">The entry breaks a rule of its format.</exception>
    public static SignedDatasetEntry Create(DatasetEntry entry, ParticipantSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(key);
        entry.Check("dataset entry", "$");
        return new SignedDatasetEntry(entry, Statement.Sign(key, DatasetEntry.Tag, entry.CanonicalBytes()));
    }
}
