using System.Collections.Immutable;
using System.Text.Json.Nodes;
using FedCore.Governance.Agreements;
using FedCore.Governance.Canonical;
using FedCore.Governance.Membership;

namespace FedCore.Governance.Approvals;

/// <summary>What an organisation's approver lets its participant do. JSON: sign-agreement, change-agreement-status, organisation-entry, register-dataset.</summary>
public enum ApprovalPurpose
{
    SignAgreement,
    ChangeAgreementStatus,
    OrganisationEntry,
    RegisterDataset,
}

/// <summary>
/// The one act an approval allows: its purpose and the fields that pin the document the participant is about to sign.
/// <list type="bullet">
/// <item>sign-agreement: <c>agreement</c> (id), <c>terms</c> (digest of the terms);</item>
/// <item>change-agreement-status: <c>agreement</c>, <c>terms</c>, <c>sequence</c> (the change's position, 1, 2, …),
/// <c>kind</c> (suspend, resume, terminate), <c>reason</c>;</item>
/// <item>organisation-entry: <c>entry</c>, the SHA-256 of the canonical unsigned entry (legal name, members, key, serial);</item>
/// <item>register-dataset: <c>dataset</c> (name), <c>file</c> (the file's SHA-256), <c>schema</c> (the schema's hash),
/// <c>catalog</c> (the SHA-256 of the canonical <see cref="Datasets.DatasetPublication"/>, or of <c>null</c> for a dataset
/// kept out of the catalog). The file and schema fix the row count; the participant adds the time.</item>
/// </list>
/// Two subjects are equal when their purpose and every field are.
/// </summary>
public sealed class ApprovalSubject : IEquatable<ApprovalSubject>
{
    // Each field's value is a string or a long; the order is the purpose's, for messages.
    private readonly ImmutableArray<(string Name, object Value)> _fields;

    private ApprovalSubject(ApprovalPurpose purpose, ImmutableArray<(string Name, object Value)> fields)
    {
        Purpose = purpose;
        _fields = fields;
    }

    public ApprovalPurpose Purpose { get; }

    /// <summary>The fields a subject of each purpose has, in the order they are read and reported.</summary>
    internal static string[] FieldsOf(ApprovalPurpose purpose) => purpose switch
    {
        ApprovalPurpose.SignAgreement => ["agreement", "terms"],
        ApprovalPurpose.ChangeAgreementStatus => ["agreement", "terms", "sequence", "kind", "reason"],
        ApprovalPurpose.RegisterDataset => ["dataset", "file", "schema", "catalog"],
        _ => ["entry"],
    };

    /// <summary>Signing the terms of <paramref name="agreementId"/> whose digest is <paramref name="termsDigest"/>.</summary>
    public static ApprovalSubject SignAgreement(string agreementId, string termsDigest) =>
        new(ApprovalPurpose.SignAgreement, [("agreement", Text(agreementId, nameof(agreementId))), ("terms", Digest(termsDigest, nameof(termsDigest)))]);

