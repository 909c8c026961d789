using System.Text.Json;
using FedCore.Crypto.Benchmarks;
using FedCore.Crypto.Ckks;

namespace FedCore.Tests.Crypto;

public class HeBenchmarkTests
{
    [Fact]
    public void Benchmark_runs_and_prints_one_json_line_with_the_required_fields()
    {
        // Tiny sizes: this checks that the benchmark works and reports what the issue asks for, not how fast anything is.
        var options = new HeBenchmarkOptions { Participants = 3, ModelParameters = 1000, ScenarioRuns = 1, Batches = 2, OperationsPerBatch = 2, WarmUp = TimeSpan.Zero };
        HeBenchmarkResult result = HeBenchmark.Run(CkksParameters.InsecureForTesting(256), options);
        var writer = new StringWriter();
        HeBenchmark.WriteJsonLines(writer, [result]);
        string[] lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);

        using JsonDocument json = JsonDocument.Parse(lines[0]);
        JsonElement root = json.RootElement;
        foreach (string field in new[] { "ringDimension", "logQ", "encodeMicros", "encryptMicros", "addMicros", "decryptShareMicros",
            "combineMicros", "decodeMicros", "floodingNanosPerSample", "bytesPerParameter", "encryptSecondsPerParticipant", "totalSeconds" })
            Assert.True(root.TryGetProperty(field, out JsonElement value) && value.GetDouble() > 0, $"field {field}");
        Assert.Equal(256, root.GetProperty("ringDimension").GetInt32());
        Assert.InRange(root.GetProperty("bytesPerParameter").GetDouble(), 13.25, 16); // header and weight slot weigh more at N = 256
        Assert.True(result.MaxAbsError < 1e-6, $"scenario error {result.MaxAbsError}");
    }
}
