using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCore.Governance.Canonical;

namespace FedCore.Governance.Datasets;

/// <summary>
/// The catalog file: <c>{"datasets":[{"entry":{…},"signature":"…"}]}</c>. Reading is closed-world and checks each
/// entry's own rules and that no organisation registers a name twice; the signatures are checked by
/// <see cref="DatasetCatalog.Verify"/> against a membership. Writing gives the canonical form, indented.
/// </summary>
public static class DatasetCatalogJson
{
    /// <summary>Larger files are refused unread.</summary>
    public const int MaxBytes = 16 << 20;

    private static readonly string[] EntryFields =
        ["organisation", "name", "description", "schemaHash", "rowCount", "fileSha256", "categories", "jurisdiction", "licence", "privacyUnit", "epsilonCap", "registeredAt"];

    /// <exception cref="GovernanceFormatException">The file is not JSON, or a field is unknown, missing, of the wrong type or breaks a rule.</exception>
    public static ImmutableArray<SignedDatasetEntry> Parse(ReadOnlyMemory<byte> utf8Json, string sourceName)
    {
        using var document = JsonInput.Parse(utf8Json, sourceName, MaxBytes);
        var root = JsonFields.Of(document.RootElement, sourceName, "$", "datasets");
        var entries = root.Array("datasets", (element, path) =>
        {
            var signed = JsonFields.Of(element, sourceName, path, "entry", "signature");
            var entry = ReadEntry(signed.Object("entry", EntryFields));
            entry.Check(sourceName, $"{path}.entry");
            return new SignedDatasetEntry(entry, signed.Bytes("signature"));
        });
        int duplicate = Formats.FirstDuplicate(entries, e => e.Entry.Key);
        if (duplicate >= 0)
            throw new GovernanceFormatException(sourceName, $"$.datasets[{duplicate}].entry.name",
                $"'{entries[duplicate].Entry.Name}' of '{entries[duplicate].Entry.Organisation}' is registered twice");
        return entries;
    }

    public static byte[] Write(IEnumerable<SignedDatasetEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var datasets = Formats.Set([.. entries], e => e.Entry.Key,
            e => new JsonObject { ["entry"] = ToJson(e.Entry), ["signature"] = Formats.Base64(e.Signature) });
        return CanonicalJson.WriteIndented(new JsonObject { ["datasets"] = datasets });
    }

    internal static JsonObject ToJson(DatasetEntry entry) => new()
    {
        ["organisation"] = entry.Organisation,
        ["name"] = entry.Name,
        ["description"] = entry.Description,
        ["schemaHash"] = entry.SchemaHash,
        ["rowCount"] = entry.RowCount,
        ["fileSha256"] = entry.FileSha256,
        ["categories"] = Formats.Set(entry.Categories, Formats.Name, c => Formats.Name(c)),
        ["jurisdiction"] = entry.Jurisdiction,
        ["licence"] = entry.Licence,
        ["privacyUnit"] = Formats.Name(entry.PrivacyUnit),
        ["epsilonCap"] = entry.EpsilonCap,
        ["registeredAt"] = Formats.Time(entry.RegisteredAt),
    };

    private static DatasetEntry ReadEntry(JsonFields entry) => new(
        entry.Text("organisation"),
        entry.Text("name"),
        entry.Text("description"),
        entry.Text("schemaHash"),
        entry.Integer("rowCount", 1, long.MaxValue),
        entry.Text("fileSha256"),
        entry.EnumArray<DataCategory>("categories"),
        entry.Text("jurisdiction"),
        entry.Text("licence"),
        entry.Enum<PrivacyUnit>("privacyUnit"),
        entry.Decimal("epsilonCap"),
        entry.Time("registeredAt"));
}
