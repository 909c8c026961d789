using System.Text.Json.Nodes;
using FedCore.Jobs;
using Federation.Contracts.Participants;

namespace Federation.Silo.Cli;

/// <summary>
/// A federation of many simulated participants, for `bench round --participants N`. Participant i is
/// "&lt;CC&gt;/sim-&lt;i&gt;", its country taken round-robin from <see cref="Countries"/>, and holds its own copy of one
/// centre's file of the template job's dataset (centre i mod the template's participants), so that every participant
/// trains on as many rows whatever N is. Each copy lies in its country's folder of a working directory. The manifest
/// and the template's agreement, now between the N participants, are written there as files and loaded like any other.
/// </summary>
public static class SyntheticFederation
{
    public static readonly IReadOnlyList<string> Countries = ["US", "HU", "CH"];

    /// <summary>
    /// The template job over <paramref name="participants"/> simulated participants, under a copy of the template's
    /// agreement (<paramref name="agreementTerms"/>) whose parties they are; its <c>Federation</c> is the manifest.
    /// </summary>
    public static JobDefinition Create(JobDefinition template, byte[] agreementTerms, int participants, string directory)
    {
        var agreement = JsonNode.Parse(agreementTerms)!.AsObject();
        var statedIn = new Dictionary<string, JsonObject>();
        foreach (var party in agreement["parties"]!.AsArray().OfType<JsonObject>())
            statedIn.TryAdd(((string)party["organisation"]!)[..2], party);
        var sources = template.Federation.Participants
            .Where(p => template.ParticipantIds.Contains(p.Id))
            .Select(p => p.Datasets.First(d => d.Name == template.DatasetName))
            .ToList();
        var members = new JsonArray();
        var parties = new JsonArray();
        for (int i = 0; i < participants; i++)
        {
            var country = Countries[i % Countries.Count];
            var organisation = $"sim-{i:D4}";
            var id = ParticipantKey.Format(country, organisation);
            var source = sources[i % sources.Count];
            var file = Path.Combine(directory, country, organisation + Path.GetExtension(source.CsvPath));
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.Copy(source.CsvPath, file);
            members.Add(new JsonObject
            {
                ["id"] = id,
                ["displayName"] = $"Simulated participant {i}",
                ["datasets"] = new JsonArray(new JsonObject
                {
                    ["name"] = template.DatasetName,
                    ["file"] = file,
                    ["schema"] = source.SchemaPath,
                    ["description"] = $"A copy of {source.Description}",
                    ["categories"] = new JsonArray(source.Categories.Select(c => (JsonNode)c).ToArray()),
                    ["licence"] = source.Licence,
                    ["privacyUnit"] = source.PrivacyUnit,
                    ["epsilonCap"] = source.EpsilonCap,
                }),
            });
            var party = new JsonObject { ["organisation"] = id, ["datasets"] = new JsonArray(template.DatasetName) };
            // What a party of the template in the same country states of itself (its legal basis, …), the policies read.
            if (statedIn.TryGetValue(country, out var stated))
                foreach (var field in (string[])["sector", "certifications", "attestations"])
                    if (stated[field] is { } value)
                        party[field] = value.DeepClone();
            parties.Add(party);
        }
        var agreementId = $"{agreement["id"]}-synthetic-{participants}";
        agreement["id"] = agreementId;
        agreement["parties"] = parties;
        File.WriteAllText(Path.Combine(directory, "agreement.json"), agreement.ToJsonString());
        var path = Path.Combine(directory, "federation.json");
        File.WriteAllText(path, new JsonObject
        {
            ["name"] = $"synthetic-{participants}",
            ["agreements"] = new JsonArray("agreement.json"),
            ["participants"] = members,
        }.ToJsonString());
        var manifest = FederationManifest.Load(path);
        return template with
        {
            Name = $"{template.Name}-synthetic-{participants}",
            Federation = manifest,
            ParticipantIds = manifest.Participants.Select(p => p.Id).ToList(),
            Agreement = agreementId,
        };
    }
}
