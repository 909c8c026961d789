using System.Text.Json.Nodes;
using FedCore.Data;
using static FedCore.Tests.Data.DataTestSupport;

namespace FedCore.Tests.Data;

public class DatasetSchemaTests
{
    [Fact]
    public void Small_schema_expands_categories_into_named_one_hot_features()
    {
        var schema = SmallSchema();

        Assert.Equal("small", schema.Name);
        Assert.Equal(',', schema.Delimiter);
        Assert.False(schema.HasHeader);
        Assert.Equal(["?", "NA"], schema.MissingValues);
        Assert.Equal(["a", "b", "c=1", "c=2", "c=3"], schema.FeatureNames);
        Assert.Equal(["a"], schema.ScaledFeatureNames);
        Assert.Equal(LabelKind.Binary, schema.Label.Kind);
        Assert.Equal(new LabelThreshold(ComparisonOperator.GreaterThan, 0), schema.Label.PositiveWhen);
        Assert.Equal(2, schema.Label.ClassCount);
        Assert.Equal(MissingValuePolicy.DropRow, schema.Missing);
        Assert.Null(schema.Image);
    }

    [Fact]
    public void Heart_disease_schema_gives_the_fifteen_flamby_features()
    {
        var schema = DatasetSchema.Load(Path.Combine(HeartDiseaseFolder, "heart-disease.schema.json"));

        Assert.Equal(
            ["age", "sex", "cp=1", "cp=2", "cp=3", "cp=4", "trestbps", "chol", "fbs", "restecg=0", "restecg=1", "restecg=2", "thalach", "exang", "oldpeak"],
            schema.FeatureNames);
        Assert.Equal(["age", "trestbps", "chol", "thalach", "oldpeak"], schema.ScaledFeatureNames);
        Assert.Equal("num", schema.Label.Column);
        Assert.Equal(14, schema.Columns.Count);
        Assert.Equal(MissingValuePolicy.DropRow, schema.Missing);
    }

    [Fact]
    public void Hash_ignores_layout_comments_field_order_defaults_and_marker_order()
    {
        var reference = SmallSchema();
        var rewritten = Schema("""
            // the same schema, written differently
            {
              "missing": "dropRow",
              "label": {"positiveWhen": {"greaterThan": 0.0}, "type": "binary", "column": "y"},
              "features": [
                {"type": "numeric", "column": "a", "scale": true},
                {"column": "b", "type": "numeric", "scale": false},
                {"column": "c", "type": "categorical", "categories": ["1", "2", "3"]},
              ],
              "columns": ["a", "b", "c", "y", "note"],
              "missingValues": ["NA", "?", "", "NA"],
              "format": "csv",
              "name": "small"
            }
            """);

        Assert.Equal(reference.CanonicalJson, rewritten.CanonicalJson);
        Assert.Equal(reference.Hash, rewritten.Hash);
        Assert.Matches("^[0-9a-f]{64}$", reference.Hash);
    }

    [Fact]
    public void Canonical_form_parses_back_to_the_same_hash()
    {
        var schema = SmallSchema();
        var again = DatasetSchema.Parse(schema.CanonicalJson, "canonical.json");
        Assert.Equal(schema.Hash, again.Hash);
        Assert.Equal(schema.FeatureNames, again.FeatureNames);
    }

    public static TheoryData<string, Action<JsonObject>> MeaningChanges => new()
    {
        { "category order", root => root["features"]![2]!["categories"] = new JsonArray("2", "1", "3") },
        { "threshold", root => root["label"]!["positiveWhen"] = new JsonObject { ["greaterThanOrEqual"] = 0 } },
        { "scaling", root => root["features"]![1]!["scale"] = true },
        { "missing policy", root => root["missing"] = "fail" },
        { "header", root => root["header"] = true },
        { "name", root => root["name"] = "other" },
        { "missing marker", root => root["missingValues"] = new JsonArray("?") },
    };

    [Theory]
    [MemberData(nameof(MeaningChanges))]
    public void Hash_changes_with_the_meaning(string what, Action<JsonObject> change)
    {
        Assert.False(SmallSchema().Hash == SmallSchema(change).Hash, $"changing the {what} kept the hash");
    }

    [Fact]
    public void Classes_and_regression_labels()
    {
        var classes = SmallSchema(root => root["label"] = new JsonObject
        {
            ["column"] = "y",
            ["type"] = "classes",
            ["classes"] = new JsonArray("low", "mid", "high"),
        });
        Assert.Equal(LabelKind.Classes, classes.Label.Kind);
        Assert.Equal(3, classes.Label.ClassCount);
        Assert.Equal(2, classes.Label.Classes!.IndexOf("high"));

        var regression = SmallSchema(root => root["label"] = new JsonObject { ["column"] = "y", ["type"] = "regression" });
        Assert.Equal(LabelKind.Regression, regression.Label.Kind);
        Assert.Null(regression.Label.ClassCount);
    }

