namespace Federation.Portal.Cluster;

/// <summary>
/// Resolves configured relative paths against the repository root when the portal runs from a checkout (so that
/// `dotnet run --project src/Portal` finds samples/ and data/), otherwise against the content root.
/// </summary>
public sealed class PortalPaths(string contentRoot)
{
    public string BaseDirectory { get; } = FindRepositoryRoot(contentRoot) ?? contentRoot;

    public string Resolve(string path) => Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(BaseDirectory, path));

    private static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Federation.sln")))
                return dir.FullName;
        return null;
    }
}
