namespace FedCore.Jobs;

/// <summary>A federation manifest or job file that cannot be used: names the file, the JSON path and the problem.</summary>
public sealed class JobFileException(string filePath, string jsonPath, string problem, Exception? inner = null)
    : Exception($"{filePath}: {jsonPath}: {problem}", inner)
{
    public string FilePath { get; } = filePath;

    public string JsonPath { get; } = jsonPath;

    public string Problem { get; } = problem;
}
