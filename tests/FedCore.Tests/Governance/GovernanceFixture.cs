using System.Collections.Immutable;
using System.Text;
using System.Text.Json.Nodes;
using FedCore.Aggregation.Integrity;
using FedCore.Governance.Agreements;
using FedCore.Governance.Canonical;
using FedCore.Governance.Datasets;
using FedCore.Governance.Membership;
using FedCore.Learning;

namespace FedCore.Tests.Governance;

/// <summary>An organisation of the test federation with its key.</summary>
internal sealed record TestOrganisation(string Id, ParticipantSigningKey Key)
{
    public OrganisationEntry Entry(long serial = 1, ParticipantSigningKey? key = null, string? legalName = null) => new(
        Id, OrganisationId.CountryOf(Id), legalName ?? $"{Id} legal entity",
        [new Member("Ada Admin", MemberRole.OrganisationAdmin), new Member("Sam Steward", MemberRole.DataSteward)],
        [.. (key ?? Key).PublicKey], serial);

    public SignedOrganisationEntry Signed(long serial = 1) => SignedOrganisationEntry.Create(Entry(serial), Key);

    public DatasetEntry Dataset(string name) => new(
        Id, name, $"{name} cohort of {Id}", new string('a', 64), 303, new string('b', 64),
        [DataCategory.Health, DataCategory.Personal, DataCategory.SpecialCategory], OrganisationId.CountryOf(Id),
        "CC-BY-4.0 for federated training only", PrivacyUnit.Person, 8.5m, new DateTimeOffset(2025, 3, 2, 0, 0, 0, TimeSpan.Zero));

    public SignedDatasetEntry SignedDataset(string name) => SignedDatasetEntry.Create(Dataset(name), Key);
}

/// <summary>Keys and records the governance tests share: an operator and four organisations in four countries.</summary>
internal static class GovernanceFixture
{
    public static readonly DateTimeOffset T0 = new(2025, 3, 1, 9, 0, 0, TimeSpan.Zero);

    public static readonly ParticipantSigningKey Operator = ParticipantSigningKey.Generate();
    public static readonly TestOrganisation Budapest = new("HU/budapest", ParticipantSigningKey.Generate());
    public static readonly TestOrganisation Zurich = new("CH/zurich", ParticipantSigningKey.Generate());
    public static readonly TestOrganisation LongBeach = new("US/long-beach", ParticipantSigningKey.Generate());
    public static readonly TestOrganisation Cleveland = new("US/cleveland", ParticipantSigningKey.Generate());

    /// <summary>Record 1 with Budapest, Zurich and Long Beach; record 2 adds Cleveland.</summary>
    public static ImmutableArray<MembershipRecord> Chain() => ChainValue.Value;

    private static readonly Lazy<ImmutableArray<MembershipRecord>> ChainValue = new(() =>
    {
        var first = MembershipChain.Start("heart-study", T0, [Budapest.Signed(), Zurich.Signed(), LongBeach.Signed()], Operator);
        return [first, MembershipChain.Append([first], T0.AddDays(1), [Cleveland.Signed()], [], Operator)];
    });

    /// <summary>The chain with one more record, made by the operator's tool.</summary>
    public static ImmutableArray<MembershipRecord> Append(ImmutableArray<MembershipRecord> chain, SignedOrganisationEntry[] changed, SignedRemoval[]? removals = null) =>
        chain.Add(MembershipChain.Append(chain, chain[^1].IssuedAt.AddDays(1), changed, removals ?? [], Operator));

    /// <summary>The chain's next record with these organisations, signed by the operator without the tool's checks: what a dishonest operator can issue.</summary>
    public static MembershipRecord Forge(ImmutableArray<MembershipRecord> chain, SignedOrganisationEntry[] organisations, SignedRemoval[]? removals = null) =>
        OperatorSigns(new MembershipRecord(chain[^1].Federation, chain[^1].Serial + 1, chain[^1].IssuedAt.AddDays(1), chain[^1].Digest,
            [.. organisations], [.. removals ?? []], []));

