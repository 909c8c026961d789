using FedCore.Aggregation.Integrity;
using FedCore.Governance;
using FedCore.Governance.Membership;
using static FedCore.Tests.Governance.GovernanceFixture;

namespace FedCore.Tests.Governance;

public sealed class MembershipChainTests
{
    private static MembershipException Refused(params MembershipRecord[] records) =>
        Assert.Throws<MembershipException>(() => MembershipChain.Verify(Operator.PublicKey, records));

    [Fact]
    public void A_chain_of_joins_a_rotation_and_a_removal_verifies_to_its_latest_membership()
    {
        using var newKey = ParticipantSigningKey.Generate();
        var chain = Append(Chain(), [SignedOrganisationEntry.Rotate(Zurich.Entry(2, newKey), newKey, Zurich.Key)]);
        chain = Append(chain, [], [SignedRemoval.Create(LongBeach.Entry(), LongBeach.Key)]);

        var membership = MembershipChain.Verify(Operator.PublicKey, chain);

        Assert.Equal(4, membership.Serial);
        Assert.Equal("heart-study", membership.Federation);
        Assert.Equal(chain[^1].Digest, membership.Digest);
        Assert.Equal(["CH/zurich", "HU/budapest", "US/cleveland"], membership.Organisations.Select(o => o.Id));
        Assert.Equal(newKey.PublicKey, membership.Find("CH/zurich")!.SigningKey);
        Assert.Equal("HU", membership.Find("HU/budapest")!.Country);
        Assert.Null(membership.Find("US/long-beach"));
    }

    [Fact]
    public void A_key_substitution_without_the_previous_key_is_refused_by_the_tool_and_by_verification()
    {
        var chain = Chain();
        using var attacker = ParticipantSigningKey.Generate();
        var substituted = SignedOrganisationEntry.Create(Budapest.Entry(2, attacker), attacker);

        Assert.Contains("key substitution", Assert.Throws<MembershipException>(() => Append(chain, [substituted])).Message);

        var e = Refused([.. chain, Forge(chain, [substituted, .. chain[1].Organisations.Where(o => o.Entry.Id != "HU/budapest")])]);
        Assert.Equal(3, e.Serial);
        Assert.Equal("HU/budapest", e.Organisation);
        Assert.Contains("key substitution", e.Message);
    }

    [Fact]
    public void A_rotation_signed_by_a_key_other_than_the_previous_one_is_refused()
    {
        using var newKey = ParticipantSigningKey.Generate();
        var wrong = SignedOrganisationEntry.Rotate(Budapest.Entry(2, newKey), newKey, Zurich.Key);
        var e = Assert.Throws<MembershipException>(() => Append(Chain(), [wrong]));
        Assert.Equal("HU/budapest", e.Organisation);
        Assert.Contains("previousKey signature does not verify", e.Message);
    }

    [Fact]
    public void An_id_never_comes_back_with_another_key_after_a_removal_unless_its_last_key_signs()
    {
        var chain = Append(Chain(), [], [SignedRemoval.Create(Cleveland.Entry(), Cleveland.Key)]);
        using var other = ParticipantSigningKey.Generate();

        var e = Assert.Throws<MembershipException>(() => Append(chain, [SignedOrganisationEntry.Create(Cleveland.Entry(2, other), other)]));
        Assert.Equal("US/cleveland", e.Organisation);
        Assert.Contains("key substitution", e.Message);

        var rejoined = Append(chain, [SignedOrganisationEntry.Rotate(Cleveland.Entry(2, other), other, Cleveland.Key)]);
        Assert.True(MembershipChain.Verify(Operator.PublicKey, rejoined).Contains("US/cleveland"));
    }

    [Fact]
    public void A_removal_not_signed_by_the_removed_organisation_is_refused()
    {
        var byAnother = SignedRemoval.Create(Cleveland.Entry(), Cleveland.Key) with { Signature = SignedRemoval.Create(Budapest.Entry(), Budapest.Key).Signature };
        var e = Assert.Throws<MembershipException>(() => Append(Chain(), [], [byAnother]));
        Assert.Equal("US/cleveland", e.Organisation);
        Assert.Contains("only the organisation can remove itself", e.Message);
    }

    [Fact]
    public void An_organisation_dropped_without_a_removal_is_refused()
    {
        var chain = Chain();
        var e = Refused([.. chain, Forge(chain, [.. chain[1].Organisations.Where(o => o.Entry.Id != "US/cleveland")])]);
        Assert.Equal("US/cleveland", e.Organisation);
        Assert.Contains("no removal signed by it", e.Message);
    }

    [Fact]
    public void A_removal_of_an_earlier_entry_or_of_a_non_member_is_refused()
    {
        var chain = Append(Chain(), [Cleveland.Signed(serial: 2)]);
        var stale = SignedRemoval.Create(Cleveland.Entry(serial: 1), Cleveland.Key);
        Assert.Contains("entry serial 1", Assert.Throws<MembershipException>(() => Append(chain, [], [stale])).Message);

        using var stranger = ParticipantSigningKey.Generate();
        var nonMember = new TestOrganisation("AT/vienna", stranger);
        var e = Assert.Throws<MembershipException>(() => Append(chain, [], [SignedRemoval.Create(nonMember.Entry(), stranger)]));
        Assert.Contains("not in the record before", e.Message);
    }

