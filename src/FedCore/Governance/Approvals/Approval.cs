using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FedCore.Aggregation.Integrity;
using FedCore.Governance.Canonical;
using FedCore.Governance.Membership;

namespace FedCore.Governance.Approvals;

/// <summary>
/// What an organisation's approver signs (tag <c>federation/approval/v1</c> over the canonical statement): that the
/// organisation's participant may do one act (<see cref="Subject"/>) between <see cref="IssuedAt"/> and
/// <see cref="ExpiresAt"/>, once (<see cref="Nonce"/>).
/// </summary>
public sealed record ApprovalStatement(string Organisation, ApprovalSubject Subject, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, ImmutableArray<byte> Nonce)
{
    internal const string Tag = "federation/approval/v1";

    internal JsonObject ToJson() => new()
    {
        ["organisation"] = Organisation,
        ["purpose"] = Formats.Name(Subject.Purpose),
        ["subject"] = Subject.ToJson(),
        ["issuedAt"] = Formats.Time(IssuedAt),
        ["expiresAt"] = Formats.Time(ExpiresAt),
        ["nonce"] = Formats.Base64(Nonce),
    };

    internal byte[] CanonicalBytes() => CanonicalJson.Write(ToJson());
}

/// <summary>An approval <see cref="Approval.Verify"/> accepted for one act at one time; nothing else makes one.</summary>
public sealed class VerifiedApproval
{
    internal VerifiedApproval(ApprovalStatement statement)
    {
        Organisation = statement.Organisation;
        Subject = statement.Subject;
        ExpiresAt = statement.ExpiresAt;
        Nonce = Formats.Base64(statement.Nonce);
    }

    public string Organisation { get; }

    public ApprovalSubject Subject { get; }

    public DateTimeOffset ExpiresAt { get; }

    /// <summary>The nonce in base64: what <see cref="ApprovalLedger"/> records so that the approval serves once.</summary>
    public string Nonce { get; }
}

/// <summary>
/// An organisation's approval of one act of its participant, made outside the cluster with the organisation's approver
/// key and checked by the participant against the approver public key its own silo is configured with (README,
/// "Approvals"). The document: <c>{"approval":{organisation, purpose, subject, issuedAt, expiresAt, nonce},"signature":…}</c>.
/// </summary>
public static class Approval
{
    /// <summary>Larger documents are refused unread.</summary>
    public const int MaxBytes = 64 << 10;

    /// <summary>Bytes of randomness in a nonce.</summary>
    public const int NonceLength = 16;

    /// <summary>The longest an approval may be valid: an approval is made for an act about to happen.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(1);

    /// <summary>How far the participant's clock may lag the approver's: an approval issued that much in its future is still taken.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    private const string Source = "approval";

