using System.Collections.Immutable;
using FedCore.Governance.Canonical;

namespace FedCore.Governance.Membership;

/// <summary>
/// One version of the federation's membership, issued by the operator: every organisation at that point (a full
/// snapshot, so the latest record alone says who is who), the removals since the record before, and
/// <see cref="Previous"/>, the hex SHA-256 of the record before's canonical bytes (null for serial 1), which chains
/// the records. <see cref="OperatorSignature"/> covers the canonical bytes of everything else (tag
/// <c>federation/membership/record/v1</c>); <see cref="Digest"/> covers everything including it.
/// </summary>
public sealed record MembershipRecord(
    string Federation,
    long Serial,
    DateTimeOffset IssuedAt,
    string? Previous,
    ImmutableArray<SignedOrganisationEntry> Organisations,
    ImmutableArray<SignedRemoval> Removals,
    ImmutableArray<byte> OperatorSignature)
{
    internal const string Tag = "federation/membership/record/v1";

    /// <summary>Lower-case hex SHA-256 of the signed record's canonical bytes: what the next record links to and a silo pins.</summary>
    public string Digest => Statement.Digest(CanonicalJson.Write(MembershipJson.ToJson(this)));

    internal byte[] BodyBytes() => CanonicalJson.Write(MembershipJson.ToJsonBody(this));

    /// <summary>
    /// The rules a record keeps on its own (the rules between records, and the operator's signature, are
    /// <see cref="MembershipChain"/>'s).
    /// </summary>
    internal void Check(string source, string path)
    {
        void Fail(string field, string problem) => throw new GovernanceFormatException(source, $"{path}.{field}", problem);

        if (!Formats.IsText(Federation))
            Fail("federation", "must not be empty or blank");
        if (Serial < 1)
            Fail("serial", $"must be at least 1, not {Serial}");
        if (!Formats.IsUtcSeconds(IssuedAt))
            Fail("issuedAt", "must be a UTC time in whole seconds");
        if (Previous is not null && !Formats.IsDigest(Previous))
            Fail("previous", "must be a SHA-256 digest in 64 lower-case hex digits, or null");
        if (Organisations.IsDefault)
            Fail("organisations", "is required");
        for (int i = 0; i < Organisations.Length; i++)
        {
            if (Organisations[i] is null)
                Fail($"organisations[{i}]", "is required");
            Organisations[i].Check(source, $"{path}.organisations[{i}]");
        }
        int duplicate = Formats.FirstDuplicate(Organisations, o => o.Entry.Id);
        if (duplicate >= 0)
            Fail($"organisations[{duplicate}].entry.id", $"'{Organisations[duplicate].Entry.Id}' is listed twice");
        // One key, one organisation: otherwise a signature by one would count as the other's.
        duplicate = Formats.FirstDuplicate(Organisations, o => Formats.Base64(o.Entry.SigningKey));
        if (duplicate >= 0)
            Fail($"organisations[{duplicate}].entry.signingKey", $"'{Organisations[duplicate].Entry.Id}' has the signing key of another organisation");
        if (Removals.IsDefault)
            Fail("removals", "is required");
        for (int i = 0; i < Removals.Length; i++)
        {
            if (Removals[i] is null)
                Fail($"removals[{i}]", "is required");
            Removals[i].Check(source, $"{path}.removals[{i}]");
        }
        duplicate = Formats.FirstDuplicate(Removals, r => r.Id);
        if (duplicate >= 0)
            Fail($"removals[{duplicate}].id", $"'{Removals[duplicate].Id}' is removed twice");
    }
}
