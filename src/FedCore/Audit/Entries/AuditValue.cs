using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FedCore.Governance.Canonical;
using FedCore.Governance.Membership;

namespace FedCore.Audit.Entries;

/// <summary>What a field of an audit entry may hold. There is no type for free bytes: the only bytes are a SHA-256 digest.</summary>
public enum AuditValueType
{
    /// <summary>A name: 1–128 ASCII letters, digits and <c>- _ . : / @ + |</c>, no run of more than 32 letters and digits.</summary>
    Identifier,
    /// <summary>An organisation id, <c>&lt;COUNTRY&gt;/&lt;name&gt;</c> (<see cref="OrganisationId"/>), within the identifier rules.</summary>
    Organisation,
    /// <summary>A SHA-256 digest: exactly 32 bytes, 64 lower-case hex digits on the wire.</summary>
    Digest,
    /// <summary>A whole number (64-bit).</summary>
    Integer,
    /// <summary>A finite binary64 number, written as the shortest decimal that reads back to it.</summary>
    Number,
    Boolean,
    /// <summary>One word of a closed list the field's schema gives (lower-case, digits, '-').</summary>
    Word,
    /// <summary>A short text (a reason): 1–1000 characters, no control, format or line-separator characters, no leading or trailing space.</summary>
    Text,
    /// <summary>An ISO 3166-1 alpha-2 code in capitals.</summary>
    Country,
    /// <summary>A UTC time in whole milliseconds, 1970 or later.</summary>
    Time,
}

/// <summary>
/// A SHA-256 digest: the one way bytes enter the audit log. Made from exactly 32 bytes, by hashing something
/// (<see cref="Hash"/>, e.g. a public key for its fingerprint), or from its 64 lower-case hex digits.
/// </summary>
public sealed class AuditDigest : IEquatable<AuditDigest>
{
    public const int Length = 32;

    private readonly byte[] _bytes;

    private AuditDigest(byte[] bytes) => _bytes = bytes;

    /// <summary>A digest already computed (exactly 32 bytes).</summary>
    /// <exception cref="ArgumentException">Not 32 bytes.</exception>
    public static AuditDigest FromSha256(ReadOnlySpan<byte> sha256) =>
        sha256.Length == Length
            ? new(sha256.ToArray())
            : throw new ArgumentException($"a SHA-256 digest is {Length} bytes, not {sha256.Length}", nameof(sha256));

    /// <summary>SHA-256 of <paramref name="data"/>: what the log records of a key, a file or a model instead of the thing itself.</summary>
    public static AuditDigest Hash(ReadOnlySpan<byte> data) => new(SHA256.HashData(data));

    /// <summary>A digest from 64 lower-case hex digits (the form governance records and the wire use).</summary>
    /// <exception cref="ArgumentException">Anything else.</exception>
    public static AuditDigest Parse(string hex) =>
        TryParse(hex, out var digest) ? digest! : throw new ArgumentException($"\"{AuditValue.Shorten(hex ?? "")}\" is not a SHA-256 digest in 64 lower-case hex digits", nameof(hex));

    public static bool TryParse(string? hex, out AuditDigest? digest)
    {
        digest = Formats.IsDigest(hex) ? new(Convert.FromHexString(hex!)) : null;
        return digest is not null;
    }

    public ImmutableArray<byte> Bytes => [.. _bytes];

    /// <summary>64 lower-case hex digits.</summary>
    public string Hex => Convert.ToHexStringLower(_bytes);

    public bool Equals(AuditDigest? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => Equals(obj as AuditDigest);

    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);

    public override string ToString() => Hex;
}

/// <summary>
/// One field value of an audit entry, checked when made: a scalar of an <see cref="AuditValueType"/>, or a list of
/// scalars of one type. Immutable; two values are equal when their wire forms are.
/// </summary>
public sealed class AuditValue : IEquatable<AuditValue>
{
    public const int MaxIdentifierLength = 128;
    public const int MaxTextLength = 1000;
    public const int MaxWordLength = 32;
    public const int MaxListItems = 1024;

    /// <summary>Longest run of consecutive ASCII letters and digits in an identifier or text: a GUID without dashes fits, hex or base64 of 32 bytes does not.</summary>
    public const int MaxAlphanumericRun = 32;

    private readonly object _value;

    private AuditValue(AuditValueType type, bool isList, object value)
    {
        Type = type;
        IsList = isList;
        _value = value;
    }

    public AuditValueType Type { get; }

    /// <summary>Whether this is a list of <see cref="Type"/> values (<see cref="Items"/>).</summary>
    public bool IsList { get; }

