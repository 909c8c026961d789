using FedCore.Aggregation.Integrity;
using FedCore.Governance.Agreements;
using static FedCore.Tests.Governance.GovernanceFixture;

namespace FedCore.Tests.Governance;

public sealed class AgreementLifecycleTests
{
    private static readonly string[] Transitions = ["edit terms", "propose", "sign", "suspend", "resume", "terminate"];

    /// <summary>Which transitions each state allows; every other pair must be refused naming the state and the transition.</summary>
    private static readonly Dictionary<AgreementState, string[]> Legal = new()
    {
        [AgreementState.Draft] = ["edit terms", "propose"],
        [AgreementState.Proposed] = ["edit terms", "sign", "terminate"],
        [AgreementState.Active] = ["suspend", "terminate"],
        [AgreementState.Suspended] = ["resume", "terminate"],
        [AgreementState.Terminated] = [],
        [AgreementState.Expired] = [],
        [AgreementState.NotYetValid] = ["suspend", "terminate"],
    };

    public static TheoryData<AgreementState, string> Pairs()
    {
        var data = new TheoryData<AgreementState, string>();
        foreach (var state in Enum.GetValues<AgreementState>())
            foreach (var transition in Transitions)
                data.Add(state, transition);
        return data;
    }

    /// <summary>An agreement in the state, and a time at which it is in it.</summary>
    private static (Agreement Agreement, DateTimeOffset Now) InState(AgreementState state) => state switch
    {
        AgreementState.Draft => (Agreement.Draft(Terms()), Now),
        AgreementState.Proposed => (SignedBy(Proposed(), Budapest), Now),
        AgreementState.Active => (Active(), Now),
        AgreementState.Suspended => (Change(Active(), StatusChangeKind.Suspend, Zurich), Now),
        AgreementState.Terminated => (Change(Active(), StatusChangeKind.Terminate, Zurich), Now),
        AgreementState.Expired => (Active(), Terms().ValidUntil),
        _ => (Active(), Terms().ValidFrom.AddSeconds(-1)),
    };

