namespace FedCore.Policy;

/// <summary>
/// A policy set that cannot be loaded: names the file, the line (1-based; null when the problem is the file or the
/// folder as a whole) and the problem, as <c>policies/gdpr.yaml:12: rule gdpr-art-46: …</c>. The loader throws no
/// other exception for bad input.
/// </summary>
public sealed class PolicyLoadException(string file, int? line, string problem, Exception? inner = null)
    : Exception(line is { } l ? $"{file}:{l}: {problem}" : $"{file}: {problem}", inner)
{
    public string File { get; } = file;

    public int? Line { get; } = line;

    public string Problem { get; } = problem;
}
