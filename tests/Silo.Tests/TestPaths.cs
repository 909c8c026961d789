namespace Federation.Silo.Tests;

internal static class TestPaths
{
    /// <summary>The repository root (the folder holding Federation.sln).</summary>
    public static string Root { get; } = FindRoot();

    public static string Samples => Path.Combine(Root, "samples");

    public static string HeartSample => Path.Combine(Samples, "fed-heart-disease");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Federation.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"No Federation.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>A fresh directory under the system temp folder, removed when disposed.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "federation-test")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold a file for a moment; the temp folder is cleaned by the OS.
        }
    }
}

internal static class PayloadTestExtensions
{
    /// <summary>The floats of a small (inline) model payload.</summary>
    public static float[] AsFloats(this byte[] bytes) => Federation.Contracts.Transfer.FloatBytes.ToFloats(bytes);
}
