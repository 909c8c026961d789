using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCore.Governance.Canonical;

namespace FedCore.Governance.Membership;

/// <summary>
/// The membership file, <c>membership.json</c>: the whole chain as <c>{"records":[…]}</c>, records 1 to the latest.
/// Reading is closed-world (an unknown field is an error) and checks each record's own rules; whether the chain
/// holds together is <see cref="MembershipChain.Verify"/>'s question. Writing gives the canonical form, indented.
/// </summary>
public static class MembershipJson
{
    /// <summary>Larger files are refused unread.</summary>
    public const int MaxBytes = 64 << 20;

    /// <exception cref="GovernanceFormatException">The file is not JSON, or a field is unknown, missing, of the wrong type or breaks a rule.</exception>
    public static ImmutableArray<MembershipRecord> Parse(ReadOnlyMemory<byte> utf8Json, string sourceName)
    {
        using var document = JsonInput.Parse(utf8Json, sourceName, MaxBytes);
        var root = JsonFields.Of(document.RootElement, sourceName, "$", "records");
        var records = root.Array("records", (element, path) => ReadRecord(element, sourceName, path));
        if (records.IsEmpty)
            throw root.Error("records", "must hold at least record 1");
        for (int i = 0; i < records.Length; i++)
            records[i].Check(sourceName, $"$.records[{i}]");
        return records;
    }

    public static byte[] Write(IEnumerable<MembershipRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        return CanonicalJson.WriteIndented(new JsonObject { ["records"] = new JsonArray([.. records.Select(ToJson)]) });
    }

    /// <summary>
    /// One signed organisation entry, <c>{"entry":{…},"signatures":{…}}</c>: what an organisation hands the operator to be
    /// added (<c>federation org init</c> writes it, <c>org add</c> reads it). Its signature is checked by the chain.
    /// </summary>
    /// <exception cref="GovernanceFormatException">Not such an entry, or it breaks a rule of its own.</exception>
    public static SignedOrganisationEntry ParseEntry(ReadOnlyMemory<byte> utf8Json, string sourceName)
    {
        using var document = JsonInput.Parse(utf8Json, sourceName, MaxBytes);
        var signed = ReadOrganisation(document.RootElement, sourceName, "$");
        signed.Entry.Check(sourceName, "$.entry");
        return signed;
    }

    public static byte[] WriteEntry(SignedOrganisationEntry signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        return CanonicalJson.WriteIndented(ToJson(signed));
    }

    /// <summary>
    /// An organisation entry without signatures, as its participant drafts it for the organisation's approver to review
    /// (<see cref="Approvals.ApprovalSubject.OrganisationEntry"/>): the canonical entry, indented.
    /// </summary>
    /// <exception cref="GovernanceFormatException">The entry breaks a rule of its format.</exception>
    public static byte[] WriteUnsignedEntry(OrganisationEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        entry.Check("organisation entry", "$");
        return CanonicalJson.WriteIndented(ToJson(entry));
    }

    /// <exception cref="GovernanceFormatException">Not an entry (<see cref="WriteUnsignedEntry"/>), or it breaks a rule of its own.</exception>
    public static OrganisationEntry ParseUnsignedEntry(ReadOnlyMemory<byte> utf8Json, string sourceName)
    {
        using var document = JsonInput.Parse(utf8Json, sourceName, MaxBytes);
        var entry = ReadEntry(document.RootElement, sourceName, "$");
        entry.Check(sourceName, "$");
        return entry;
    }

    internal static JsonObject ToJson(OrganisationEntry entry) => new()
    {
        ["id"] = entry.Id,
        ["country"] = entry.Country,
        ["legalName"] = entry.LegalName,
        ["members"] = Formats.Set(entry.Members, m => m.Key,
            m => new JsonObject { ["name"] = m.Name, ["role"] = Formats.Name(m.Role) }),
        ["signingKey"] = Formats.Base64(entry.SigningKey),
        ["serial"] = entry.Serial,
    };

    internal static JsonObject ToJson(SignedOrganisationEntry signed) => new()
    {
        ["entry"] = ToJson(signed.Entry),
        ["signatures"] = new JsonObject
        {
            ["self"] = Formats.Base64(signed.SelfSignature),
            ["previousKey"] = signed.PreviousKeySignature is { } previous ? Formats.Base64(previous) : null,
        },
    };

    /// <summary>What the operator signs: the record without its signature.</summary>
    internal static JsonObject ToJsonBody(MembershipRecord record) => new()
    {
        ["federation"] = record.Federation,
        ["serial"] = record.Serial,
        ["issuedAt"] = Formats.Time(record.IssuedAt),
        ["previous"] = record.Previous,
        ["organisations"] = Formats.Set(record.Organisations, o => o.Entry.Id, ToJson),
        ["removals"] = Formats.Set(record.Removals, r => r.Id, r => new JsonObject
        {
            ["id"] = r.Id,
            ["serial"] = r.Serial,
            ["signature"] = Formats.Base64(r.Signature),
        }),
    };

    internal static JsonObject ToJson(MembershipRecord record)
    {
        var json = ToJsonBody(record);
        json["operatorSignature"] = Formats.Base64(record.OperatorSignature);
        return json;
    }

    private static MembershipRecord ReadRecord(JsonElement element, string source, string path)
    {
        var record = JsonFields.Of(element, source, path, "federation", "serial", "issuedAt", "previous", "organisations", "removals", "operatorSignature");
        return new MembershipRecord(
            record.Text("federation"),
            record.Integer("serial", 1, long.MaxValue),
            record.Time("issuedAt"),
            record.OptionalDigest("previous"),
            record.Array("organisations", (item, itemPath) => ReadOrganisation(item, source, itemPath)),
            record.Array("removals", (item, itemPath) => ReadRemoval(item, source, itemPath)),
            record.Bytes("operatorSignature"));
    }

    private static SignedOrganisationEntry ReadOrganisation(JsonElement element, string source, string path)
    {
        var signed = JsonFields.Of(element, source, path, "entry", "signatures");
        var signatures = signed.Object("signatures", "self", "previousKey");
        return new SignedOrganisationEntry(ReadEntry(signed.Required("entry"), source, signed.At("entry")), signatures.Bytes("self"), signatures.OptionalBytes("previousKey"));
    }

    private static OrganisationEntry ReadEntry(JsonElement element, string source, string path)
    {
        var entry = JsonFields.Of(element, source, path, "id", "country", "legalName", "members", "signingKey", "serial");
        return new OrganisationEntry(
            entry.Text("id"),
            entry.Text("country"),
            entry.Text("legalName"),
            entry.Array("members", (item, itemPath) =>
            {
                var member = JsonFields.Of(item, source, itemPath, "name", "role");
                return new Member(member.Text("name"), member.Enum<MemberRole>("role"));
            }),
            entry.Bytes("signingKey"),
            entry.Integer("serial", 1, long.MaxValue));
    }

    private static SignedRemoval ReadRemoval(JsonElement element, string source, string path)
    {
        var removal = JsonFields.Of(element, source, path, "id", "serial", "signature");
        return new SignedRemoval(removal.Text("id"), removal.Integer("serial", 1, long.MaxValue), removal.Bytes("signature"));
    }
}
