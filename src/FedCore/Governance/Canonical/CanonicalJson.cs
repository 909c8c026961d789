using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FedCore.Governance.Canonical;

/// <summary>
/// Writes one byte string per JSON value, so that signatures can cover a parsed model rather than the text it came from:
/// <list type="bullet">
/// <item>object members sorted by key, ordinal over UTF-16 code units; no insignificant whitespace;</item>
/// <item>strings as UTF-8, escaping only <c>"</c> as <c>\"</c>, <c>\</c> as <c>\\</c>, and the controls U+0000–U+001F
/// (<c>\b \t \n \f \r</c>, the rest <c>\u00xx</c> in lower-case hex); everything else is written as itself;</item>
/// <item>numbers as exact decimals in plain digits (<c>100</c>, <c>0.00001</c>, <c>-1.5</c>): no exponent, no leading
/// zeros, no trailing fractional zeros, zero as <c>0</c>;</item>
/// <item><c>true</c>, <c>false</c>, <c>null</c>; arrays keep their order.</item>
/// </list>
/// <see cref="WriteIndented"/> gives the same text laid out for people (two spaces, "\n"); governance files are written so.
/// </summary>
public static class CanonicalJson
{
    /// <summary>The canonical bytes of a value.</summary>
    /// <exception cref="ArgumentException">A number has no exact decimal form (more than 28 significant digits or
    /// decimal places, or a magnitude from 10^28), or a string is not well-formed UTF-16.</exception>
    public static byte[] Write(JsonNode? value)
    {
        var text = new StringBuilder();
        Append(text, value, indent: null);
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>The canonical value laid out for people, ending in a newline. Reading it back gives the same canonical bytes.</summary>
    /// <exception cref="ArgumentException">As for <see cref="Write"/>.</exception>
    public static byte[] WriteIndented(JsonNode? value)
    {
        var text = new StringBuilder();
        Append(text, value, indent: 0);
        text.Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static void Append(StringBuilder text, JsonNode? value, int? indent)
    {
        switch (value)
        {
            case null:
                text.Append("null");
                break;
            case JsonObject obj:
                var members = obj.OrderBy(member => member.Key, StringComparer.Ordinal).ToList();
                AppendContainer(text, '{', '}', members.Count, indent, (i, inner) =>
                {
                    AppendString(text, members[i].Key);
                    text.Append(inner is null ? ":" : ": ");
                    Append(text, members[i].Value, inner);
                });
                break;
            case JsonArray array:
                AppendContainer(text, '[', ']', array.Count, indent, (i, inner) => Append(text, array[i], inner));
                break;
            default:
                AppendScalar(text, value);
                break;
        }
    }

    private static void AppendContainer(StringBuilder text, char open, char close, int count, int? indent, Action<int, int?> item)
    {
        text.Append(open);
        int? inner = indent + 1;
        for (int i = 0; i < count; i++)
        {
            if (i > 0)
                text.Append(',');
            if (inner is { } depth)
                text.Append('\n').Append(' ', 2 * depth);
            item(i, inner);
        }
        if (indent is { } outer && count > 0)
            text.Append('\n').Append(' ', 2 * outer);
        text.Append(close);
    }

    private static void AppendScalar(StringBuilder text, JsonNode value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                AppendString(text, value.GetValue<string>());
                break;
            case JsonValueKind.Number:
                // The node's own text ("1.50" for a decimal 1.50m, or the raw text of a parsed number) read exactly.
                string raw = value.ToJsonString();
                if (!CanonicalNumber.TryParse(raw, out var number))
                    throw new ArgumentException($"The number {Shorten(raw)} has no exact decimal form (at most {CanonicalNumber.MaxDigits} significant digits and decimal places, magnitude below 10^{CanonicalNumber.MaxDigits}).", nameof(value));
                text.Append(CanonicalNumber.Format(number));
                break;
            case JsonValueKind.True:
                text.Append("true");
                break;
            case JsonValueKind.False:
                text.Append("false");
                break;
            default:
                text.Append("null");
                break;
        }
    }

    private static void AppendString(StringBuilder text, string value)
    {
        if (!IsWellFormed(value))
            throw new ArgumentException($"The string {Shorten(value)} is not well-formed UTF-16 (a lone surrogate).", nameof(value));
        text.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\b': text.Append("\\b"); break;
                case '\t': text.Append("\\t"); break;
                case '\n': text.Append("\\n"); break;
                case '\f': text.Append("\\f"); break;
                case '\r': text.Append("\\r"); break;
                case < ' ': text.Append("\\u00").Append(((int)c).ToString("x2")); break;
                default: text.Append(c); break;
            }
        }
        text.Append('"');
    }

    /// <summary>True when every surrogate is part of a pair, so that the string has a UTF-8 encoding.</summary>
    internal static bool IsWellFormed(string value)
    {
        for (int i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                i++;
            else if (char.IsSurrogate(value[i]))
                return false;
        }
        return true;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
