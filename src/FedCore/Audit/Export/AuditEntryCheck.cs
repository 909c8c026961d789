using System.Collections.Immutable;
using FedCore.Audit.Entries;
using FedCore.Governance;
using FedCore.Governance.Membership;

namespace FedCore.Audit.Export;

/// <summary>
/// What the verifier checks of each entry of an export beyond its form: the entries' closed reader, and for an entry in an
/// organisation's name its signature by a key the membership gave that organisation (any record of the chain: keys rotate).
/// </summary>
public static class AuditEntryCheck
{
    /// <summary>The check for the export in <paramref name="directory"/>, with the organisations' keys from its <c>membership.json</c>
    /// (read here, verified against the operator's key by <see cref="AuditExportVerifier"/>); without one, an entry in an
    /// organisation's name cannot be checked and is refused.</summary>
    public static Func<ReadOnlyMemory<byte>, string?> ForExport(string directory)
    {
        var file = Path.Combine(directory, AuditExport.MembershipFile);
        IReadOnlyList<MembershipRecord>? membership = null;
        try
        {
            if (File.Exists(file))
                membership = MembershipJson.Parse(File.ReadAllBytes(file), file);
        }
        catch (GovernanceFormatException)
        {
            // The verifier names the file's problem; with no keys here, entries in an organisation's name are refused meanwhile.
        }
        return For(membership);
    }

    public static Func<ReadOnlyMemory<byte>, string?> For(IReadOnlyList<MembershipRecord>? membership)
    {
        var keys = (membership ?? []).SelectMany(r => r.Organisations).Select(o => o.Entry)
            .GroupBy(e => e.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(e => e.SigningKey).ToList(), StringComparer.Ordinal);
        return bytes =>
        {
            AuditEntry entry;
            try
            {
                entry = AuditEntryJson.Read(bytes.ToArray(), "entry"); // a copy: the verifier reuses its buffer
            }
            catch (AuditFormatException e)
            {
                return $"is not an audit entry: {e.JsonPath}: {e.Problem}";
            }
            if (entry.Actor.Kind != AuditActorKind.Organisation)
                return null;
            if (entry.Signature is null)
                return $"is in {entry.Actor}'s name but unsigned";
            if (!keys.TryGetValue(entry.Actor.Name, out var known))
                return membership is null
                    ? $"is in {entry.Actor}'s name, and the export has no {AuditExport.MembershipFile} to check its signature with"
                    : $"is in {entry.Actor}'s name, which the membership never admitted";
            return known.Any(entry.VerifySignature) ? null : $"is in {entry.Actor}'s name but not signed with any key the membership gave it";
        };
    }

    /// <summary>An entry's time (on entries the check took), for the verifier to bound by the heads around it.</summary>
    public static DateTimeOffset Time(ReadOnlyMemory<byte> entry) => AuditEntryJson.Read(entry.Span, "entry").Time;
}
