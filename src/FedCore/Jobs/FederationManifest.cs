using System.Text.Json;

namespace FedCore.Jobs;

/// <summary>
/// Describes a federation for its embedded setup: its participants (organisations), their members, where each keeps its
/// datasets (a file per participant, on that participant's silo) with what the catalog says of them, and the terms of
/// the agreements its parties enter. File format (paths relative to the manifest):
/// <code>
/// { "name": "…", "agreements": ["agreement.json"],
///   "participants": [ { "id": "HU/budapest", "displayName": "…", "legalName": "…",
///       "members": [ { "name": "…", "role": "organisation-admin" } ],
///       "datasets": [ { "name": "heart", "file": "data/hungarian.data", "schema": "heart.schema.json",
///           "description": "…", "categories": ["health", "personal", "special-category"], "jurisdiction": "HU",
///           "licence": "…", "privacyUnit": "person", "epsilonCap": 10 } ] } ] }
/// </code>
/// Left out, a legal name is the display name, the members one administrator, and a dataset's catalog entry says it is
/// personal data of the participant's country, per record, with an ε cap of 10 and no licence stated.
/// </summary>
public sealed record FederationManifest(string Name, string FilePath, IReadOnlyList<ManifestParticipant> Participants, IReadOnlyList<string> AgreementFiles)
{
    public static FederationManifest Load(string filePath)
    {
        using var document = JsonFileReader.Open(filePath);
        var json = new JsonFileReader(filePath);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw json.Error("$", "must be a JSON object");
        json.RejectUnknown(root, "$", "name", "description", "participants", "agreements");

        var participants = new List<ManifestParticipant>();
        int i = 0;
        foreach (var p in json.Array(root, "participants", "$").EnumerateArray())
        {
            var path = $"$.participants[{i++}]";
            json.RejectUnknown(p, path, "id", "displayName", "legalName", "members", "datasets");
            var id = json.String(p, "id", path);
            if (participants.Any(q => q.Id == id))
                throw json.Error($"{path}.id", $"participant '{id}' is listed twice");
            var country = id.Split('/')[0];
            var displayName = json.OptionalString(p, "displayName", path) ?? id;
            var members = new List<ManifestMember>();
            if (p.TryGetProperty("members", out var listed) && listed.ValueKind != JsonValueKind.Null)
            {
                int m = 0;
                foreach (var member in json.Array(p, "members", path).EnumerateArray())
                {
                    var memberPath = $"{path}.members[{m++}]";
                    json.RejectUnknown(member, memberPath, "name", "role");
                    members.Add(new ManifestMember(json.String(member, "name", memberPath), json.String(member, "role", memberPath)));
                }
            }
            else
            {
                members.Add(new ManifestMember($"{displayName} administrator", "organisation-admin"));
            }
            var datasets = new List<ManifestDataset>();
            int k = 0;
            foreach (var d in json.Array(p, "datasets", path).EnumerateArray())
            {
                var dpath = $"{path}.datasets[{k++}]";
                json.RejectUnknown(d, dpath, "name", "file", "schema", "description", "categories", "jurisdiction", "licence", "privacyUnit", "epsilonCap");
                var name = json.String(d, "name", dpath);
                if (datasets.Any(x => x.Name == name))
                    throw json.Error($"{dpath}.name", $"dataset '{name}' is listed twice for {id}");
                var categories = d.TryGetProperty("categories", out var c) && c.ValueKind == JsonValueKind.Array
                    ? c.EnumerateArray().Select((e, j) => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw json.Error($"{dpath}.categories[{j}]", "must be a string")).ToList()
                    : ["personal"];
                var epsilonCap = json.Number(d, "epsilonCap", dpath, 10);
                if (!(epsilonCap > 0))
                    throw json.Error($"{dpath}.epsilonCap", $"must be a positive number, not {epsilonCap}");
                datasets.Add(new ManifestDataset(name, json.ResolvePath(json.String(d, "file", dpath)), json.ResolvePath(json.String(d, "schema", dpath)),
                    json.OptionalString(d, "description", dpath) ?? $"{name} of {displayName}", categories,
                    json.OptionalString(d, "jurisdiction", dpath) ?? country, json.OptionalString(d, "licence", dpath) ?? "not stated",
                    json.OptionalString(d, "privacyUnit", dpath) ?? "record", (decimal)epsilonCap));
            }
            participants.Add(new ManifestParticipant(id, displayName, json.OptionalString(p, "legalName", path) ?? displayName, members, datasets));
        }
        if (participants.Count == 0)
            throw json.Error("$.participants", "lists no participants");
        var agreements = new List<string>();
        if (root.TryGetProperty("agreements", out var agreementList) && agreementList.ValueKind != JsonValueKind.Null)
        {
            foreach (var file in json.Array(root, "agreements", "$").EnumerateArray())
                agreements.Add(file.ValueKind == JsonValueKind.String
                    ? json.ResolvePath(file.GetString()!)
                    : throw json.Error($"$.agreements[{agreements.Count}]", "must be the path of an agreement's terms file"));
        }
        return new FederationManifest(json.String(root, "name", "$"), Path.GetFullPath(filePath), participants, agreements);
    }
}

public sealed record ManifestParticipant(string Id, string DisplayName, string LegalName, IReadOnlyList<ManifestMember> Members, IReadOnlyList<ManifestDataset> Datasets);

/// <summary>A person of an organisation in one role (organisation-admin, data-steward, data-scientist, auditor).</summary>
public sealed record ManifestMember(string Name, string Role);

/// <summary>A dataset file and its schema file, as absolute paths on the participant's silo, with what the catalog says of it.</summary>
public sealed record ManifestDataset(string Name, string CsvPath, string SchemaPath, string Description, IReadOnlyList<string> Categories,
    string Jurisdiction, string Licence, string PrivacyUnit, decimal EpsilonCap);
