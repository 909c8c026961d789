using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FedCore.Audit.Entries;
using FedCore.Data;
using FedCore.Governance;
using FedCore.Governance.Agreements;
using FedCore.Learning;
using Federation.Contracts.Errors;
using Federation.Contracts.Models;
using Federation.Contracts.Participants;
using Federation.Contracts.Transfer;
using static Federation.Silo.Cli.EmbeddedCommand;

namespace Federation.Silo.Cli;

/// <summary>
/// `federation model export | predict`: a global model version leaves its job's store only as the agreement the job ran
/// under allows (<see cref="ModelReleaseCheck"/>): exported to a country among its final-model destinations, or used by one
/// of its parties in its own country; anything else is refused, naming the term.
/// </summary>
public static class ModelCommand
{
    public static Command Create(TextWriter output, TextWriter error) => new("model", "Global model versions: lineage, export, predictions.")
    {
        Export(output, error),
        Predict(output, error),
    };

    private static Command Export(TextWriter output, TextWriter error)
    {
        var data = DataOption();
        var (job, version) = VersionOptions();
        var to = new Option<string>("--to") { Description = "The country the model goes to: one of the agreement's finalModelDestinations.", Required = true };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "The folder to write model.dat, model.json, scaling.json and lineage.json to.", Required = true };
        return Define("export", "Write a model version (TorchSharp weights, spec, feature scaling, lineage) for a country its agreement allows.",
            output, error, async (parse, cancellation) =>
        {
            var destination = Country(parse.GetValue(to), "--to");
            await using var session = await StartAsync(parse.GetValue(data)!, [JobCountry(parse.GetValue(job))], cancellation);
            var model = await ReleaseAsync(session, parse.GetValue(job)!, parse.GetValue(version), destination, party: null);

            // Recorded first: an export the log could not take is not written.
            var audit = session.Audit;
            await audit.RecordAsync(AuditEvents.ModelExported(audit.Now, AuditActor.Federation, audit.Country, model.Version.JobId, model.Version.Version,
                AuditDigest.Parse(model.Version.ParametersSha256), destination));
            var folder = parse.GetValue(outDir)!;
            folder.Create();
            string At(string name) => Path.Combine(folder.FullName, name);
            using (var torch = ModelFactory.Create(model.Spec, model.Parameters))
                torch.Save(At("model.dat"));
            await File.WriteAllTextAsync(At("model.json"), model.Spec.ToJson(), cancellation);
            var scaling = model.Lineage.Scaling;
            await File.WriteAllTextAsync(At("scaling.json"), new JsonObject
            {
                ["featureNames"] = new JsonArray([.. scaling.FeatureNames.Select(n => (JsonNode)n)]),
                ["mean"] = new JsonArray([.. scaling.Mean.Select(m => (JsonNode)m)]),
                ["standardDeviation"] = new JsonArray([.. scaling.StandardDeviation.Select(s => (JsonNode)s)]),
            }.ToJsonString(), cancellation);
            var lineage = LineageJson(model.Version);
            lineage["exportedTo"] = destination;
            lineage["exportedAt"] = GovernanceNames.Time(DateTimeOffset.UtcNow);
            await File.WriteAllTextAsync(At("lineage.json"), lineage.ToJsonString(), cancellation);
            lineage["files"] = new JsonArray([.. new[] { "model.dat", "model.json", "scaling.json", "lineage.json" }.Select(f => (JsonNode)At(f))]);
            return lineage;
        }, data, job, version, to, outDir);
    }

    private static Command Predict(TextWriter output, TextWriter error)
    {
        var data = DataOption();
        var (job, version) = VersionOptions();
        var input = new Option<FileInfo>("--input") { Description = "The rows to score (CSV in the schema of the organisation's dataset in the job; the label may be empty).", Required = true };
        var party = new Option<string>("--as") { Description = "The organisation scoring, in its own country: a party of the job's agreement with a dataset in the job.", Required = true };
        return Define("predict", "Score a CSV with a model version, for a party of the job's agreement: each row's class and probability (or value).",
            output, error, async (parse, cancellation) =>
        {
            var (organisation, country) = Organisation(parse.GetValue(party), "--as");
            var rows = ExistingFile(parse.GetValue(input)!, "--input");
            await using var session = await StartAsync(parse.GetValue(data)!, [country], cancellation);
            var model = await ReleaseAsync(session, parse.GetValue(job)!, parse.GetValue(version), country, organisation);

            // The rows are read as the organisation's own dataset of the job was: with its schema, which the job's lineage pins by hash.
            var dataset = model.Lineage.Datasets.FirstOrDefault(d => d.ParticipantId == organisation)
                ?? throw new CommandInputException($"--as: {organisation} has no dataset in job {model.Version.JobId}, so no schema to read the rows with");
            var schema = DatasetSchema.Parse(await session.Grains.GetGrain<IParticipantGrain>(organisation).GetDatasetSchema(dataset.DatasetName),
                $"the schema of {organisation}'s dataset '{dataset.DatasetName}'");
            if (schema.Hash != dataset.SchemaHash)
                throw new FederationOperationException("model.schema-changed",
                    $"{organisation}'s dataset '{dataset.DatasetName}' now has schema {schema.Hash}, not {dataset.SchemaHash} it had in job {model.Version.JobId}; its rows would not fit the model");
            var loaded = CsvDatasetReader.LoadForScoring(rows.FullName, schema, cancellation);
            var scaling = model.Lineage.Scaling;
            var scaled = new FeatureScaling(scaling.FeatureNames, scaling.Mean, scaling.StandardDeviation).Apply(loaded.Data);
            var predictions = ModelPredictor.Predict(model.Spec, model.Parameters, scaled, cancellation);
            // The count and the model, never the rows or the scores.
            // Recorded by the silo of the organisation's country, which ran the scoring (an entry in the organisation's name needs its key).
            await session.Audit.RecordAsync(AuditEvents.PredictionsMade(session.Audit.Now, session.Audit.Silo, session.Audit.Country,
                AuditDigest.Parse(model.Version.ParametersSha256), predictions.Count, model.Version.JobId, model.Version.Version));
            return new JsonObject
            {
                ["job"] = model.Version.JobId,
                ["version"] = model.Version.Version,
                ["as"] = organisation,
                ["input"] = rows.FullName,
                ["rows"] = predictions.Count,
                ["droppedRows"] = loaded.Metadata.DroppedRowCount,
                ["predictions"] = new JsonArray([.. predictions.Select((p, i) =>
                {
                    var row = new JsonObject { ["line"] = loaded.Lines[i] };
                    if (p.Class is { } c)
                        row["class"] = c;
                    if (p.Probability is { } probability)
                        row["probability"] = Math.Round(probability, 6);
                    if (p.Value is { } value)
                        row["value"] = value;
                    return (JsonNode)row;
                })]),
            };
        }, data, job, version, input, party);
    }

    private static (Option<string> Job, Option<int> Version) VersionOptions() => (
        new Option<string>("--job") { Description = "The job's id (its aggregator's country, then its name: CH/heart-logistic).", Required = true },
        new Option<int>("--version") { Description = "The model version: 0 the initial model, r the model after round r.", Required = true });

    private static string JobCountry(string? jobId) =>
        ParticipantKey.TryParse(jobId, out var country, out _, out var problem) ? country : throw new CommandInputException($"--job: {problem}");

    private sealed record ReleasedModel(ModelVersion Version, ModelLineage Lineage, ModelSpec Spec, float[] Parameters);

    /// <summary>A stored model version with its lineage, once the agreement its job ran under allows it to go to <paramref name="destination"/>.</summary>
    private static async Task<ReleasedModel> ReleaseAsync(EmbeddedSession session, string jobId, int versionNumber, string destination, string? party)
    {
        var version = await session.Grains.GetGrain<IModelVersionGrain>(ModelVersionKey.Format(jobId, versionNumber)).Get()
            ?? throw new CommandInputException($"--version: job {jobId} has no model version {versionNumber}");
        var lineage = version.Lineage
            ?? throw new FederationOperationException("model.no-lineage", $"Model version {versionNumber} of job {jobId} was stored without its lineage (agreement, datasets); it cannot be released.");
        var membership = await session.Records.MembershipAsync();
        var agreement = await session.Records.AgreementAsync(lineage.AgreementId, membership);
        ModelReleaseCheck.Check(new ModelRelease(jobId, lineage.AgreementId, lineage.TermsDigest, destination, party), agreement, membership, DateTimeOffset.UtcNow);

        var bytes = await session.Transfers.FetchAsync(version.Parameters);
        if (Convert.ToHexStringLower(SHA256.HashData(bytes)) != version.ParametersSha256)
            throw new FederationOperationException("model.corrupt", $"Model version {versionNumber} of job {jobId}: its parameters do not have the SHA-256 stored with them.");
        return new ReleasedModel(version, lineage, ModelSpec.Parse(lineage.ModelSpecJson, $"the model of job {jobId}"), FloatBytes.ToFloats(bytes));
    }

    /// <summary>A model version's lineage: its job and version, the agreement and terms, the model, the datasets by id and hash.</summary>
    private static JsonObject LineageJson(ModelVersion version)
    {
        var lineage = version.Lineage!;
        return new JsonObject
        {
            ["job"] = version.JobId,
            ["version"] = version.Version,
            ["createdAt"] = GovernanceNames.Time(DateTimeOffset.FromUnixTimeSeconds(version.CreatedAt.ToUnixTimeSeconds())),
            ["parametersSha256"] = version.ParametersSha256,
            ["agreement"] = lineage.AgreementId,
            ["termsDigest"] = lineage.TermsDigest,
            ["model"] = JsonNode.Parse(lineage.ModelSpecJson),
            ["datasets"] = new JsonArray([.. lineage.Datasets.Select(d => (JsonNode)new JsonObject
            {
                ["participant"] = d.ParticipantId,
                ["dataset"] = d.DatasetName,
                ["fileSha256"] = d.FileSha256,
                ["schemaHash"] = d.SchemaHash,
            })]),
            ["roundMembers"] = new JsonArray([.. lineage.RoundMembers.Select(m => (JsonNode)m)]),
        };
    }
}
