using System.Globalization;
using FedCore.Data;
using static FedCore.Tests.Data.DataTestSupport;

namespace FedCore.Tests.Data;

/// <summary>The shipped sample federation, read exactly as a participant would read it.</summary>
public class FedHeartDiseaseSampleTests
{
    private static readonly Lazy<DatasetSchema> Schema =
        new(() => DatasetSchema.Load(Path.Combine(HeartDiseaseFolder, "heart-disease.schema.json")));

    // Usable rows as reported by FLamby; SHA-256 as published in the shared dataset README.
    public static TheoryData<string, int, int, string> Centres => new()
    {
        { "cleveland.data", 303, 303, "a74b7efa387bc9d108d7d0115d831fe9b414b29ae7124f331b622b4efa0427c8" },
        { "hungarian.data", 294, 261, "d1ad108f785768cd3d7e82dc522e6f5a61eea93cccfb3a46ee8076f73fc3d796" },
        { "switzerland.data", 123, 46, "834a405ccf5b66ab4056bb77794adc8df0b7125186454c0a1d002d33c6c3b314" },
        { "va.data", 200, 130, "e7c93d8d0d2acdadfa4c5e8de768e2191e7f618b952e29623f1f0d5949ff6b8f" },
    };

    [Theory]
    [MemberData(nameof(Centres))]
    public void Centre_loads_with_the_flamby_counts_and_its_published_checksum(string file, int rawRows, int usableRows, string sha256)
    {
        var loaded = LoadCentre(file);
        var metadata = loaded.Metadata;

        Assert.Equal(file, metadata.FileName);
        Assert.Equal(rawRows, metadata.RawRowCount);
        Assert.Equal(usableRows, metadata.RowCount);
        Assert.Equal(rawRows - usableRows, metadata.DroppedRowCount);
        Assert.Equal(15, loaded.Data.FeatureCount);
        Assert.Equal(sha256, metadata.FileSha256);
        Assert.Equal(Schema.Value.Hash, metadata.SchemaHash);
    }

    private static readonly string[] Files = ["cleveland.data", "hungarian.data", "switzerland.data", "va.data"];

    public static TheoryData<string> CentreFiles => new(Files);

    [Theory]
    [MemberData(nameof(CentreFiles))]
    public void Every_row_matches_a_plain_reading_of_the_raw_line(string file)
    {
        var expected = PlainReading(Path.Combine(HeartDiseaseFolder, "data", file));
        var data = LoadCentre(file).Data;

        Assert.Equal(expected.Count, data.RowCount);
        for (int r = 0; r < expected.Count; r++)
        {
            Assert.Equal(expected[r].Features, data.Row(r).ToArray());
            Assert.Equal(expected[r].Positive ? 1f : 0f, data.Labels[r]);
        }
        Assert.Equal(expected.Count(row => row.Positive), (int)data.Labels.Sum());
    }

    [Fact]
    public void Four_centres_hold_740_usable_rows()
    {
        Assert.Equal(740, Files.Sum(file => LoadCentre(file).Metadata.RowCount));
    }

    [Fact]
    public void Federated_preprocessing_standardises_the_pooled_training_rows()
    {
        var splits = Files.Select(file => LoadCentre(file).Data)
            .Select(data => (Data: data, Split: StratifiedSplit.Split(data, 2.0 / 3, seed: 42)))
            .ToArray();
        var trainParts = splits.Select(s => s.Data.Select(s.Split.Train)).ToArray();

        // Each centre sends only these moments; the federation combines them.
        var moments = trainParts.Select(part => FeatureMoments.Compute(part, Schema.Value)).ToArray();
        var scaling = FeatureScaling.FromMoments(FeatureMoments.Combine(moments));
        var scaledTrain = trainParts.Select(scaling.Apply).ToArray();

        Assert.Equal(Schema.Value.ScaledFeatureNames, scaling.FeatureNames);
        Assert.Equal(splits.Sum(s => s.Split.Train.Length), moments.Sum(m => m.Count));
        foreach (var name in Schema.Value.ScaledFeatureNames)
        {
            int column = Schema.Value.FeatureNames.ToList().IndexOf(name);
            var pooled = scaledTrain.SelectMany(p => Enumerable.Range(0, p.RowCount).Select(r => (double)p.Row(r)[column])).ToArray();
            double mean = pooled.Average();
            double std = Math.Sqrt(pooled.Select(v => (v - mean) * (v - mean)).Average());
            Assert.InRange(mean, -1e-4, 1e-4);
            Assert.InRange(std, 1 - 1e-4, 1 + 1e-4);
        }
        // Every centre keeps both labels in its training part, and the positives in its test part.
        foreach (var (data, split) in splits)
        {
            Assert.Equal(2, split.Train.Select(i => data.Labels[i]).Distinct().Count());
            Assert.Contains(split.Test, i => data.Labels[i] == 1f);
        }
    }

    private static LoadedDataset LoadCentre(string file) =>
        CsvDatasetReader.Load(Path.Combine(HeartDiseaseFolder, "data", file), Schema.Value);

    /// <summary>
    /// The FLamby preprocessing written out by hand for these files: first ten fields, skip a row with "?"
    /// among them or in the label, one-hot cp (1–4) and restecg (0–2), positive when num > 0.
    /// </summary>
    private static List<(float[] Features, bool Positive)> PlainReading(string path)
    {
        var rows = new List<(float[], bool)>();
        foreach (var line in File.ReadLines(path))
        {
            var fields = line.Split(',');
            if (fields.Take(10).Append(fields[13]).Contains("?"))
                continue;
            var v = fields.Select(f => f == "?" ? float.NaN : float.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            float[] features =
            [
                v[0], v[1],
                v[2] == 1 ? 1 : 0, v[2] == 2 ? 1 : 0, v[2] == 3 ? 1 : 0, v[2] == 4 ? 1 : 0,
                v[3], v[4], v[5],
                v[6] == 0 ? 1 : 0, v[6] == 1 ? 1 : 0, v[6] == 2 ? 1 : 0,
                v[7], v[8], v[9],
            ];
            rows.Add((features, v[13] > 0));
        }
        return rows;
    }
}
