using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCore.Governance;
using FedCore.Governance.Canonical;

namespace FedCore.Audit.Entries;

/// <summary>
/// An entry's canonical bytes, the leaf the Merkle tree hashes: compact canonical JSON on one line (keys sorted, no
/// white space, strings escaped so that no newline appears), e.g.
/// <code>{"actor":"silo/HU","country":"HU","fields":{"job":"HU/diabetes","round":3},"kind":"…","time":"2025-03-01T09:00:00.250Z","v":1}</code>
/// <see cref="Read"/> is closed-world and accepts only what <see cref="Write"/> gives, so an entry has one written form.
/// </summary>
public static class AuditEntryJson
{
    /// <summary>The format's version, written as <c>"v": 1</c>.</summary>
    public const int Version = 1;

    /// <summary>Larger entries are refused unread.</summary>
    public const int MaxBytes = 64 << 10;

    /// <summary>The entry's canonical bytes (no trailing newline).</summary>
    public static byte[] Write(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return [.. entry.Bytes];
    }

    internal static byte[] Encode(AuditEntry entry, bool withSignature)
    {
        var fields = new JsonObject();
        foreach (var (name, value) in entry.Fields)
            fields[name] = value.ToJson();
        var json = new JsonObject
        {
            ["v"] = Version,
            ["kind"] = entry.WireName,
            ["time"] = TreeHead.FormatTime(entry.Time),
            ["actor"] = entry.Actor.Name,
            ["country"] = entry.Country,
            ["fields"] = fields,
        };
        if (withSignature && entry.Signature is { } signature)
            json["signature"] = Convert.ToBase64String(signature.AsSpan());
        return CanonicalJson.Write(json);
    }

    /// <summary>Reads <see cref="Write"/>'s form and nothing else.</summary>
    /// <exception cref="AuditFormatException">Not that form: names the JSON path (e.g. <c>$.fields.reasons[1]</c>) and the problem.</exception>
    public static AuditEntry Read(ReadOnlySpan<byte> bytes, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        try
        {
            return Parse(bytes, sourceName);
        }
        catch (GovernanceFormatException e)
        {
            throw new AuditFormatException(e.SourceName, e.JsonPath, e.Problem, e);
        }
    }

