namespace FedCore.Data;

/// <summary>
/// A schema file that cannot be used: malformed JSON, a missing or unknown field, or a value that
/// contradicts another part of the schema. Names the file and the JSON path of the offending field.
/// </summary>
public sealed class DatasetSchemaException : Exception
{
    public DatasetSchemaException(string schemaPath, string jsonPath, string reason, Exception? inner = null)
        : base($"{Path.GetFileName(schemaPath)}, {jsonPath}: {reason}", inner)
    {
        SchemaPath = schemaPath;
        JsonPath = jsonPath;
        Reason = reason;
    }

    public string SchemaPath { get; }

    /// <summary>Where in the document the problem is, e.g. <c>$.features[2].categories</c>.</summary>
    public string JsonPath { get; }

    public string Reason { get; }
}

/// <summary>
/// A data file that cannot be loaded under its schema. <see cref="Line"/> and <see cref="Column"/>
/// are 1-based and null when the problem concerns the whole file (missing, empty, no usable rows).
/// </summary>
public sealed class DatasetException : Exception
{
    public DatasetException(string filePath, int? line, int? column, string? columnName, string reason, Exception? inner = null)
        : base(Describe(filePath, line, column, columnName, reason), inner)
    {
        FilePath = filePath;
        Line = line;
        Column = column;
        ColumnName = columnName;
        Reason = reason;
    }

    public string FilePath { get; }

    public int? Line { get; }

    public int? Column { get; }

    public string? ColumnName { get; }

    public string Reason { get; }

    private static string Describe(string filePath, int? line, int? column, string? columnName, string reason)
    {
        var where = Path.GetFileName(filePath);
        if (line is not null)
            where += $", line {line}";
        if (column is not null)
            where += columnName is null ? $", column {column}" : $", column {column} '{columnName}'";
        return $"{where}: {reason}";
    }
}
