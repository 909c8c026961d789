using System.Collections.Immutable;

namespace FedCore.Policy.Yaml;

/// <summary>A node of a policy file with the line it starts on; the loader's own tree, so every error can name its line.</summary>
internal abstract record YamlValue(int Line)
{
    public abstract string Describe();
}

/// <summary>
/// A scalar, kept as text: the loader decides its type from where it stands, so YAML 1.1 surprises (NO read as false)
/// cannot happen. <see cref="Block"/> is true for a literal block (<c>|</c>), whose text starts on the next line.
/// </summary>
internal sealed record YamlText(int Line, string Text, bool Quoted, bool Block) : YamlValue(Line)
{
    public override string Describe() => Text.Length == 0 ? "nothing" : $"the text \"{(Text.Length <= 40 ? Text : Text[..40] + "…")}\"";
}

internal sealed record YamlList(int Line, ImmutableArray<YamlValue> Items) : YamlValue(Line)
{
    public override string Describe() => "a list";
}

internal sealed record YamlMap(int Line, ImmutableArray<KeyValuePair<YamlText, YamlValue>> Entries) : YamlValue(Line)
{
    public override string Describe() => "a mapping";
}