    [Fact]
    public void Column_ranges_and_image_shape_declare_pixel_features()
    {
        var schema = Schema("""
            {
              "name": "tiny-images",
              "columns": ["label", "px{0..11}"],
              "features": [{"column": "px{0..11}", "type": "numeric", "scale": false}],
              "label": {"column": "label", "type": "classes", "classes": ["0", "1", "2"]},
              "image": {"channels": 3, "height": 2, "width": 2}
            }
            """);

        Assert.Equal(13, schema.Columns.Count);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"px{i}"), schema.FeatureNames);
        Assert.Equal(new ImageShape(3, 2, 2), schema.Image);
        Assert.Empty(schema.ScaledFeatureNames);
        Assert.Equal(MissingValuePolicy.Fail, schema.Missing);
    }

    public static TheoryData<string, Action<JsonObject>, string> Errors => new()
    {
        { "name missing", root => root.Remove("name"), "$.name" },
        { "unknown root field", root => root["colums"] = new JsonArray(), "$.colums" },
        { "format", root => root["format"] = "parquet", "$.format" },
        { "delimiter too long", root => root["delimiter"] = ";;", "$.delimiter" },
        { "delimiter is a digit", root => root["delimiter"] = "1", "$.delimiter" },
        { "header not a boolean", root => root["header"] = "yes", "$.header" },
        { "marker not a string", root => root["missingValues"] = new JsonArray("?", 9), "$.missingValues[1]" },
        { "columns missing", root => root.Remove("columns"), "$.columns" },
        { "duplicate column", root => root["columns"] = new JsonArray("a", "b", "c", "y", "a"), "$.columns[4]" },
        { "padded column name", root => root["columns"]![0] = " a", "$.columns[0]" },
        { "undeclared feature column", root => root["features"]![1]!["column"] = "z", "$.features[1].column" },
        { "feature twice", root => root["features"]![1]!["column"] = "a", "$.features[1].column" },
        { "label as feature", root => root["features"]![1]!["column"] = "y", "$.features[1].column" },
        { "unknown feature type", root => root["features"]![0]!["type"] = "text", "$.features[0].type" },
        { "unknown feature field", root => root["features"]![0]!["scael"] = false, "$.features[0].scael" },
        { "categorical without categories", root => root["features"]![2]!.AsObject().Remove("categories"), "$.features[2].categories" },
        { "categories on numeric", root => root["features"]![0]!["categories"] = new JsonArray("1"), "$.features[0].categories" },
        { "scale on categorical", root => root["features"]![2]!["scale"] = true, "$.features[2].scale" },
        { "same category twice", root => root["features"]![2]!["categories"] = new JsonArray("1", "2", "1.0"), "$.features[2].categories" },
        { "no features", root => root["features"] = new JsonArray(), "$.features" },
        { "label missing", root => root.Remove("label"), "$.label" },
        { "label column undeclared", root => root["label"]!["column"] = "z", "$.label.column" },
        { "label type", root => root["label"]!["type"] = "ordinal", "$.label.type" },
        { "binary without threshold", root => root["label"]!.AsObject().Remove("positiveWhen"), "$.label.positiveWhen" },
        { "two comparisons", root => root["label"]!["positiveWhen"]!["lessThan"] = 3, "$.label.positiveWhen" },
        { "unknown comparison", root => root["label"]!["positiveWhen"] = new JsonObject { ["above"] = 0 }, "$.label.positiveWhen.above" },
        { "threshold not a number", root => root["label"]!["positiveWhen"] = new JsonObject { ["greaterThan"] = "0" }, "$.label.positiveWhen.greaterThan" },
        { "classes on binary", root => root["label"]!["classes"] = new JsonArray("0", "1"), "$.label.classes" },
        { "one class", root => root["label"] = new JsonObject { ["column"] = "y", ["type"] = "classes", ["classes"] = new JsonArray("0") }, "$.label.classes" },
        { "missing policy", root => root["missing"] = "impute", "$.missing" },
        { "image size", root => root["image"] = new JsonObject { ["channels"] = 1, ["height"] = 2, ["width"] = 2 }, "$.image" },
        { "image zero", root => root["image"] = new JsonObject { ["channels"] = 0, ["height"] = 1, ["width"] = 5 }, "$.image.channels" },
        { "bad range", root => root["columns"]![0] = "a{3..1}", "$.columns[0]" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Invalid_schema_names_the_file_and_the_field(string what, Action<JsonObject> change, string jsonPath)
    {
        var error = Assert.Throws<DatasetSchemaException>(() => SmallSchema(change));

        Assert.Equal(jsonPath, error.JsonPath);
        Assert.Equal("test.schema.json", error.SchemaPath);
        Assert.StartsWith($"test.schema.json, {jsonPath}: ", error.Message);
        Assert.False(string.IsNullOrWhiteSpace(error.Reason), what);
    }

    [Fact]
    public void Same_category_error_names_both_spellings()
    {
        var error = Assert.Throws<DatasetSchemaException>(() =>
            SmallSchema(root => root["features"]![2]!["categories"] = new JsonArray("1", "2", "1.0")));
        Assert.Equal("'1' and '1.0' are the same category", error.Reason);
    }

    [Fact]
    public void Field_written_twice_is_an_error()
    {
        var json = SmallSchemaJson.Replace("\"name\": \"small\",", "\"name\": \"small\", \"name\": \"other\",");
        var error = Assert.Throws<DatasetSchemaException>(() => DatasetSchema.Parse(json, "twice.json"));
        Assert.Equal("$.name", error.JsonPath);
    }

    [Fact]
    public void Malformed_json_reports_its_line()
    {
        var json = "{\n  \"name\": \"x\",\n  \"columns\": [\"a\" \"b\"]\n}";
        var error = Assert.Throws<DatasetSchemaException>(() => DatasetSchema.Parse(json, "broken.json"));
        Assert.Equal("$", error.JsonPath);
        Assert.StartsWith("not valid JSON at line 3, byte ", error.Reason);
        Assert.DoesNotContain("LineNumber", error.Reason);
    }

    [Fact]
    public void Missing_schema_file_names_the_path()
    {
        var path = Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}.schema.json");
        var error = Assert.Throws<DatasetSchemaException>(() => DatasetSchema.Load(path));
        Assert.Equal(path, error.SchemaPath);
        Assert.Contains(path, error.Message);
    }
}
