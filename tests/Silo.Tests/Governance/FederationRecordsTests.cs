using FedCore.Aggregation.Integrity;
using FedCore.Governance.Agreements;
using FedCore.Governance.Canonical;
using FedCore.Governance.Membership;
using FedCore.Learning;
using Federation.Contracts.Errors;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Governance;

/// <summary>
/// A silo keeps what it concluded of a membership or an agreement (FederationRecords: every step of every participant
/// reads them afresh), so a kept result must never stand for other bytes, another pin or another membership.
/// </summary>
public sealed class FederationRecordsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 5, 9, 0, 0, TimeSpan.Zero);
    private readonly ParticipantSigningKey _operator = ParticipantSigningKey.Generate();
    private readonly Dictionary<string, ParticipantSigningKey> _keys = new[] { "HU/budapest", "CH/zurich", "US/long-beach", "US/cleveland" }
        .ToDictionary(id => id, _ => ParticipantSigningKey.Generate());
    private readonly FederationRecords _records;

    public FederationRecordsTests() =>
        _records = new FederationRecords(null!, new FederationSiloOptions { Country = "HU", DataDirectory = "unused", OperatorPublicKey = _operator.PublicKey });

    [Fact]
    public void A_membership_checked_once_is_checked_again_for_other_bytes_and_against_another_pin()
    {
        var first = MembershipChain.Start("records-test", T0, [Signed("HU/budapest"), Signed("CH/zurich"), Signed("US/long-beach")], _operator);
        var chain = new[] { first, MembershipChain.Append([first], T0.AddDays(1), [Signed("US/cleveland")], [], _operator) };
        byte[] bytes = MembershipJson.Write(chain);
        var verified = _records.Verify(bytes);
        Assert.Same(verified, _records.Verify(bytes)); // kept

        // The same history cut back to record 1 verifies on its own, but not against a pin on record 2: a rollback.
        byte[] older = MembershipJson.Write([first]);
        Assert.Equal(1, _records.Verify(older).Serial);
        var rollback = Assert.Throws<FederationOperationException>(() => _records.Verify(older, verified.Pin));
        Assert.Contains("rollback", rollback.Message);
        // A record 2 signed by someone else differs from the kept one in its signature alone: checked in full, refused.
        var forged = chain[1] with { OperatorSignature = Statement.Sign(ParticipantSigningKey.Generate(), MembershipRecord.Tag, chain[1].BodyBytes()) };
        Assert.Equal("membership.refused", Assert.Throws<FederationOperationException>(() => _records.Verify(MembershipJson.Write([first, forged]))).Code);
        Assert.Equal(verified.Digest, _records.Verify(bytes, verified.Pin).Digest);
    }

    [Fact]
    public void An_agreement_verified_against_one_membership_is_verified_again_against_another()
    {
        var first = MembershipChain.Start("records-test", T0, [Signed("HU/budapest"), Signed("CH/zurich"), Signed("US/long-beach")], _operator);
        var withBudapest = _records.Verify(MembershipJson.Write([first]));
        var terms = new AgreementTerms("records-2026", "Test", "Test the kept results", [.. new[] { "HU/budapest", "CH/zurich", "US/long-beach" }.Select(p => new AgreementParty(p, ["heart"]))],
            ["CH"], ["CH", "HU", "US"], [ModelKind.Logistic], 3, new ProtectionTerms(ProtectionScheme.Ckks, 4m), false, null, T0, T0.AddDays(365));
        var agreement = new[] { "HU/budapest", "CH/zurich", "US/long-beach" }.Aggregate(Agreement.Draft(terms).Propose(T0.AddDays(1)),
            (a, p) => a.Sign(PartySignature.Create(a.Terms, p, _keys[p]), withBudapest, T0.AddDays(1)));
        _records.Verify(agreement, withBudapest);

        // Budapest's key changes in record 2 (signed with its old key): its signature on the agreement is no longer its key's.
        using var newKey = ParticipantSigningKey.Generate();
        var budapest = first.Organisations.Single(o => o.Entry.Id == "HU/budapest").Entry;
        var rekeyed = SignedOrganisationEntry.Rotate(budapest with { SigningKey = [.. newKey.PublicKey], Serial = budapest.Serial + 1 }, newKey, _keys["HU/budapest"]);
        var afterRekey = _records.Verify(MembershipJson.Write([first, MembershipChain.Append([first], T0.AddDays(2), [rekeyed], [], _operator)]));
        var refused = Assert.Throws<AgreementException>(() => _records.Verify(agreement, afterRekey));
        Assert.Contains("HU/budapest", refused.Message);
        _records.Verify(agreement, withBudapest); // still the first membership's conclusion
    }

    private SignedOrganisationEntry Signed(string id) => SignedOrganisationEntry.Create(
        new OrganisationEntry(id, OrganisationId.CountryOf(id), $"{id} legal entity",
            [new Member("Ada Admin", MemberRole.OrganisationAdmin), new Member("Sam Steward", MemberRole.DataSteward)], [.. _keys[id].PublicKey], 1),
        _keys[id]);
}