    private static AuditEntry Parse(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length > MaxBytes)
            throw new GovernanceFormatException(source, "$", $"is {bytes.Length} bytes; at most {MaxBytes} are read");
        AuditEntry entry;
        using (var document = JsonInput.Parse(bytes.ToArray(), source, MaxBytes))
        {
            var root = JsonFields.Of(document.RootElement, source, "$", "actor", "country", "fields", "kind", "signature", "time", "v");
            root.Integer("v", Version, Version);
            string wireName = root.Text("kind");
            if (!AuditSchema.TryParseWireName(wireName, out var kind))
                throw root.Error("kind", $"\"{AuditValue.Shorten(wireName)}\" is not a kind of audit entry");
            var schema = AuditSchema.Of(kind);
            string timeText = root.Text("time");
            if (!TreeHead.TryParseTime(timeText, out var time))
                throw root.Error("time", $"\"{AuditValue.Shorten(timeText)}\" is not a UTC time of the form 2025-03-01T09:00:00.250Z (three fractional digits, 'Z')");
            string actorText = root.Text("actor");
            if (!AuditActor.TryParse(actorText, out var actor, out var actorError))
                throw root.Error("actor", actorError);
            string country = root.Text("country");

            var fieldsElement = root.Required("fields");
            string fieldsPath = root.At("fields");
            if (fieldsElement.ValueKind != JsonValueKind.Object)
                throw new GovernanceFormatException(source, fieldsPath, $"must be an object, not {JsonFields.Describe(fieldsElement)}");
            var names = schema.Fields.Select(f => f.Name).ToArray();
            var fields = JsonFields.Of(fieldsElement, source, fieldsPath, names); // closed-world: unknown and repeated names
            var values = new List<KeyValuePair<string, AuditValue>>();
            foreach (var property in fieldsElement.EnumerateObject())
            {
                var spec = schema.ByName[property.Name];
                string path = fields.At(property.Name);
                if (property.Value.ValueKind == JsonValueKind.Null)
                    throw new GovernanceFormatException(source, path, "is null; an optional field that is not there is left out");
                values.Add(KeyValuePair.Create(property.Name, ReadValue(spec, property.Value, source, path)));
            }
            try
            {
                entry = AuditEntry.Create(kind, time, actor, country, values);
            }
            catch (AuditEntryException e)
            {
                string path = e.Field switch
                {
                    "actor" or "country" or "time" or "kind" => root.At(e.Field),
                    _ => fieldsPath + (char.IsAsciiLetter(e.Field[0]) ? "." : "") + e.Field,
                };
                throw new GovernanceFormatException(source, path, e.Problem, e);
            }
            if (root.OptionalBytes("signature") is { } signature)
            {
                if (signature.Length != AuditEntry.SignatureLength)
                    throw root.Error("signature", $"has {signature.Length} bytes; a signature has {AuditEntry.SignatureLength}");
                entry = entry.WithSignature(signature);
            }
        }
        // One written form: anything the reading above accepts but Write would not produce (key order, white space, escapes).
        var canonical = entry.Bytes;
        if (!bytes.SequenceEqual(canonical))
            throw new GovernanceFormatException(source, "$",
                $"is not in its one written form (canonical JSON on one line, keys sorted): it differs at byte {bytes.CommonPrefixLength(canonical) + 1}");
        return entry;
    }

    private static AuditValue ReadValue(AuditFieldSpec spec, JsonElement value, string source, string path)
    {
        if (!spec.IsList)
            return ReadScalar(spec.Type, value, source, path);
        if (value.ValueKind != JsonValueKind.Array)
            throw new GovernanceFormatException(source, path, $"must be an array, not {JsonFields.Describe(value)}");
        if (value.GetArrayLength() > AuditValue.MaxListItems)
            throw new GovernanceFormatException(source, path, $"has {value.GetArrayLength()} items; at most {AuditValue.MaxListItems}");
        int index = 0;
        var items = new List<AuditValue>();
        foreach (var item in value.EnumerateArray())
            items.Add(ReadScalar(spec.Type, item, source, $"{path}[{index++}]"));
        return AuditValue.List(spec.Type, items);
    }

    private static AuditValue ReadScalar(AuditValueType type, JsonElement value, string source, string path)
    {
        try
        {
            switch (type)
            {
                case AuditValueType.Integer:
                    long integer = JsonFields.ReadInteger(value, source, path, long.MinValue, long.MaxValue);
                    return value.GetRawText() == integer.ToString(CultureInfo.InvariantCulture)
                        ? AuditValue.Integer(integer)
                        : throw new GovernanceFormatException(source, path, $"{value.GetRawText()} is not written as plain digits ({integer})");
                case AuditValueType.Number:
                    string raw = value.GetRawText();
                    if (value.ValueKind != JsonValueKind.Number || !CanonicalNumber.TryParse(raw, out _)
                        || !double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) || !double.IsFinite(number))
                        throw new GovernanceFormatException(source, path, $"must be a finite number, not {JsonFields.Describe(value)}");
                    var parsed = AuditValue.Number(number);
                    return AuditValue.NumberText(parsed.AsNumber) == raw
                        ? parsed
                        : throw new GovernanceFormatException(source, path, $"{AuditValue.Shorten(raw)} is not the shortest decimal of its binary64 value ({AuditValue.NumberText(number)})");
                case AuditValueType.Boolean:
                    return value.ValueKind switch
                    {
                        JsonValueKind.True => AuditValue.Boolean(true),
                        JsonValueKind.False => AuditValue.Boolean(false),
                        _ => throw new GovernanceFormatException(source, path, $"must be true or false, not {JsonFields.Describe(value)}"),
                    };
            }
            if (value.ValueKind != JsonValueKind.String)
                throw new GovernanceFormatException(source, path, $"must be a string, not {JsonFields.Describe(value)}");
            string text;
            try
            {
                text = value.GetString()!;
            }
            catch (InvalidOperationException)
            {
                throw new GovernanceFormatException(source, path, "is not well-formed text (an escaped lone surrogate)");
            }
            return type switch
            {
                AuditValueType.Identifier => AuditValue.Identifier(text),
                AuditValueType.Organisation => AuditValue.Organisation(text),
                AuditValueType.Digest => AuditValue.Digest(AuditDigest.Parse(text)),
                AuditValueType.Word => AuditValue.Word(text),
                AuditValueType.Text => AuditValue.Text(text),
                AuditValueType.Country => AuditValue.Country(text),
                AuditValueType.Time => TreeHead.TryParseTime(text, out var time)
                    ? AuditValue.Time(time)
                    : throw new GovernanceFormatException(source, path, $"\"{AuditValue.Shorten(text)}\" is not a UTC time of the form 2025-03-01T09:00:00.250Z"),
                _ => throw new InvalidOperationException($"No reader for {type}."),
            };
        }
        catch (ArgumentException e)
        {
            string problem = e.Message;
            int at = problem.IndexOf(" (Parameter '", StringComparison.Ordinal);
            throw new GovernanceFormatException(source, path, at < 0 ? problem : problem[..at], e);
        }
    }
}
