using System.Collections.Immutable;
using System.Text.Json;

namespace FedCore.Governance.Canonical;

/// <summary>
/// Reads one JSON object of a governance document, closed-world: a field not in the known list, or given twice, is an
/// error rather than ignored or last-one-wins, and every error names the JSON path. Absent and <c>null</c> mean the same.
/// Values are read into their canonical forms: exact decimals, UTC seconds, canonical base64, kebab-case names.
/// </summary>
internal sealed class JsonFields
{
    private readonly Dictionary<string, JsonElement> _fields;

    private JsonFields(string source, string path, Dictionary<string, JsonElement> fields)
    {
        Source = source;
        Path = path;
        _fields = fields;
    }

    public string Source { get; }

    public string Path { get; }

    public static JsonFields Of(JsonElement element, string source, string path, params string[] known)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new GovernanceFormatException(source, path, $"must be an object, not {Describe(element)}");
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            string name;
            try
            {
                name = property.Name;
            }
            catch (InvalidOperationException)
            {
                throw new GovernanceFormatException(source, path, "a field name is not well-formed text (an escaped lone surrogate)");
            }
            if (!known.Contains(name, StringComparer.Ordinal))
                throw new GovernanceFormatException(source, Member(path, name), $"is not a known field (known: {string.Join(", ", known)})");
            if (!fields.TryAdd(name, property.Value))
                throw new GovernanceFormatException(source, Member(path, name), "appears more than once");
        }
        return new JsonFields(source, path, fields);
    }

    public string At(string name) => Member(Path, name);

    public GovernanceFormatException Error(string name, string problem) => new(Source, At(name), problem);

    public bool Has(string name) => _fields.TryGetValue(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public JsonElement Required(string name) => Has(name) ? _fields[name] : throw Error(name, "is required");

    public string Text(string name) => ReadText(Required(name), Source, At(name));

    public long Integer(string name, long min, long max) => ReadInteger(Required(name), Source, At(name), min, max);

    public decimal Decimal(string name)
    {
        var value = Required(name);
        if (value.ValueKind != JsonValueKind.Number)
            throw Error(name, $"must be a number, not {Describe(value)}");
        if (!CanonicalNumber.TryParse(value.GetRawText(), out var number))
            throw Error(name, $"{Shorten(value.GetRawText())} has no exact decimal form (at most {CanonicalNumber.MaxDigits} significant digits and decimal places, magnitude below 10^{CanonicalNumber.MaxDigits})");
        return number;
    }

    public bool Boolean(string name)
    {
        var value = Required(name);
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(name, $"must be true or false, not {Describe(value)}"),
        };
    }

    public DateTimeOffset Time(string name)
    {
        string text = Text(name);
        return Formats.TryParseTime(text, out var time)
            ? time
            : throw Error(name, $"\"{Shorten(text)}\" is not a UTC time of the form 2025-03-01T09:00:00Z (whole seconds, 'Z')");
    }

    public string? OptionalDigest(string name) => Has(name) ? Digest(name) : null;

    public string Digest(string name)
    {
        string text = Text(name);
        return Formats.IsDigest(text) ? text : throw Error(name, $"\"{Shorten(text)}\" is not a SHA-256 digest in 64 lower-case hex digits");
    }

    public ImmutableArray<byte> Bytes(string name) => ReadBytes(Required(name), Source, At(name));

    public ImmutableArray<byte>? OptionalBytes(string name) => Has(name) ? Bytes(name) : null;

    public TEnum Enum<TEnum>(string name) where TEnum : struct, Enum => ReadEnum<TEnum>(Required(name), Source, At(name));

    public JsonFields Object(string name, params string[] known) => Of(Required(name), Source, At(name), known);

    public JsonFields? OptionalObject(string name, params string[] known) => Has(name) ? Object(name, known) : null;

    /// <summary>An array's items, each read by <paramref name="item"/> with its own path (<c>…[i]</c>).</summary>
    public ImmutableArray<T> Array<T>(string name, Func<JsonElement, string, T> item)
    {
        var value = Required(name);
        if (value.ValueKind != JsonValueKind.Array)
            throw Error(name, $"must be an array, not {Describe(value)}");
        var items = ImmutableArray.CreateBuilder<T>(value.GetArrayLength());
        int index = 0;
        foreach (var element in value.EnumerateArray())
            items.Add(item(element, $"{At(name)}[{index++}]"));
        return items.MoveToImmutable();
    }

    public ImmutableArray<string> TextArray(string name) => Array(name, (element, path) => ReadText(element, Source, path));

    public ImmutableArray<TEnum> EnumArray<TEnum>(string name) where TEnum : struct, Enum =>
        Array(name, (element, path) => ReadEnum<TEnum>(element, Source, path));

    public static string ReadText(JsonElement value, string source, string path)
    {
        if (value.ValueKind != JsonValueKind.String)
            throw new GovernanceFormatException(source, path, $"must be a string, not {Describe(value)}");
        string text;
        try
        {
            text = value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new GovernanceFormatException(source, path, "is not well-formed text (an escaped lone surrogate)");
        }
        return Formats.IsText(text) ? text : throw new GovernanceFormatException(source, path, "must not be empty or blank");
    }

    public static long ReadInteger(JsonElement value, string source, string path, long min, long max)
    {
        if (value.ValueKind != JsonValueKind.Number || !CanonicalNumber.TryParse(value.GetRawText(), out var number)
            || number != decimal.Truncate(number) || number < min || number > max)
            throw new GovernanceFormatException(source, path, $"must be a whole number from {min} to {max}, not {Describe(value)}");
        return (long)number;
    }

    public static ImmutableArray<byte> ReadBytes(JsonElement value, string source, string path)
    {
        string text = ReadText(value, source, path);
        var bytes = new byte[text.Length * 3 / 4];
        // One written form per value: whitespace, missing padding or non-zero padding bits are refused.
        if (!Convert.TryFromBase64String(text, bytes, out int length) || Convert.ToBase64String(bytes, 0, length) != text)
            throw new GovernanceFormatException(source, path, "is not canonical base64 (RFC 4648 §4, padded, no whitespace)");
        return [.. bytes.AsSpan(0, length)];
    }

    public static TEnum ReadEnum<TEnum>(JsonElement value, string source, string path) where TEnum : struct, Enum
    {
        string text = ReadText(value, source, path);
        return Formats.TryParseName<TEnum>(text, out var result)
            ? result
            : throw new GovernanceFormatException(source, path, $"\"{Shorten(text)}\" is not one of {Formats.Names<TEnum>()}");
    }

    public static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string {Shorten(value.GetRawText())}",
        JsonValueKind.Number => $"the number {Shorten(value.GetRawText())}",
        _ => value.GetRawText(),
    };

    /// <summary><c>path.name</c>, or <c>path['name']</c> when the name is not a plain identifier.</summary>
    public static string Member(string path, string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
            ? $"{path}.{name}"
            : $"{path}['{Shorten(name).Replace("\\", "\\\\").Replace("'", "\\'")}']";

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
