using System.Text.Json;

namespace FedCore.Jobs;

/// <summary>Reads typed fields from a JSON document and reports problems with the file and JSON path.</summary>
internal sealed class JsonFileReader(string filePath)
{
    public string FilePath { get; } = filePath;

    public static JsonDocument Open(string filePath)
    {
        if (!File.Exists(filePath))
            throw new JobFileException(filePath, "$", "the file does not exist");
        try
        {
            return JsonDocument.Parse(File.ReadAllText(filePath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new JobFileException(filePath, e.Path ?? "$", $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}", e);
        }
    }

    public JobFileException Error(string path, string problem) => new(FilePath, path, problem);

    public JsonElement Object(JsonElement parent, string name, string path)
    {
        var value = Required(parent, name, path);
        if (value.ValueKind != JsonValueKind.Object)
            throw Error($"{path}.{name}", $"must be an object, not {Describe(value)}");
        return value;
    }

    public JsonElement Array(JsonElement parent, string name, string path)
    {
        var value = Required(parent, name, path);
        if (value.ValueKind != JsonValueKind.Array)
            throw Error($"{path}.{name}", $"must be an array, not {Describe(value)}");
        return value;
    }

    public string String(JsonElement parent, string name, string path) =>
        OptionalString(parent, name, path) ?? throw Error($"{path}.{name}", "is required");

    public string? OptionalString(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
            throw Error($"{path}.{name}", $"must be a non-empty string, not {Describe(value)}");
        return value.GetString()!;
    }

    public int Integer(JsonElement parent, string name, string path, int? fallback = null, int min = int.MinValue)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return fallback ?? throw Error($"{path}.{name}", "is required");
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
            throw Error($"{path}.{name}", $"must be a whole number, not {Describe(value)}");
        if (number < min)
            throw Error($"{path}.{name}", $"must be at least {min}, not {number}");
        return number;
    }

    public double Number(JsonElement parent, string name, string path, double? fallback = null)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return fallback ?? throw Error($"{path}.{name}", "is required");
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number))
            throw Error($"{path}.{name}", $"must be a finite number, not {Describe(value)}");
        return number;
    }

    public void RejectUnknown(JsonElement element, string path, params string[] known)
    {
        foreach (var property in element.EnumerateObject())
            if (!known.Contains(property.Name, StringComparer.Ordinal))
                throw Error($"{path}.{property.Name}", $"is not a known field (known: {string.Join(", ", known)})");
    }

    public string ResolvePath(string relative) =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(FilePath))!, relative));

    private JsonElement Required(JsonElement parent, string name, string path) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw Error($"{path}.{name}", "is required");

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{value.GetString()}\"",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        _ => value.ValueKind.ToString().ToLowerInvariant(),
    };
}
