using FedCore.Policy.Language;

namespace FedCore.Policy.Yaml;

/// <summary>
/// Reads one mapping of a policy file closed-world: a key not in the known list is an error (a typo such as
/// <c>efect:</c> never leaves a rule without its effect), and every error names the file and line.
/// </summary>
internal sealed class YamlFields
{
    private readonly Dictionary<string, YamlValue> _values;

    private YamlFields(string file, string context, YamlMap map, Dictionary<string, YamlValue> values)
    {
        File = file;
        Context = context;
        Map = map;
        _values = values;
    }

    public string File { get; }

    /// <summary>What the mapping is (<c>rule gdpr-art-46</c>), put before every problem.</summary>
    public string Context { get; }

    public YamlMap Map { get; }

    public static YamlFields Of(YamlValue value, string file, string context, params string[] known)
    {
        if (value is not YamlMap map)
            throw new PolicyLoadException(file, value.Line, $"{context} must be a mapping of keys to values, not {value.Describe()}");
        var values = new Dictionary<string, YamlValue>(StringComparer.Ordinal);
        foreach (var (key, item) in map.Entries)
        {
            if (!known.Contains(key.Text, StringComparer.Ordinal))
                throw new PolicyLoadException(file, key.Line, $"{context}: '{key.Text}' is not a known key (known: {string.Join(", ", known)})");
            values[key.Text] = item;
        }
        return new YamlFields(file, context, map, values);
    }

    /// <summary>"rule r1" when the mapping has a plain <paramref name="idKey"/>, so that even its first error names it; else the fallback.</summary>
    public static string Name(YamlValue value, string idKey, string kind, string fallback) =>
        value is YamlMap map && map.Entries.FirstOrDefault(e => e.Key.Text == idKey).Value is YamlText { Text.Length: > 0 and <= 100 } id
            ? $"{kind} {id.Text}"
            : fallback;

    public PolicyLoadException Error(YamlValue at, string problem) => new(File, at.Line, $"{Context}: {problem}");

    public bool Has(string key) => _values.ContainsKey(key);

    public YamlValue Required(string key) =>
        _values.TryGetValue(key, out var value) ? value : throw new PolicyLoadException(File, Map.Line, $"{Context}: '{key}' is missing");

    public YamlValue? Optional(string key) => _values.GetValueOrDefault(key);

    public YamlText Scalar(string key)
    {
        var value = Required(key);
        if (value is not YamlText text)
            throw Error(value, $"'{key}' must be a single value, not {value.Describe()}");
        if (string.IsNullOrWhiteSpace(text.Text))
            throw Error(value, $"'{key}' is empty");
        return text;
    }

    public string Text(string key) => Scalar(key).Text;

    /// <summary>A name such as a pack or rule id: lower-case letters, digits and hyphens, so it reads the same everywhere it is cited.</summary>
    public string Id(string key)
    {
        var text = Scalar(key);
        return IsId(text.Text) ? text.Text : throw Error(text, $"'{key}' \"{text.Text}\" must be lower-case letters, digits, '-' and '.' (starting with a letter)");
    }

    public DateOnly Date(string key)
    {
        var text = Scalar(key);
        return Dates.TryParse(text.Text, out var date)
            ? date
            : throw Error(text, $"'{key}' \"{text.Text}\" is not a date written yyyy-mm-dd (a real day)");
    }

    public DateOnly? OptionalDate(string key) => Has(key) ? Date(key) : null;

    public bool Boolean(string key)
    {
        var text = Scalar(key);
        return text is { Quoted: false, Text: "true" or "false" }
            ? text.Text == "true"
            : throw Error(text, $"'{key}' must be true or false, not {text.Describe()}");
    }

    public static bool IsId(string text) =>
        text.Length is > 0 and <= 100 && char.IsAsciiLetterLower(text[0])
        && text.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.');
}
