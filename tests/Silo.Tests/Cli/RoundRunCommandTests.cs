using System.Text.Json.Nodes;
using Federation.Silo.Cli;

namespace Federation.Silo.Tests.Cli;

/// <summary>The `federation round run` command on the real Fed-Heart-Disease sample.</summary>
public sealed class RoundRunCommandTests
{
    [Fact]
    public async Task The_sample_job_reaches_FLambys_accuracy_and_prints_its_results_as_the_last_line()
    {
        using var dir = new TempDirectory("federation-cli");
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await FederationCommandLine.RunAsync(
            ["round", "run", "--config", Path.Combine(TestPaths.HeartSample, "job.json"), "--data", dir.Path], output, error);

        Assert.True(exit == 0, error.ToString());
        var last = output.ToString().TrimEnd().Split('\n')[^1];
        var result = JsonNode.Parse(last)!.AsObject();
        Assert.Equal("completed", (string?)result["status"]);
        double accuracy = (double)result["meanLocalTestAccuracy"]!;
        Assert.True(accuracy >= 0.77, $"mean local test accuracy {accuracy:F4} < 0.77\n{error}");

        var participants = result["participants"]!.AsArray();
        Assert.Equal(4, participants.Count);
        Assert.Equal(["CH", "HU", "US"], participants.Select(p => (string)p!["country"]!).Distinct().Order());
        Assert.All(participants, p => Assert.InRange((double)p!["testAccuracy"]!, 0, 1));
        // The reported mean is the mean of the four local accuracies.
        Assert.Equal(accuracy, participants.Average(p => (double)p!["testAccuracy"]!), 4);
        Assert.Equal((int)result["rounds"]!, result["perRound"]!.AsArray().Count);
        Assert.Contains("round", error.ToString());
    }

    [Fact]
    public async Task A_bad_job_file_is_refused_with_its_path_and_field()
    {
        using var dir = new TempDirectory("federation-cli-bad");
        var job = Path.Combine(dir.Path, "job.json");
        File.WriteAllText(job, $$"""
            { "name": "broken", "federation": "{{Path.Combine(TestPaths.HeartSample, "federation.json")}}", "dataset": "heart",
              "model": { "type": "logistic", "inputs": 15, "classes": 2 }, "rounds": "ten",
              "strategy": { "name": "fedavg" }, "training": { "epochs": 1, "batchSize": 8, "optimizer": "sgd", "learningRate": 0.1 } }
            """);
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await FederationCommandLine.RunAsync(["round", "run", "--config", job, "--data", dir.Path], output, error);

        Assert.Equal(2, exit);
        Assert.Contains(job, error.ToString());
        Assert.Contains("$.rounds", error.ToString());
        Assert.Equal("", output.ToString());
    }
}
