using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FedCore.Data;
using FedCore.Learning;
using Federation.Contracts.Transfer;

namespace Federation.Silo.Tests.Cli;

/// <summary>
/// The sample federation after a two-round job (`round run`), and one more member, US/boston, which is no party to the
/// sample agreement (finalModelDestinations CH, HU, US).
/// </summary>
public sealed class ModelCliFederation : IAsyncLifetime
{
    public const string JobId = "CH/model-cli";

    private readonly TempDirectory _directory = new("federation-cli-model");

    public ModelCliFederation() => Cli = new CliRunner(_directory.File("data"));

    internal CliRunner Cli { get; }

    public string File(string name) => _directory.File(name);

    public static string Sample(string name) => Path.Combine(TestPaths.HeartSample, name);

    public async Task InitializeAsync()
    {
        var job = JsonNode.Parse(System.IO.File.ReadAllText(Sample("job.json")), documentOptions: new() { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!;
        job["federation"] = Sample("federation.json");
        job["rounds"] = 2;
        System.IO.File.WriteAllText(File("job.json"), job.ToJsonString());
        (await Cli.RunAsync("round", "run", "--config", File("job.json"), "--job-id", JobId)).Succeeded();

        await Cli.SucceedsAsync("org", "init", "--id", "US/boston", "--legal-name", "Boston Heart Centre", "--member", "Bo:organisation-admin", "--out", File("boston.json"));
        await Cli.SucceedsAsync("org", "add", "--entry", File("boston.json"));
    }

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>`federation model export | predict`: the lineage of a model version, and releases only where the agreement allows.</summary>
public sealed class ModelCommandTests(ModelCliFederation federation) : IClassFixture<ModelCliFederation>
{
    private CliRunner Cli => federation.Cli;

    private static readonly string[] Centres = ["CH/zurich", "HU/budapest", "US/cleveland", "US/long-beach"];

    [Fact]
    public async Task An_export_to_a_final_model_destination_writes_weights_that_reload_with_the_lineage()
    {
        var folder = federation.File("export-hu");
        var printed = await Cli.SucceedsAsync("model", "export", "--job", ModelCliFederation.JobId, "--version", "2", "--to", "HU", "--out", folder);

        var lineage = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "lineage.json")))!;
        Assert.Equal(ModelCliFederation.JobId, (string)lineage["job"]!);
        Assert.Equal(2, (int)lineage["version"]!);
        Assert.Equal("HU", (string)lineage["exportedTo"]!);
        var agreement = await Cli.SucceedsAsync("agreement", "show", "--id", "fed-heart-disease-2026");
        Assert.Equal("fed-heart-disease-2026", (string)lineage["agreement"]!);
        Assert.Equal((string)agreement["termsDigest"]!, (string)lineage["termsDigest"]!);
        Assert.Equal("logistic", (string)lineage["model"]!["type"]!);
        Assert.Equal(Centres, lineage["roundMembers"]!.AsArray().Select(m => (string)m!).Order(StringComparer.Ordinal));

        // Every participant's dataset, by id and hash: the file's SHA-256 and the schema's.
        var schema = DatasetSchema.Load(ModelCliFederation.Sample("heart-disease.schema.json"));
        var files = new Dictionary<string, string>
        {
            ["CH/zurich"] = "switzerland.data", ["HU/budapest"] = "hungarian.data", ["US/cleveland"] = "cleveland.data", ["US/long-beach"] = "va.data",
        };
        var datasets = lineage["datasets"]!.AsArray();
        Assert.Equal(Centres, datasets.Select(d => (string)d!["participant"]!).Order(StringComparer.Ordinal));
        foreach (var dataset in datasets)
        {
            var file = ModelCliFederation.Sample(Path.Combine("data", files[(string)dataset!["participant"]!]));
            Assert.Equal("heart", (string)dataset["dataset"]!);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))), (string)dataset["fileSha256"]!);
            Assert.Equal(schema.Hash, (string)dataset["schemaHash"]!);
        }

        // The weights reload into the model of the spec written next to them, with the parameters stored for the version.
        var spec = ModelSpec.Parse(File.ReadAllText(Path.Combine(folder, "model.json")), "model.json");
        using (var model = ModelFactory.Load(spec, Path.Combine(folder, "model.dat")))
            Assert.Equal((string)lineage["parametersSha256"]!, Convert.ToHexStringLower(SHA256.HashData(FloatBytes.From(model.GetParameters()))));
        var scaling = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "scaling.json")))!;
        Assert.Equal(schema.ScaledFeatureNames, scaling["featureNames"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(4, printed["files"]!.AsArray().Count);

        // Version 0, the initial model, has the same lineage.
        var initial = await Cli.SucceedsAsync("model", "export", "--job", ModelCliFederation.JobId, "--version", "0", "--to", "CH", "--out", federation.File("export-v0"));
        Assert.Equal(lineage["datasets"]!.ToJsonString(), initial["datasets"]!.ToJsonString());
    }

    [Fact]
    public async Task An_export_anywhere_else_is_refused_naming_the_term()
    {
        var folder = federation.File("export-fr");
        (await Cli.RunAsync("model", "export", "--job", ModelCliFederation.JobId, "--version", "2", "--to", "FR", "--out", folder))
            .Refused("finalModelDestinations", "may go to CH, HU, US, not to 'FR'");
        Assert.False(Directory.Exists(folder));
        (await Cli.RunAsync("model", "export", "--job", ModelCliFederation.JobId, "--version", "9", "--to", "HU", "--out", folder)).Refused("--version", "9");
        (await Cli.RunAsync("model", "export", "--job", "model-cli", "--version", "2", "--to", "HU", "--out", folder)).Refused("--job");
    }

    [Fact]
    public async Task A_party_scores_rows_in_its_datasets_schema_and_anyone_else_is_refused()
    {
        var rows = federation.File("rows.csv");
        File.WriteAllLines(rows, [
            "28,1,2,130,132,0,2,185,0,0,?,?,?,0",
            "63,1,4,150,270,0,0,110,1,2.5,?,?,?,1",
            "54,1,4,140,?,0,0,118,1,0,?,?,?,",   // a missing feature: the row is left out
            "49,0,2,110,220,0,0,160,0,0,?,?,?,",  // no label: scored all the same
        ]);

        var scored = await Cli.SucceedsAsync("model", "predict", "--job", ModelCliFederation.JobId, "--version", "2", "--input", rows, "--as", "HU/budapest");
        Assert.Equal(3, (int)scored["rows"]!);
        Assert.Equal(1, (int)scored["droppedRows"]!);
        var predictions = scored["predictions"]!.AsArray();
        Assert.Equal([1, 2, 4], predictions.Select(p => (int)p!["line"]!));
        Assert.All(predictions, p =>
        {
            Assert.InRange((int)p!["class"]!, 0, 1);
            Assert.InRange((double)p["probability"]!, 0.5, 1);
        });

        // US/boston is a member, in a country the model may go to, but no party to the agreement.
        (await Cli.RunAsync("model", "predict", "--job", ModelCliFederation.JobId, "--version", "2", "--input", rows, "--as", "US/boston"))
            .Refused("parties", "'US/boston' is not a party");
    }

    [Fact]
    public async Task Rows_that_do_not_fit_the_schema_are_refused_naming_the_file_line_and_column()
    {
        var rows = federation.File("malformed.csv");
        File.WriteAllLines(rows, ["28,1,2,130,132,0,2,185,0,0,?,?,?,0", "29,1,2,120,243,0,0,160,0,0,?,?,?,0", "abc,1,2,140,200,0,0,170,0,0,?,?,?,0"]);
        (await Cli.RunAsync("model", "predict", "--job", ModelCliFederation.JobId, "--version", "2", "--input", rows, "--as", "HU/budapest"))
            .Refused("malformed.csv, line 3, column 1 'age': the value is not a number");
        (await Cli.RunAsync("model", "predict", "--job", ModelCliFederation.JobId, "--version", "2", "--input", federation.File("none.csv"), "--as", "HU/budapest"))
            .Refused("--input", "does not exist");
    }
}
