using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FedCore.Data;
using static FedCore.Tests.Data.DataTestSupport;

namespace FedCore.Tests.Data;

public class CsvDatasetReaderTests
{
    [Fact]
    public void Reads_numbers_one_hot_categories_and_binary_labels()
    {
        var loaded = LoadText("1.5,0,2,3,first\n-2,1,1.0,0,second\n", SmallSchema());

        Assert.Equal(2, loaded.Data.RowCount);
        Assert.Equal(["a", "b", "c=1", "c=2", "c=3"], loaded.Data.FeatureNames);
        Assert.Equal([1.5f, 0f, 0f, 1f, 0f], loaded.Data.Row(0).ToArray());
        Assert.Equal([-2f, 1f, 1f, 0f, 0f], loaded.Data.Row(1).ToArray());
        Assert.Equal([1f, 0f], loaded.Data.Labels);
    }

    [Theory]
    [InlineData(".7", 0.7f)]
    [InlineData("-.1", -0.1f)]
    [InlineData("63.0", 63f)]
    [InlineData("+4", 4f)]
    [InlineData("1e3", 1000f)]
    [InlineData("2.5E-1", 0.25f)]
    [InlineData("  12  ", 12f)]
    [InlineData("\"7.25\"", 7.25f)]
    public void Numeric_cells_read_in_invariant_culture(string cell, float expected)
    {
        var loaded = LoadText($"{cell},0,1,0,x\n", SmallSchema());
        Assert.Equal(expected, loaded.Data.Row(0)[0]);
    }

    [Fact]
    public void Line_endings_final_newline_and_blank_lines_do_not_change_the_rows()
    {
        var schema = SmallSchema();
        var reference = LoadText("1,0,1,0,x\n2,1,3,1,y\n", schema).Data;

        foreach (var text in new[] { "1,0,1,0,x\r\n2,1,3,1,y\r\n", "1,0,1,0,x\n2,1,3,1,y", "\n1,0,1,0,x\n\n  \n2,1,3,1,y\n\n" })
        {
            var data = LoadText(text, schema).Data;
            Assert.Equal(reference.Features, data.Features);
            Assert.Equal(reference.Labels, data.Labels);
        }
    }

    [Fact]
    public void Header_is_checked_and_not_counted_as_a_row()
    {
        var schema = SmallSchema(root => root["header"] = true);

        var loaded = LoadText("a,b,c,y,note\n1,0,1,0,x\n", schema);
        Assert.Equal(1, loaded.Metadata.RawRowCount);

        var error = Assert.Throws<DatasetException>(() => LoadText("a,b,cp,y,note\n1,0,1,0,x\n", schema));
        Assert.Equal((1, 3, "c"), (error.Line, error.Column, error.ColumnName));
        Assert.Equal("data.csv, line 1, column 3 'c': the header does not name this column 'c' as the schema does", error.Message);

        var count = Assert.Throws<DatasetException>(() => LoadText("a,b,c,y\n1,0,1,0,x\n", schema));
        Assert.Equal(1, count.Line);
        Assert.Contains("4 columns", count.Reason);
    }

    [Fact]
    public void Quoted_cells_may_hold_the_delimiter_and_quotes()
    {
        var loaded = LoadText("1,0,\"2\",1,\"Smith, \"\"Jr\"\"\"\n", SmallSchema());
        Assert.Equal([1f, 0f, 0f, 1f, 0f], loaded.Data.Row(0).ToArray());
    }

    [Fact]
    public void Rows_with_a_missing_feature_or_label_are_dropped_but_an_ignored_column_costs_nothing()
    {
        var text = string.Join("\n",
            "1,0,1,1,?",     // missing only in the ignored column: kept
            "?,0,1,1,x",     // missing numeric feature
            "2,NA,1,1,x",    // second marker
            "3,0,,1,x",      // empty categorical cell
            "4,0,2,?,x",     // missing label
            "5,1,3,0,NA");   // kept
        var loaded = LoadText(text, SmallSchema());

        Assert.Equal(2, loaded.Metadata.RowCount);
        Assert.Equal(6, loaded.Metadata.RawRowCount);
        Assert.Equal(4, loaded.Metadata.DroppedRowCount);
        Assert.Equal([1f, 5f], [loaded.Data.Row(0)[0], loaded.Data.Row(1)[0]]);
    }

