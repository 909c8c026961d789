using System.Text;
using System.Text.Json.Nodes;
using FedCore.Data;

namespace FedCore.Tests.Data;

/// <summary>Small schemas and in-memory files shared by the data tests.</summary>
internal static class DataTestSupport
{
    /// <summary>Columns a (numeric), b (numeric, unscaled), c (categorical 1/2/3), y (binary label y > 0), note (ignored).</summary>
    public const string SmallSchemaJson = """
        {
          "name": "small",
          "delimiter": ",",
          "header": false,
          "missingValues": ["?", "NA"],
          "columns": ["a", "b", "c", "y", "note"],
          "features": [
            {"column": "a", "type": "numeric"},
            {"column": "b", "type": "numeric", "scale": false},
            {"column": "c", "type": "categorical", "categories": ["1", "2", "3"]}
          ],
          "label": {"column": "y", "type": "binary", "positiveWhen": {"greaterThan": 0}},
          "missing": "dropRow"
        }
        """;

    public static DatasetSchema SmallSchema(Action<JsonObject>? change = null) => Schema(SmallSchemaJson, change);

    /// <summary>Parses <paramref name="json"/> after applying <paramref name="change"/> to its JSON tree.</summary>
    public static DatasetSchema Schema(string json, Action<JsonObject>? change = null) =>
        DatasetSchema.Parse(Edit(json, change), "test.schema.json");

    public static string Edit(string json, Action<JsonObject>? change)
    {
        if (change is null)
            return json;
        var root = JsonNode.Parse(json)!.AsObject();
        change(root);
        return root.ToJsonString();
    }

    public static LoadedDataset LoadText(string text, DatasetSchema schema, string fileName = "data.csv") =>
        LoadBytes(Encoding.UTF8.GetBytes(text), schema, fileName);

    public static LoadedDataset LoadBytes(byte[] bytes, DatasetSchema schema, string fileName = "data.csv")
    {
        using var stream = new MemoryStream(bytes);
        return CsvDatasetReader.Load(stream, fileName, schema);
    }

    /// <summary>The folder holding Federation.sln, found from the test binaries upwards.</summary>
    public static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Federation.sln")))
                return folder.FullName;
        }
        throw new InvalidOperationException($"No Federation.sln above {AppContext.BaseDirectory}.");
    }

    public static string HeartDiseaseFolder => Path.Combine(RepositoryRoot(), "samples", "fed-heart-disease");

    /// <summary>Random data from a fixed seed, so a failing test fails the same way every time.</summary>
    public static TabularData RandomTable(ulong seed, int rows, params string[] featureNames)
    {
        var random = new SplitMix64(seed);
        var features = new float[rows * featureNames.Length];
        for (int i = 0; i < features.Length; i++)
        {
            int column = i % featureNames.Length;
            // Columns of different centre and spread, like age or cholesterol.
            features[i] = (float)(50 * column + (1 + column) * (random.NextBelow(2001) - 1000) / 100.0);
        }
        var labels = new float[rows];
        for (int i = 0; i < rows; i++)
            labels[i] = random.NextBelow(2);
        return new TabularData(features, labels, featureNames);
    }
}
