using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace FedCore.Governance.Canonical;

/// <summary>The textual forms governance documents share: one form per value, so that reading and writing round-trip.</summary>
internal static class Formats
{
    /// <summary>Times are UTC with whole seconds, e.g. <c>2025-03-01T09:00:00Z</c>.</summary>
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    public static bool TryParseTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(text, TimeFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    /// <summary>A time has one written form only if it is UTC and a whole second.</summary>
    public static bool IsUtcSeconds(DateTimeOffset time) => time.Offset == TimeSpan.Zero && time.Ticks % TimeSpan.TicksPerSecond == 0;

    /// <summary>The shape of an ISO 3166-1 alpha-2 code: two capital ASCII letters (the list of assigned codes is not checked).</summary>
    public static bool IsCountryCode(string? text) =>
        text is { Length: 2 } && char.IsAsciiLetterUpper(text[0]) && char.IsAsciiLetterUpper(text[1]);

    /// <summary>64 lower-case hex digits: a SHA-256 digest.</summary>
    public static bool IsDigest(string? text) => text is { Length: 64 } && text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    /// <summary>Non-empty after trimming, and encodable as UTF-8.</summary>
    public static bool IsText(string? text) => !string.IsNullOrWhiteSpace(text) && CanonicalJson.IsWellFormed(text);

    /// <summary>Letters, digits, '-', '_' and '.': the names of organisations and datasets, safe in paths and keys.</summary>
    public static bool IsName(string? text) =>
        !string.IsNullOrEmpty(text) && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>
    /// DER of SubjectPublicKeyInfo {id-ecPublicKey, prime256v1} up to the BIT STRING's content, then 0x04 (uncompressed point).
    /// </summary>
    private static readonly byte[] P256SpkiPrefix = Convert.FromHexString("3059301306072a8648ce3d020106082a8648ce3d030107034200" + "04");

    /// <summary>
    /// Whether a public key has the one form participants' keys take: a P-256 SubjectPublicKeyInfo with an uncompressed
    /// point, 91 bytes, as <c>ParticipantSigningKey.PublicKey</c> exports it. Checked by shape, without parsing, so that no
    /// key bytes can make a reader throw; whether the point lies on the curve is found when a signature is verified.
    /// </summary>
    public static bool IsP256PublicKey(ImmutableArray<byte> spki) =>
        !spki.IsDefault && spki.Length == P256SpkiPrefix.Length + 64 && spki.AsSpan().StartsWith(P256SpkiPrefix);

    /// <summary>The JSON name of an enum value: its C# name in kebab case (OrganisationAdmin → organisation-admin).</summary>
    public static string Name<TEnum>(TEnum value) where TEnum : struct, Enum
    {
        string name = value.ToString();
        var text = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsAsciiLetterUpper(name[i]))
                text.Append('-');
            text.Append(char.ToLowerInvariant(name[i]));
        }
        return text.ToString();
    }

    public static bool TryParseName<TEnum>(string text, out TEnum value) where TEnum : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<TEnum>())
        {
            if (Name(candidate) == text)
            {
                value = candidate;
                return true;
            }
        }
        value = default;
        return false;
    }

    public static string Names<TEnum>() where TEnum : struct, Enum => string.Join(", ", Enum.GetValues<TEnum>().Select(Name));

    /// <summary>
    /// A set written as a JSON array in ordinal order of its items' keys, so that the order in which a file lists a
    /// set never changes the canonical bytes (and so never breaks a signature).
    /// </summary>
    public static JsonArray Set<T>(ImmutableArray<T> items, Func<T, string> key, Func<T, JsonNode?> write) =>
        new([.. items.OrderBy(key, StringComparer.Ordinal).Select(write)]);

    public static JsonArray Set(ImmutableArray<string> items) => Set(items, item => item, item => item);

    public static string Base64(ImmutableArray<byte> bytes) => Convert.ToBase64String(bytes.AsSpan());

    /// <summary>The first index of an item whose key equals an earlier one's, or -1.</summary>
    public static int FirstDuplicate<T>(ImmutableArray<T> items, Func<T, string> key)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < items.Length; i++)
            if (!seen.Add(key(items[i])))
                return i;
        return -1;
    }
}
