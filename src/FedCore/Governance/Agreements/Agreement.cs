using System.Collections.Immutable;
using FedCore.Governance.Canonical;
using FedCore.Governance.Membership;

namespace FedCore.Governance.Agreements;

/// <summary>
/// A data-sharing agreement as a pure state machine over its signed document: the terms, whether they are frozen
/// (proposed), the parties' signatures and the parties' signed status changes, in order. Every instance was reached by
/// legal transitions from <see cref="Draft"/> (the reader replays them too), so a document cannot describe an
/// impossible history; signatures are verified against a membership whenever one is added and by <see cref="Verify"/>.
/// <para>
/// draft → (propose) proposed → (last signature) active ⇄ (suspend / resume by the same party) suspended; proposed,
/// active and suspended → (terminate) terminated, final; editing a proposal returns it to draft without signatures.
/// From the clock: proposed, active and suspended are expired once now ≥ validUntil, and active is not yet valid
/// while now &lt; validFrom. A refused transition is an <see cref="AgreementTransitionException"/> naming the state
/// and the transition.
/// </para>
/// </summary>
public sealed class Agreement
{
    private Agreement(AgreementTerms terms, bool proposed, ImmutableArray<PartySignature> signatures, ImmutableArray<SignedStatusChange> statusChanges)
    {
        Terms = terms;
        Proposed = proposed;
        Signatures = signatures;
        StatusChanges = statusChanges;
        TermsDigest = terms.Digest;
        RecordedState = !proposed ? AgreementState.Draft
            : statusChanges.IsEmpty ? (signatures.Length == terms.Parties.Length ? AgreementState.Active : AgreementState.Proposed)
            : statusChanges[^1].Change.Kind switch
            {
                StatusChangeKind.Suspend => AgreementState.Suspended,
                StatusChangeKind.Resume => AgreementState.Active,
                _ => AgreementState.Terminated,
            };
    }

    public string Id => Terms.Id;

    public AgreementTerms Terms { get; }

    /// <summary>Whether the terms are frozen for signing (false in a draft).</summary>
    public bool Proposed { get; }

    /// <summary>One per party that signed, in the order they were added.</summary>
    public ImmutableArray<PartySignature> Signatures { get; }

    public ImmutableArray<SignedStatusChange> StatusChanges { get; }

    /// <summary>Lower-case hex SHA-256 of the canonical terms.</summary>
    public string TermsDigest { get; }

    /// <summary>The state the document alone shows: draft, proposed, active, suspended or terminated.</summary>
    public AgreementState RecordedState { get; }

    /// <summary>The parties whose signature is missing, in the terms' order.</summary>
    public IEnumerable<string> Unsigned => Terms.Parties.Select(p => p.Organisation).Where(p => Signatures.All(s => s.Party != p));

    /// <summary>The state at <paramref name="now"/>: <see cref="RecordedState"/> with expiry and not-yet-valid from the clock.</summary>
    public AgreementState StateAt(DateTimeOffset now) => RecordedState switch
    {
        AgreementState.Draft or AgreementState.Terminated => RecordedState,
        _ when now >= Terms.ValidUntil => AgreementState.Expired,
        AgreementState.Active when now < Terms.ValidFrom => AgreementState.NotYetValid,
        _ => RecordedState,
    };

    /// <summary>A new draft of these terms.</summary>
    /// <exception cref="GovernanceFormatException">The terms break a rule of their format.</exception>
    public static Agreement Draft(AgreementTerms terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        terms.Check($"agreement '{terms.Id}'", "$");
        return new Agreement(terms, false, [], []);
    }

    /// <summary>Replaces the terms of a draft or a proposal; a proposal goes back to draft and loses every signature.</summary>
    /// <exception cref="AgreementTransitionException">The terms are signed by everyone, or terminated.</exception>
    /// <exception cref="AgreementException">The new terms have another id, or their window has already ended.</exception>
    /// <exception cref="GovernanceFormatException">The new terms break a rule of their format.</exception>
    public Agreement EditTerms(AgreementTerms terms, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (RecordedState is not (AgreementState.Draft or AgreementState.Proposed))
            throw Refused(StateAt(now), "edit terms", "only a draft or a proposal can change; an agreement every party signed is terminated and replaced instead");
        if (terms.Id != Id)
            throw new AgreementException(Id, $"edited terms carry the id '{terms.Id}'; an agreement's id never changes");
        if (now >= terms.ValidUntil)
            throw new AgreementException(Id, $"the edited terms' window ended at {Formats.Time(terms.ValidUntil)}");
        return Draft(terms);
    }