    [Fact]
    public void Each_row_knows_its_line_and_rows_to_score_keep_a_missing_label()
    {
        var text = string.Join("\n", "1,0,1,1,x", "", "?,0,1,1,x", "2,0,2,?,x", "3,0,3,,x", "4,1,1,0,x");
        Assert.Equal([1, 6], LoadText(text, SmallSchema()).Lines);

        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, text);
            var scored = CsvDatasetReader.LoadForScoring(path, SmallSchema());
            Assert.Equal([1, 4, 5, 6], scored.Lines);
            Assert.Equal([1f, 2f, 3f, 4f], Enumerable.Range(0, 4).Select(i => scored.Data.Row(i)[0]));
            Assert.Equal(1f, scored.Data.Labels[0]);
            Assert.True(float.IsNaN(scored.Data.Labels[1]) && float.IsNaN(scored.Data.Labels[2]));
            Assert.Equal(1, scored.Metadata.DroppedRowCount);

            // A missing label is no missing value for scoring, whatever the policy; a missing feature still is.
            var error = Assert.Throws<DatasetException>(() => CsvDatasetReader.LoadForScoring(path, SmallSchema(root => root["missing"] = "fail")));
            Assert.Equal((3, 1), (error.Line, error.Column));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Metadata_names_the_file_and_hashes_every_byte()
    {
        var schema = SmallSchema();
        // A byte-order mark is read past but still belongs to the file's bytes.
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("1,0,1,0,x\r\n?,0,1,1,y\r\n")).ToArray();
        using var stream = new MemoryStream(bytes);

        var metadata = CsvDatasetReader.Load(stream, Path.Combine("silo", "hu", "centre.csv"), schema).Metadata;

