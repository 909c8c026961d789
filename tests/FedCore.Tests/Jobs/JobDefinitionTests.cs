using FedCore.Jobs;

namespace FedCore.Tests.Jobs;

public sealed class JobDefinitionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("federation-jobs").FullName;

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private const string Federation = """
        { "name": "two", "participants": [
            { "id": "HU/a", "datasets": [ { "name": "heart", "file": "a.csv", "schema": "s.json" } ] },
            { "id": "CH/b", "displayName": "B", "datasets": [ { "name": "heart", "file": "sub/b.csv", "schema": "s.json" }, { "name": "other", "file": "o.csv", "schema": "s.json" } ] } ] }
        """;

    private static string Job(string extra = "", string rounds = "3", string country = "CH") => $$"""
        { "name": "j", "federation": "federation.json", "agreement": "two-2026", "aggregatorCountry": "{{country}}", "dataset": "heart",
          "model": { "type": "logistic", "inputs": 15, "classes": 2 }, "rounds": {{rounds}},
          "strategy": { "name": "fedadam" },
          "training": { "epochs": 1, "batchSize": 8, "optimizer": "sgd", "learningRate": 0.05 } {{extra}} }
        """;

    [Fact]
    public void A_job_file_resolves_its_federation_participants_and_defaults()
    {
        Write("federation.json", Federation);
        var job = JobDefinition.Load(Write("job.json", Job()));

        Assert.Equal(["HU/a", "CH/b"], job.ParticipantIds);
        Assert.Equal(Path.Combine(_dir, "sub", "b.csv"), job.Federation.Participants[1].Datasets[0].CsvPath);
        Assert.Equal("B", job.Federation.Participants[1].DisplayName);
        Assert.Equal("HU/a", job.Federation.Participants[0].DisplayName);
        Assert.Equal(0.1, job.Strategy.ServerLearningRate);
        Assert.Equal(2.0 / 3.0, job.TrainFraction);
        Assert.Equal("ckks", job.Protection);
        Assert.Contains("\"logistic\"", job.ModelJson);
        Assert.Equal(("two-2026", "CH"), (job.Agreement, job.AggregatorCountry));
        // The manifest's defaults for what the catalog says of a dataset, and for an organisation's members.
        var a = job.Federation.Participants[0];
        Assert.Equal(("HU/a", "HU/a administrator", "organisation-admin"), (a.LegalName, a.Members[0].Name, a.Members[0].Role));
        Assert.Equal(["personal"], a.Datasets[0].Categories);
        Assert.Equal(("HU", "record", 10m), (a.Datasets[0].Jurisdiction, a.Datasets[0].PrivacyUnit, a.Datasets[0].EpsilonCap));
    }

    [Theory]
    [InlineData("", "\"ten\"", "$.rounds", "whole number")]
    [InlineData("", "0", "$.rounds", "at least 1")]
    [InlineData(", \"trainFraction\": 1.5", "3", "$.trainFraction", "between 0 and 1")]
    [InlineData(", \"participants\": [\"US/nobody\"]", "3", "$.participants[0]", "not a participant")]
    [InlineData(", \"participants\": [\"HU/a\", \"HU/a\"]", "3", "$.participants[1]", "listed twice")]
    [InlineData(", \"colour\": 1", "3", "$.colour", "not a known field")]
    public void Bad_job_files_name_the_file_and_the_json_path(string extra, string rounds, string path, string problem)
    {
        Write("federation.json", Federation);
        var file = Write("job.json", Job(extra, rounds));
        var error = Assert.Throws<JobFileException>(() => JobDefinition.Load(file));
        Assert.Equal(file, error.FilePath);
        Assert.Equal(path, error.JsonPath);
        Assert.Contains(problem, error.Problem);
    }

    [Theory]
    [InlineData("\"clippingNorm\": 1, \"noiseMultiplier\": 1.1, \"delta\": 1e-5", null, null)]
    [InlineData("\"clippingNorm\": 0, \"noiseMultiplier\": 1.1, \"delta\": 1e-5", "$.training.privacy", "clippingNorm must be a positive number, not 0")]
    [InlineData("\"clippingNorm\": 1, \"noiseMultiplier\": 1.1, \"delta\": 1", "$.training.privacy", "delta must lie strictly between 0 and 1")]
    [InlineData("\"clippingNorm\": 1, \"noiseMultiplier\": 1.1", "$.training.privacy.delta", "")]
    [InlineData("\"clippingNorm\": 1, \"noiseMultiplier\": 1.1, \"delta\": 1e-5, \"epsilon\": 3", "$.training.privacy.epsilon", "not a known field")]
    public void A_training_privacy_section_asks_for_dp_sgd_and_bad_values_name_their_path(string privacy, string? path, string? problem)
    {
        Write("federation.json", Federation);
        var file = Write("job.json", Job().Replace("\"learningRate\": 0.05 }", $"\"learningRate\": 0.05, \"privacy\": {{ {privacy} }} }}"));
        if (path is null)
        {
            Assert.Equal(new FedCore.Privacy.DpSgdParameters(1, 1.1, 1e-5), JobDefinition.Load(file).Training.Privacy);
            Assert.Null(JobDefinition.Load(Write("plain.json", Job())).Training.Privacy);
            return;
        }
        var error = Assert.Throws<JobFileException>(() => JobDefinition.Load(file));
        Assert.Equal(path, error.JsonPath);
        Assert.Contains(problem!, error.Problem);
    }

    [Fact]
    public void The_samples_dp_job_loads_with_its_privacy()
    {
        var sample = Path.Combine(FedCore.Tests.Data.DataTestSupport.HeartDiseaseFolder, "job-dp.json");
        Assert.Equal(new FedCore.Privacy.DpSgdParameters(1, 2, 1e-5), JobDefinition.Load(sample).Training.Privacy);
    }

    [Fact]
    public void An_aggregator_country_that_is_not_a_country_code_is_named()
    {
        Write("federation.json", Federation);
        var error = Assert.Throws<JobFileException>(() => JobDefinition.Load(Write("job.json", Job(country: "Swiss"))));
        Assert.Equal("$.aggregatorCountry", error.JsonPath);
        Assert.Contains("not an ISO 3166-1 alpha-2", error.Problem);
    }

    [Fact]
    public void A_broken_federation_file_is_reported_through_the_job()
    {
        Write("federation.json", """{ "name": "x", "participants": [ { "id": "HU/a", "datasets": [ { "name": "heart", "file": "a.csv" } ] } ] }""");
        var error = Assert.Throws<JobFileException>(() => JobDefinition.Load(Write("job.json", Job())));
        Assert.Equal("$.federation", error.JsonPath);
        Assert.Contains("$.participants[0].datasets[0].schema", error.Message);
    }

    [Fact]
    public void Missing_and_malformed_files_are_named()
    {
        var missing = Path.Combine(_dir, "nope.json");
        Assert.Contains("does not exist", Assert.Throws<JobFileException>(() => JobDefinition.Load(missing)).Message);
        var malformed = Write("bad.json", "{ \"name\": ");
        var error = Assert.Throws<JobFileException>(() => JobDefinition.Load(malformed));
        Assert.Contains("not valid JSON", error.Message);
        Assert.Contains("line 1", error.Message);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
