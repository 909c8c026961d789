using FedCore.Jobs;
using Federation.Contracts.Directory;
using Federation.Contracts.Participants;

namespace Federation.Silo.Hosting;

/// <summary>Enrols the participants of a federation manifest and registers their datasets (idempotent).</summary>
public static class FederationEnrolment
{
    public static async Task<IReadOnlyList<ParticipantProfile>> EnrolAsync(
        IGrainFactory grains, FederationManifest manifest, IEnumerable<string>? only = null, CancellationToken cancellationToken = default)
    {
        var selected = only?.ToHashSet(StringComparer.Ordinal);
        var directory = grains.GetGrain<IFederationDirectoryGrain>(0);
        var profiles = new List<ParticipantProfile>();
        foreach (var member in manifest.Participants.Where(p => selected is null || selected.Contains(p.Id)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!ParticipantKey.TryParse(member.Id, out _, out _, out var error))
                throw new JobFileException(manifest.FilePath, $"participant '{member.Id}'", error);

            var participant = grains.GetGrain<IParticipantGrain>(member.Id);
            var profile = await participant.Enrol(member.DisplayName);
            var registered = (await participant.GetDatasets()).ToDictionary(d => d.Name);
            foreach (var dataset in member.Datasets)
            {
                if (!File.Exists(dataset.SchemaPath))
                    throw new JobFileException(manifest.FilePath, $"participant '{member.Id}', dataset '{dataset.Name}'",
                        $"schema file {dataset.SchemaPath} does not exist");
                var registration = new DatasetRegistration(dataset.Name, dataset.CsvPath, await File.ReadAllTextAsync(dataset.SchemaPath, cancellationToken), dataset.SchemaPath);
                // Registering again re-reads the file; skip it when the same file is already registered.
                if (registered.TryGetValue(dataset.Name, out var known) && known.FileName == Path.GetFileName(dataset.CsvPath)
                    && known.FileSha256 == await Sha256Async(dataset.CsvPath, cancellationToken))
                    continue;
                await participant.RegisterDataset(registration);
            }
            await directory.AddParticipant(profile);
            profiles.Add(profile);
        }
        return profiles;
    }

    private static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
            return "";
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stream, cancellationToken));
    }
}
