using System.Text;
using System.Text.Json.Nodes;
using FedCore.Aggregation.Integrity;
using FedCore.Governance.Agreements;
using FedCore.Governance.Approvals;
using FedCore.Governance.Membership;
using Federation.Contracts.Agreements;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Governance;

/// <summary>The sample federation (US, HU, CH silos), shared by the approval tests; each test uses agreements of its own.</summary>
public sealed class ApprovalFederation : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("federation-approvals");

    public LocalFederation Federation { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Federation = await LocalFederation.StartAsync(TestFederations.Options(_dir.Path, "US", "HU", "CH"));
        await TestFederations.SetUpSampleAsync(Federation);
    }

    public async Task DisposeAsync()
    {
        await Federation.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>
/// Whoever runs the cluster can call any grain. The security review showed that it could make a participant sign with its
/// organisation's key whatever it liked: terms its organisation never approved, the resumption of an agreement its data
/// steward suspended. Now a participant signs its membership entry, an agreement or a status change only with its
/// organisation's approval of exactly that act, made outside the cluster with the organisation's approver key and
/// checked against the approver public key its own silo is configured with. These tests play the review's attacks
/// through real grains, and every way of misusing an approval; each is refused and nothing changes.
/// </summary>
public sealed class OrganisationApprovalTests(ApprovalFederation fixture) : IClassFixture<ApprovalFederation>
{
    private const string Victim = "HU/budapest";
    private static readonly string[] Parties = ["CH/zurich", "HU/budapest", "US/cleveland", "US/long-beach"];
    private static readonly ParticipantSigningKey ClusterKey = ParticipantSigningKey.Generate();

    private LocalFederation Federation => fixture.Federation;

    private IParticipantGrain Grain(string id) => Federation.Grains.GetGrain<IParticipantGrain>(id);

    private IAgreementGrain Relay(string id) => Federation.Grains.GetGrain<IAgreementGrain>(id);

    /// <summary>An approval as the organisation's approver key makes it, but issued when the test says (the key file, read as its owner can).</summary>
    private byte[] ApprovedBy(string organisation, ApprovalSubject act, DateTimeOffset issuedAt, TimeSpan lifetime)
    {
        using var key = ParticipantSigningKey.Import(File.ReadAllBytes(Federation.Approvers!.KeyPath(organisation)));
        return Approval.Create(organisation, act, issuedAt, lifetime, key);
    }

    /// <summary>What the cluster can make: an approval of its choosing, signed with a key of its own.</summary>
    private static byte[] Forged(string organisation, ApprovalSubject act) => Approval.Create(organisation, act, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10), ClusterKey);

    private static async Task<FederationOperationException> RefusedAsync(Func<Task> act, string code, params string[] named)
    {
        var refused = await Assert.ThrowsAsync<FederationOperationException>(act);
        Assert.Equal(code, refused.Code);
        foreach (var name in named)
            Assert.Contains(name, refused.Message);
        return refused;
    }

    /// <summary>Drafts and proposes an agreement: the sample's terms among <paramref name="parties"/>, changed by <paramref name="change"/>.</summary>
    private async Task<Agreement> ProposedAsync(string id, IReadOnlyList<string> parties, Action<JsonObject>? change = null)
    {
        var terms = JsonNode.Parse(File.ReadAllBytes(Path.Combine(TestPaths.HeartSample, "agreement.json")))!.AsObject();
        terms["id"] = id;
        terms["parties"] = new JsonArray([.. parties.Select(p => (JsonNode)new JsonObject { ["organisation"] = p, ["datasets"] = new JsonArray("heart") })]);
        change?.Invoke(terms);
        await Relay(id).Draft(Encoding.UTF8.GetBytes(terms.ToJsonString()));
        return FederationRecords.Read(await Relay(id).Propose(), id, TestFederations.Membership(Federation));
    }

    private async Task<Agreement> ActiveAsync(string id)
    {
        var proposed = await ProposedAsync(id, Parties);
        foreach (var party in Parties)
            await TestFederations.SignAgreementAsync(Federation, party, id, proposed.TermsDigest);
        return await TestFederations.AgreementAsync(Federation, id);
    }

    private async Task AcceptAsync(string job, IReadOnlyList<string> parties, string agreement)
    {
        foreach (var party in parties)
            await Grain(party).AcceptJob(TestFederations.Invitation(job, parties, agreement));
    }

    [Fact]
    public async Task Any_cluster_caller_making_the_suspending_party_resume_is_refused_and_the_party_stays_out_of_rounds()
    {
        const string id = "approval-resume", job = "CH/approval-resume";
        await ActiveAsync(id);
        await AcceptAsync(job, Parties, id);
        await TestFederations.ChangeAgreementStatusAsync(Federation, Victim, id, "suspend", "consent withdrawn by the data steward");
        var suspended = await TestFederations.AgreementAsync(Federation, id);
        var before = await Relay(id).Get();
        var resume = ApprovalSubject.NextStatusChange(suspended, StatusChangeKind.Resume, "the cluster says so");

        // The review's call, with nothing, with an approval of the cluster's making, and with Budapest's approval of the suspension.
        await RefusedAsync(() => Grain(Victim).ChangeAgreementStatus(id, "resume", "the cluster says so", []), "approval.refused", "no approval");
        await RefusedAsync(() => Grain(Victim).ChangeAgreementStatus(id, "resume", "the cluster says so", Forged(Victim, resume)), "approval.refused", "signature", "does not verify");
        var suspension = Federation.Approvers!.Approve(Victim, ApprovalSubject.ChangeAgreementStatus(id, suspended.TermsDigest, 1, StatusChangeKind.Suspend, "consent withdrawn by the data steward"));
        await RefusedAsync(() => Grain(Victim).ChangeAgreementStatus(id, "resume", "the cluster says so", suspension), "approval.refused", "subject.sequence");

        Assert.Equal(before, await Relay(id).Get());
        var lapsed = await RefusedAsync(() => Grain(Victim).CommitRoundKey(new RoundKeyRequest(job, 1, Parties)), "agreement.lapsed", "suspended");
        Assert.Contains("consent withdrawn by the data steward", lapsed.Message);
    }

    [Fact]
    public async Task Any_cluster_caller_having_the_participants_sign_terms_of_its_choosing_is_refused_and_they_accept_no_job_under_them()
    {
        // The cluster drafts an agreement that sends updates to the US and asks each party's grain to sign it, with the digest it computed.
        const string id = "approval-forced";
        string[] parties = ["HU/budapest", "US/cleveland", "US/long-beach"];
        var forced = await ProposedAsync(id, parties, terms => terms["updateDestinations"] = new JsonArray("US"));
        var sample = await TestFederations.AgreementAsync(Federation, "fed-heart-disease-2026");
        foreach (var party in parties)
        {
            await RefusedAsync(() => Grain(party).SignAgreement(id, forced.TermsDigest, []), "approval.refused", party, "no approval");
            await RefusedAsync(() => Grain(party).SignAgreement(id, forced.TermsDigest, Forged(party, ApprovalSubject.SignAgreement(id, forced.TermsDigest))),
                "approval.refused", party, "signature");
            // The organisation's real approval, of the agreement it did enter, does not sign another.
            var real = Federation.Approvers!.Approve(party, ApprovalSubject.SignAgreement(sample.Id, sample.TermsDigest));
            await RefusedAsync(() => Grain(party).SignAgreement(id, forced.TermsDigest, real), "approval.refused", party, "subject.agreement");
        }

        var after = await TestFederations.AgreementAsync(Federation, id);
        Assert.Equal(AgreementState.Proposed, after.RecordedState);
        Assert.Empty(after.Signatures);
        var refused = await RefusedAsync(() => AcceptAsync("US/approval-forced", parties, id), "job.refused", "state");
        Assert.Contains("proposed", refused.Message);
    }

    [Fact]
    public async Task Any_cluster_caller_having_a_participant_sign_a_membership_entry_of_its_choosing_is_refused()
    {
        var member = TestFederations.SampleManifest.Participants.Single(p => p.Id == Victim);
        var details = new OrganisationDetails(member.LegalName, [.. member.Members.Select(m => new MemberDetails(m.Name, m.Role))]);
        var takeover = details with { LegalName = "Cluster Operator Ltd.", Members = [new MemberDetails("Mallory", "organisation-admin")] };
        var membership = TestFederations.Membership(Federation);
        var entry = membership.Find(Victim)!;
        var name = (await Grain(Victim).GetProfile()).DisplayName;

        await RefusedAsync(() => Grain(Victim).CreateOrganisationEntry(takeover, []), "approval.refused", "no approval");
        var drafted = MembershipJson.ParseUnsignedEntry(await Grain(Victim).DraftOrganisationEntry(takeover), "draft");
        Assert.Equal(entry.Serial + 1, drafted.Serial);
        await RefusedAsync(() => Grain(Victim).CreateOrganisationEntry(takeover, Forged(Victim, ApprovalSubject.OrganisationEntry(drafted))), "approval.refused", "signature");
        // Budapest's approval of its own entry does not sign the cluster's.
        var own = Federation.Approvers!.Approve(Victim, ApprovalSubject.OrganisationEntry(entry));
        await RefusedAsync(() => Grain(Victim).CreateOrganisationEntry(takeover, own), "approval.refused", "subject.entry");

        // With that approval, the entry it does sign is the one in the membership (nothing changed: the same serial).
        var signed = MembershipJson.ParseEntry(await Grain(Victim).CreateOrganisationEntry(details, own), "entry");
        Assert.Equal(entry.Serial, signed.Entry.Serial);
        Assert.Equal(entry.LegalName, signed.Entry.LegalName);
        Assert.Equal(membership.Digest, TestFederations.Membership(Federation).Digest);
        Assert.Equal(name, (await Grain(Victim).GetProfile()).DisplayName); // the refused calls did not rename it either
    }

    [Fact]
    public async Task An_approval_replayed_expired_not_yet_valid_for_another_act_or_signed_by_another_key_is_refused_and_nothing_changes()
    {
        const string id = "approval-misuse";
        var proposed = await ProposedAsync(id, Parties);
        var other = await ProposedAsync("approval-misuse-other", Parties);
        var before = await Relay(id).Get();
        var sign = ApprovalSubject.SignAgreement(id, proposed.TermsDigest);
        var now = DateTimeOffset.UtcNow;
        var cases = new (string Name, byte[] Approval, string[] Named)[]
        {
            ("another key", Forged(Victim, sign), ["signature"]),
            ("another organisation's approver", Federation.Approvers!.Approve("CH/zurich", ApprovalSubject.SignAgreement(id, proposed.TermsDigest)), ["signature"]),
            ("other terms", Federation.Approvers.Approve(Victim, ApprovalSubject.SignAgreement(id, other.TermsDigest)), ["subject.terms"]),
            ("another agreement", Federation.Approvers.Approve(Victim, ApprovalSubject.SignAgreement(other.Id, other.TermsDigest)), ["subject.agreement"]),
            ("another purpose", Federation.Approvers.Approve(Victim, ApprovalSubject.ChangeAgreementStatus(id, proposed.TermsDigest, 1, StatusChangeKind.Terminate, "x")), ["purpose"]),
            ("expired", ApprovedBy(Victim, sign, now.AddHours(-2), TimeSpan.FromHours(1)), ["expiresAt", "expired"]),
            ("not yet valid", ApprovedBy(Victim, sign, now.AddMinutes(10), TimeSpan.FromMinutes(10)), ["issuedAt", "not valid yet"]),
            ("not an approval", "{\"approval\": 1}"u8.ToArray(), ["$.approval"]),
        };
        foreach (var (name, misused, named) in cases)
        {
            await RefusedAsync(() => Grain(Victim).SignAgreement(id, proposed.TermsDigest, misused), "approval.refused", named);
            var after = await Relay(id).Get();
            Assert.True(before!.AsSpan().SequenceEqual(after), $"{name}: the agreement changed");
        }

        // The approval of this act signs once; the same approval again is a replay.
        var approval = Federation.Approvers.Approve(Victim, sign);
        await Grain(Victim).SignAgreement(id, proposed.TermsDigest, approval);
        var signed = await Relay(id).Get();
        await RefusedAsync(() => Grain(Victim).SignAgreement(id, proposed.TermsDigest, approval), "approval.refused", "nonce", "used already");
        Assert.Equal(signed, await Relay(id).Get());

        // Status changes: an approval pins kind, reason and position.
        foreach (var party in Parties.Where(p => p != Victim))
            await TestFederations.SignAgreementAsync(Federation, party, id, proposed.TermsDigest);
        var active = await TestFederations.AgreementAsync(Federation, id);
        var suspend = ApprovalSubject.NextStatusChange(active, StatusChangeKind.Suspend, "data quality review");
        var suspension = Federation.Approvers.Approve(Victim, suspend);
        var activeDocument = await Relay(id).Get();
        await RefusedAsync(() => Grain(Victim).ChangeAgreementStatus(id, "terminate", "data quality review", suspension), "approval.refused", "subject.kind");
        await RefusedAsync(() => Grain(Victim).ChangeAgreementStatus(id, "suspend", "another reason", suspension), "approval.refused", "subject.reason");
        Assert.Equal(activeDocument, await Relay(id).Get());
        await Grain(Victim).ChangeAgreementStatus(id, "suspend", "data quality review", suspension);
        await TestFederations.ChangeAgreementStatusAsync(Federation, Victim, id, "resume", "review done");
        // After a suspension and a resumption, the first suspension's approval is for position 1, not 3, and used.
        var resumed = await Relay(id).Get();
        await RefusedAsync(() => Grain(Victim).ChangeAgreementStatus(id, "suspend", "data quality review", suspension), "approval.refused", "subject.sequence");
        Assert.Equal(resumed, await Relay(id).Get());
        // A change the agreement's rules refuse (only the suspending party resumes) is not signed, and its approval stays unused.
        var early = Federation.Approvers.Approve("CH/zurich", ApprovalSubject.NextStatusChange(await TestFederations.AgreementAsync(Federation, id), StatusChangeKind.Resume, "not ours"));
        await RefusedAsync(() => Grain("CH/zurich").ChangeAgreementStatus(id, "resume", "not ours", early), "agreement.refused", "cannot resume in state active");
        Assert.Equal(resumed, await Relay(id).Get());
    }

    [Fact]
    public async Task A_dataset_is_read_and_published_only_as_its_organisation_approved_that_file_schema_and_publication()
    {
        // Any cluster caller could have the participant read a file of its choosing on its silo, or publish an entry with
        // a privacy budget of its choosing under the organisation's signature.
        using var dir = new TempDirectory("federation-approved-dataset");
        var path = dir.File("approved.csv");
        File.WriteAllText(path, "30,red,0\n40,green,1\n");
        const string Schema = Participants.DatasetRegistrationTests.Schema;
        var catalog = new DatasetCatalogDetails("Tiny", ["health", "personal"], "HU", "CC-BY-4.0", "person", 1.0m);
        var registration = new DatasetRegistration("approved", path, Schema, "tiny.schema.json", catalog);
        async Task Refused(byte[] approval, string named)
        {
            var refused = await Assert.ThrowsAsync<FederationOperationException>(() => Grain(Victim).RegisterDataset(registration, approval));
            Assert.Equal("approval.refused", refused.Code);
            Assert.Contains(named, refused.Message);
            Assert.DoesNotContain(await Grain(Victim).GetDatasets(), d => d.Name == "approved");
        }
        await Refused([], "no approval");
        // Unapproved, a file is not parsed: nothing of its lines or columns comes back.
        var secret = dir.File("not-a-dataset.txt");
        File.WriteAllText(secret, "root:x:0:0\nalice:x:1000\n");
        var unparsed = await Assert.ThrowsAsync<FederationOperationException>(() =>
            Grain(Victim).RegisterDataset(registration with { CsvPath = secret }, DatasetApproval("approved", path, catalog)));
        Assert.Equal("approval.refused", unparsed.Code);
        Assert.DoesNotContain("line", unparsed.Message);
        await Refused(DatasetApproval("approved", path, catalog, fileSha256: new string('a', 64)), "subject.file");
        await Refused(DatasetApproval("approved", path, catalog with { EpsilonCap = 100m }), "subject.catalog");
        await Refused(DatasetApproval("approved", path), "subject.catalog");
        await Refused(DatasetApproval("other-name", path, catalog), "subject.dataset");

        var approval = DatasetApproval("approved", path, catalog);
        Assert.Equal(2, (await Grain(Victim).RegisterDataset(registration, approval)).RowCount);
        var replayed = await Assert.ThrowsAsync<FederationOperationException>(() => Grain(Victim).RegisterDataset(registration, approval));
        Assert.Equal("approval.refused", replayed.Code);
    }

    private byte[] DatasetApproval(string name, string path, DatasetCatalogDetails? catalog = null, string? fileSha256 = null) =>
        Participants.DatasetRegistrationTests.Approval(Federation, Victim, name, path, catalog, fileSha256);

    [Fact]
    public async Task A_silo_without_an_approver_key_for_an_organisation_refuses_its_acts_naming_the_setting()
    {
        var proposed = await ProposedAsync("approval-unconfigured", Parties);
        var publicKey = Federation.Approvers!.PublicKeyPath(Victim);
        var approval = Federation.Approvers.Approve(Victim, ApprovalSubject.SignAgreement(proposed.Id, proposed.TermsDigest));
        File.Move(publicKey, publicKey + ".away");
        try
        {
            await RefusedAsync(() => Grain(Victim).SignAgreement(proposed.Id, proposed.TermsDigest, approval), "approval.unconfigured",
                "The HU silo has no approver public key for HU/budapest", "FederationSiloOptions.ApproverPublicKeys", publicKey, "--approver-key HU/budapest=FILE");
        }
        finally
        {
            File.Move(publicKey + ".away", publicKey);
        }
        await Grain(Victim).SignAgreement(proposed.Id, proposed.TermsDigest, approval);
        Assert.Equal([Victim], (await TestFederations.AgreementAsync(Federation, proposed.Id)).Signatures.Select(s => s.Party));
    }

    [Fact]
    public void A_configured_approver_key_is_the_one_checked_and_a_malformed_one_stops_the_silo_from_starting()
    {
        using var dir = new TempDirectory("federation-approver-config");
        using var approver = ParticipantSigningKey.Generate();
        var act = ApprovalSubject.SignAgreement("heart", new string('a', 64));
        var options = new FederationSiloOptions { Country = "HU", DataDirectory = dir.Path, ApproverPublicKeys = new Dictionary<string, byte[]> { [Victim] = approver.PublicKey } };
        options.Validate();
        var verifier = new ApprovalVerifier(options);
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(Victim, verifier.Verify(Victim, Approval.Create(Victim, act, now, TimeSpan.FromMinutes(1), approver), act, now).Organisation);
        var refused = Assert.Throws<FederationOperationException>(() => verifier.Verify(Victim, Forged(Victim, act), act, now));
        Assert.Contains("signature", refused.Message);
        var unconfigured = Assert.Throws<FederationOperationException>(() => verifier.Verify("HU/pecs", Approval.Create("HU/pecs", act, now, TimeSpan.FromMinutes(1), approver), act, now));
        Assert.Equal("approval.unconfigured", unconfigured.Code);
        Assert.Contains("HU/pecs", unconfigured.Message);

        var malformed = Assert.Throws<ArgumentException>(() => (options with { ApproverPublicKeys = new Dictionary<string, byte[]> { [Victim] = [1, 2, 3] } }).Validate());
        Assert.Contains("'HU/budapest' is not an ECDSA P-256 public key", malformed.Message);
        Assert.Throws<ArgumentException>(() => (options with { ApproverPublicKeys = new Dictionary<string, byte[]> { ["budapest"] = approver.PublicKey } }).Validate());
    }
}
