using System.Text.Json;

namespace FedCore.Governance.Canonical;

/// <summary>Parses a governance document with bounds on size and depth, so that no input can make a reader hang or recurse deeply.</summary>
internal static class JsonInput
{
    /// <summary>Governance documents nest at most eight levels; the rest is slack for the error message to point inside.</summary>
    public const int MaxDepth = 16;

    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8Json, string source, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (utf8Json.Length > maxBytes)
            throw new GovernanceFormatException(source, "$", $"is {utf8Json.Length} bytes; at most {maxBytes} are read");
        try
        {
            return JsonDocument.Parse(utf8Json, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            // The runtime appends "LineNumber: n | BytePositionInLine: m." (0-based); the position is reported 1-based instead.
            string problem = e.Message;
            int suffix = problem.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (suffix > 0)
                problem = problem[..suffix];
            throw new GovernanceFormatException(source, e.Path ?? "$",
                $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {problem}", e);
        }
    }
}
