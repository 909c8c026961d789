using System.Security.Cryptography;
using FedCore.Audit.Entries;
using FedCore.Governance.Canonical;

namespace FedCore.Governance.Membership;

/// <summary>
/// What new membership records add to the audit log: each record's issue, and each organisation admitted, changed (its
/// key or members) or removed since the record before. Keys appear only as fingerprints (SHA-256 of the public key).
/// </summary>
public static class MembershipAudit
{
    /// <param name="chain">The whole chain, verified.</param>
    /// <param name="knownSerial">The last record already recorded (0 for none): only later records are described.</param>
    public static IReadOnlyList<AuditEntry> Entries(IReadOnlyList<MembershipRecord> chain, long knownSerial, DateTimeOffset time, string country)
    {
        var entries = new List<AuditEntry>();
        var actor = AuditActor.Federation;
        for (int i = 0; i < chain.Count; i++)
        {
            var record = chain[i];
            if (record.Serial <= knownSerial)
                continue;
            entries.Add(AuditEvents.MembershipIssued(time, actor, country, record.Serial, AuditDigest.Parse(record.Digest), record.Organisations.Length));
            var before = i == 0 ? [] : chain[i - 1].Organisations.ToDictionary(o => o.Entry.Id, o => o.Entry);
            foreach (var signed in record.Organisations)
            {
                var entry = signed.Entry;
                var fingerprint = AuditDigest.Hash(entry.SigningKey.AsSpan());
                var digest = AuditDigest.FromSha256(SHA256.HashData(MembershipJson.WriteEntry(signed)));
                if (!before.TryGetValue(entry.Id, out var previous))
                    entries.Add(AuditEvents.OrganisationAdmitted(time, actor, country, entry.Id, entry.Serial, fingerprint, entry.Members.Length, digest));
                else if (previous.Serial != entry.Serial)
                    entries.Add(AuditEvents.OrganisationChanged(time, actor, country, entry.Id, entry.Serial, fingerprint, entry.Members.Length,
                        keyChanged: !previous.SigningKey.SequenceEqual(entry.SigningKey), membersChanged: !previous.Members.SequenceEqual(entry.Members), digest));
            }
            foreach (var removal in record.Removals)
                entries.Add(AuditEvents.OrganisationRemoved(time, actor, country, removal.Id,
                    AuditDigest.FromSha256(SHA256.HashData(CanonicalJson.Write(new System.Text.Json.Nodes.JsonObject { ["id"] = removal.Id, ["serial"] = removal.Serial, ["signature"] = Convert.ToBase64String(removal.Signature.AsSpan()) })))));
        }
        return entries;
    }
}
