using FedCore.Governance.Canonical;

namespace FedCore.Governance;

/// <summary>The names governance records give enum values (kebab case: <c>organisation-admin</c>), for tools that read or show them.</summary>
public static class GovernanceNames
{
    public static string Of<TEnum>(TEnum value) where TEnum : struct, Enum => Formats.Name(value);

    public static bool TryParse<TEnum>(string text, out TEnum value) where TEnum : struct, Enum => Formats.TryParseName(text, out value);

    /// <summary>The value named <paramref name="text"/>.</summary>
    /// <exception cref="ArgumentException">It names none; the message names <paramref name="field"/> and every name.</exception>
    public static TEnum Parse<TEnum>(string text, string field) where TEnum : struct, Enum =>
        TryParse(text, out TEnum value) ? value : throw new ArgumentException($"{field}: '{text}' is not one of {All<TEnum>()}");

    /// <summary>Every name of <typeparamref name="TEnum"/>, comma-separated (for messages).</summary>
    public static string All<TEnum>() where TEnum : struct, Enum => Formats.Names<TEnum>();

    /// <summary>A time as governance records write it: UTC, whole seconds (<c>2025-03-01T09:00:00Z</c>).</summary>
    public static string Time(DateTimeOffset time) => Formats.Time(time);
}