    /// <summary>Makes and signs an approval with a fresh random nonce, valid from <paramref name="issuedAt"/> (whole seconds) for <paramref name="lifetime"/>.</summary>
    /// <exception cref="ArgumentException">The organisation id is malformed, or the lifetime is not whole seconds within (0, <see cref="MaxLifetime"/>].</exception>
    public static byte[] Create(string organisation, ApprovalSubject subject, DateTimeOffset issuedAt, TimeSpan lifetime, ParticipantSigningKey approverKey)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(approverKey);
        if (!OrganisationId.TryParse(organisation, out _, out var error))
            throw new ArgumentException(error, nameof(organisation));
        if (lifetime <= TimeSpan.Zero || lifetime > MaxLifetime || lifetime.Ticks % TimeSpan.TicksPerSecond != 0)
            throw new ArgumentOutOfRangeException(nameof(lifetime), lifetime, $"an approval lives whole seconds, at most {MaxLifetime}");
        var issued = DateTimeOffset.FromUnixTimeSeconds(issuedAt.ToUnixTimeSeconds());
        var statement = new ApprovalStatement(organisation, subject, issued, issued + lifetime, [.. RandomNumberGenerator.GetBytes(NonceLength)]);
        return Write(statement, Sign(statement, approverKey));
    }

    /// <summary>
    /// Accepts an approval only for the act at hand: signed by <paramref name="approverPublicKey"/>, for
    /// <paramref name="organisation"/> and exactly <paramref name="expected"/>, valid at <paramref name="now"/> and for at
    /// most <see cref="MaxLifetime"/>. Whether its nonce was used before is <see cref="ApprovalLedger"/>'s question.
    /// </summary>
    /// <exception cref="GovernanceFormatException">The bytes are not an approval document.</exception>
    /// <exception cref="ApprovalException">It does not allow this act now; names the field at fault.</exception>
    public static VerifiedApproval Verify(ReadOnlyMemory<byte> approval, byte[] approverPublicKey, string organisation, ApprovalSubject expected, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(approverPublicKey);
        ArgumentNullException.ThrowIfNull(organisation);
        ArgumentNullException.ThrowIfNull(expected);
        var (statement, signature) = Parse(approval);
        ApprovalException Refuse(string field, string problem) => new(organisation, field, problem);

        if (!IsApproverKey(approverPublicKey))
            throw Refuse("approver key", "the approver key configured for it is not an ECDSA P-256 public key (SubjectPublicKeyInfo DER, 91 bytes)");
        if (!Canonical.Statement.Verify([.. approverPublicKey], ApprovalStatement.Tag, statement.CanonicalBytes(), signature))
            throw Refuse("signature", "does not verify with the approver key configured for it: another key made it, or it was altered");
        if (statement.Organisation != organisation)
            throw Refuse("organisation", $"it approves an act of '{statement.Organisation}', not of '{organisation}'");
        if (statement.Subject.Purpose != expected.Purpose)
            throw Refuse("purpose", $"it approves {Formats.Name(statement.Subject.Purpose)}, not {Formats.Name(expected.Purpose)}");
        if (statement.Subject.FirstDifference(expected) is { } difference)
            throw Refuse($"subject.{difference.Field}", $"it approves {difference.Approved}, but the act is for {difference.Expected}");
        if (statement.ExpiresAt <= statement.IssuedAt || statement.ExpiresAt - statement.IssuedAt > MaxLifetime)
            throw Refuse("expiresAt", $"valid from {Formats.Time(statement.IssuedAt)} to {Formats.Time(statement.ExpiresAt)}: an approval is valid for a positive time of at most {MaxLifetime.TotalMinutes:0} minutes");
        if (now + ClockSkew < statement.IssuedAt)
            throw Refuse("issuedAt", $"not valid yet: issued at {Formats.Time(statement.IssuedAt)}, and it is {Formats.Time(Seconds(now))}");
        if (now >= statement.ExpiresAt)
            throw Refuse("expiresAt", $"expired at {Formats.Time(statement.ExpiresAt)}; it is {Formats.Time(Seconds(now))}");
        return new VerifiedApproval(statement);
    }

    /// <summary>Whether <paramref name="publicKey"/> has the form approver keys take (as participants' keys: P-256 SubjectPublicKeyInfo, uncompressed, 91 bytes).</summary>
    public static bool IsApproverKey(byte[]? publicKey) => publicKey is not null && Formats.IsP256PublicKey([.. publicKey]);

    internal static ImmutableArray<byte> Sign(ApprovalStatement statement, ParticipantSigningKey key) =>
        Canonical.Statement.Sign(key, ApprovalStatement.Tag, statement.CanonicalBytes());

    internal static byte[] Write(ApprovalStatement statement, ImmutableArray<byte> signature) =>
        CanonicalJson.WriteIndented(new JsonObject { ["approval"] = statement.ToJson(), ["signature"] = Formats.Base64(signature) });

    internal static (ApprovalStatement Statement, ImmutableArray<byte> Signature) Parse(ReadOnlyMemory<byte> utf8Json)
    {
        using var document = JsonInput.Parse(utf8Json, Source, MaxBytes);
        var root = JsonFields.Of(document.RootElement, Source, "$", "approval", "signature");
        var body = root.Object("approval", "organisation", "purpose", "subject", "issuedAt", "expiresAt", "nonce");
        string organisation = body.Text("organisation");
        if (!OrganisationId.TryParse(organisation, out _, out var error))
            throw body.Error("organisation", error);
        var purpose = body.Enum<ApprovalPurpose>("purpose");
        var subject = ApprovalSubject.Read(body.Object("subject", ApprovalSubject.FieldsOf(purpose)), purpose);
        var nonce = body.Bytes("nonce");
        if (nonce.Length != NonceLength)
            throw body.Error("nonce", $"must be {NonceLength} bytes, not {nonce.Length}");
        var statement = new ApprovalStatement(organisation, subject, body.Time("issuedAt"), body.Time("expiresAt"), nonce);
        return (statement, root.Bytes("signature"));
    }

    private static DateTimeOffset Seconds(DateTimeOffset time) => DateTimeOffset.FromUnixTimeSeconds(time.ToUnixTimeSeconds());
}
