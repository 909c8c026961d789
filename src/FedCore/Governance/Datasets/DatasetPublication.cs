using System.Collections.Immutable;
using System.Text.Json.Nodes;
using FedCore.Governance.Canonical;

namespace FedCore.Governance.Datasets;

/// <summary>
/// What a data steward says of a dataset in the catalog, besides what its participant computes from the file (schema
/// hash, row count, SHA-256): description, categories, jurisdiction, licence, privacy unit and ε cap. Its organisation
/// approves it with the file and schema (<see cref="Approvals.ApprovalSubject.RegisterDataset"/>) before its participant
/// signs the entry.
/// </summary>
public sealed record DatasetPublication(
    string Description,
    ImmutableArray<DataCategory> Categories,
    string Jurisdiction,
    string Licence,
    PrivacyUnit PrivacyUnit,
    decimal EpsilonCap)
{
    /// <summary>Reads the categories and privacy unit by their JSON names (health, special-category, record, …).</summary>
    /// <exception cref="ArgumentException">A category or the privacy unit is not one of the names; the message names the field.</exception>
    public static DatasetPublication Parse(string description, IEnumerable<string> categories, string jurisdiction, string licence, string privacyUnit, decimal epsilonCap)
    {
        ArgumentNullException.ThrowIfNull(categories);
        return new(description, [.. categories.Select((c, i) => GovernanceNames.Parse<DataCategory>(c, $"categories[{i}]"))], jurisdiction, licence,
            GovernanceNames.Parse<PrivacyUnit>(privacyUnit, "privacyUnit"), epsilonCap);
    }

    /// <summary>The catalog entry of this publication for a file as its participant read it.</summary>
    public DatasetEntry ToEntry(string organisation, string name, string schemaHash, long rowCount, string fileSha256, DateTimeOffset registeredAt) =>
        new(organisation, name, Description, schemaHash, rowCount, fileSha256, Categories, Jurisdiction, Licence, PrivacyUnit, EpsilonCap, registeredAt);

    /// <summary>SHA-256 of its canonical JSON (the fields of a catalog entry it has, in their catalog form).</summary>
    internal string Digest() => Statement.Digest(CanonicalJson.Write(new JsonObject
    {
        ["description"] = Description,
        ["categories"] = Formats.Set(Categories, Formats.Name, c => Formats.Name(c)),
        ["jurisdiction"] = Jurisdiction,
        ["licence"] = Licence,
        ["privacyUnit"] = Formats.Name(PrivacyUnit),
        ["epsilonCap"] = EpsilonCap,
    }));
}
