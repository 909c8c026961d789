using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

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
        // The parser checks UTF-8 inside strings only when they are read; checked here, no string can fail later.
        if (!Utf8.IsValid(utf8Json.Span))
            throw new GovernanceFormatException(source, "$", $"is not UTF-8: byte {FirstInvalidByte(utf8Json.Span) + 1} does not begin a valid sequence");
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

    private static int FirstInvalidByte(ReadOnlySpan<byte> utf8)
    {
        int offset = 0;
        while (Rune.DecodeFromUtf8(utf8[offset..], out _, out int consumed) == OperationStatus.Done)
            offset += consumed;
        return offset;
    }
}