        Assert.Equal("small", metadata.Name);
        Assert.Equal("centre.csv", metadata.FileName);
        Assert.Equal((1, 2, 1), (metadata.RowCount, metadata.RawRowCount, metadata.DroppedRowCount));
        Assert.Equal(schema.FeatureNames, metadata.FeatureNames);
        Assert.Equal(schema.Hash, metadata.SchemaHash);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), metadata.FileSha256);
    }

    [Fact]
    public void Classes_labels_become_indices_and_regression_labels_stay_values()
    {
        var classes = SmallSchema(root => root["label"] = new JsonObject
        {
            ["column"] = "y",
            ["type"] = "classes",
            ["classes"] = new JsonArray("0", "1", "2"),
        });
        Assert.Equal([2f, 0f, 1f], LoadText("1,0,1,2,x\n1,0,1,0.0,x\n1,0,1,1,x\n", classes).Data.Labels);

        var regression = SmallSchema(root => root["label"] = new JsonObject { ["column"] = "y", ["type"] = "regression" });
        Assert.Equal([2.5f, -.5f], LoadText("1,0,1,2.5,x\n1,0,1,-.5,x\n", regression).Data.Labels);
    }

    [Fact]
    public void Other_delimiters_and_comparisons()
    {
        var schema = SmallSchema(root =>
        {
            root["delimiter"] = ";";
            root["label"]!["positiveWhen"] = new JsonObject { ["lessThanOrEqual"] = 1.5 };
        });
        Assert.Equal([1f, 1f, 0f], LoadText("1;0;1;1.5;x,y\n1;0;1;-3;z\n1;0;1;2;z\n", schema).Data.Labels);
    }

    public static TheoryData<string, int, int, string?, string> CellErrors => new()
    {
        {
            "1,0,1,0,x\n2,0,1,0,x\n1,0,1,0\n",
            3, 5, "note",
            "data.csv, line 3, column 5 'note': expected 5 columns (a,b,c,y,note) but found 4"
        },
        {
            "1,0,1,0,x,extra\n",
            1, 6, null,
            "data.csv, line 1, column 6: expected 5 columns (a,b,c,y,note) but found 6"
        },
        {
            "1,0,1,0,x\nabc,0,1,0,x\n",
            2, 1, "a",
            "data.csv, line 2, column 1 'a': the value is not a number"
        },
        {
            "1,0,1,0,x\n\n1,1,1,0,x\n1,0,7,0,x\n",
            4, 3, "c",
            "data.csv, line 4, column 3 'c': the value is not a category of 'c' (allowed: 1, 2, 3)"
        },
        {
            "1,0,1,yes,x\n",
            1, 4, "y",
            "data.csv, line 1, column 4 'y': the label is not a number, so it cannot be compared with the threshold"
        },
        {
            "NaN,0,1,0,x\n",
            1, 1, "a",
            "data.csv, line 1, column 1 'a': the value is not a number"
        },
        {
            "1,1e39,1,0,x\n",
            1, 2, "b",
            "data.csv, line 1, column 2 'b': the value is outside the range of a 32-bit float"
        },
        {
            "1,0,\"1,0,x\n",
            1, 3, "c",
            "data.csv, line 1, column 3 'c': a quoted cell has no closing quote (cells cannot span lines)"
        },
        {
            // A malformed cell is reported even in a row that a missing value would drop.
            "?,x,1,0,x\n",
            1, 2, "b",
            "data.csv, line 1, column 2 'b': the value is not a number"
        },
    };

    [Theory]
    [MemberData(nameof(CellErrors))]
    public void Bad_cells_are_reported_with_line_and_column(string text, int line, int column, string? columnName, string message)
    {
        var error = Assert.Throws<DatasetException>(() => LoadText(text, SmallSchema()));

        Assert.Equal("data.csv", error.FilePath);
        Assert.Equal(line, error.Line);
        Assert.Equal(column, error.Column);
        Assert.Equal(columnName, error.ColumnName);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Unknown_class_lists_the_classes()
    {
        var schema = SmallSchema(root => root["label"] = new JsonObject
        {
            ["column"] = "y",
            ["type"] = "classes",
            ["classes"] = new JsonArray("benign", "malignant"),
        });
        var error = Assert.Throws<DatasetException>(() => LoadText("1,0,1,benign,x\n1,0,1,unknown,x\n", schema));
        Assert.Equal("data.csv, line 2, column 4 'y': the label is not one of the classes (allowed: benign, malignant)", error.Message);
    }

    [Fact]
    public void Missing_value_fails_when_the_schema_says_fail()
    {
        var schema = SmallSchema(root => root["missing"] = "fail");
        var error = Assert.Throws<DatasetException>(() => LoadText("1,0,1,0,?\n1,0,?,0,x\n", schema));
        Assert.Equal((2, 3, "c"), (error.Line, error.Column, error.ColumnName));
        Assert.Equal("a missing value, and the schema says \"missing\": \"fail\"", error.Reason);
    }

    [Theory]
    [InlineData("", false, "the file is empty")]
    [InlineData("\n \n", false, "the file has no data rows")]
    [InlineData("a,b,c,y,note\n", true, "the file has a header but no data rows")]
    [InlineData("?,0,1,0,x\n1,0,1,NA,x\n", false, "none of the 2 data rows is usable: each has a missing value in a feature or label column")]
    public void Files_without_usable_rows_are_errors_about_the_whole_file(string text, bool header, string reason)
    {
        var error = Assert.Throws<DatasetException>(() => LoadText(text, SmallSchema(root => root["header"] = header)));
        Assert.Equal(reason, error.Reason);
        Assert.Null(error.Line);
        Assert.Null(error.Column);
        Assert.Equal($"data.csv: {reason}", error.Message);
    }

    [Fact]
    public void Text_that_is_not_utf8_is_an_error()
    {
        var bytes = Encoding.ASCII.GetBytes("1,0,1,0,x\n1,0,1,0,").Concat(new byte[] { 0xC3, 0x28, (byte)'\n' }).ToArray();
        var error = Assert.Throws<DatasetException>(() => LoadBytes(bytes, SmallSchema()));
        Assert.Contains("not UTF-8", error.Reason);
    }

    [Fact]
    public void Missing_file_names_its_path()
    {
        var path = Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}", "centre.csv");
        var error = Assert.Throws<DatasetException>(() => CsvDatasetReader.Load(path, SmallSchema()));
        Assert.Equal(path, error.FilePath);
        Assert.Contains(path, error.Message);
        Assert.Null(error.Line);
    }

    [Fact]
    public void A_failed_load_leaves_the_participant_able_to_load_again()
    {
        var folder = Directory.CreateTempSubdirectory("fedcore-data-");
        try
        {
            var schema = SmallSchema();
            var schemaHash = schema.Hash;
            var good = Path.Combine(folder.FullName, "good.csv");
            var bad = Path.Combine(folder.FullName, "bad.csv");
            File.WriteAllText(good, "1,0,1,0,x\n2,1,2,1,y\n");
            File.WriteAllText(bad, "1,0,1,0,x\n2,1,9,1,y\n");

            var before = CsvDatasetReader.Load(good, schema);
            var error = Assert.Throws<DatasetException>(() => CsvDatasetReader.Load(bad, schema));
            var after = CsvDatasetReader.Load(good, schema);

            Assert.Equal(bad, error.FilePath);
            Assert.Equal((2, 3), (error.Line, error.Column));
            Assert.Equal(before.Data.Features, after.Data.Features);
            Assert.Equal(before.Data.Labels, after.Data.Labels);
            Assert.Equal(before.Metadata, after.Metadata);
            Assert.Equal(schemaHash, schema.Hash);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
