using System.CommandLine;
using System.Text.Json.Nodes;
using FedCore.Data;
using FedCore.Governance;
using FedCore.Governance.Datasets;
using Federation.Contracts.Participants;
using static Federation.Silo.Cli.EmbeddedCommand;

namespace Federation.Silo.Cli;

/// <summary>
/// `federation dataset register | list | show`: a data steward registers a CSV file lying on its organisation's silo (the
/// participant reads it there and signs its catalog entry: metadata only), and anyone reads the verified catalog.
/// </summary>
public static class DatasetCommand
{
    public static Command Create(TextWriter output, TextWriter error) => new("dataset", "Datasets: registration on the owner's silo, the verified catalog.")
    {
        Register(output, error),
        List(output, error),
        Show(output, error),
    };

    private static Command Register(TextWriter output, TextWriter error)
    {
        var data = DataOption();
        var participant = new Option<string>("--participant") { Description = "The owning organisation, e.g. HU/budapest.", Required = true };
        var name = new Option<string>("--name") { Description = "The dataset's name in the organisation's catalog.", Required = true };
        var file = new Option<FileInfo>("--file") { Description = "The CSV file, on the organisation's silo.", Required = true };
        var schema = new Option<FileInfo>("--schema") { Description = "The dataset schema (JSON) the file is read with.", Required = true };
        var description = new Option<string?>("--description") { Description = "What the dataset holds (default: its name)." };
        var categories = new Option<string[]>("--category") { Description = $"A category of its data, one of {GovernanceNames.All<DataCategory>()}; repeat for each.", Required = true };
        var jurisdiction = new Option<string>("--jurisdiction") { Description = "The country whose law governs the data (ISO 3166-1 alpha-2).", Required = true };
        var licence = new Option<string>("--licence") { Description = "The terms the data may be used under.", Required = true };
        var privacyUnit = new Option<string>("--privacy-unit") { Description = $"Whom differential privacy protects: {GovernanceNames.All<PrivacyUnit>()}.", Required = true };
        var epsilonCap = new Option<decimal>("--epsilon-cap") { Description = "The most differential-privacy ε the dataset may ever spend.", Required = true };
        var sha256 = new Option<string?>("--sha256") { Description = "The SHA-256 the file must have (the steward's attestation of which file it is)." };
        return Define("register", "Register a CSV file on the organisation's silo and sign its catalog entry (metadata only; the rows stay).",
            output, error, async (parse, cancellation) =>
        {
            var (organisation, country) = Organisation(parse.GetValue(participant), "--participant");
            var csv = ExistingFile(parse.GetValue(file)!, "--file");
            var schemaFile = ExistingFile(parse.GetValue(schema)!, "--schema");
            var schemaJson = await File.ReadAllTextAsync(schemaFile.FullName, cancellation);
            DatasetSchema.Parse(schemaJson, schemaFile.FullName); // names the file and the JSON path before any silo starts
            var datasetName = Text(parse.GetValue(name), "--name");
            var details = new DatasetCatalogDetails(
                Text(parse.GetValue(description) ?? datasetName, "--description"),
                [.. parse.GetValue(categories)!.Select(c => GovernanceNames.Of(Name<DataCategory>(c, "--category")))],
                Country(parse.GetValue(jurisdiction), "--jurisdiction"),
                Text(parse.GetValue(licence), "--licence"),
                GovernanceNames.Of(Name<PrivacyUnit>(parse.GetValue(privacyUnit)!, "--privacy-unit")),
                parse.GetValue(epsilonCap) is > 0 and var cap ? cap : throw new CommandInputException($"--epsilon-cap: must be positive, not {parse.GetValue(epsilonCap)}"));
            var expected = parse.GetValue(sha256);
            if (expected is not null && !(expected.Length == 64 && expected.All(char.IsAsciiHexDigit)))
                throw new CommandInputException($"--sha256: '{expected}' is not a SHA-256 digest (64 hex digits)");

            await using var session = await StartAsync(parse.GetValue(data)!, [country], cancellation);
            var summary = await session.Approvers.RegisterDatasetAsync(session.Grains, organisation,
                new DatasetRegistration(datasetName, csv.FullName, schemaJson, schemaFile.FullName, details, expected?.ToLowerInvariant()), cancellation);
            var entry = (await CatalogAsync(session)).Find(organisation, datasetName)!;
            var json = Json(entry);
            json["rawRowCount"] = summary.RawRowCount;
            json["droppedRowCount"] = summary.DroppedRowCount;
            json["features"] = new JsonArray([.. summary.FeatureNames.Select(f => (JsonNode)f)]);
            return json;
        }, data, participant, name, file, schema, description, categories, jurisdiction, licence, privacyUnit, epsilonCap, sha256);
    }

    private static Command List(TextWriter output, TextWriter error)
    {
        var data = DataOption();
        var participant = new Option<string?>("--participant") { Description = "Only this organisation's datasets." };
        return Define("list", "The federation's dataset catalog, verified against the membership.", output, error, async (parse, cancellation) =>
        {
            var only = parse.GetValue(participant) is { } given ? Organisation(given, "--participant") : ((string Id, string Country)?)null;
            await using var session = await StartAsync(parse.GetValue(data)!, [only?.Country ?? AnyMemberCountry(parse.GetValue(data)!)], cancellation);
            var entries = (await CatalogAsync(session)).Entries
                .Where(e => only is null || e.Organisation == only.Value.Id)
                .OrderBy(e => e.Organisation, StringComparer.Ordinal).ThenBy(e => e.Name, StringComparer.Ordinal);
            return new JsonObject { ["datasets"] = new JsonArray([.. entries.Select(e => (JsonNode)Json(e))]) };
        }, data, participant);
    }

    private static Command Show(TextWriter output, TextWriter error)
    {
        var data = DataOption();
        var participant = new Option<string>("--participant") { Description = "The owning organisation.", Required = true };
        var name = new Option<string>("--name") { Description = "The dataset's name.", Required = true };
        return Define("show", "One dataset's catalog entry, verified.", output, error, async (parse, cancellation) =>
        {
            var (organisation, country) = Organisation(parse.GetValue(participant), "--participant");
            await using var session = await StartAsync(parse.GetValue(data)!, [country], cancellation);
            var datasetName = parse.GetValue(name)!;
            return Json((await CatalogAsync(session)).Find(organisation, datasetName)
                ?? throw new CommandInputException($"--name: {organisation} has no dataset '{datasetName}' in the federation's catalog"));
        }, data, participant, name);
    }

    private static async Task<DatasetCatalog> CatalogAsync(EmbeddedSession session) =>
        await session.Records.CatalogAsync(await session.Records.MembershipAsync());

    private static JsonObject Json(DatasetEntry e) => new()
    {
        ["organisation"] = e.Organisation,
        ["name"] = e.Name,
        ["description"] = e.Description,
        ["rowCount"] = e.RowCount,
        ["fileSha256"] = e.FileSha256,
        ["schemaHash"] = e.SchemaHash,
        ["categories"] = new JsonArray([.. e.Categories.Select(c => (JsonNode)GovernanceNames.Of(c))]),
        ["jurisdiction"] = e.Jurisdiction,
        ["licence"] = e.Licence,
        ["privacyUnit"] = GovernanceNames.Of(e.PrivacyUnit),
        ["epsilonCap"] = e.EpsilonCap,
        ["registeredAt"] = GovernanceNames.Time(e.RegisteredAt),
    };
}
