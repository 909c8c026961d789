using System.Reflection;
using System.Text;
using FedCore.Aggregation.Integrity;
using FedCore.Governance.Agreements;
using FedCore.Governance.Canonical;
using FedCore.Governance.Datasets;
using FedCore.Governance.Membership;
using FedCore.Learning;
using Federation.Contracts.Errors;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Governance;

/// <summary>
/// A silo keeps what it concluded of a membership or an agreement (FederationRecords: every step of every participant
/// reads them afresh), so a kept result must never stand for other bytes, another pin, another membership or a forged
/// status change, and what it hands every grain must be immutable (the last three tests come from a review, branch review/perf).
/// </summary>
public sealed class FederationRecordsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 5, 9, 0, 0, TimeSpan.Zero);
    private static readonly string[] Ids = ["HU/budapest", "CH/zurich", "US/long-beach"];
    private readonly ParticipantSigningKey _operator = ParticipantSigningKey.Generate();
    private readonly Dictionary<string, ParticipantSigningKey> _keys = new[] { "HU/budapest", "CH/zurich", "US/long-beach", "US/cleveland" }
        .ToDictionary(id => id, _ => ParticipantSigningKey.Generate());
    private readonly FederationRecords _records;

    public FederationRecordsTests() =>
        _records = new FederationRecords(null!, new FederationSiloOptions { Country = "HU", DataDirectory = "unused", OperatorPublicKey = _operator.PublicKey });

    [Fact]
    public void A_membership_checked_once_is_checked_again_for_other_bytes_and_against_another_pin()
    {
        var first = MembershipChain.Start("records-test", T0, [.. Ids.Select(Signed)], _operator);
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
        var first = MembershipChain.Start("records-test", T0, [.. Ids.Select(Signed)], _operator);
        var withBudapest = _records.Verify(MembershipJson.Write([first]));
        var terms = new AgreementTerms("records-2026", "Test", "Test the kept results", [.. Ids.Select(p => new AgreementParty(p, ["heart"]))],
            ["CH"], ["CH", "HU", "US"], [ModelKind.Logistic], 3, new ProtectionTerms(ProtectionScheme.Ckks, 4m), false, null, T0, T0.AddDays(365));
        var agreement = Ids.Aggregate(Agreement.Draft(terms).Propose(T0.AddDays(1)),
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

    [Theory]
    [InlineData(typeof(Agreement))]
    [InlineData(typeof(AgreementTerms))]
    [InlineData(typeof(AgreementParty))]
    [InlineData(typeof(PartySignature))]
    [InlineData(typeof(SignedStatusChange))]
    [InlineData(typeof(StatusChange))]
    [InlineData(typeof(VerifiedMembership))]
    [InlineData(typeof(OrganisationEntry))]
    [InlineData(typeof(DatasetCatalog))]
    [InlineData(typeof(DatasetEntry))]
    public void A_kept_record_shared_between_grains_has_no_field_a_grain_could_write(Type type)
    {
        // The memo hands one object to every grain of the silo: a settable field, or a mutable collection or array in one,
        // would let a grain (or a bug in one) change what another grain verified.
        var writable = type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Where(f => !f.IsInitOnly || f.FieldType.IsArray || (f.FieldType.IsGenericType && f.FieldType.GetGenericTypeDefinition() is var g
                && (g == typeof(List<>) || g == typeof(Dictionary<,>) || g == typeof(HashSet<>))))
            .Select(f => $"{f.FieldType.Name} {f.Name}").ToList();
        Assert.True(writable.Count == 0, $"{type.Name} has writable state: {string.Join(", ", writable)}");
    }

    [Fact]
    public void A_membership_kept_unpinned_is_checked_again_against_a_pin_of_a_rewritten_history()
    {
        var first = MembershipChain.Start("review", T0, [.. Ids.Select(Signed)], _operator);
        var kept = _records.Verify(MembershipJson.Write([first])); // kept as "unpinned" (what the job and directory ask)
        var rewritten = new MembershipPin(1, new string('a', 64));
        Assert.Equal("membership.refused", Assert.Throws<FederationOperationException>(() => _records.Verify(MembershipJson.Write([first]), rewritten)).Code);
        Assert.Equal(kept.Digest, _records.Verify(MembershipJson.Write([first]), kept.Pin).Digest); // its own pin: checked, and passes
    }

    [Fact]
    public void An_agreement_verified_active_does_not_vouch_for_a_document_with_a_forged_suspension_or_resumption()
    {
        var membership = _records.Verify(MembershipJson.Write([MembershipChain.Start("review", T0, [.. Ids.Select(Signed)], _operator)]));
        var terms = new AgreementTerms("review-2026", "Test", "Review the kept results", [.. Ids.Select(p => new AgreementParty(p, ["heart"]))],
            ["CH"], ["CH", "HU", "US"], [ModelKind.Logistic], 3, new ProtectionTerms(ProtectionScheme.Ckks, 4m), false, null, T0, T0.AddDays(365));
        var active = Ids.Aggregate(Agreement.Draft(terms).Propose(T0.AddDays(1)),
            (a, p) => a.Sign(PartySignature.Create(a.Terms, p, _keys[p]), membership, T0.AddDays(1)));
        byte[] activeBytes = AgreementJson.Write(active);
        var read = FederationRecords.Read(activeBytes, terms.Id, membership);
        _records.Verify(read, membership); // kept for this object and membership

        // Zurich suspends; the relay then serves a document where the suspension is followed by a resumption Zurich never
        // signed (signed with another key): it reads (the reader checks no keys), but must not pass Verify on the memo.
        var suspend = active.NextStatusChange(StatusChangeKind.Suspend, "CH/zurich", T0.AddDays(2), "audit");
        var suspended = active.ChangeStatus(SignedStatusChange.Create(suspend, _keys["CH/zurich"]), membership, T0.AddDays(2));
        using var mallory = ParticipantSigningKey.Generate();
        var resume = suspended.NextStatusChange(StatusChangeKind.Resume, "CH/zurich", T0.AddDays(3), "done");
        var genuineResume = SignedStatusChange.Create(resume, _keys["CH/zurich"]);
        var resumed = suspended.ChangeStatus(genuineResume, membership, T0.AddDays(3));
        string resumedJson = Encoding.UTF8.GetString(AgreementJson.Write(resumed));
        string forgedJson = resumedJson.Replace(Convert.ToBase64String([.. genuineResume.Signature]), Convert.ToBase64String(mallory.Sign(Encoding.UTF8.GetBytes("x"))));
        Assert.NotEqual(resumedJson, forgedJson);
        var forgedAgreement = FederationRecords.Read(Encoding.UTF8.GetBytes(forgedJson), terms.Id, membership);
        Assert.Equal(AgreementState.Active, forgedAgreement.StateAt(T0.AddDays(4)));
        Assert.Throws<AgreementException>(() => _records.Verify(forgedAgreement, membership));
        _records.Verify(FederationRecords.Read(Encoding.UTF8.GetBytes(resumedJson), terms.Id, membership), membership);
    }

    private SignedOrganisationEntry Signed(string id) => SignedOrganisationEntry.Create(
        new OrganisationEntry(id, OrganisationId.CountryOf(id), $"{id} legal entity",
            [new Member("Ada Admin", MemberRole.OrganisationAdmin), new Member("Sam Steward", MemberRole.DataSteward)], [.. _keys[id].PublicKey], 1),
        _keys[id]);
}