    /// <summary>Freezes the terms so that parties can sign them.</summary>
    /// <exception cref="AgreementTransitionException">Not a draft, or its window has already ended.</exception>
    public Agreement Propose(DateTimeOffset now)
    {
        if (RecordedState == AgreementState.Draft && now >= Terms.ValidUntil)
            throw Refused(AgreementState.Draft, "propose", $"its window ended at {Formats.Time(Terms.ValidUntil)}; edit the terms first");
        return ProposeRecorded(StateAt(now));
    }

    /// <summary>Adds a party's signature after checking it with the party's key in <paramref name="membership"/>; the last one makes the agreement active.</summary>
    /// <exception cref="AgreementTransitionException">The agreement is not collecting signatures (a draft, already signed by all, expired, …).</exception>
    /// <exception cref="AgreementException">The signer is not a party or not a member, has signed already, or the signature does not verify.</exception>
    public Agreement Sign(PartySignature signature, VerifiedMembership membership, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(membership);
        var next = SignRecorded(signature, StateAt(now));
        if (SignatureProblem(signature, membership) is { } problem)
            throw new AgreementException(Id, problem);
        return next;
    }

    /// <summary>The statement a party signs to suspend, resume or terminate this agreement next.</summary>
    public StatusChange NextStatusChange(StatusChangeKind kind, string party, DateTimeOffset at, string reason) =>
        new(Id, TermsDigest, StatusChanges.Length + 1, kind, party, at, reason);

    /// <summary>
    /// Applies a party's signed suspension (of an active agreement), resumption (by the party that suspended it) or
    /// termination (of a proposed, active or suspended one), after checking the signature with the party's key.
    /// </summary>
    /// <exception cref="AgreementTransitionException">The state does not allow the change.</exception>
    /// <exception cref="AgreementException">The statement is for other terms or another position, its party is not a party or member, or its signature does not verify.</exception>
    public Agreement ChangeStatus(SignedStatusChange change, VerifiedMembership membership, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(membership);
        var next = ChangeStatusRecorded(change, StateAt(now));
        if (StatusChangeProblem(change, membership) is { } problem)
            throw new AgreementException(Id, problem);
        return next;
    }

    /// <summary>Checks every signature and status change with the parties' keys in <paramref name="membership"/>, as wherever the agreement is used.</summary>
    /// <exception cref="AgreementException">A party has not signed, is not a member, or a signature or status change does not verify; the message lists each.</exception>
    public void Verify(VerifiedMembership membership)
    {
        var problems = Problems(membership);
        if (!problems.IsEmpty)
            throw new AgreementException(Id, string.Join("; ", problems.Select(p => $"{p.Term}: {p.Problem}")));
    }

    /// <summary>Each party's missing or failing signature, and each failing status change, with the term it concerns (empty when <see cref="Verify"/> passes).</summary>
    public ImmutableArray<(string Term, string Problem)> Problems(VerifiedMembership membership)
    {
        ArgumentNullException.ThrowIfNull(membership);
        var problems = ImmutableArray.CreateBuilder<(string, string)>();
        foreach (var party in Terms.Parties)
        {
            var signature = Signatures.FirstOrDefault(s => s.Party == party.Organisation);
            if (signature is null)
                problems.Add(("signatures", $"'{party.Organisation}' has not signed"));
            else if (SignatureProblem(signature, membership) is { } problem)
                problems.Add(("signatures", problem));
        }
        foreach (var change in StatusChanges)
            if (StatusChangeProblem(change, membership) is { } problem)
                problems.Add(("statusChanges", problem));
        return problems.ToImmutable();
    }

    /// <summary>
    /// Rebuilds an agreement from its document through the legal transitions, without the clock and without keys
    /// (the reader's job: an impossible history is refused; signatures are checked where the agreement is used).
    /// </summary>
    internal static Agreement Replay(AgreementTerms terms, bool proposed, ImmutableArray<PartySignature> signatures,
        ImmutableArray<SignedStatusChange> statusChanges, Func<string, AgreementException, Exception> refused)
    {
        var agreement = Draft(terms);
        if (proposed)
            agreement = agreement.ProposeRecorded(agreement.RecordedState);
        for (int i = 0; i < signatures.Length; i++)
        {
            try
            {
                agreement = agreement.SignRecorded(signatures[i], agreement.RecordedState);
            }
            catch (AgreementException e)
            {
                throw refused($"signatures[{i}]", e);
            }
        }
        for (int i = 0; i < statusChanges.Length; i++)
        {
            try
            {
                agreement = agreement.ChangeStatusRecorded(statusChanges[i], agreement.RecordedState);
            }
            catch (AgreementException e)
            {
                throw refused($"statusChanges[{i}]", e);
            }
        }
        return agreement;
    }