    public ImmutableArray<AuditValue> Items => IsList ? (ImmutableArray<AuditValue>)_value : throw Wrong("a list");

    /// <summary>The text of an identifier, organisation, word, text or country.</summary>
    public string AsString => !IsList && _value is string text ? text : throw Wrong("a string");

    public long AsInteger => !IsList && Type == AuditValueType.Integer ? (long)_value : throw Wrong("an integer");

    public double AsNumber => !IsList && Type == AuditValueType.Number ? (double)_value : throw Wrong("a number");

    public bool AsBoolean => !IsList && Type == AuditValueType.Boolean ? (bool)_value : throw Wrong("a boolean");

    public AuditDigest AsDigest => !IsList && Type == AuditValueType.Digest ? (AuditDigest)_value : throw Wrong("a digest");

    public DateTimeOffset AsTime => !IsList && Type == AuditValueType.Time ? (DateTimeOffset)_value : throw Wrong("a time");

    private InvalidOperationException Wrong(string what) => new($"The value is {Describe()}, not {what}.");

    internal string Describe() => IsList ? $"a list of {Type}" : Type.ToString();

    // ---- Scalars ------------------------------------------------------------------------------------------------

    /// <exception cref="ArgumentException">Outside the identifier rules (<see cref="AuditValueType.Identifier"/>).</exception>
    public static AuditValue Identifier(string id) => new(AuditValueType.Identifier, false, Check(id, IdentifierProblem(id)));

    /// <exception cref="ArgumentException">Not an organisation id, or outside the identifier rules.</exception>
    public static AuditValue Organisation(string id) => new(AuditValueType.Organisation, false, Check(id, OrganisationProblem(id)));

    public static AuditValue Digest(AuditDigest digest) => new(AuditValueType.Digest, false, digest ?? throw new ArgumentNullException(nameof(digest)));

    public static AuditValue Integer(long value) => new(AuditValueType.Integer, false, value);

    /// <exception cref="ArgumentException">Not finite, or its shortest decimal form has more than 28 decimal places or a magnitude from 10^28.</exception>
    public static AuditValue Number(double value)
    {
        _ = NumberText(value);
        return new(AuditValueType.Number, false, value == 0 ? 0.0 : value); // -0 is 0: one form
    }

    public static AuditValue Boolean(bool value) => new(AuditValueType.Boolean, false, value);

    /// <exception cref="ArgumentException">Not 1–32 lower-case letters, digits and '-', starting with a letter.</exception>
    public static AuditValue Word(string word) => new(AuditValueType.Word, false, Check(word, WordProblem(word)));

    /// <exception cref="ArgumentException">Outside the text rules (<see cref="AuditValueType.Text"/>).</exception>
    public static AuditValue Text(string text) => new(AuditValueType.Text, false, Check(text, TextProblem(text)));

    /// <exception cref="ArgumentException">Not two capital letters.</exception>
    public static AuditValue Country(string code) =>
        new(AuditValueType.Country, false, Check(code, Formats.IsCountryCode(code) ? null : $"\"{Shorten(code ?? "")}\" is not a country code (two capital letters, ISO 3166-1 alpha-2)"));

    /// <summary>A time, taken to UTC (the same instant).</summary>
    /// <exception cref="ArgumentException">Not a whole millisecond, or before 1970.</exception>
    public static AuditValue Time(DateTimeOffset time)
    {
        if (TimeProblem(time) is { } problem)
            throw new ArgumentException(problem, nameof(time));
        return new(AuditValueType.Time, false, time.ToUniversalTime());
    }

    /// <summary>A list of scalars, each of <paramref name="itemType"/>, in the order given.</summary>
    /// <exception cref="ArgumentException">An item that is a list or of another type, or more than <see cref="MaxListItems"/> items.</exception>
    public static AuditValue List(AuditValueType itemType, IEnumerable<AuditValue> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var array = items.ToImmutableArray();
        if (array.Length > MaxListItems)
            throw new ArgumentException($"a list holds at most {MaxListItems} items, not {array.Length}", nameof(items));
        for (int i = 0; i < array.Length; i++)
            if (array[i] is null || array[i].IsList || array[i].Type != itemType)
                throw new ArgumentException($"[{i}]: is {array[i]?.Describe() ?? "null"}, not {itemType}", nameof(items));
        return new(itemType, true, array);
    }

    // ---- Rules --------------------------------------------------------------------------------------------------

    private static string Check(string text, string? problem) => problem is null ? text : throw new ArgumentException(problem);

