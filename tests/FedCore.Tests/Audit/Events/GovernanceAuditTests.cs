using FedCore.Audit.Entries;
using FedCore.Governance.Agreements;
using FedCore.Governance.Membership;
using static FedCore.Tests.Governance.GovernanceFixture;

namespace FedCore.Tests.Audit.Events;

/// <summary>What an agreement's transitions and new membership records add to the audit log (AgreementAudit, MembershipAudit).</summary>
public sealed class GovernanceAuditTests
{
    private static readonly AuditActor Relay = AuditActor.Federation;

    private static string[] Kinds(IEnumerable<AuditEntry> entries) => [.. entries.Select(e => e.WireName)];

    [Fact]
    public void An_agreement_from_draft_to_terminated_leaves_one_entry_per_act_naming_the_party_of_each()
    {
        var proposed = Proposed();
        Assert.Equal(["agreement.drafted", "agreement.proposed"], Kinds(AgreementAudit.Entries(null, proposed, Now, Relay, "CH")));

        var oneSigned = SignedBy(proposed, Budapest);
        var signed = AgreementAudit.Entries(proposed, oneSigned, Now, Relay, "CH");
        Assert.Equal(["agreement.signed"], Kinds(signed));
        // The relay records it, naming the party: the party's own signature is in the agreement document.
        Assert.Equal(("federation", "HU/budapest"), (signed[0].Actor.Name, signed[0]["party"]!.AsString));

        var active = SignedBy(oneSigned, Zurich, LongBeach, Cleveland);
        Assert.Equal(["agreement.signed", "agreement.signed", "agreement.signed", "agreement.activated"], Kinds(AgreementAudit.Entries(oneSigned, active, Now, Relay, "CH")));

        var suspended = Change(active, StatusChangeKind.Suspend, Zurich);
        var suspension = Assert.Single(AgreementAudit.Entries(active, suspended, Now, Relay, "CH"));
        Assert.Equal(("agreement.suspended", "CH/zurich", 1L), (suspension.WireName, suspension["party"]!.AsString, suspension["sequence"]!.AsInteger));
        var resumed = Change(suspended, StatusChangeKind.Resume, Zurich);
        Assert.Equal(["agreement.resumed"], Kinds(AgreementAudit.Entries(suspended, resumed, Now, Relay, "CH"))); // not activated again
        var terminated = Change(resumed, StatusChangeKind.Terminate, Budapest);
        Assert.Equal(["agreement.terminated"], Kinds(AgreementAudit.Entries(resumed, terminated, Now, Relay, "CH")));
        Assert.All(AgreementAudit.Entries(null, terminated, Now, Relay, "CH"), e => Assert.Equal(terminated.TermsDigest, e["termsDigest"]!.AsDigest.Hex));
    }

    [Fact]
    public void New_membership_records_name_who_was_admitted_changed_or_removed_and_keys_only_by_fingerprint()
    {
        var chain = Chain();
        var first = MembershipAudit.Entries(chain, 0, Now, "CH");
        Assert.Equal(chain.Length, first.Count(e => e.Kind == AuditEventKind.MembershipIssued));
        Assert.Equal(chain[^1].Organisations.Select(o => o.Entry.Id).Order(), first.Where(e => e.Kind == AuditEventKind.OrganisationAdmitted).Select(e => e["organisation"]!.AsString).Order());
        Assert.Empty(MembershipAudit.Entries(chain, chain[^1].Serial, Now, "CH")); // nothing new

        var renamed = Append(chain, [Budapest.Signed(serial: Budapest.Entry().Serial + 1)]);
        var changed = MembershipAudit.Entries(renamed, chain[^1].Serial, Now, "CH");
        Assert.Equal(["membership.issued", "organisation.changed"], Kinds(changed));
        Assert.Equal(AuditDigest.Hash(Budapest.Key.PublicKey).Hex, changed[1]["keyFingerprint"]!.AsDigest.Hex);
        Assert.False(changed[1]["keyChanged"]!.AsBoolean);
        Assert.DoesNotContain(Convert.ToBase64String(Budapest.Key.PublicKey)[..24], string.Concat(changed.Select(e => System.Text.Encoding.UTF8.GetString(AuditEntryJson.Write(e)))));
    }
}
