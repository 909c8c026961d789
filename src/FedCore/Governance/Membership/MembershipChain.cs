using System.Collections.Immutable;
using FedCore.Aggregation.Integrity;
using FedCore.Governance.Canonical;

namespace FedCore.Governance.Membership;

/// <summary>
/// Verifies a membership chain, records 1 to the latest, as a participant does before it trusts anyone's key: the
/// operator signed every record, the records link, and every organisation vouched for its own entry, its key changes
/// and its removal, so the operator alone can neither substitute a key nor drop a member nor rewrite a history a silo pinned.
/// </summary>
public static class MembershipChain
{
    /// <summary>
    /// Checks the chain and returns the membership of its latest record. Refused: a record that breaks its format; a
    /// serial out of sequence; an operator signature that does not verify with <paramref name="operatorPublicKey"/>;
    /// a federation name that changes; a <c>previous</c> that is not the digest of the record before; an issuedAt
    /// earlier than the record before's; an entry whose self-signature does not verify; a changed entry whose serial
    /// does not increase; a key that differs from the organisation's last key (even across a removal) without that
    /// key's signature; an organisation dropped without its removal statement, or a removal not signed by its key;
    /// and, given <paramref name="pinned"/>, a chain that ends before the pinned record or whose record at the pinned
    /// serial has another digest.
    /// </summary>
    /// <param name="operatorPublicKey">The operator's P-256 SubjectPublicKeyInfo, as every silo is configured with it.</param>
    /// <param name="pinned">A record this silo verified before, or null the first time.</param>
    /// <exception cref="MembershipException">The chain is refused; the message names the record, the organisation and the rule.</exception>
    public static VerifiedMembership Verify(ReadOnlySpan<byte> operatorPublicKey, IReadOnlyList<MembershipRecord> records, MembershipPin? pinned = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
            throw new MembershipException(0, null, "the chain is empty; it must start with record 1");
        ImmutableArray<byte> operatorKey = [.. operatorPublicKey];
        var lastEntries = new Dictionary<string, OrganisationEntry>(StringComparer.Ordinal);
        var digests = new List<string>(records.Count);
        for (int i = 0; i < records.Count; i++)
        {
            var record = records[i] ?? throw new MembershipException(i + 1, null, "the record is missing (null)");
            if (record.Serial != i + 1)
                throw new MembershipException(record.Serial, null, $"serials must run 1, 2, 3, …; the record at position {i + 1} has serial {record.Serial}");
            CheckFormat(record);
            if (!Statement.Verify(operatorKey, MembershipRecord.Tag, record.BodyBytes(), record.OperatorSignature))
                throw new MembershipException(record.Serial, null, "the operator's signature does not verify with the operator key this silo is configured with");
            CheckLinks(record, i == 0 ? null : records[i - 1], i == 0 ? null : digests[^1], lastEntries);
            digests.Add(record.Digest);
        }
        if (pinned is not null)
        {
            if (pinned.Serial > records.Count)
                throw new MembershipException(records.Count, null,
                    $"the chain ends at record {records.Count}, older than record {pinned.Serial} this silo pinned (a rollback to an earlier membership)");
            if (pinned.Serial < 1 || digests[(int)pinned.Serial - 1] != pinned.Digest)
                throw new MembershipException(pinned.Serial, null,
                    $"the record's digest {(pinned.Serial < 1 ? "(none)" : digests[(int)pinned.Serial - 1])} differs from the digest {pinned.Digest} this silo pinned (the history was rewritten)");
        }
        return new VerifiedMembership(records[^1], digests[^1]);
    }

    /// <summary>Record 1 of a new federation, signed by the operator.</summary>
    /// <exception cref="GovernanceFormatException">An entry or the record breaks a rule of its format.</exception>
    /// <exception cref="MembershipException">The record would be refused by <see cref="Verify"/>.</exception>
    public static MembershipRecord Start(string federation, DateTimeOffset issuedAt, IEnumerable<SignedOrganisationEntry> organisations, ParticipantSigningKey operatorKey)
    {
        ArgumentNullException.ThrowIfNull(organisations);
        return SignAndVerify([], new MembershipRecord(federation, 1, issuedAt, null, [.. organisations], [], []), operatorKey);
    }

