namespace FedCore.Governance;

/// <summary>
/// A governance document (membership, catalog, agreement) that cannot be read, or a model that breaks a rule of
/// its format: names the source, the JSON path (e.g. <c>$.records[2].organisations[0].entry.signingKey</c>) and
/// the problem. The readers throw no other exception for bad input.
/// </summary>
public sealed class GovernanceFormatException(string sourceName, string jsonPath, string problem, Exception? inner = null)
    : GovernanceException($"{sourceName}: {jsonPath}: {problem}", inner)
{
    public string SourceName { get; } = sourceName;

    public string JsonPath { get; } = jsonPath;

    public string Problem { get; } = problem;
}
