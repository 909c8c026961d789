using System.Collections.Immutable;
using FedCore.Governance.Canonical;
using FedCore.Governance.Membership;

namespace FedCore.Governance.Datasets;

/// <summary>What kind of data a dataset holds. JSON: health, financial, personal, special-category, non-personal.</summary>
public enum DataCategory
{
    Health,
    Financial,
    Personal,
    /// <summary>The special categories of personal data (GDPR art. 9: health, genetic, biometric, …); implies <see cref="Personal"/>.</summary>
    SpecialCategory,
    /// <summary>No personal data at all; excludes every other category.</summary>
    NonPersonal,
}

/// <summary>Whom differential privacy protects: one record, or one person (who may have several records). JSON: record, person.</summary>
public enum PrivacyUnit
{
    Record,
    Person,
}

/// <summary>
/// A dataset as registered in the federation's catalog by a data steward of its organisation: metadata only (the rows
/// stay on the organisation's silo), signed with the organisation's key (see <see cref="SignedDatasetEntry"/>).
/// </summary>
/// <param name="Organisation">The owning organisation's id ("HU/budapest").</param>
/// <param name="Name">Unique within the organisation; letters, digits, '-', '_', '.'.</param>
/// <param name="SchemaHash">Lower-case hex SHA-256 of the schema's canonical form (as <see cref="Data.DatasetMetadata.SchemaHash"/>).</param>
/// <param name="FileSha256">Lower-case hex SHA-256 of the data file.</param>
/// <param name="Jurisdiction">ISO 3166-1 alpha-2 code of the legal regime the data falls under.</param>
/// <param name="EpsilonCap">The most differential-privacy ε this dataset may ever spend, over all jobs.</param>
public sealed record DatasetEntry(
    string Organisation,
    string Name,
    string Description,
    string SchemaHash,
    long RowCount,
    string FileSha256,
    ImmutableArray<DataCategory> Categories,
    string Jurisdiction,
    string Licence,
    PrivacyUnit PrivacyUnit,
    decimal EpsilonCap,
    DateTimeOffset RegisteredAt)
{
    internal const string Tag = "federation/dataset/entry/v1";

    /// <summary>What makes an entry unique in the catalog, and orders the entries when written.</summary>
    internal string Key => KeyOf(Organisation, Name);

    /// <summary>
    /// Whether this entry says what its organisation registered last (that file, schema and row count, those categories,
    /// unit and cap, as the
    /// catalog names them): the organisation's own check that the relay did not hand it an older entry of its dataset.
    /// </summary>
    public bool Describes(string fileSha256, string schemaHash, long rowCount, IEnumerable<string> categories, string privacyUnit, decimal epsilonCap) =>
        FileSha256 == fileSha256 && SchemaHash == schemaHash && RowCount == rowCount && Formats.Name(PrivacyUnit) == privacyUnit && EpsilonCap == epsilonCap
        && Categories.Select(Formats.Name).Order(StringComparer.Ordinal).SequenceEqual(categories.Order(StringComparer.Ordinal));

    internal static string KeyOf(string organisation, string name) => $"{organisation}\n{name}";

    internal byte[] CanonicalBytes() => CanonicalJson.Write(DatasetCatalogJson.ToJson(this));

    /// <summary>Lower-case hex SHA-256 of the entry's canonical bytes (what its organisation signs; the signature itself is randomised).</summary>
    public string Digest => Statement.Digest(CanonicalBytes());

    internal void Check(string source, string path)
    {
        void Fail(string field, string problem) => throw new GovernanceFormatException(source, $"{path}.{field}", problem);

        if (!OrganisationId.TryParse(Organisation, out _, out var error))
            Fail("organisation", error);
        if (!Formats.IsName(Name))
            Fail("name", $"'{Name}' must be non-empty and use only letters, digits, '-', '_' or '.'");
        if (!Formats.IsText(Description))
            Fail("description", "must not be empty or blank");
        if (!Formats.IsDigest(SchemaHash))
            Fail("schemaHash", "must be a SHA-256 digest in 64 lower-case hex digits");
        if (RowCount < 1)
            Fail("rowCount", $"must be at least 1, not {RowCount}");
        if (!Formats.IsDigest(FileSha256))
            Fail("fileSha256", "must be a SHA-256 digest in 64 lower-case hex digits");
        CheckCategories(Fail);
        if (!Formats.IsCountryCode(Jurisdiction))
            Fail("jurisdiction", $"'{Jurisdiction}' is not an ISO 3166-1 alpha-2 code in capitals (e.g. 'HU')");
        if (!Formats.IsText(Licence))
            Fail("licence", "must not be empty or blank");
        if (!Enum.IsDefined(PrivacyUnit))
            Fail("privacyUnit", $"must be one of {Formats.Names<PrivacyUnit>()}");
        if (EpsilonCap <= 0 || !CanonicalNumber.IsExact(EpsilonCap))
            Fail("epsilonCap", $"must be a positive number, not {EpsilonCap}");
        if (!Formats.IsUtcSeconds(RegisteredAt))
            Fail("registeredAt", "must be a UTC time in whole seconds");
    }

    private void CheckCategories(Action<string, string> fail)
    {
        if (Categories.IsDefaultOrEmpty)
            fail("categories", "must name at least one category");
        for (int i = 0; i < Categories.Length; i++)
            if (!Enum.IsDefined(Categories[i]))
                fail($"categories[{i}]", $"must be one of {Formats.Names<DataCategory>()}");
        int duplicate = Formats.FirstDuplicate(Categories, Formats.Name);
        if (duplicate >= 0)
            fail($"categories[{duplicate}]", $"'{Formats.Name(Categories[duplicate])}' is listed twice");
        if (Categories.Contains(DataCategory.NonPersonal) && Categories.Length > 1)
            fail("categories", "non-personal excludes every other category");
        if (Categories.Contains(DataCategory.SpecialCategory) && !Categories.Contains(DataCategory.Personal))
            fail("categories", "special-category data is personal data: list personal too");
    }
}
