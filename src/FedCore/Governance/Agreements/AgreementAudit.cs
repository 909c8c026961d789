using FedCore.Audit.Entries;

namespace FedCore.Governance.Agreements;

/// <summary>
/// What one transition of an agreement's document adds to the audit log: its drafting (or new terms), its proposal, each
/// new party signature, its activation (the last signature), each new signed status change. Expiry is the clock's, not an
/// act: it is not recorded. The relay records them all in its own name, each party's act by its `party` field: the party's
/// own signature is in the agreement document (over the terms, or over its status change), which the entry's terms digest
/// and sequence point to; an entry in the party's name would need the party's key, which the relay never holds.
/// </summary>
public static class AgreementAudit
{
    /// <param name="relay">Who recorded the relay's own steps (drafting, proposing, activating): the silo that holds the agreement.</param>
    public static IReadOnlyList<AuditEntry> Entries(Agreement? before, Agreement after, DateTimeOffset time, AuditActor relay, string country)
    {
        var entries = new List<AuditEntry>();
        var terms = AuditDigest.Parse(after.TermsDigest);
        bool newTerms = before is null || before.TermsDigest != after.TermsDigest;
        if (newTerms)
            entries.Add(AuditEvents.AgreementDrafted(time, relay, country, after.Id, terms, after.Terms.Parties.Select(p => p.Organisation)));
        if (after.Proposed && (newTerms || !before!.Proposed))
            entries.Add(AuditEvents.AgreementProposed(time, relay, country, after.Id, terms));
        var signedBefore = newTerms ? [] : before!.Signatures.Select(s => s.Party).ToHashSet();
        foreach (var signature in after.Signatures.Where(s => !signedBefore.Contains(s.Party)))
            entries.Add(AuditEvents.AgreementSigned(time, relay, country, after.Id, terms, signature.Party));
        if (after.RecordedState == AgreementState.Active && (newTerms || before!.RecordedState != AgreementState.Active) && after.StatusChanges.IsEmpty)
            entries.Add(AuditEvents.AgreementActivated(time, relay, country, after.Id, terms));
        int knownChanges = newTerms ? 0 : before!.StatusChanges.Length;
        foreach (var change in after.StatusChanges.Skip(knownChanges).Select(c => c.Change))
        {
            var reason = AuditText.Line(change.Reason);
            entries.Add(change.Kind switch
            {
                StatusChangeKind.Suspend => AuditEvents.AgreementSuspended(time, relay, country, after.Id, terms, change.Party, change.Sequence, reason),
                StatusChangeKind.Resume => AuditEvents.AgreementResumed(time, relay, country, after.Id, terms, change.Party, change.Sequence, reason),
                _ => AuditEvents.AgreementTerminated(time, relay, country, after.Id, terms, change.Party, change.Sequence, reason),
            });
        }
        return entries;
    }
}
