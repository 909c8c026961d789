using System.Security.Cryptography;
using FedCore.Data;
using FedCore.Governance.Approvals;
using FedCore.Governance.Datasets;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Participants;

/// <summary>Bad dataset files are refused with file, line and column named; nothing already registered is lost.</summary>
public sealed class DatasetRegistrationTests : IAsyncLifetime
{
    internal const string Schema = """
        {
          "name": "tiny",
          "format": "csv",
          "delimiter": ",",
          "header": false,
          "missingValues": ["?"],
          "columns": ["age", "colour", "label"],
          "features": [
            { "column": "age", "type": "numeric" },
            { "column": "colour", "type": "categorical", "categories": ["red", "green"] }
          ],
          "label": { "column": "label", "type": "binary", "positiveWhen": { "greaterThan": 0 } },
          "missing": "dropRow"
        }
        """;

    private readonly TempDirectory _dir = new("federation-datasets");
    private LocalFederation _federation = null!;
    private IParticipantGrain _participant = null!;

    public async Task InitializeAsync()
    {
        _federation = await LocalFederation.StartAsync(TestFederations.Options(_dir.File("data"), "HU"));
        _participant = _federation.Grains.GetGrain<IParticipantGrain>("HU/test-hospital");
        await _participant.Enrol("Test Hospital");
        _federation.Approvers!.Ensure("HU/test-hospital");
    }

    public async Task DisposeAsync()
    {
        await _federation.DisposeAsync();
        _dir.Dispose();
    }

    private string Csv(string name, string content)
    {
        var path = _dir.File(name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Registers the file as its organisation approves it (approved here so that the participant reads even a bad file).</summary>
    private Task<DatasetSummary> Register(string name, string path, DatasetCatalogDetails? catalog = null) =>
        _participant.RegisterDataset(new DatasetRegistration(name, path, Schema, "tiny.schema.json", catalog), Approval(name, path, catalog));

    private byte[] Approval(string name, string path, DatasetCatalogDetails? catalog = null) =>
        Approval(_federation, "HU/test-hospital", name, path, catalog, File.Exists(path) ? null : new string('0', 64));

    /// <summary>
    /// <paramref name="organisation"/>'s approval of registering the file at <paramref name="path"/> (or the file of hash
    /// <paramref name="fileSha256"/>) in the <see cref="Schema"/> as <paramref name="name"/>, published with <paramref name="catalog"/>.
    /// </summary>
    internal static byte[] Approval(LocalFederation federation, string organisation, string name, string path, DatasetCatalogDetails? catalog, string? fileSha256 = null) =>
        federation.Approvers!.Approve(organisation, ApprovalSubject.RegisterDataset(name,
            fileSha256 ?? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))),
            DatasetSchema.Parse(Schema, "tiny.schema.json").Hash,
            catalog is null ? null : DatasetPublication.Parse(catalog.Description, catalog.Categories, catalog.Jurisdiction, catalog.Licence, catalog.PrivacyUnit, catalog.EpsilonCap)));

    [Fact]
    public async Task A_good_file_is_registered_with_metadata_only()
    {
        var summary = await Register("good", Csv("good.csv", "30,red,0\n40,green,1\n?,red,1\n50,green,0\n"));
        Assert.Equal(3, summary.RowCount);
        Assert.Equal(4, summary.RawRowCount);
        Assert.Equal(1, summary.DroppedRowCount);
        Assert.Equal(64, summary.FileSha256.Length);
        Assert.Contains("colour=red", summary.FeatureNames);
    }

    [Theory]
    [InlineData("30,red,0\n40,green\n", "line 2")]
    [InlineData("30,red,0\n4x,green,1\n", "line 2")]
    [InlineData("30,red,0\n40,blue,1\n", "not a category of 'colour'")]
    [InlineData("", "bad.csv")]
    public async Task A_bad_file_is_refused_with_its_place_named_and_the_participant_stays_usable(string content, string expected)
    {
        var good = await Register("good", Csv("good.csv", "30,red,0\n40,green,1\n"));

        var bad = Csv("bad.csv", content);
        var error = await Assert.ThrowsAsync<FederationOperationException>(() => Register("bad", bad));
        Assert.Equal("dataset.invalid", error.Code);
        Assert.Contains("bad.csv", error.Message);
        Assert.Contains(expected, error.Message);

        var datasets = await _participant.GetDatasets();
        Assert.Equal(["good"], datasets.Select(d => d.Name));
        Assert.Equal(good.FileSha256, datasets[0].FileSha256);
        // Still usable: it registers a good file again.
        Assert.Equal(good.FileSha256, (await Register("good-again", Csv("good-again.csv", "30,red,0\n40,green,1\n"))).FileSha256);
    }

    [Fact]
    public async Task Column_positions_are_named_for_a_non_numeric_cell()
    {
        var error = await Assert.ThrowsAsync<FederationOperationException>(() => Register("bad", Csv("cells.csv", "30,red,0\nabc,green,1\n")));
        Assert.Contains("line 2", error.Message);
        Assert.Contains("column 1", error.Message);
        Assert.Contains("age", error.Message);
    }

    [Fact]
    public async Task A_missing_file_is_refused_with_its_path()
    {
        var path = _dir.File("nowhere.csv");
        var error = await Assert.ThrowsAsync<FederationOperationException>(() => Register("missing", path));
        Assert.Contains(path, error.Message);
    }
}
