using System.Collections.Immutable;
using System.Text;
using FedCore.Governance.Canonical;

namespace FedCore.Audit.Entries;

/// <summary>An audit entry that breaks its kind's schema: names the kind, the field (or <c>actor</c>, <c>country</c>, <c>time</c>) and the problem.</summary>
public sealed class AuditEntryException(AuditEventKind kind, string field, string problem, Exception? inner = null)
    : ArgumentException($"{SafeWireName(kind)}: {field}: {problem}", inner)
{
    public AuditEventKind Kind { get; } = kind;

    /// <summary>The field's name, with the item for a list (<c>reasons[2]</c>); or <c>kind</c>, <c>actor</c>, <c>country</c>, <c>time</c>.</summary>
    public string Field { get; } = field;

    public string Problem { get; } = problem;

    private static string SafeWireName(AuditEventKind kind) =>
        Enum.IsDefined(kind) ? AuditSchema.WireName(kind) : $"kind {(int)kind}";
}

/// <summary>
/// One entry of the audit log: what happened (<see cref="Kind"/>), when (<see cref="Time"/>, UTC, whole milliseconds),
/// who did it (<see cref="Actor"/>), in which country (<see cref="Country"/>), and the kind's fields, each checked
/// against <see cref="AuditSchema"/>. Immutable; two entries are equal when their canonical bytes
/// (<see cref="AuditEntryJson.Write"/>) are.
/// </summary>
public sealed class AuditEntry : IEquatable<AuditEntry>
{
    private byte[]? _bytes;

    private AuditEntry(AuditEventKind kind, DateTimeOffset time, AuditActor actor, string country, ImmutableSortedDictionary<string, AuditValue> fields,
        ImmutableArray<byte>? signature = null)
    {
        Kind = kind;
        Time = time;
        Actor = actor;
        Country = country;
        Fields = fields;
        Signature = signature;
    }

    /// <summary>The domain of an actor's signature over an entry (<see cref="Statement"/>).</summary>
    public const string SignatureTag = "federation/audit/entry/v1";

    /// <summary>
    /// The actor's signature (ECDSA P-256, P1363, 64 bytes) over the entry's canonical bytes without it, or null. An
    /// organisation signs what it records with its membership key, so an entry in its name that it did not make can be told.
    /// </summary>
    public ImmutableArray<byte>? Signature { get; }

    /// <summary>This entry signed with <paramref name="key"/> (the actor's).</summary>
    public AuditEntry SignedWith(FedCore.Aggregation.Integrity.ParticipantSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return WithSignature(Statement.Sign(key, SignatureTag, UnsignedBytes));
    }

    /// <summary>Whether <see cref="Signature"/> is present and verifies with <paramref name="publicKey"/> (SubjectPublicKeyInfo DER).</summary>
    public bool VerifySignature(ImmutableArray<byte> publicKey) =>
        Signature is { } signature && Statement.Verify(publicKey, SignatureTag, UnsignedBytes, signature);

    internal AuditEntry WithSignature(ImmutableArray<byte> signature) =>
        signature.Length == SignatureLength
            ? new AuditEntry(Kind, Time, Actor, Country, Fields, signature)
            : throw new AuditEntryException(Kind, "signature", $"has {signature.Length} bytes; a signature has {SignatureLength}");

    public const int SignatureLength = 64;

    private byte[] UnsignedBytes => AuditEntryJson.Encode(this, withSignature: false);

    public AuditEventKind Kind { get; }

    /// <summary>The kind's wire name, e.g. <c>job.started</c>.</summary>
    public string WireName => AuditSchema.WireName(Kind);

    /// <summary>UTC, whole milliseconds, 1970 or later.</summary>
    public DateTimeOffset Time { get; }

    public AuditActor Actor { get; }

    /// <summary>Where it happened: an ISO 3166-1 alpha-2 code; a silo's own country when the actor is a silo.</summary>
    public string Country { get; }

    /// <summary>The fields present, by name (ordinal order); optional fields left out are absent.</summary>
    public ImmutableSortedDictionary<string, AuditValue> Fields { get; }

    public AuditValue? this[string name] => Fields.TryGetValue(name, out var value) ? value : null;

