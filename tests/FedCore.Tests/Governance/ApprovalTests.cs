using System.Collections.Immutable;
using System.Text;
using System.Text.Json.Nodes;
using FedCore.Aggregation.Integrity;
using FedCore.Governance;
using FedCore.Governance.Agreements;
using FedCore.Governance.Approvals;
using FedCore.Governance.Canonical;
using FedCore.Governance.Membership;
using Xunit.Abstractions;
using static FedCore.Tests.Governance.GovernanceFixture;

namespace FedCore.Tests.Governance;

public sealed class ApprovalTests
{
    private static readonly ParticipantSigningKey Approver = ParticipantSigningKey.Generate();
    private static readonly string Digest = new('a', 64), OtherDigest = new('b', 64);

    private static readonly ApprovalSubject Resume = ApprovalSubject.ChangeAgreementStatus("heart-2025", Digest, 2, StatusChangeKind.Resume, "review done");

    private static byte[] Approve(ApprovalSubject subject, string organisation = "HU/budapest", DateTimeOffset? issuedAt = null, TimeSpan? lifetime = null,
        ParticipantSigningKey? key = null) =>
        Approval.Create(organisation, subject, issuedAt ?? Now, lifetime ?? TimeSpan.FromMinutes(10), key ?? Approver);

    private static VerifiedApproval Verify(byte[] approval, ApprovalSubject expected, DateTimeOffset? now = null, string organisation = "HU/budapest", byte[]? key = null) =>
        Approval.Verify(approval, key ?? Approver.PublicKey, organisation, expected, now ?? Now.AddMinutes(1));

    private static ApprovalException Refused(Func<VerifiedApproval> verify, string field)
    {
        var refused = Assert.Throws<ApprovalException>(() => verify());
        Assert.Equal(field, refused.Field);
        Assert.Equal("HU/budapest", refused.Organisation);
        Assert.Contains($"'HU/budapest' is refused: {field}: ", refused.Message);
        return refused;
    }

    /// <summary>The approval re-signed after <paramref name="change"/>: what its approver could make, but not for this act.</summary>
    private static byte[] Resigned(byte[] approval, Func<ApprovalStatement, ApprovalStatement> change)
    {
        var statement = change(Approval.Parse(approval).Statement);
        return Approval.Write(statement, Approval.Sign(statement, Approver));
    }