    private Agreement ProposeRecorded(AgreementState state)
    {
        if (state != AgreementState.Draft)
            throw Refused(state, "propose", "only a draft can be proposed");
        return new Agreement(Terms, true, [], []);
    }

    private Agreement SignRecorded(PartySignature signature, AgreementState state)
    {
        if (state != AgreementState.Proposed)
            throw Refused(state, "sign", state == AgreementState.Draft
                ? "the terms are not frozen yet; propose them first"
                : "signatures are collected only while the agreement is proposed");
        if (Terms.Party(signature.Party) is null)
            throw new AgreementException(Id, $"'{signature.Party}' is not a party and cannot sign");
        if (Signatures.Any(s => s.Party == signature.Party))
            throw new AgreementException(Id, $"'{signature.Party}' has signed already");
        return new Agreement(Terms, true, Signatures.Add(signature), []);
    }

    private Agreement ChangeStatusRecorded(SignedStatusChange signed, AgreementState state)
    {
        var change = signed.Change;
        string transition = Formats.Name(change.Kind);
        bool allowed = change.Kind switch
        {
            StatusChangeKind.Suspend => state is AgreementState.Active or AgreementState.NotYetValid,
            StatusChangeKind.Resume => state == AgreementState.Suspended,
            StatusChangeKind.Terminate => state is AgreementState.Proposed or AgreementState.Active or AgreementState.NotYetValid or AgreementState.Suspended,
            _ => false,
        };
        if (!allowed)
            throw Refused(state, transition, change.Kind switch
            {
                StatusChangeKind.Suspend => "only an active agreement can be suspended",
                StatusChangeKind.Resume => "only a suspended agreement can be resumed",
                _ => "only a proposed, active or suspended agreement can be terminated",
            });
        if (change.Agreement != Id || change.Terms != TermsDigest)
            throw new AgreementException(Id, $"the {transition} statement is for agreement '{change.Agreement}' with terms {change.Terms}, not these terms ({TermsDigest})");
        if (change.Sequence != StatusChanges.Length + 1)
            throw new AgreementException(Id, $"the {transition} statement is status change {change.Sequence}, but the next one is {StatusChanges.Length + 1} (a replay or a gap)");
        if (Terms.Party(change.Party) is null)
            throw new AgreementException(Id, $"'{change.Party}' is not a party and cannot {transition}");
        if (change.Kind == StatusChangeKind.Resume && StatusChanges[^1].Change.Party != change.Party)
            throw new AgreementException(Id, $"only '{StatusChanges[^1].Change.Party}', who suspended the agreement, can resume it, not '{change.Party}'");
        if (!Formats.IsUtcSeconds(change.At) || (!StatusChanges.IsEmpty && change.At < StatusChanges[^1].Change.At))
            throw new AgreementException(Id, $"the {transition} statement's time must be a UTC time in whole seconds, not earlier than the change before");
        if (!Formats.IsText(change.Reason))
            throw new AgreementException(Id, $"the {transition} statement must give a reason");
        if (signed.Signature.IsDefaultOrEmpty)
            throw new AgreementException(Id, $"the {transition} statement is not signed");
        return new Agreement(Terms, true, Signatures, StatusChanges.Add(signed));
    }

    private string? SignatureProblem(PartySignature signature, VerifiedMembership membership) =>
        membership.Find(signature.Party) is not { } member
            ? $"'{signature.Party}' is not a member of the federation (membership record {membership.Serial})"
            : signature.Verifies(Terms, member.SigningKey)
                ? null
                : $"the signature of '{signature.Party}' does not verify with its key in membership record {membership.Serial} (forged, for other terms, or made with a key since rotated)";

    private string? StatusChangeProblem(SignedStatusChange signed, VerifiedMembership membership)
    {
        var change = signed.Change;
        string what = $"status change {change.Sequence} ({Formats.Name(change.Kind)} by '{change.Party}')";
        return membership.Find(change.Party) is not { } member
            ? $"{what}: '{change.Party}' is not a member of the federation (membership record {membership.Serial})"
            : signed.Verifies(member.SigningKey)
                ? null
                : $"{what}: the signature does not verify with the party's key in membership record {membership.Serial}";
    }

    private AgreementTransitionException Refused(AgreementState state, string transition, string reason) => new(Id, state, transition, reason);
}