    /// <summary>
    /// The record after the chain's latest: <paramref name="changed"/> entries added, or put in place of the same
    /// organisation's entry; the organisations of <paramref name="removals"/> dropped; everyone else carried over; signed
    /// by the operator. The chain with it must pass <see cref="Verify"/>, so a tool cannot issue a record participants refuse.
    /// </summary>
    /// <exception cref="GovernanceFormatException">An entry or the record breaks a rule of its format.</exception>
    /// <exception cref="MembershipException">The chain with the new record would be refused (e.g. a key change without the previous key's signature).</exception>
    public static MembershipRecord Append(IReadOnlyList<MembershipRecord> chain, DateTimeOffset issuedAt,
        IEnumerable<SignedOrganisationEntry> changed, IEnumerable<SignedRemoval> removals, ParticipantSigningKey operatorKey)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(changed);
        ArgumentNullException.ThrowIfNull(removals);
        if (chain.Count == 0)
            throw new ArgumentException("The chain is empty; start it with Start.", nameof(chain));
        var latest = chain[^1];
        var changedList = changed.ToList();
        var removalList = removals.ToList();
        var replaced = removalList.Select(r => r.Id).Concat(changedList.Select(c => c.Entry.Id)).ToHashSet(StringComparer.Ordinal);
        var organisations = latest.Organisations.Where(o => !replaced.Contains(o.Entry.Id)).Concat(changedList);
        var next = new MembershipRecord(latest.Federation, latest.Serial + 1, issuedAt, latest.Digest, [.. organisations], [.. removalList], []);
        return SignAndVerify(chain, next, operatorKey);
    }

    private static MembershipRecord SignAndVerify(IReadOnlyList<MembershipRecord> chain, MembershipRecord unsigned, ParticipantSigningKey operatorKey)
    {
        ArgumentNullException.ThrowIfNull(operatorKey);
        unsigned.Check($"membership record {unsigned.Serial}", "$");
        var signed = unsigned with { OperatorSignature = Statement.Sign(operatorKey, MembershipRecord.Tag, unsigned.BodyBytes()) };
        Verify(operatorKey.PublicKey, [.. chain, signed]);
        return signed;
    }

    private static void CheckFormat(MembershipRecord record)
    {
        try
        {
            record.Check($"membership record {record.Serial}", "$");
        }
        catch (GovernanceFormatException e)
        {
            throw new MembershipException(record.Serial, null, $"{e.JsonPath}: {e.Problem}");
        }
    }

    /// <param name="lastEntries">Each organisation's last accepted entry up to the record before, removed ones included; updated here.</param>
    private static void CheckLinks(MembershipRecord record, MembershipRecord? previous, string? previousDigest, Dictionary<string, OrganisationEntry> lastEntries)
    {
        void Fail(string? organisation, string rule) => throw new MembershipException(record.Serial, organisation, rule);

        if (previous is null)
        {
            if (record.Previous is not null)
                Fail(null, "the first record has no record before it, so 'previous' must be null");
        }
        else
        {
            if (record.Federation != previous.Federation)
                Fail(null, $"the federation is '{record.Federation}', not '{previous.Federation}' as in record {previous.Serial}");
            if (record.Previous != previousDigest)
                Fail(null, $"'previous' is {record.Previous ?? "null"}, but record {previous.Serial}'s digest is {previousDigest} (the chain does not link)");
            if (record.IssuedAt < previous.IssuedAt)
                Fail(null, $"issuedAt {Formats.Time(record.IssuedAt)} is earlier than record {previous.Serial}'s {Formats.Time(previous.IssuedAt)}");
        }

        var before = previous?.Organisations.ToDictionary(o => o.Entry.Id, StringComparer.Ordinal) ?? [];
        foreach (var signed in record.Organisations)
        {
            var entry = signed.Entry;
            // Carried over unchanged: verified with the record before.
            if (before.TryGetValue(entry.Id, out var carried) && carried.SameAs(signed))
                continue;
            if (!Statement.Verify(entry.SigningKey, OrganisationEntry.Tag, entry.CanonicalBytes(), signed.SelfSignature))
                Fail(entry.Id, "the entry's self-signature does not verify with its signingKey (the entry was altered after signing, or signed by another key)");
            if (!lastEntries.TryGetValue(entry.Id, out var last))
            {
                if (signed.PreviousKeySignature is not null)
                    Fail(entry.Id, "a new organisation has no previous key, so its entry must not carry a previousKey signature");
                continue;
            }
            if (entry.Serial <= last.Serial)
                Fail(entry.Id, $"the entry changed but its serial {entry.Serial} does not exceed {last.Serial}, the serial of the organisation's last entry (an old entry replayed, or a change without a new serial)");
            if (entry.SigningKey.SequenceEqual(last.SigningKey))
            {
                if (signed.PreviousKeySignature is not null)
                    Fail(entry.Id, "the signing key did not change, so the entry must not carry a previousKey signature");
            }
            else if (signed.PreviousKeySignature is not { } handover)
                Fail(entry.Id, $"the signing key differs from the key of the organisation's entry {last.Serial}, and that key did not sign the change (a key substitution)");
            else if (!Statement.Verify(last.SigningKey, OrganisationEntry.Tag, entry.CanonicalBytes(), handover))
                Fail(entry.Id, $"the previousKey signature does not verify with the key of the organisation's entry {last.Serial}");
        }

        var after = record.Organisations.Select(o => o.Entry.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var removal in record.Removals)
        {
            if (!before.TryGetValue(removal.Id, out var removed))
                Fail(removal.Id, $"the removal names an organisation that is not in the record before{(previous is null ? "" : $" ({previous.Serial})")}");
            else if (after.Contains(removal.Id))
                Fail(removal.Id, "the organisation is both removed and listed");
            else if (removal.Serial != removed.Entry.Serial)
                Fail(removal.Id, $"the removal is for entry serial {removal.Serial}, but the organisation's entry has serial {removed.Entry.Serial}");
            else if (!Statement.Verify(removed.Entry.SigningKey, SignedRemoval.Tag, removal.StatementBytes(), removal.Signature))
                Fail(removal.Id, "the removal is not signed by the organisation's key (only the organisation can remove itself)");
        }
        var removedIds = record.Removals.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var id in before.Keys.Where(id => !after.Contains(id) && !removedIds.Contains(id)))
            Fail(id, $"the organisation of record {previous!.Serial} is missing, and no removal signed by it says it left");

        foreach (var signed in record.Organisations)
            lastEntries[signed.Entry.Id] = signed.Entry;
    }
}