    /// <summary>The status change at position <paramref name="sequence"/> of an agreement with these terms, of this kind, for this reason.</summary>
    public static ApprovalSubject ChangeAgreementStatus(string agreementId, string termsDigest, int sequence, StatusChangeKind kind, string reason)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequence, 1);
        if (!Enum.IsDefined(kind))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a status change kind");
        return new(ApprovalPurpose.ChangeAgreementStatus,
        [
            ("agreement", Text(agreementId, nameof(agreementId))), ("terms", Digest(termsDigest, nameof(termsDigest))),
            ("sequence", (long)sequence), ("kind", Formats.Name(kind)), ("reason", Text(reason, nameof(reason))),
        ]);
    }

    /// <summary>The next status change of <paramref name="agreement"/> as it stands (what <see cref="Agreement.NextStatusChange"/> would make).</summary>
    public static ApprovalSubject NextStatusChange(Agreement agreement, StatusChangeKind kind, string reason)
    {
        ArgumentNullException.ThrowIfNull(agreement);
        return ChangeAgreementStatus(agreement.Id, agreement.TermsDigest, agreement.StatusChanges.Length + 1, kind, reason);
    }

    /// <summary>A status change exactly as the participant is about to sign it (its time and party are not part of the subject).</summary>
    public static ApprovalSubject Of(StatusChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return ChangeAgreementStatus(change.Agreement, change.Terms, change.Sequence, change.Kind, change.Reason);
    }

    /// <summary>Signing this organisation entry: the subject is the SHA-256 of its canonical bytes.</summary>
    public static ApprovalSubject OrganisationEntry(OrganisationEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new(ApprovalPurpose.OrganisationEntry, [("entry", Statement.Digest(entry.CanonicalBytes()))]);
    }

    /// <summary>Registering the file with SHA-256 <paramref name="fileSha256"/> as <paramref name="dataset"/> under this schema, and publishing it so (or not).</summary>
    public static ApprovalSubject RegisterDataset(string dataset, string fileSha256, string schemaHash, Datasets.DatasetPublication? publication) =>
        new(ApprovalPurpose.RegisterDataset,
        [
            ("dataset", Text(dataset, nameof(dataset))), ("file", Digest(fileSha256, nameof(fileSha256))), ("schema", Digest(schemaHash, nameof(schemaHash))),
            ("catalog", publication?.Digest() ?? Statement.Digest("null"u8.ToArray())),
        ]);

    internal JsonObject ToJson()
    {
        var json = new JsonObject();
        foreach (var (name, value) in _fields)
            json[name] = value is long number ? JsonValue.Create(number) : JsonValue.Create((string)value);
        return json;
    }

    /// <summary>Reads the subject of an approval for <paramref name="purpose"/> (closed-world: only that purpose's fields).</summary>
    internal static ApprovalSubject Read(JsonFields subject, ApprovalPurpose purpose)
    {
        var fields = ImmutableArray.CreateBuilder<(string, object)>();
        foreach (var name in FieldsOf(purpose))
        {
            object value = name switch
            {
                "terms" or "entry" or "file" or "schema" or "catalog" => subject.Digest(name),
                "sequence" => subject.Integer(name, 1, int.MaxValue),
                "kind" => Formats.Name(subject.Enum<StatusChangeKind>(name)),
                _ => subject.Text(name),
            };
            fields.Add((name, value));
        }
        return new(purpose, fields.ToImmutable());
    }

    /// <summary>The first field whose value differs from <paramref name="expected"/>'s (same purpose), with both values for a message.</summary>
    internal (string Field, string Approved, string Expected)? FirstDifference(ApprovalSubject expected)
    {
        for (int i = 0; i < _fields.Length; i++)
            if (!_fields[i].Value.Equals(expected._fields[i].Value))
                return (_fields[i].Name, Show(_fields[i].Value), Show(expected._fields[i].Value));
        return null;
    }

    public bool Equals(ApprovalSubject? other) =>
        other is not null && Purpose == other.Purpose && _fields.Length == other._fields.Length && FirstDifference(other) is null;

    public override bool Equals(object? obj) => Equals(obj as ApprovalSubject);

    public override int GetHashCode() => HashCode.Combine(Purpose, _fields.Length == 0 ? null : _fields[0].Value);

    public override string ToString() => $"{Formats.Name(Purpose)} {string.Join(", ", _fields.Select(f => $"{f.Name} {Show(f.Value)}"))}";

    private static string Show(object value) => value is string text ? $"'{(text.Length <= 40 ? text : text[..40] + "…")}'" : value.ToString()!;

    private static string Text(string value, string parameter) =>
        Formats.IsText(value) ? value : throw new ArgumentException("must not be empty, blank or malformed text", parameter);

    private static string Digest(string value, string parameter) =>
        Formats.IsDigest(value) ? value : throw new ArgumentException($"'{value}' is not a SHA-256 digest in 64 lower-case hex digits", parameter);
}
