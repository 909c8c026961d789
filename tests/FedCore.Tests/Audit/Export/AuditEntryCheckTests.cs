using FedCore.Audit;
using FedCore.Audit.Entries;
using FedCore.Audit.Export;

namespace FedCore.Tests.Audit.Export;

/// <summary>
/// The check `audit verify` makes of each entry: its closed reader, and for an entry in an organisation's name, that
/// organisation's signature by a key the export's membership gave it. The operator writes the log and signs its heads:
/// without this, it could put any organisation's consent in the log and every head over it would verify.
/// </summary>
public sealed class AuditEntryCheckTests
{
    private static readonly DateTimeOffset At = AuditExportFixture.T0.AddSeconds(1);

    private static AuditEntry Consent(string job) =>
        AuditEvents.ParticipantConsented(At, AuditActor.Organisation("HU/budapest"), "HU", job, "HU/budapest", "heart");

    private static AuditVerification Verify(IReadOnlyList<AuditEntry> entries, bool membership = true)
    {
        var bytes = entries.Select(AuditEntryJson.Write).ToList();
        using var export = new TempExport();
        AuditExport.Write(export.Path, new AuditExportContent(bytes, AuditExportFixture.Heads(bytes, [bytes.Count], joins: new Dictionary<string, int> { ["HU"] = 0, ["CH"] = 0 }), AuditExportFixture.Operator.PublicKey,
            AuditExportFixture.CountryKeys, membership ? FedCore.Governance.Membership.MembershipJson.Write(AuditExportFixture.Chain()) : null));
        return AuditExportVerifier.Verify(export.Path, AuditExportFixture.Trust, AuditEntryCheck.ForExport(export.Path), AuditEntryCheck.Time);
    }

    private static AuditEntry Silo(int n) => AuditEvents.PolicySetLoaded(At, AuditActor.Silo("HU"), "HU", AuditDigest.Hash([(byte)n]), 1);

    [Fact]
    public void Entries_in_an_organisations_name_signed_with_its_membership_key_verify()
    {
        var result = Verify([Silo(1), Consent("CH/j").SignedWith(AuditExportFixture.Budapest.Key)]);
        Assert.True(result.Ok, result.Problem);
    }

    [Fact]
    public void The_operator_cannot_log_an_organisations_act_it_did_not_sign()
    {
        using var operatorsOwn = FedCore.Aggregation.Integrity.ParticipantSigningKey.Generate();
        var unsigned = Verify([Silo(1), Consent("CH/forged")]);
        Assert.Contains("entry 1", unsigned.Problem);
        Assert.Contains("in HU/budapest's name but unsigned", unsigned.Problem);
        var otherKey = Verify([Silo(1), Consent("CH/forged").SignedWith(operatorsOwn)]);
        Assert.Contains("not signed with any key the membership gave it", otherKey.Problem);
        var zurichsKey = Verify([Consent("CH/forged").SignedWith(AuditExportFixture.Zurich.Key)]);
        Assert.Contains("not signed with any key the membership gave it", zurichsKey.Problem);
        var noMembership = Verify([Consent("CH/j").SignedWith(AuditExportFixture.Budapest.Key)], membership: false);
        Assert.Contains("no membership.json", noMembership.Problem);
    }
}