    /// <summary>An entry from checked values. The time is taken to UTC (the same instant); it must be a whole millisecond.</summary>
    /// <exception cref="AuditEntryException">The kind is unknown; the actor may not record this kind; the country is not a code
    /// (or not the silo's own); the time is not a whole millisecond or is before 1970; a field is unknown, given twice,
    /// missing, of the wrong type or outside its range or words; paired lists differ in length.</exception>
    public static AuditEntry Create(AuditEventKind kind, DateTimeOffset time, AuditActor actor, string country,
        IEnumerable<KeyValuePair<string, AuditValue>> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (!Enum.IsDefined(kind))
            throw new AuditEntryException(kind, "kind", "is not an audit event kind");
        var schema = AuditSchema.Of(kind);
        if (actor is null)
            throw new AuditEntryException(kind, "actor", "is required");
        if (!schema.Actors.Contains(actor.Kind))
            throw new AuditEntryException(kind, "actor", $"{actor} is {Article(actor.Kind)}; {schema.WireName} is recorded by {string.Join(" or ", schema.Actors.Select(Article))}");
        if (!Formats.IsCountryCode(country))
            throw new AuditEntryException(kind, "country", $"\"{AuditValue.Shorten(country ?? "")}\" is not a country code (two capital letters, ISO 3166-1 alpha-2)");
        if (actor.Kind == AuditActorKind.Silo && actor.Country != country)
            throw new AuditEntryException(kind, "country", $"{country}, but the actor is {actor}: a silo acts in its own country");
        if (AuditValue.TimeProblem(time) is { } timeProblem)
            throw new AuditEntryException(kind, "time", timeProblem);

        var values = ImmutableSortedDictionary.CreateBuilder<string, AuditValue>(StringComparer.Ordinal);
        foreach (var (name, value) in fields)
        {
            if (name is null || !schema.ByName.TryGetValue(name, out var spec))
                throw new AuditEntryException(kind, name ?? "(null)", $"is not a field of {schema.WireName} (its fields: {string.Join(", ", schema.Fields.Select(f => f.Name))})");
            if (value is null)
                throw new AuditEntryException(kind, name, "is null; leave an optional field out instead");
            if (!values.TryAdd(name, value))
                throw new AuditEntryException(kind, name, "is given twice");
            if (spec.Problem(value) is { } problem)
                throw new AuditEntryException(kind, problem.StartsWith('[') ? name + problem[..(problem.IndexOf(':'))] : name,
                    problem.StartsWith('[') ? problem[(problem.IndexOf(':') + 2)..] : problem);
        }
        foreach (var spec in schema.Fields)
        {
            if (spec.Required && !values.ContainsKey(spec.Name))
                throw new AuditEntryException(kind, spec.Name, $"is required ({spec.Describe()})");
            if (spec.SameLengthAs is { } other && values.TryGetValue(spec.Name, out var list) && values.TryGetValue(other, out var paired)
                && list.Items.Length != paired.Items.Length)
                throw new AuditEntryException(kind, spec.Name, $"has {list.Items.Length} items but {other} has {paired.Items.Length}: they pair item by item");
        }
        return new AuditEntry(kind, time.ToUniversalTime(), actor, country, values.ToImmutable());
    }

    /// <summary>
    /// What the factories call: plain values (string, long, int, double, bool, time, <see cref="AuditDigest"/>, enum, or
    /// sequences of these) converted to each field's type; a null value leaves an optional field out. The time is
    /// truncated to the millisecond and taken to UTC. Every problem is an <see cref="AuditEntryException"/> naming the field.
    /// </summary>
    internal static AuditEntry FromValues(AuditEventKind kind, DateTimeOffset time, AuditActor actor, string country,
        params (string Name, object? Value)[] fields)
    {
        var schema = AuditSchema.Of(kind);
        var values = new List<KeyValuePair<string, AuditValue>>(fields.Length);
        foreach (var (name, raw) in fields)
        {
            if (raw is null)
                continue;
            if (!schema.ByName.TryGetValue(name, out var spec))
                throw new AuditEntryException(kind, name, $"is not a field of {schema.WireName}");
            try
            {
                values.Add(KeyValuePair.Create(name, spec.Convert(raw)));
            }
            catch (ArgumentException e)
            {
                string message = StripParameter(e.Message);
                bool item = message.StartsWith('[');
                throw new AuditEntryException(kind, item ? name + message[..message.IndexOf(':')] : name,
                    item ? message[(message.IndexOf(':') + 2)..] : message, e);
            }
        }
        var truncated = DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());
        return Create(kind, truncated, actor, country, values);
    }

    private static string StripParameter(string message)
    {
        int at = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return at < 0 ? message : message[..at];
    }

    private static string Article(AuditActorKind kind) => kind switch
    {
        AuditActorKind.Federation => "the federation",
        AuditActorKind.Silo => "a silo",
        AuditActorKind.Organisation => "an organisation",
        _ => "a user",
    };

    internal byte[] Bytes => _bytes ??= AuditEntryJson.Encode(this, withSignature: true);

    public bool Equals(AuditEntry? other) => other is not null && Bytes.AsSpan().SequenceEqual(other.Bytes);

    public override bool Equals(object? obj) => Equals(obj as AuditEntry);

    public override int GetHashCode() => HashCode.Combine(Kind, Time, Fields.Count);

    /// <summary>The entry's canonical JSON.</summary>
    public override string ToString() => Encoding.UTF8.GetString(Bytes);
}
