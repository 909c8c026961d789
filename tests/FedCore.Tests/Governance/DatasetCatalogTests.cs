using System.Text;
using System.Text.Json.Nodes;
using FedCore.Aggregation.Integrity;
using FedCore.Governance;
using FedCore.Governance.Datasets;
using static FedCore.Tests.Governance.GovernanceFixture;

namespace FedCore.Tests.Governance;

public sealed class DatasetCatalogTests
{
    private static DatasetEntryException Refused(params SignedDatasetEntry[] entries) =>
        Assert.Throws<DatasetEntryException>(() => DatasetCatalog.Verify(entries, Membership()));

    [Fact]
    public void Entries_signed_by_their_members_make_a_catalog()
    {
        var catalog = Catalog();
        Assert.True(catalog.Contains("HU/budapest", "heart-2024"));
        Assert.False(catalog.Contains("CH/zurich", "heart-2024"));
        Assert.Equal(303, catalog.Find("CH/zurich", "heart")!.RowCount);
        Assert.Equal(2, catalog.MembershipSerial);
        Assert.Equal(5, catalog.Entries.Count());
    }

    [Fact]
    public void A_forged_or_altered_entry_is_refused()
    {
        var forged = SignedDatasetEntry.Create(Budapest.Dataset("heart"), Zurich.Key);
        var e = Refused(forged);
        Assert.Equal("HU/budapest", e.Organisation);
        Assert.Equal("heart", e.Dataset);
        Assert.Contains("signature does not verify", e.Message);

        var signed = Budapest.SignedDataset("heart");
        Assert.Contains("signature does not verify", Refused(signed with { Entry = signed.Entry with { RowCount = 30_000 } }).Message);
        Assert.Contains("signature does not verify", Refused(signed with { Signature = signed.Signature.SetItem(5, (byte)(signed.Signature[5] ^ 1)) }).Message);
    }

    [Fact]
    public void An_entry_of_a_non_member_or_registered_twice_is_refused()
    {
        using var key = ParticipantSigningKey.Generate();
        var stranger = new TestOrganisation("AT/vienna", key);
        Assert.Contains("not a member", Refused(stranger.SignedDataset("heart")).Message);
        Assert.Contains("registered twice", Refused(Budapest.SignedDataset("heart"), Budapest.SignedDataset("heart")).Message);
    }

    [Theory]
    [InlineData("categories", "non-personal excludes")]
    [InlineData("special", "list personal too")]
    [InlineData("epsilonCap", "positive")]
    [InlineData("jurisdiction", "alpha-2")]
    [InlineData("schemaHash", "lower-case hex")]
    [InlineData("rowCount", "at least 1")]
    [InlineData("name", "letters, digits")]
    public void Entry_rules_are_enforced(string field, string expected)
    {
        var entry = Budapest.Dataset("heart");
        entry = field switch
        {
            "categories" => entry with { Categories = [DataCategory.NonPersonal, DataCategory.Financial] },
            "special" => entry with { Categories = [DataCategory.SpecialCategory] },
            "epsilonCap" => entry with { EpsilonCap = 0 },
            "jurisdiction" => entry with { Jurisdiction = "hu" },
            "schemaHash" => entry with { SchemaHash = new string('A', 64) },
            "rowCount" => entry with { RowCount = 0 },
            _ => entry with { Name = "heart disease" },
        };
        Assert.Contains(expected, Assert.Throws<GovernanceFormatException>(() => SignedDatasetEntry.Create(entry, Budapest.Key)).Message);
        var signed = Budapest.SignedDataset("heart") with { Entry = entry };
        Assert.Contains(expected, Refused(signed).Message);
    }

    [Fact]
    public void The_catalog_file_round_trips_and_names_paths_in_errors()
    {
        var file = DatasetCatalogJson.Write(Datasets());
        var entries = DatasetCatalogJson.Parse(file, "catalog.json");
        Assert.Equal(file, DatasetCatalogJson.Write(entries));
        Assert.Equal(5, DatasetCatalog.Verify(entries, Membership()).Entries.Count());

        GovernanceFormatException Edit(Action<JsonNode> edit)
        {
            var root = JsonNode.Parse(file)!;
            edit(root);
            return Assert.Throws<GovernanceFormatException>(() => DatasetCatalogJson.Parse(Encoding.UTF8.GetBytes(root.ToJsonString()), "catalog.json"));
        }

        var category = Edit(root => root["datasets"]![1]!["entry"]!["categories"]![0] = "secret");
        Assert.Equal("$.datasets[1].entry.categories[0]", category.JsonPath);
        var epsilon = Edit(root => root["datasets"]![0]!["entry"]!["epsilonCap"] = JsonValue.Create(-1));
        Assert.Equal("$.datasets[0].entry.epsilonCap", epsilon.JsonPath);
        var twice = Edit(root => root["datasets"]!.AsArray().Add(root["datasets"]![0]!.DeepClone()));
        Assert.Equal("$.datasets[5].entry.name", twice.JsonPath);
        var unknown = Edit(root => root["datasets"]![0]!["entry"]!["rows"] = 3);
        Assert.Equal("$.datasets[0].entry.rows", unknown.JsonPath);
    }

    [Fact]
    public void An_entry_describes_its_registration_only_if_file_schema_rows_categories_unit_and_cap_all_match()
    {
        // Second security review: an older entry of the same file with fewer rows (a stricter schema) passed the check, and
        // a row count decides China's thresholds.
        var entry = Budapest.Dataset("heart");
        string[] categories = ["health", "personal", "special-category"];
        Assert.True(entry.Describes(entry.FileSha256, entry.SchemaHash, entry.RowCount, categories, "person", entry.EpsilonCap));
        Assert.False(entry.Describes(entry.FileSha256, entry.SchemaHash, entry.RowCount - 1, categories, "person", entry.EpsilonCap));
        Assert.False(entry.Describes(entry.FileSha256, new string('c', 64), entry.RowCount, categories, "person", entry.EpsilonCap));
        Assert.False(entry.Describes(new string('c', 64), entry.SchemaHash, entry.RowCount, categories, "person", entry.EpsilonCap));
        Assert.False(entry.Describes(entry.FileSha256, entry.SchemaHash, entry.RowCount, ["personal"], "person", entry.EpsilonCap));
        Assert.False(entry.Describes(entry.FileSha256, entry.SchemaHash, entry.RowCount, categories, "record", entry.EpsilonCap));
        Assert.False(entry.Describes(entry.FileSha256, entry.SchemaHash, entry.RowCount, categories, "person", entry.EpsilonCap + 1));
    }
}