    internal static string? IdentifierProblem(string? id)
    {
        if (string.IsNullOrEmpty(id))
            return "an identifier must not be empty";
        if (id.Length > MaxIdentifierLength)
            return $"an identifier has at most {MaxIdentifierLength} characters, not {id.Length}";
        foreach (char c in id)
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.' or ':' or '/' or '@' or '+' or '|'))
                return $"\"{Shorten(id)}\" has '{Escape(c)}': an identifier uses ASCII letters, digits and - _ . : / @ + |";
        return RunProblem(id);
    }

    private static string? OrganisationProblem(string? id) =>
        IdentifierProblem(id) ?? (OrganisationId.TryParse(id, out _, out var error) ? null : error);

    private static string? WordProblem(string? word)
    {
        if (string.IsNullOrEmpty(word) || word.Length > MaxWordLength || !char.IsAsciiLetterLower(word[0])
            || !word.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            return $"\"{Shorten(word ?? "")}\" is not a word (1–{MaxWordLength} lower-case letters, digits and '-', starting with a letter)";
        return null;
    }

    internal static string? TextProblem(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return "a text must not be empty";
        if (text.Length > MaxTextLength)
            return $"a text has at most {MaxTextLength} characters, not {text.Length}";
        if (text.Trim() != text)
            return "a text must not begin or end with white space";
        for (int i = 0; i < text.Length; i++)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out int used) != System.Buffers.OperationStatus.Done)
                return $"character {i + 1} is a lone surrogate";
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned)
                return $"character {i + 1} (U+{rune.Value:X4}) is a {category} character: a text is one line of printable characters";
            i += used - 1;
        }
        return RunProblem(text);
    }

    /// <summary>Hex or base64 of a key or a record is a long run of letters and digits; words and ids are not.</summary>
    private static string? RunProblem(string text)
    {
        int run = 0;
        foreach (char c in text)
        {
            run = char.IsAsciiLetterOrDigit(c) ? run + 1 : 0;
            if (run > MaxAlphanumericRun)
                return $"\"{Shorten(text)}\" has a run of more than {MaxAlphanumericRun} letters and digits, which looks like encoded bytes (log a digest instead)";
        }
        return null;
    }

    internal static string? TimeProblem(DateTimeOffset time)
    {
        if (time.Ticks % TimeSpan.TicksPerMillisecond != 0)
            return $"{time:O} is not a whole millisecond";
        if (time < DateTimeOffset.UnixEpoch)
            return $"{time:O} is before 1970-01-01T00:00:00Z";
        return null;
    }

    /// <summary>The wire text of a number: its shortest round-trip decimal in plain digits.</summary>
    internal static string NumberText(double value)
    {
        if (!double.IsFinite(value))
            throw new ArgumentException($"{value.ToString(CultureInfo.InvariantCulture)} is not a finite number", nameof(value));
        if (!CanonicalNumber.TryParse(value.ToString("R", CultureInfo.InvariantCulture), out var exact))
            throw new ArgumentException($"{value.ToString("R", CultureInfo.InvariantCulture)} has no plain decimal form within {CanonicalNumber.MaxDigits} decimal places and below 10^{CanonicalNumber.MaxDigits}", nameof(value));
        return CanonicalNumber.Format(exact);
    }

    internal static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static string Escape(char c) => c < ' ' || c > '~' ? $"U+{(int)c:X4}" : c.ToString();

    // ---- Wire form ----------------------------------------------------------------------------------------------

    internal JsonNode ToJson()
    {
        if (IsList)
            return new JsonArray([.. Items.Select(item => item.ToJson())]);
        return Type switch
        {
            AuditValueType.Digest => JsonValue.Create(AsDigest.Hex),
            AuditValueType.Integer => JsonValue.Create(AsInteger),
            AuditValueType.Number => JsonValue.Create(decimal.Parse(NumberText(AsNumber), CultureInfo.InvariantCulture)),
            AuditValueType.Boolean => JsonValue.Create(AsBoolean),
            AuditValueType.Time => JsonValue.Create(TreeHead.FormatTime(AsTime)),
            _ => JsonValue.Create(AsString),
        };
    }

    /// <summary>The value's canonical JSON.</summary>
    public override string ToString() => Encoding.UTF8.GetString(CanonicalJson.Write(ToJson()));

    public bool Equals(AuditValue? other) => other is not null && Type == other.Type && IsList == other.IsList && ToString() == other.ToString();

    public override bool Equals(object? obj) => Equals(obj as AuditValue);

    public override int GetHashCode() => HashCode.Combine(Type, IsList, ToString());
}