    [Fact]
    public void A_rewritten_history_is_refused_against_a_pinned_record_and_so_is_a_rollback()
    {
        var chain = Chain();
        var pin = MembershipChain.Verify(Operator.PublicKey, chain).Pin;
        Assert.Equal(3, MembershipChain.Verify(Operator.PublicKey, Append(chain, [Budapest.Signed(serial: 2)]), pin).Serial);

        // The operator re-issues record 2 without Cleveland: a chain consistent in itself.
        var rewritten = Append([chain[0]], [Budapest.Signed(serial: 2)]);
        Assert.Equal(2, MembershipChain.Verify(Operator.PublicKey, rewritten).Serial);
        var e = Assert.Throws<MembershipException>(() => MembershipChain.Verify(Operator.PublicKey, rewritten, pin));
        Assert.Equal(2, e.Serial);
        Assert.Contains("history was rewritten", e.Message);

        var rollback = Assert.Throws<MembershipException>(() => MembershipChain.Verify(Operator.PublicKey, [chain[0]], pin));
        Assert.Contains("rollback", rollback.Message);
    }

    [Fact]
    public void A_record_signed_by_another_key_than_the_operators_is_refused()
    {
        using var impostor = ParticipantSigningKey.Generate();
        var chain = Chain();
        var e = Refused(chain[0], OperatorSigns(chain[1], impostor));
        Assert.Equal(2, e.Serial);
        Assert.Contains("operator's signature does not verify", e.Message);

        var misconfigured = Operator.PublicKey;
        misconfigured[24] ^= 0x01;
        Assert.Contains("operator's signature does not verify",
            Assert.Throws<MembershipException>(() => MembershipChain.Verify(misconfigured, Chain())).Message);
    }

    [Fact]
    public void A_tampered_entry_is_refused_whether_or_not_the_operator_signs_again()
    {
        var chain = Chain();
        var tampered = chain[1] with
        {
            Organisations = [.. chain[1].Organisations.Select(o => o.Entry.Id == "HU/budapest"
                ? o with { Entry = o.Entry with { LegalName = "Someone else" } } : o)],
        };
        Assert.Contains("operator's signature does not verify", Refused(chain[0], tampered).Message);

        var resigned = Refused(chain[0], OperatorSigns(tampered));
        Assert.Equal("HU/budapest", resigned.Organisation);
        Assert.Contains("self-signature does not verify", resigned.Message);
    }

    [Fact]
    public void An_old_entry_put_back_in_place_of_a_newer_one_is_refused()
    {
        var chain = Append(Chain(), [Budapest.Signed(serial: 2)]);
        var old = chain[0].Organisations.Single(o => o.Entry.Id == "HU/budapest");
        Assert.Contains("does not exceed 2", Assert.Throws<MembershipException>(() => Append(chain, [old])).Message);
    }

    [Fact]
    public void Serials_links_the_federation_name_and_time_order_are_checked()
    {
        var chain = Chain();
        Assert.Contains("serials must run", Refused(chain[1]).Message);
        Assert.Contains("serials must run", Refused(chain[0], OperatorSigns(chain[1] with { Serial = 3 })).Message);
        Assert.Contains("does not link", Refused(chain[0], OperatorSigns(chain[1] with { Previous = new string('0', 64) })).Message);
        Assert.Contains("'previous' must be null", Refused(OperatorSigns(chain[0] with { Previous = new string('0', 64) })).Message);
        Assert.Contains("federation is 'other'", Refused(chain[0], OperatorSigns(chain[1] with { Federation = "other" })).Message);
        Assert.Contains("earlier than record 1", Refused(chain[0], OperatorSigns(chain[1] with { IssuedAt = T0.AddDays(-1) })).Message);
        Assert.Contains("empty", Refused().Message);
    }

    [Fact]
    public void Entry_rules_hold_for_entries_and_records_built_in_code()
    {
        var wrongCountry = Budapest.Entry() with { Country = "AT" };
        Assert.Equal("$.country", Assert.Throws<GovernanceFormatException>(() => SignedOrganisationEntry.Create(wrongCountry, Budapest.Key)).JsonPath);

        var noAdmin = Budapest.Entry() with { Members = [new Member("Sam", MemberRole.DataSteward)] };
        Assert.Contains("organisation-admin", Assert.Throws<GovernanceFormatException>(() => SignedOrganisationEntry.Create(noAdmin, Budapest.Key)).Message);

        var sharedKey = Zurich.Signed() with { Entry = Zurich.Entry() with { SigningKey = Budapest.Entry().SigningKey } };
        var e = Assert.Throws<GovernanceFormatException>(() => MembershipChain.Start("f", T0, [Budapest.Signed(), sharedKey], Operator));
        Assert.Contains("signing key of another organisation", e.Message);

        var forged = OperatorSigns(new MembershipRecord("f", 1, T0, null, [Budapest.Signed(), sharedKey], [], []));
        Assert.Contains("signing key of another organisation", Refused(forged).Message);
    }
}