    public static VerifiedMembership Membership() => MembershipValue.Value;

    private static readonly Lazy<VerifiedMembership> MembershipValue = new(() => MembershipChain.Verify(Operator.PublicKey, Chain()));

    /// <summary>The membership as of record 1, before Cleveland joined.</summary>
    public static VerifiedMembership FirstRecordOnly() => MembershipChain.Verify(Operator.PublicKey, [Chain()[0]]);

    /// <summary>Every member registers "heart"; Budapest also "heart-2024".</summary>
    public static ImmutableArray<SignedDatasetEntry> Datasets() =>
        [Budapest.SignedDataset("heart"), Budapest.SignedDataset("heart-2024"), Zurich.SignedDataset("heart"), LongBeach.SignedDataset("heart"), Cleveland.SignedDataset("heart")];

    public static DatasetCatalog Catalog() => DatasetCatalog.Verify(Datasets(), Membership());

    /// <summary>Signs a record with the operator key without the builder's checks: what a dishonest operator can do.</summary>
    public static MembershipRecord OperatorSigns(MembershipRecord record, ParticipantSigningKey? key = null) =>
        record with { OperatorSignature = Statement.Sign(key ?? Operator, MembershipRecord.Tag, record.BodyBytes()) };

    /// <summary>A day inside the fixture agreement's window.</summary>
    public static readonly DateTimeOffset Now = T0.AddDays(10);

    public static readonly TestOrganisation[] Parties = [Budapest, Zurich, LongBeach, Cleveland];

    /// <summary>Four parties, each with "heart"; updates to CH; CKKS with bound 10; a year from T0.</summary>
    public static AgreementTerms Terms() => new(
        "heart-2025", "Heart disease risk model", "Train a shared model that predicts coronary heart disease",
        [.. Parties.Select(p => new AgreementParty(p.Id, ["heart"]))],
        ["CH"], ["CH", "HU", "US"], [ModelKind.Logistic, ModelKind.Mlp], 3,
        new ProtectionTerms(ProtectionScheme.Ckks, 10m), false,
        new DifferentialPrivacyTerms(1.5m, 0.00001m, 1m, 0.8m),
        T0, T0.AddDays(365));

    public static Agreement Proposed(AgreementTerms? terms = null) => Agreement.Draft(terms ?? Terms()).Propose(Now);

    public static Agreement SignedBy(Agreement agreement, params TestOrganisation[] parties) =>
        parties.Aggregate(agreement, (a, p) => a.Sign(PartySignature.Create(a.Terms, p.Id, p.Key), Membership(), Now));

    public static Agreement Active(AgreementTerms? terms = null) => SignedBy(Proposed(terms), Parties);

    public static Agreement Change(Agreement agreement, StatusChangeKind kind, TestOrganisation party, DateTimeOffset? now = null) =>
        agreement.ChangeStatus(SignedStatusChange.Create(agreement.NextStatusChange(kind, party.Id, now ?? Now, $"{kind} for the test"), party.Key),
            Membership(), now ?? Now);

    public static JobPlan Plan(string self = "HU/budapest") => new(
        "job-17", "heart-2025", [.. Parties.Take(3).Select(p => new PlannedParticipant(p.Id, "heart"))],
        ProtectionScheme.Ckks, 10.0, ModelKind.Mlp, "CH", self, new FedCore.Privacy.DpSgdParameters(1, 1.1, 1e-5));

    /// <summary>The agreement with one party's signature replaced by one made with another key (through its document, as an attacker would).</summary>
    public static Agreement WithSignature(Agreement agreement, string party, ParticipantSigningKey key)
    {
        var root = JsonNode.Parse(AgreementJson.Write(agreement))!;
        foreach (var signature in root["signatures"]!.AsArray())
            if (signature!["party"]!.GetValue<string>() == party)
                signature["signature"] = Formats.Base64(PartySignature.Create(agreement.Terms, party, key).Signature);
        return AgreementJson.ParseAgreement(Encoding.UTF8.GetBytes(root.ToJsonString()), "forged.json", new AgreementReferences(Membership()));
    }
}