    [Fact]
    public void An_approval_allows_its_act_for_its_organisation_and_names_its_nonce_and_expiry()
    {
        var entry = Budapest.Entry();
        var publication = FedCore.Governance.Datasets.DatasetPublication.Parse("Heart", ["health", "personal"], "HU", "CC-BY-4.0", "person", 1.5m);
        foreach (var subject in new[]
        {
            ApprovalSubject.SignAgreement("heart-2025", Digest), Resume, ApprovalSubject.OrganisationEntry(entry),
            ApprovalSubject.RegisterDataset("heart", Digest, OtherDigest, publication), ApprovalSubject.RegisterDataset("heart", Digest, OtherDigest, null),
        })
        {
            var approval = Approve(subject);
            var verified = Verify(approval, subject);
            Assert.Equal("HU/budapest", verified.Organisation);
            Assert.Equal(subject, verified.Subject);
            Assert.Equal(Now.AddMinutes(10), verified.ExpiresAt);
            Assert.Equal(Approval.NonceLength, Convert.FromBase64String(verified.Nonce).Length);
        }
        // Two approvals of one act have different nonces.
        Assert.NotEqual(Verify(Approve(Resume), Resume).Nonce, Verify(Approve(Resume), Resume).Nonce);
        // The signature covers the canonical statement, not the text: re-laid-out and reordered, it verifies.
        var node = JsonNode.Parse(Approve(Resume))!.AsObject();
        var reordered = new JsonObject { ["signature"] = node["signature"]!.DeepClone(), ["approval"] = node["approval"]!.DeepClone() };
        Verify(Encoding.UTF8.GetBytes(reordered.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true })), Resume);
    }

    [Fact]
    public void The_subject_of_a_status_change_is_the_change_the_participant_signs_and_an_entry_subject_is_its_digest()
    {
        var active = Active();
        var change = active.NextStatusChange(StatusChangeKind.Suspend, "HU/budapest", Now, "data quality review");
        Assert.Equal(ApprovalSubject.NextStatusChange(active, StatusChangeKind.Suspend, "data quality review"), ApprovalSubject.Of(change));
        Assert.NotEqual(ApprovalSubject.NextStatusChange(active, StatusChangeKind.Suspend, "another reason"), ApprovalSubject.Of(change));
        Assert.Equal(ApprovalSubject.OrganisationEntry(Budapest.Entry()), ApprovalSubject.OrganisationEntry(Budapest.Entry()));
        Assert.NotEqual(ApprovalSubject.OrganisationEntry(Budapest.Entry()), ApprovalSubject.OrganisationEntry(Budapest.Entry(serial: 2)));
        Assert.NotEqual(ApprovalSubject.OrganisationEntry(Budapest.Entry()), ApprovalSubject.OrganisationEntry(Budapest.Entry(legalName: "Someone else")));
        // The entry's unsigned form round-trips to the same subject (what the participant drafts and its approver reviews).
        var drafted = MembershipJson.ParseUnsignedEntry(MembershipJson.WriteUnsignedEntry(Budapest.Entry()), "draft.json");
        Assert.Equal(ApprovalSubject.OrganisationEntry(Budapest.Entry()), ApprovalSubject.OrganisationEntry(drafted));
        // A dataset's publication is approved with every field a steward gives, categories in any order.
        var heart = FedCore.Governance.Datasets.DatasetPublication.Parse("Heart", ["health", "personal"], "HU", "CC-BY-4.0", "person", 1.5m);
        Assert.Equal(ApprovalSubject.RegisterDataset("heart", Digest, OtherDigest, heart),
            ApprovalSubject.RegisterDataset("heart", Digest, OtherDigest, FedCore.Governance.Datasets.DatasetPublication.Parse("Heart", ["personal", "health"], "HU", "CC-BY-4.0", "person", 1.5m)));
        Assert.NotEqual(ApprovalSubject.RegisterDataset("heart", Digest, OtherDigest, heart), ApprovalSubject.RegisterDataset("heart", Digest, OtherDigest, heart with { EpsilonCap = 15m }));
        Assert.NotEqual(ApprovalSubject.RegisterDataset("heart", Digest, OtherDigest, heart), ApprovalSubject.RegisterDataset("heart", Digest, OtherDigest, null));
        Assert.Throws<ArgumentException>(() => FedCore.Governance.Datasets.DatasetPublication.Parse("Heart", ["health", "gossip"], "HU", "CC-BY-4.0", "person", 1.5m));
    }

    public static TheoryData<string, string> SignedFields() => new()
    {
        { "organisation", "\"HU/pecs\"" },
        { "issuedAt", "\"2025-03-11T08:00:00Z\"" },
        { "expiresAt", "\"2025-03-11T10:00:00Z\"" },
        { "nonce", "\"AAAAAAAAAAAAAAAAAAAAAA==\"" },
        { "subject.agreement", "\"heart-2026\"" },
        { "subject.terms", $"\"{new string('c', 64)}\"" },
        { "subject.sequence", "3" },
        { "subject.kind", "\"suspend\"" },
        { "subject.reason", "\"the cluster says so\"" },
    };

    [Theory]
    [MemberData(nameof(SignedFields))]
    public void A_field_altered_after_signing_breaks_the_signature(string field, string value)
    {
        var node = JsonNode.Parse(Approve(Resume))!;
        var body = node["approval"]!.AsObject();
        var (parent, name) = field.StartsWith("subject.") ? (body["subject"]!.AsObject(), field["subject.".Length..]) : (body, field);
        parent[name] = JsonNode.Parse(value);
        Refused(() => Verify(Encoding.UTF8.GetBytes(node.ToJsonString()), Resume), "signature");
    }

    [Fact]
    public void A_signature_flipped_or_made_by_another_key_is_refused()
    {
        var node = JsonNode.Parse(Approve(Resume))!;
        var signature = Convert.FromBase64String((string)node["signature"]!);
        signature[7] ^= 1;
        node["signature"] = Convert.ToBase64String(signature);
        Refused(() => Verify(Encoding.UTF8.GetBytes(node.ToJsonString()), Resume), "signature");

        using var other = ParticipantSigningKey.Generate();
        Refused(() => Verify(Approve(Resume, key: other), Resume), "signature");
        // And checked with another organisation's approver key, Budapest's approval does not verify.
        Refused(() => Verify(Approve(Resume), Resume, key: other.PublicKey), "signature");
        var notAKey = Refused(() => Verify(Approve(Resume), Resume, key: [1, 2, 3]), "approver key");
        Assert.Contains("not an ECDSA P-256 public key", notAKey.Message);
    }

    /// <summary>The act at hand (as the participant reads it) differs from the approved one (Resume, for HU/budapest) in this field.</summary>
    [Theory]
    [InlineData("organisation")]
    [InlineData("purpose")]
    [InlineData("subject.agreement")]
    [InlineData("subject.terms")]
    [InlineData("subject.sequence")]
    [InlineData("subject.kind")]
    [InlineData("subject.reason")]
    public void An_approval_of_another_act_is_refused_naming_the_field(string field)
    {
        var expected = field switch
        {
            "purpose" => ApprovalSubject.SignAgreement("heart-2025", Digest),
            "subject.agreement" => ApprovalSubject.ChangeAgreementStatus("heart-2026", Digest, 2, StatusChangeKind.Resume, "review done"),
            "subject.terms" => ApprovalSubject.ChangeAgreementStatus("heart-2025", OtherDigest, 2, StatusChangeKind.Resume, "review done"),
            "subject.sequence" => ApprovalSubject.ChangeAgreementStatus("heart-2025", Digest, 3, StatusChangeKind.Resume, "review done"),
            "subject.kind" => ApprovalSubject.ChangeAgreementStatus("heart-2025", Digest, 2, StatusChangeKind.Suspend, "review done"),
            "subject.reason" => ApprovalSubject.ChangeAgreementStatus("heart-2025", Digest, 2, StatusChangeKind.Resume, "the cluster says so"),
            _ => Resume,
        };
        var approval = field == "organisation" ? Approve(Resume, organisation: "US/cleveland") : Approve(Resume);
        var refused = Refused(() => Verify(approval, expected), field);
        if (field == "subject.terms")
            Assert.Contains($"it approves '{Digest[..40]}…', but the act is for '{OtherDigest[..40]}…'", refused.Message);
        if (field == "purpose")
            Assert.Contains("it approves change-agreement-status, not sign-agreement", refused.Message);

        // An entry approval for one entry does not sign another (a new serial, another legal name).
        var entry = Approve(ApprovalSubject.OrganisationEntry(Budapest.Entry()));
        Refused(() => Verify(entry, ApprovalSubject.OrganisationEntry(Budapest.Entry(serial: 2))), "subject.entry");
    }

    [Fact]
    public void An_approval_is_valid_from_its_issue_to_its_expiry_and_for_at_most_an_hour()
    {
        var approval = Approve(Resume, issuedAt: Now, lifetime: TimeSpan.FromMinutes(10));
        Verify(approval, Resume, now: Now);
        Verify(approval, Resume, now: Now.AddMinutes(10).AddSeconds(-1));
        Assert.Contains("expired at 2025-03-11T09:10:00Z", Refused(() => Verify(approval, Resume, now: Now.AddMinutes(10)), "expiresAt").Message);
        // A participant's clock a little behind the approver's is tolerated; more is not.
        Verify(approval, Resume, now: Now - Approval.ClockSkew);
        Assert.Contains("not valid yet", Refused(() => Verify(approval, Resume, now: Now - Approval.ClockSkew - TimeSpan.FromSeconds(1)), "issuedAt").Message);

        // Statements the tool would not make, signed by the approver all the same.
        var tooLong = Resigned(approval, s => s with { ExpiresAt = s.IssuedAt + Approval.MaxLifetime + TimeSpan.FromSeconds(1) });
        Assert.Contains("at most 60 minutes", Refused(() => Verify(tooLong, Resume), "expiresAt").Message);
        Refused(() => Verify(Resigned(approval, s => s with { ExpiresAt = s.IssuedAt }), Resume, now: Now), "expiresAt");
        Verify(Resigned(approval, s => s with { ExpiresAt = s.IssuedAt + Approval.MaxLifetime }), Resume);

        Assert.Throws<ArgumentOutOfRangeException>(() => Approve(Resume, lifetime: Approval.MaxLifetime + TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Approve(Resume, lifetime: TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => Approve(Resume, organisation: "budapest"));
    }

    [Fact]
    public void An_approval_serves_once_and_used_nonces_are_forgotten_only_long_after_expiry()
    {
        var used = new Dictionary<string, DateTimeOffset>();
        var first = Verify(Approve(Resume), Resume);
        ApprovalLedger.Use(used, first, Now);
        var again = Assert.Throws<ApprovalException>(() => ApprovalLedger.Use(used, first, Now.AddMinutes(5)));
        Assert.Equal("nonce", again.Field);
        Assert.Contains("used already", again.Message);
        Assert.Single(used);

        var second = Verify(Approve(Resume), Resume);
        ApprovalLedger.Use(used, second, Now.AddMinutes(5));
        Assert.Equal(2, used.Count);
        // Kept for the retention after expiry, then dropped when the next approval is used.
        var third = Verify(Approve(Resume, issuedAt: Now.AddHours(1)), Resume, now: Now.AddHours(1));
        ApprovalLedger.Use(used, third, first.ExpiresAt + ApprovalLedger.Retention - TimeSpan.FromSeconds(1));
        Assert.Equal(3, used.Count);
        var fourth = Verify(Approve(Resume, issuedAt: Now.AddHours(2)), Resume, now: Now.AddHours(2));
        ApprovalLedger.Use(used, fourth, first.ExpiresAt + ApprovalLedger.Retention);
        Assert.Equal(new[] { third.Nonce, fourth.Nonce }.Order(), used.Keys.Order());
    }

    [Fact]
    public void A_document_that_is_not_an_approval_is_refused_naming_the_path()
    {
        static GovernanceFormatException Malformed(Action<JsonObject> change)
        {
            var node = JsonNode.Parse(Approve(Resume))!.AsObject();
            change(node);
            return Assert.Throws<GovernanceFormatException>(() => Verify(Encoding.UTF8.GetBytes(node.ToJsonString()), Resume));
        }

        Assert.Equal("$", Assert.Throws<GovernanceFormatException>(() => Verify("not json"u8.ToArray(), Resume)).JsonPath);
        Assert.Equal("$.colour", Malformed(n => n["colour"] = "red").JsonPath);
        Assert.Equal("$.signature", Malformed(n => n.Remove("signature")).JsonPath);
        Assert.Equal("$.approval.subject.entry", Malformed(n => n["approval"]!["subject"]!["entry"] = Digest).JsonPath);
        Assert.Equal("$.approval.purpose", Malformed(n => n["approval"]!["purpose"] = "sign-anything").JsonPath);
        Assert.Equal("$.approval.organisation", Malformed(n => n["approval"]!["organisation"] = "budapest").JsonPath);
        Assert.Equal("$.approval.subject.sequence", Malformed(n => n["approval"]!["subject"]!["sequence"] = 0).JsonPath);
        Assert.Contains("16 bytes", Malformed(n => n["approval"]!["nonce"] = "AAAA").Message);
        Assert.Equal("$.approval.issuedAt", Malformed(n => n["approval"]!["issuedAt"] = "2025-03-11T09:00:00.5Z").JsonPath);
        var tooLarge = new byte[Approval.MaxBytes + 1];
        Assert.Contains("at most", Assert.Throws<GovernanceFormatException>(() => Verify(tooLarge, Resume)).Message);
    }
}

public sealed class ApprovalFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void The_approval_reader_refuses_20000_mutated_documents_cleanly()
    {
        using var approver = ParticipantSigningKey.Generate();
        var subject = ApprovalSubject.ChangeAgreementStatus("heart-2025", new string('a', 64), 2, StatusChangeKind.Resume, "review done");
        var seed = Approval.Create("HU/budapest", subject, Now, TimeSpan.FromMinutes(10), approver);
        var outcomes = GovernanceFuzz.Run(output, "approval", seed, 20_000, input =>
        {
            try
            {
                Approval.Verify(input, approver.PublicKey, "HU/budapest", subject, Now.AddMinutes(1));
                return "verified";
            }
            catch (ApprovalException e)
            {
                return $"refused: {e.Field}";
            }
        });
        Assert.True(outcomes.GetValueOrDefault("refused: signature") > 0, "no mutant reached the signature check");
        // Whatever parses and verifies is the approved act: no mutant verifies as another.
        Assert.DoesNotContain(outcomes.Keys, k => k.StartsWith("refused: subject") || k is "refused: purpose" or "refused: organisation");
    }
}