    private static Agreement Apply(Agreement agreement, string transition, DateTimeOffset now) => transition switch
    {
        "edit terms" => agreement.EditTerms(agreement.Terms with { Title = "Edited" }, now),
        "propose" => agreement.Propose(now),
        "sign" => agreement.Sign(PartySignature.Create(agreement.Terms, Cleveland.Id, Cleveland.Key), Membership(), now),
        "suspend" => Change(agreement, StatusChangeKind.Suspend, Budapest, now),
        "resume" => Change(agreement, StatusChangeKind.Resume, Zurich, now),
        _ => Change(agreement, StatusChangeKind.Terminate, Budapest, now),
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Every_state_allows_its_transitions_and_refuses_the_others_naming_both(AgreementState state, string transition)
    {
        var (agreement, now) = InState(state);
        Assert.Equal(state, agreement.StateAt(now));
        if (Legal[state].Contains(transition))
        {
            Apply(agreement, transition, now);
            return;
        }
        var e = Assert.Throws<AgreementTransitionException>(() => Apply(agreement, transition, now));
        Assert.Equal(state, e.State);
        Assert.Equal(transition, e.Transition);
        Assert.Contains($"cannot {transition} in state", e.Message);
    }

    [Fact]
    public void Signatures_make_a_proposal_active_and_the_clock_makes_it_not_yet_valid_or_expired()
    {
        var proposed = SignedBy(Proposed(), Budapest, Zurich, LongBeach);
        Assert.Equal(AgreementState.Proposed, proposed.StateAt(Now));
        Assert.Equal(["US/cleveland"], proposed.Unsigned);
        var active = SignedBy(proposed, Cleveland);
        Assert.Equal(AgreementState.Active, active.StateAt(Now));
        Assert.Equal(AgreementState.NotYetValid, active.StateAt(T0.AddSeconds(-1)));
        Assert.Equal(AgreementState.Expired, active.StateAt(T0.AddDays(365)));
        Assert.Equal(AgreementState.Expired, proposed.StateAt(T0.AddDays(400)));
        active.Verify(Membership());
    }

    [Fact]
    public void Changing_proposed_terms_returns_to_draft_and_drops_every_signature()
    {
        var edited = SignedBy(Proposed(), Budapest, Zurich).EditTerms(Terms() with { MinParticipants = 4 }, Now);
        Assert.Equal(AgreementState.Draft, edited.StateAt(Now));
        Assert.Empty(edited.Signatures);
        Assert.Equal(4, edited.Terms.MinParticipants);

        Assert.Contains("id never changes", Assert.Throws<AgreementException>(() => edited.EditTerms(Terms() with { Id = "other" }, Now)).Message);
        Assert.Contains("window ended", Assert.Throws<AgreementException>(() => edited.EditTerms(Terms(), T0.AddDays(400))).Message);
        var late = Assert.Throws<AgreementTransitionException>(() => Agreement.Draft(Terms()).Propose(T0.AddDays(400)));
        Assert.Equal(AgreementState.Draft, late.State);
    }

    [Fact]
    public void A_signature_that_is_forged_for_other_terms_by_a_non_party_or_repeated_is_refused()
    {
        var proposed = Proposed();
        var membership = Membership();
        var forged = new PartySignature(Budapest.Id, PartySignature.Create(proposed.Terms, Budapest.Id, Zurich.Key).Signature);
        Assert.Contains("does not verify", Assert.Throws<AgreementException>(() => proposed.Sign(forged, membership, Now)).Message);

        var otherTerms = PartySignature.Create(Terms() with { MinParticipants = 4 }, Budapest.Id, Budapest.Key);
        Assert.Contains("does not verify", Assert.Throws<AgreementException>(() => proposed.Sign(otherTerms, membership, Now)).Message);

        using var key = ParticipantSigningKey.Generate();
        Assert.Contains("not a party", Assert.Throws<AgreementException>(() => proposed.Sign(PartySignature.Create(proposed.Terms, "AT/vienna", key), membership, Now)).Message);

        var once = SignedBy(proposed, Budapest);
        Assert.Contains("signed already", Assert.Throws<AgreementException>(() => SignedBy(once, Budapest)).Message);
    }

    [Fact]
    public void A_party_missing_from_the_membership_cannot_sign()
    {
        var first = FirstRecordOnly();
        var e = Assert.Throws<AgreementException>(() => Proposed().Sign(PartySignature.Create(Terms(), Cleveland.Id, Cleveland.Key), first, Now));
        Assert.Contains("not a member", e.Message);
    }

    [Fact]
    public void Only_the_party_that_suspended_may_resume()
    {
        var suspended = Change(Active(), StatusChangeKind.Suspend, Zurich);
        var e = Assert.Throws<AgreementException>(() => Change(suspended, StatusChangeKind.Resume, Budapest));
        Assert.Contains("only 'CH/zurich', who suspended the agreement, can resume it", e.Message);
        Assert.Equal(AgreementState.Active, Change(suspended, StatusChangeKind.Resume, Zurich).StateAt(Now));
    }

    [Fact]
    public void A_status_change_that_is_replayed_for_other_terms_or_forged_is_refused()
    {
        var active = Active();
        var suspension = SignedStatusChange.Create(active.NextStatusChange(StatusChangeKind.Suspend, Zurich.Id, Now, "audit"), Zurich.Key);
        var suspended = active.ChangeStatus(suspension, Membership(), Now);
        var resumed = Change(suspended, StatusChangeKind.Resume, Zurich);
        var replay = Assert.Throws<AgreementException>(() => resumed.ChangeStatus(suspension, Membership(), Now));
        Assert.Contains("a replay or a gap", replay.Message);

        var otherActive = Active(Terms() with { Title = "Another" });
        Assert.Contains("not these terms", Assert.Throws<AgreementException>(() => otherActive.ChangeStatus(suspension, Membership(), Now)).Message);

        var forged = SignedStatusChange.Create(active.NextStatusChange(StatusChangeKind.Terminate, Zurich.Id, Now, "forged"), Budapest.Key);
        Assert.Contains("does not verify", Assert.Throws<AgreementException>(() => active.ChangeStatus(forged, Membership(), Now)).Message);

        var early = SignedStatusChange.Create(suspended.NextStatusChange(StatusChangeKind.Resume, Zurich.Id, Now.AddDays(-1), "back"), Zurich.Key);
        Assert.Contains("not earlier than the change before", Assert.Throws<AgreementException>(() => suspended.ChangeStatus(early, Membership(), Now)).Message);
    }

    [Fact]
    public void Verify_names_each_party_whose_signature_fails_or_is_missing()
    {
        var active = Active();
        var membership = Membership();
        var withoutCleveland = FirstRecordOnly();
        var e = Assert.Throws<AgreementException>(() => active.Verify(withoutCleveland));
        Assert.Contains("'US/cleveland' is not a member", e.Message);

        var partial = SignedBy(Proposed(), Budapest);
        var missing = Assert.Throws<AgreementException>(() => partial.Verify(membership));
        Assert.Contains("'CH/zurich' has not signed", missing.Message);
        Assert.Contains("'US/long-beach' has not signed", missing.Message);
    }
}
