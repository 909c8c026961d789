using System.Text;
using System.Text.Json.Nodes;
using FedCore.Aggregation.Integrity;
using FedCore.Governance.Agreements;
using FedCore.Governance.Membership;
using Federation.Contracts.Agreements;
using Federation.Contracts.Errors;
using Federation.Contracts.Jobs;
using Federation.Contracts.Participants;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Governance;

/// <summary>
/// Agreements through real grains: the relay applies only transitions that verify, and nothing it refuses changes what
/// it holds; participants sign only terms their steward reviewed, and a job outside its agreement is refused.
/// </summary>
public sealed class AgreementRelayTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("federation-agreements");
    private LocalFederation _federation = null!;

    public async Task InitializeAsync()
    {
        _federation = await LocalFederation.StartAsync(TestFederations.Options(_dir.Path, "CH", "HU", "US"));
        await TestFederations.SetUpSampleAsync(_federation);
    }

    public async Task DisposeAsync()
    {
        await _federation.DisposeAsync();
        _dir.Dispose();
    }

    private static byte[] Terms(Action<JsonObject> change)
    {
        var terms = JsonNode.Parse(File.ReadAllBytes(Path.Combine(TestPaths.HeartSample, "agreement.json")))!.AsObject();
        change(terms);
        return Encoding.UTF8.GetBytes(terms.ToJsonString());
    }

    private VerifiedMembership Membership => MembershipChain.Verify(_federation.Operator!.PublicKey, _federation.Operator.Chain());

    private IParticipantGrain Grain(string id) => _federation.Grains.GetGrain<IParticipantGrain>(id);

    private Task<byte[]> SignAsync(string party, string agreementId, string termsDigest) => TestFederations.SignAgreementAsync(_federation, party, agreementId, termsDigest);

    /// <summary>An active agreement <paramref name="id"/> among <paramref name="parties"/>, the sample's terms otherwise.</summary>
    private async Task<Agreement> ActiveAsync(string id, IReadOnlyList<string> parties)
    {
        var relay = _federation.Grains.GetGrain<IAgreementGrain>(id);
        await relay.Draft(Terms(t =>
        {
            t["id"] = id;
            // Each states an Art. 9(2)(j) research basis: the policies let no EEA party train on health data without one.
            t["parties"] = new JsonArray([.. parties.Select(p => (JsonNode)new JsonObject { ["organisation"] = p, ["datasets"] = new JsonArray("heart"), ["attestations"] = new JsonArray("gdpr-art9-research") })]);
        }));
        var proposed = FederationRecords.Read(await relay.Propose(), id, Membership);
        foreach (var p in parties)
            await SignAsync(p, id, proposed.TermsDigest);
        return proposed;
    }

    /// <summary>What whoever runs the cluster can do: write a document of its choosing into the relay's storage.</summary>
    private async Task ServeAsync(IAgreementGrain relay, byte[] document)
    {
        var storage = Microsoft.Extensions.DependencyInjection.ServiceProviderKeyedServiceExtensions
            .GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(_federation.ServicesOf("US"), StorageNames.Cluster);
        var stored = new Orleans.GrainState<Federation.Silo.Grains.AgreementGrainState>();
        await storage.ReadStateAsync("agreement", relay.GetGrainId(), stored);
        stored.State!.Document = document;
        await storage.WriteStateAsync("agreement", relay.GetGrainId(), stored);
        await relay.AsReference<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
        Assert.Equal(document, await relay.Get());
    }

    [Theory]
    [InlineData("train")]
    [InlineData("check the aggregate")]
    [InlineData("help decrypt")]
    public async Task A_suspension_during_a_round_stops_it_at_the_next_step(string step)
    {
        // The aggregator decides when to key a round; a round keyed before the steward withdrew consent must not go on
        // to use the rows or the secrets.
        string id = $"midround-{step.Replace(' ', '-')}", job = $"CH/midround-{step.Replace(' ', '-')}";
        string[] parties = ["CH/zurich", "HU/budapest", "US/cleveland"];
        await ActiveAsync(id, parties);
        var keys = parties.ToDictionary(p => p, p => Membership.Find(p)!.SigningKey.ToArray());
        foreach (var p in parties)
            await Grain(p).AcceptJob(TestFederations.Invitation(job, parties, id));
        var driver = new Jobs.RoundDriver(job, 1, parties.Select(p => (Jobs.IRoundMember)new Jobs.GrainMember(Grain(p), p)).ToList(), keys);
        await driver.KeyAsync();
        if (step != "train")
            await driver.TrainAsync();
        var fingerprints = step == "help decrypt" ? await driver.FingerprintsAsync(driver.AggregateCheck()) : null;

        await TestFederations.ChangeAgreementStatusAsync(_federation, "HU/budapest", id, "suspend", "consent withdrawn by the data steward");
        foreach (var p in parties)
        {
            Func<Task> act = step switch
            {
                "train" => () => Grain(p).Train(driver.Assignment(driver.KeyAcceptances)),
                "check the aggregate" => () => Grain(p).CheckAggregate(driver.AggregateCheck()),
                _ => () => Grain(p).Decrypt(driver.Decryption(fingerprints!)),
            };
            var refused = await Assert.ThrowsAsync<FederationOperationException>(act);
            Assert.Equal("agreement.lapsed", refused.Code);
            Assert.Contains($"refuses to {step}", refused.Message);
            Assert.Contains("suspended", refused.Message);
        }
    }

    [Fact]
    public async Task A_forged_status_change_served_once_does_not_lock_a_party_out_of_its_agreement()
    {
        // The relay serves Cleveland, once, the document with a "suspension" whose signature is zeros: refused, and the
        // genuine document served afterwards is not taken for an older one.
        const string id = "relay-forged-change";
        string[] parties = ["CH/zurich", "HU/budapest", "US/cleveland"];
        var proposed = await ActiveAsync(id, parties);
        var relay = _federation.Grains.GetGrain<IAgreementGrain>(id);
        var genuine = (await relay.Get())!;
        var forged = JsonNode.Parse(genuine)!.AsObject();
        forged["statusChanges"] = new JsonArray(new JsonObject
        {
            ["change"] = new JsonObject
            {
                ["agreement"] = id, ["terms"] = proposed.TermsDigest, ["sequence"] = 1, ["kind"] = "suspend", ["party"] = "CH/zurich",
                ["at"] = FedCore.Governance.GovernanceNames.Time(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds())), ["reason"] = "forged",
            },
            ["signature"] = Convert.ToBase64String(new byte[64]),
        });
        await ServeAsync(relay, Encoding.UTF8.GetBytes(forged.ToJsonString()));
        await Assert.ThrowsAsync<FederationOperationException>(() => Grain("US/cleveland").AcceptJob(TestFederations.Invitation("CH/forged-change-1", parties, id)));

        await ServeAsync(relay, genuine);
        await Grain("US/cleveland").AcceptJob(TestFederations.Invitation("CH/forged-change-2", parties, id));
    }

    [Fact]
    public async Task A_forged_or_altered_signature_is_refused_and_the_agreement_stays_as_it_was()
    {
        var grain = _federation.Grains.GetGrain<IAgreementGrain>("relay-forged");
        await grain.Draft(Terms(t => t["id"] = "relay-forged"));
        var proposed = FederationRecords.Read(await grain.Propose(), "relay-forged", Membership);
        await SignAsync("CH/zurich", "relay-forged", proposed.TermsDigest);
        var before = await grain.Get();

        // Budapest's signature made by another key (an impostor), then Zurich's real signature claimed for Budapest.
        using var impostor = ParticipantSigningKey.Generate();
        var forged = PartySignature.Create(proposed.Terms, "HU/budapest", impostor);
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => grain.AddSignature("HU/budapest", [.. forged.Signature]));
        Assert.Equal("agreement.refused", refused.Code);
        Assert.Contains("does not verify", refused.Message);
        var zurichs = FederationRecords.Read(before!, "relay-forged", Membership).Signatures.Single().Signature;
        await Assert.ThrowsAsync<FederationOperationException>(() => grain.AddSignature("HU/budapest", [.. zurichs]));
        // Altered: one bit of a real signature flipped.
        var altered = PartySignature.Create(proposed.Terms, "US/cleveland", impostor).Signature.ToArray();
        altered[5] ^= 1;
        await Assert.ThrowsAsync<FederationOperationException>(() => grain.AddSignature("US/cleveland", altered));
        Assert.Equal(before, await grain.Get());
    }

    [Fact]
    public async Task Bad_terms_are_refused_naming_the_field_and_nothing_stored_is_lost()
    {
        var grain = _federation.Grains.GetGrain<IAgreementGrain>("relay-bad");
        var notMember = await Assert.ThrowsAsync<FederationOperationException>(() => grain.Draft(Terms(t =>
        {
            t["id"] = "relay-bad";
            t["parties"]!.AsArray().Add(new JsonObject { ["organisation"] = "XX/nobody", ["datasets"] = new JsonArray("heart") });
        })));
        Assert.Contains("$.parties[4].organisation", notMember.Message);
        Assert.Contains("not a member", notMember.Message);
        Assert.Null(await grain.Get());

        await grain.Draft(Terms(t => t["id"] = "relay-bad"));
        var draft = await grain.Get();
        var noDataset = await Assert.ThrowsAsync<FederationOperationException>(() => grain.Draft(Terms(t =>
        {
            t["id"] = "relay-bad";
            t["parties"]![0]!["datasets"] = new JsonArray("lungs");
        })));
        Assert.Contains("$.parties[0].datasets", noDataset.Message);
        var unknownField = await Assert.ThrowsAsync<FederationOperationException>(() => grain.Draft(Terms(t => { t["id"] = "relay-bad"; t["colour"] = "red"; })));
        Assert.Contains("$.colour", unknownField.Message);
        var expired = await Assert.ThrowsAsync<FederationOperationException>(() => grain.Draft(Terms(t =>
        {
            t["id"] = "relay-bad";
            t["validFrom"] = "2020-01-01T00:00:00Z";
            t["validUntil"] = "2021-01-01T00:00:00Z";
        })));
        Assert.Contains("validUntil", expired.Message);
        Assert.Equal(draft, await grain.Get());
    }

    [Fact]
    public async Task A_party_signs_only_the_terms_its_steward_reviewed_and_a_change_needs_every_signature_again()
    {
        var grain = _federation.Grains.GetGrain<IAgreementGrain>("relay-terms");
        await grain.Draft(Terms(t => t["id"] = "relay-terms"));
        var proposed = FederationRecords.Read(await grain.Propose(), "relay-terms", Membership);
        var wrongDigest = await Assert.ThrowsAsync<FederationOperationException>(() => SignAsync("HU/budapest", "relay-terms", new string('0', 64)));
        Assert.Contains("not the ones reviewed", wrongDigest.Message);
        await SignAsync("HU/budapest", "relay-terms", proposed.TermsDigest);

        // The terms change (the relay, or a party, edits them): every signature is dropped and the old digest no longer signs.
        var edited = FederationRecords.Read(await grain.Draft(Terms(t => { t["id"] = "relay-terms"; t["purpose"] = "Something else"; })), "relay-terms", Membership);
        Assert.Empty(edited.Signatures);
        Assert.Equal(AgreementState.Draft, edited.RecordedState);
        await grain.Propose();
        await Assert.ThrowsAsync<FederationOperationException>(() => SignAsync("US/cleveland", "relay-terms", proposed.TermsDigest));
    }

    [Fact]
    public async Task A_job_outside_its_agreement_is_refused_by_each_participant_naming_the_term()
    {
        var job = TestFederations.SampleJob;
        JobInvitation Invitation(string jobId, string model, params string[] parties) =>
            TestFederations.Invitation(jobId, parties, model: model);
        string[] three = ["CH/zurich", "HU/budapest", "US/cleveland"];

        var cnn = """{"type":"cnn","image":{"channels":1,"height":8,"width":8},"classes":2}""";
        Assert.Contains("modelClasses", (await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").AcceptJob(Invitation("CH/outside-model", cnn, three)))).Message);
        Assert.Contains("updateDestinations", (await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").AcceptJob(Invitation("US/outside-country", job.ModelJson, three)))).Message);
        var unknownAgreement = Invitation("CH/outside-agreement", job.ModelJson, three) with { AgreementId = "no-such-agreement" };
        Assert.Contains("no agreement 'no-such-agreement'", (await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").AcceptJob(unknownAgreement))).Message);
        // Another dataset than the one the agreement names for a party.
        var otherDataset = Invitation("CH/outside-dataset", job.ModelJson, three) with
        {
            Participants = [new("CH/zurich", "heart"), new("HU/budapest", "heart"), new("US/cleveland", "lungs")],
        };
        Assert.Contains("parties", (await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").AcceptJob(otherDataset))).Message);
    }

    [Fact]
    public async Task A_relay_rolled_back_to_before_a_suspension_does_not_put_the_suspending_party_back_into_rounds()
    {
        // The suspension is a signed status change in the relay's (cluster) storage; whoever runs the cluster writes the
        // pre-suspension document back, every signature of which still verifies. The party remembers what it read.
        const string id = "relay-rollback", job = "CH/relay-rollback";
        string[] parties = ["CH/zurich", "HU/budapest", "US/cleveland", "US/long-beach"];
        var relay = _federation.Grains.GetGrain<IAgreementGrain>(id);
        await relay.Draft(Terms(t => t["id"] = id));
        var proposed = FederationRecords.Read(await relay.Propose(), id, Membership);
        foreach (var p in parties)
            await SignAsync(p, id, proposed.TermsDigest);
        foreach (var p in parties)
            await Grain(p).AcceptJob(TestFederations.Invitation(job, parties, id));
        var beforeSuspension = (await relay.Get())!;

        await TestFederations.ChangeAgreementStatusAsync(_federation, "HU/budapest", id, "suspend", "consent withdrawn by the data steward");
        await ServeAsync(relay, beforeSuspension);

        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").CommitRoundKey(new RoundKeyRequest(job, 1, parties)));
        Assert.Equal("agreement.refused", refused.Code);
        Assert.Contains("an older document is refused", refused.Message);
    }
}
