namespace FedCore.Jobs;

/// <summary>
/// Describes a federation's participants and where each keeps its datasets (a file per participant, on that
/// participant's silo). File format (paths relative to the manifest):
/// <code>
/// { "name": "…", "participants": [ { "id": "HU/budapest", "displayName": "…",
///     "datasets": [ { "name": "heart", "file": "data/hungarian.data", "schema": "heart.schema.json" } ] } ] }
/// </code>
/// </summary>
public sealed record FederationManifest(string Name, string FilePath, IReadOnlyList<ManifestParticipant> Participants)
{
    public static FederationManifest Load(string filePath)
    {
        using var document = JsonFileReader.Open(filePath);
        var json = new JsonFileReader(filePath);
        var root = document.RootElement;
        if (root.ValueKind != System.Text.Json.JsonValueKind.Object)
            throw json.Error("$", "must be a JSON object");
        json.RejectUnknown(root, "$", "name", "description", "participants");

        var participants = new List<ManifestParticipant>();
        int i = 0;
        foreach (var p in json.Array(root, "participants", "$").EnumerateArray())
        {
            var path = $"$.participants[{i++}]";
            json.RejectUnknown(p, path, "id", "displayName", "datasets");
            var id = json.String(p, "id", path);
            if (participants.Any(q => q.Id == id))
                throw json.Error($"{path}.id", $"participant '{id}' is listed twice");
            var datasets = new List<ManifestDataset>();
            int k = 0;
            foreach (var d in json.Array(p, "datasets", path).EnumerateArray())
            {
                var dpath = $"{path}.datasets[{k++}]";
                json.RejectUnknown(d, dpath, "name", "file", "schema");
                var name = json.String(d, "name", dpath);
                if (datasets.Any(x => x.Name == name))
                    throw json.Error($"{dpath}.name", $"dataset '{name}' is listed twice for {id}");
                datasets.Add(new ManifestDataset(name, json.ResolvePath(json.String(d, "file", dpath)), json.ResolvePath(json.String(d, "schema", dpath))));
            }
            participants.Add(new ManifestParticipant(id, json.OptionalString(p, "displayName", path) ?? id, datasets));
        }
        if (participants.Count == 0)
            throw json.Error("$.participants", "lists no participants");
        return new FederationManifest(json.String(root, "name", "$"), Path.GetFullPath(filePath), participants);
    }
}

public sealed record ManifestParticipant(string Id, string DisplayName, IReadOnlyList<ManifestDataset> Datasets);

/// <summary>A dataset file and its schema file, as absolute paths on the participant's silo.</summary>
public sealed record ManifestDataset(string Name, string CsvPath, string SchemaPath);
