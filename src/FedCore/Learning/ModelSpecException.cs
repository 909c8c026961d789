namespace FedCore.Learning;

/// <summary>
/// A model specification that cannot be used: malformed JSON, an unknown or missing field, or a value
/// out of range. The message names the source, the field (as a JSON path such as <c>hidden[1]</c> or
/// <c>image.height</c>) and, for JSON syntax errors, the line and byte position.
/// </summary>
public sealed class ModelSpecException : Exception
{
    public ModelSpecException(string sourceName, string? field, string problem, long? line = null, long? bytePositionInLine = null, Exception? inner = null)
        : base(Format(sourceName, field, problem, line, bytePositionInLine), inner)
    {
        SourceName = sourceName;
        Field = field;
        Problem = problem;
        Line = line;
        BytePositionInLine = bytePositionInLine;
    }

    /// <summary>Where the specification came from (a file name, a job id, or the factory method that built it).</summary>
    public string SourceName { get; }

    /// <summary>JSON path of the offending field, or null when the document as a whole is at fault.</summary>
    public string? Field { get; }

    /// <summary>What was wrong, without the location prefix.</summary>
    public string Problem { get; }

    /// <summary>1-based line of a JSON syntax error.</summary>
    public long? Line { get; }

    /// <summary>1-based byte position within <see cref="Line"/> of a JSON syntax error.</summary>
    public long? BytePositionInLine { get; }

    private static string Format(string sourceName, string? field, string problem, long? line, long? bytePosition)
    {
        string location = sourceName;
        if (line is not null)
            location += $", line {line}" + (bytePosition is null ? "" : $", byte {bytePosition}");
        if (field is not null)
            location += $", field '{field}'";
        return $"Model spec {location}: {problem}";
    }
}
