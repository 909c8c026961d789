using System.Security.Cryptography;
using FedCore.Aggregation.Integrity;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Ring;
using FedCore.Governance.Agreements;
using FedCore.Governance.Canonical;
using FedCore.Governance.Datasets;
using FedCore.Governance.Membership;
using FedCore.Learning;
using FedCore.Jobs;
using FedCore.Rounds;
using Federation.Contracts.Agreements;
using Federation.Contracts.Directory;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Federation.Contracts.Transfer;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;
using Federation.Tests.Shared;
using Orleans.Core.Internal;

namespace Federation.Silo.Tests.Jobs;

/// <summary>
/// Participants — real grains on US, HU and CH silos — against an aggregator played by the test, honest or not, alone or
/// with a colluding party whose key the test holds. The same attacks as FedCore's AggregatorAttackTests, through grains,
/// their storage and their restarts.
/// </summary>
public sealed partial class DecryptionGuardTests : IAsyncLifetime
{
    private static readonly ProtectionSettings Ckks = new("ckks", 4);
    private static readonly string[] Honest = ["CH/zurich", "HU/budapest", "US/cleveland"];
    private const string Colluder = "US/colluder";
    private const string LongBeach = "US/long-beach"; // the sample agreement's fourth party
    private readonly TempDirectory _dir = new("federation-guard");
    private readonly ParticipantSigningKey _colluderKey = ParticipantSigningKey.Generate();
    private LocalFederation _federation = null!;
    private Dictionary<string, byte[]> _keys = null!;

    private const string Agreement = "guard-2026";
    private const string CappedAgreement = "guard-capped-2026";
    private static readonly string Model = ModelSpec.Logistic(15, 2).ToJson();

    public async Task InitializeAsync()
    {
        _federation = await LocalFederation.StartAsync(TestFederations.Options(_dir.Path, "US", "HU", "CH"));
        await TestFederations.SetUpSampleAsync(_federation);
        // The colluder is an organisation like any other: admitted by the operator on its own signed entry, with a dataset in
        // the catalog, a party to the agreement. Only it (the test) holds its private key.
        var directory = _federation.Grains.GetGrain<IFederationDirectoryGrain>(0);
        var entry = SignedOrganisationEntry.Create(new OrganisationEntry(Colluder, "US", "Colluder Inc.",
            [new Member("Colluder admin", MemberRole.OrganisationAdmin)], [.. _colluderKey.PublicKey], 1), _colluderKey);
        await FederationSetup.Publish(directory, _federation.Operator!, _federation.Operator!.Admit("Fed-Heart-Disease", [entry]));
        var catalog = DatasetCatalogJson.Parse(await directory.GetCatalog(), "catalog");
        var heart = catalog.First(e => e.Entry.Organisation == "US/cleveland").Entry;
        await directory.PublishDatasets(DatasetCatalogJson.Write([SignedDatasetEntry.Create(heart with { Organisation = Colluder }, _colluderKey)]));

        // The agreements the guard's jobs run under: the sample's terms, among the three honest hospitals and the colluder;
        // and the same with a cap on one party's share of the rows.
        await SignedAgreementAsync(Agreement, _ => { });
        await SignedAgreementAsync(CappedAgreement, terms => terms["training"]!["maxRowShare"] = 0.5);

        var membership = MembershipChain.Verify(_federation.Operator.PublicKey, _federation.Operator.Chain());
        _keys = Honest.Append(Colluder).Append(LongBeach).ToDictionary(id => id, id => membership.Find(id)!.SigningKey.ToArray());
    }

    private async Task SignedAgreementAsync(string id, Action<System.Text.Json.Nodes.JsonObject> edit)
    {
        var terms = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllBytes(Path.Combine(TestPaths.HeartSample, "agreement.json")))!.AsObject();
        terms["id"] = id;
        terms["parties"] = new System.Text.Json.Nodes.JsonArray([.. Honest.Append(Colluder).Select(party =>
            (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject { ["organisation"] = party, ["datasets"] = new System.Text.Json.Nodes.JsonArray("heart"), ["attestations"] = new System.Text.Json.Nodes.JsonArray("gdpr-art9-research") })]);
        edit(terms);
        var grain = _federation!.Grains.GetGrain<IAgreementGrain>(id);
        await grain.Draft(System.Text.Encoding.UTF8.GetBytes(terms.ToJsonString()));
        var proposed = FederationRecords.Read(await grain.Propose(), id, MembershipChain.Verify(_federation.Operator!.PublicKey, _federation.Operator.Chain()));
        foreach (var party in Honest)
            await TestFederations.SignAgreementAsync(_federation, party, id, proposed.TermsDigest);
        await grain.AddSignature(Colluder, [.. PartySignature.Create(proposed.Terms, Colluder, _colluderKey).Signature]);
    }

    public async Task DisposeAsync()
    {
        await _federation.DisposeAsync();
        _dir.Dispose();
    }

    private IParticipantGrain Grain(string id) => _federation.Grains.GetGrain<IParticipantGrain>(id);

    /// <summary>Every honest grain (and the colluder, if in) accepts <paramref name="jobId"/> over the given parties.</summary>
    private async Task<List<IRoundMember>> AcceptAsync(string jobId, IReadOnlyList<string> parties, ColluderMember? colluder = null, string agreement = Agreement)
    {
        var members = new List<IRoundMember>();
        foreach (var id in parties)
        {
            if (id == Colluder)
            {
                colluder!.Accept(new RoundTerms(jobId, Colluder, parties, 3, _keys, new RoundProtection("ckks", 4)));
                members.Add(colluder);
                continue;
            }
            await Grain(id).AcceptJob(Invitation(jobId, parties, agreement: agreement));
            members.Add(new GrainMember(Grain(id), id));
        }
        return members;
    }

    private static JobInvitation Invitation(string jobId, IEnumerable<string> parties, ProtectionSettings? protection = null, string agreement = Agreement) =>
        TestFederations.Invitation(jobId, parties, agreement, protection ?? Ckks, Model);

    private async Task<RoundDriver> SealedRoundAsync(string jobId, IReadOnlyList<string>? parties = null, ColluderMember? colluder = null, int round = 1)
    {
        parties ??= Honest;
        var driver = new RoundDriver(jobId, round, await AcceptAsync(jobId, parties, colluder), _keys);
        await driver.KeyAsync();
        await driver.TrainAsync();
        return driver;
    }

    [Fact]
    public async Task An_honest_round_opens_and_each_key_decrypts_only_once()
    {
        var driver = await SealedRoundAsync("CH/guard-honest");
        var fingerprints = await driver.AggregateCheckedAsync();
        await driver.DecryptAsync(fingerprints);
        Assert.Equal(1.0, driver.Aggregator.Open().TotalWeight, 5); // each weight is its train rows over all train rows

        var again = await Assert.ThrowsAsync<FederationOperationException>(() => Grain(Honest[0]).Decrypt(driver.Decryption(fingerprints)));
        Assert.Contains("already committed to its part of the opening this round", again.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_aggregator_alone_cannot_pass_off_one_participants_update_or_a_constant_as_the_sum(bool constant)
    {
        var driver = await SealedRoundAsync(constant ? "CH/guard-constant" : "CH/guard-substitution");
        var honest = driver.AggregateCheck();
        var forged = constant ? ConstantMasks(honest.AggregateMasks.Inline!) : driver.SealedUpdates["HU/budapest"]; // what Budapest sent: its masks
        var fingerprints = await driver.FingerprintsAsync(honest with { AggregateMasks = Payload.OfInline(forged) });
        foreach (var id in Honest)
        {
            var refused = await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).Decrypt(driver.Decryption(fingerprints)));
            Assert.Equal(RoundRefusal.AggregateRefused, refused.Code);
            Assert.Contains("not the sum of the members' updates", refused.Message);
        }
        // Nor can it show them another aggregate in this round, the honest one included: a member checks one a round.
        var again = await Assert.ThrowsAsync<FederationOperationException>(() => driver.FingerprintsAsync(honest));
        Assert.Equal(RoundRefusal.AggregateRefused, again.Code);
        Assert.Contains("it already checked another aggregate", again.Message);
    }

    [Fact]
    public async Task The_aggregator_alone_cannot_hand_out_a_round_key_whose_secret_it_knows()
    {
        // Each member sums the key itself from the members' shares: a share of the aggregator's making in Cleveland's place
        // (its own key minus the others' shares) is not the one Cleveland's statement names.
        var driver = new RoundDriver("CH/guard-key", 1, await AcceptAsync("CH/guard-key", Honest), _keys);
        var honest = await driver.RevealAsync();
        var forged = honest with { PublicShares = WithRogueShare(honest, 2) };
        foreach (var id in Honest)
            Assert.Contains("the public key share of US/cleveland is not the one its statement names",
                (await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).CheckRoundKey(forged))).Message);
        // Shares that do not even divide among the statements are named as such.
        Assert.Contains("5 bytes of public key shares do not split into one share for each of 3 statements",
            (await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").CheckRoundKey(honest with { PublicShares = Payload.OfInline([1, 2, 3, 4, 5]) }))).Message);
        foreach (var id in Honest)
            await Grain(id).CheckRoundKey(honest); // refusing spent nothing
    }

    [Fact]
    public async Task A_colluder_cannot_pick_its_key_share_after_seeing_the_others_shares()
    {
        // The share that would make the key the aggregator's, p_rogue − the others', exists only once the others are revealed;
        // by then the colluder's statement, naming its share, is committed. (AggregatorAttackTests plays the attack this stops.)
        const string jobId = "CH/guard-adaptive";
        var colluder = new ColluderMember(Colluder, _colluderKey);
        var driver = new RoundDriver(jobId, 1, await AcceptAsync(jobId, [.. Honest, Colluder], colluder), _keys);
        var honest = await driver.RevealAsync();
        int at = driver.Members.Select(m => m.Id).ToList().IndexOf(Colluder);
        var shares = WithRogueShare(honest, at);
        foreach (var id in Honest)
            Assert.Contains($"the public key share of {Colluder} is not the one its statement names",
                (await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).CheckRoundKey(honest with { PublicShares = shares }))).Message);

        var statement = honest.Statements[at].Payload;
        byte[] renamed = [.. statement[..32], .. SHA256.HashData(honest.SplitShares(shares.Inline!)[at]), .. statement[64..]];
        var statements = honest.Statements.Select((s, i) => i == at ? colluder.Sign(RoundPurpose.KeyStatement, jobId, 1, renamed) : s).ToList();
        foreach (var id in Honest)
            Assert.Contains("not the ones whose commitments it saw before it revealed its own",
                (await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).CheckRoundKey(honest with { Statements = statements, PublicShares = shares }))).Message);
    }

    [Fact]
    public async Task A_colluders_masking_key_that_is_no_point_is_refused_at_the_key_check_before_anyone_trains()
    {
        // Used first at sealing, it failed there, after the member trained and charged its privacy budget, and left the round
        // open for another Train (branch review/keysum). Every member now checks every masking key at step 3.
        const string jobId = "CH/guard-masking-key";
        var colluder = new ColluderMember(Colluder, _colluderKey) { MaskingKeyInStatement = [0x04, .. Enumerable.Repeat((byte)0x11, 64)] };
        var driver = new RoundDriver(jobId, 1, await AcceptAsync(jobId, [.. Honest, Colluder], colluder), _keys);
        var request = await driver.RevealAsync();
        foreach (var id in Honest)
            Assert.Contains($"The masking key of {Colluder} is not a point of P-256",
                (await Assert.ThrowsAsync<FederationOperationException>(() => Grain(id).CheckRoundKey(request))).Message);
    }

    /// <summary>The request's shares with the one at <paramref name="at"/> replaced by the share that makes the key the attacker's.</summary>
    private static Payload WithRogueShare(RoundKeyCheckRequest request, int at)
    {
        var shares = request.SplitShares(request.PublicShares.Inline!);
        var rogue = CkksAttackTools.RogueShare(CkksParameters.Default, shares.Where((_, i) => i != at)).Share;
        return Payload.OfInline(RoundKeyCheckRequest.JoinShares([.. shares.Select((s, i) => i == at ? rogue : s)]));
    }

    [Theory]
    [InlineData(new[] { "HU/budapest" }, "at least 3")]                        // the victim alone
    [InlineData(new[] { "CH/zurich", "HU/budapest" }, "at least 3")]           // the victim and one other
    [InlineData(new[] { "CH/zurich", "HU/budapest", "US/sybil" }, "not a party of the job")]
    public async Task A_participant_takes_part_only_in_rounds_of_its_job_s_parties_at_the_pinned_minimum(string[] round, string reason)
    {
        await AcceptAsync("CH/guard-sets", Honest);
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").CommitRoundKey(new RoundKeyRequest("CH/guard-sets", 1, round)));
        Assert.Contains(reason, refused.Message);
        // Nor does it accept a job of fewer than three parties in the first place.
        var small = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").AcceptJob(Invitation("CH/guard-small", ["CH/zurich", "HU/budapest"])));
        Assert.Equal("job.refused", small.Code);
        Assert.Contains("minParticipants", small.Message);
    }

    [Fact]
    public async Task A_job_it_never_accepted_gets_nothing_and_the_terms_it_pinned_cannot_change()
    {
        var unknown = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").CommitRoundKey(new RoundKeyRequest("CH/guard-never", 1, Honest)));
        Assert.Contains("has not accepted job CH/guard-never", unknown.Message);
        await AcceptAsync("CH/guard-pinned", Honest);
        var changed = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").AcceptJob(Invitation("CH/guard-pinned", Honest.Append(Colluder))));
        Assert.Contains("other terms (the parties differ)", changed.Message);
        // And nothing the agreement does not allow: another bound, or updates sent to another country.
        var bound = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").AcceptJob(Invitation("CH/guard-other", Honest, new ProtectionSettings("ckks", 64))));
        Assert.Contains("protection.updateBound", bound.Message);
        var abroad = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").AcceptJob(Invitation("US/guard-abroad", Honest)));
        Assert.Contains("updateDestinations", abroad.Message);
    }

    [Fact]
    public async Task No_downgrade_to_the_clear_on_a_silo_that_does_not_allow_simulation_or_in_a_job_pinned_to_ckks()
    {
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").AcceptJob(
            Invitation("CH/guard-downgrade", Honest, new ProtectionSettings("plaintext-simulation", 4))));
        Assert.Contains("does not allow the plaintext simulation", refused.Message);
        // Pinned to ckks, a training request without the round key's fingerprints (what the simulation sends) is refused.
        var driver = new RoundDriver("CH/guard-ckks", 1, await AcceptAsync("CH/guard-ckks", Honest), _keys);
        var noKey = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").Train(driver.Assignment([])));
        Assert.Contains("refuses to seal its update", noKey.Message);
    }

    [Fact]
    public async Task No_one_but_the_operator_issues_membership_and_no_key_changes_without_its_owners_signature()
    {
        var directory = _federation.Grains.GetGrain<IFederationDirectoryGrain>(0);
        var chain = _federation.Operator!.Chain();
        var impostor = ParticipantSigningKey.Generate();
        var zurich = chain[^1].Organisations.Single(o => o.Entry.Id == "CH/zurich").Entry;
        var swapped = SignedOrganisationEntry.Create(zurich with { SigningKey = [.. impostor.PublicKey], Serial = zurich.Serial + 1 }, impostor);

        // Anyone in the cluster can call the directory; a record signed by another "operator" is refused.
        using var rogueOperator = ParticipantSigningKey.Generate();
        var unsignedNext = new MembershipRecord(chain[^1].Federation, chain[^1].Serial + 1, chain[^1].IssuedAt, chain[^1].Digest,
            [.. chain[^1].Organisations.Where(o => o.Entry.Id != "CH/zurich"), swapped], [], []);
        var rogue = unsignedNext with { OperatorSignature = Statement.Sign(rogueOperator, MembershipRecord.Tag, unsignedNext.BodyBytes()) };
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => directory.PublishMembership(MembershipJson.Write([.. chain, rogue])));
        Assert.Equal("membership.refused", refused.Code);
        // The operator itself cannot swap Zurich's key without Zurich's old key signing the change: its own tools refuse to
        // issue such a record, and a hand-made one is refused by the directory (and by every participant, same check).
        Assert.Throws<MembershipException>(() => _federation.Operator.Admit("Fed-Heart-Disease", [swapped]));
        using var operatorKey = ParticipantSigningKey.Import(File.ReadAllBytes(Path.Combine(_federation.Operator.Directory, "operator.key")));
        var forged = unsignedNext with { OperatorSignature = Statement.Sign(operatorKey, MembershipRecord.Tag, unsignedNext.BodyBytes()) };
        var swap = await Assert.ThrowsAsync<FederationOperationException>(() => directory.PublishMembership(MembershipJson.Write([.. chain, forged])));
        Assert.Contains("CH/zurich", swap.Message);

        // Nor does a rewritten history replace the one held: record 1 alone, an older chain, is refused too.
        await Assert.ThrowsAsync<FederationOperationException>(() => directory.PublishMembership(MembershipJson.Write(chain.Take(1))));

        // A round message signed with the impostor's key is refused by a participant that accepted the job before.
        await AcceptAsync("CH/guard-swap", Honest);
        var commitments = new List<SignedPayload>();
        foreach (var id in Honest.Where(i => i != "CH/zurich"))
            commitments.Add(await Grain(id).CommitRoundKey(new RoundKeyRequest("CH/guard-swap", 1, Honest)));
        var payload = System.Security.Cryptography.SHA256.HashData([1]);
        commitments.Add(new SignedPayload("CH/zurich", "CH/guard-swap", 1, "ckks", payload,
            impostor.Sign(SignedStatement.For(RoundPurpose.KeyCommitment, "CH/guard-swap", 1, "CH/zurich", "ckks", payload).ToBytes())));
        var notZurich = await Assert.ThrowsAsync<FederationOperationException>(() => Grain("HU/budapest").RevealRoundKey(new RoundKeyRevealRequest("CH/guard-swap", 1, commitments)));
        Assert.Contains("does not verify", notZurich.Message);
    }

    [Fact]
    public async Task A_member_reveals_its_part_only_against_every_members_commitment_once_and_answers_step_7_for_one_opened_sum_also_after_a_restart()
    {
        // A part revealed before every member committed would let a colluder choose its own with the others in view; one
        // revealed against a second set would let the colluder commit again once the sum is known; a nonce given for a
        // second opened sum would let the aggregator draw the spot checks again (FedCore's OpeningSpotCheckTests).
        const string job = "CH/guard-part";
        var colluder = new ColluderMember(Colluder, _colluderKey);
        var driver = await SealedRoundAsync(job, [.. Honest.Take(2), Colluder], colluder);
        var fingerprints = await driver.FingerprintsAsync(driver.AggregateCheck());
        var commitments = new List<SignedPayload>();
        foreach (var m in driver.Members)
            commitments.Add((await m.Decrypt(driver.Decryption(fingerprints))).PartCommitment);
        var member = Grain(Honest[0]);
        var early = await Assert.ThrowsAsync<FederationOperationException>(() =>
            member.RevealPart(new RoundPartRevealRequest(job, 1, [.. commitments.Where(c => c.ParticipantId != Colluder)])));
        Assert.Contains($"messages are missing from {Colluder}", early.Message);
        var first = ColluderMember.PartOf(await member.RevealPart(new RoundPartRevealRequest(job, 1, commitments)));

        await member.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        var second = colluder.Sign(RoundPurpose.PartCommitment, job, 1, new byte[OpeningSpotCheck.CommitmentLength]);
        var other = commitments.Select(c => c.ParticipantId == Colluder ? second : c).ToList();
        Assert.Contains("already revealed its part against other part commitments",
            (await Assert.ThrowsAsync<FederationOperationException>(() => member.RevealPart(new RoundPartRevealRequest(job, 1, other)))).Message);
        Assert.Equal(first.Payload, ColluderMember.PartOf(await member.RevealPart(new RoundPartRevealRequest(job, 1, commitments))).Payload);

        var opened = new RoundOpeningCheckRequest(job, 1, SHA256.HashData([1]));
        var answer = await member.CheckOpening(opened);
        await member.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        Assert.Contains("already checked another opened plaintext",
            (await Assert.ThrowsAsync<FederationOperationException>(() => member.CheckOpening(opened with { OpenedDigest = SHA256.HashData([2]) }))).Message);
        Assert.Equal(answer.Payload, (await member.CheckOpening(opened)).Payload);
    }

    [Fact]
    public async Task Seals_and_key_reveals_happen_once_per_round_also_across_a_restart()
    {
        var driver = await SealedRoundAsync("CH/guard-once");
        var budapest = Grain("HU/budapest");
        await budapest.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        var fingerprints = driver.Aggregator.SealRequest().KeyAcceptances.Select(ColluderMember.Contract).ToList();
        var twice = await Assert.ThrowsAsync<FederationOperationException>(() => budapest.Train(driver.Assignment(fingerprints)));
        Assert.Contains("already sealed its update this round", twice.Message);
        var again = await Assert.ThrowsAsync<FederationOperationException>(() => budapest.CommitRoundKey(new RoundKeyRequest("CH/guard-once", 1, Honest)));
        Assert.Contains("not above round 1", again.Message);
        // What the restart lost (its sealed update) makes it ask for a new round rather than go on.
        var lost = await Assert.ThrowsAsync<FederationOperationException>(() => budapest.CheckAggregate(driver.AggregateCheck()));
        Assert.Equal(RoundRefusal.Restarted, lost.Code);
    }

    [Fact]
    public async Task A_restart_does_not_let_a_key_share_be_revealed_again_against_other_commitments()
    {
        await AcceptAsync("CH/guard-reveal", Honest);
        var commitments = new List<SignedPayload>();
        foreach (var id in Honest)
            commitments.Add(await Grain(id).CommitRoundKey(new RoundKeyRequest("CH/guard-reveal", 1, Honest)));
        var budapest = Grain("HU/budapest");
        var first = await budapest.RevealRoundKey(new RoundKeyRevealRequest("CH/guard-reveal", 1, commitments));
        await budapest.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        var zurich = Grain("CH/zurich");
        // Zurich (colluding, say) makes another commitment after Budapest's statement is out; it is stored, signed, valid.
        var rogue = await zurich.CommitRoundKey(new RoundKeyRequest("CH/guard-reveal", 2, Honest));
        var other = commitments.Select(c => c.ParticipantId == "CH/zurich" ? c with { Payload = rogue.Payload, Signature = rogue.Signature, Round = 1 } : c).ToList();
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => budapest.RevealRoundKey(new RoundKeyRevealRequest("CH/guard-reveal", 1, other)));
        Assert.True(refused.Message.Contains("already revealed its key share against other commitments") || refused.Message.Contains("does not verify"), refused.Message);
        var tampered = commitments.Select(c => c.ParticipantId == "CH/zurich" ? c with { Payload = System.Security.Cryptography.SHA256.HashData(c.Payload) } : c).ToList();
        Assert.Contains("does not verify", (await Assert.ThrowsAsync<FederationOperationException>(() => budapest.RevealRoundKey(new RoundKeyRevealRequest("CH/guard-reveal", 1, tampered)))).Message);
        // The same commitments are answered again after the restart, with the same statement.
        Assert.Equal(first.Statement.Payload, (await budapest.RevealRoundKey(new RoundKeyRevealRequest("CH/guard-reveal", 1, commitments))).Statement.Payload);
    }

    [Fact]
    public async Task A_colluder_with_a_ciphertext_of_chosen_structure_learns_the_honest_sum_but_no_single_honest_update()
    {
        // The colluder plays the key steps honestly, then sends masks c1 = t ≈ q0/7 (the constant polynomial), keeps as its
        // c0 its own pairwise masks, and fingerprints it honestly: every grain's check passes, and the opened sum carries
        // t·s, from which the aggregator reads the round's secret s. But of an honest member it holds only its masks and
        // its part: no c0 leaves a member (the pure protocol's test shows that even a leaked c0 shows only a one-time pad).
        string[] parties = ["CH/zurich", "HU/budapest", Colluder];
        string[] honestIds = ["CH/zurich", "HU/budapest"];
        var colluder = new ColluderMember(Colluder, _colluderKey);
        var parameters = CkksParameters.Default;
        var q0 = parameters.Context.WireModulus;
        ulong t = q0.Value / 7;
        ulong[]? colludersMasks = null;
        byte[]? crafted = null;
        colluder.CraftUpdate = assignment =>
        {
            colludersMasks = ColludersMasks(colluder, assignment);
            var key = CollectivePublicKey.FromBytes(_lastKey!, parameters);
            crafted = CraftCiphertext(key, assignment.GlobalParameters.Length / sizeof(float) + 1, (_, j) => colludersMasks[j], (_, j) => j == 0 ? t : 0);
            var sent = CkksAttackTools.Sent(parameters, crafted);
            return new FedCore.Rounds.Sealed(sent, ColluderMember.Core(colluder.Sign(RoundPurpose.Update, assignment.JobId, assignment.Round, System.Security.Cryptography.SHA256.HashData(sent))));
        };
        var driver = new RoundDriver("CH/guard-collusion", 1, await AcceptAsync("CH/guard-collusion", parties, colluder), _keys);
        await driver.KeyAsync();
        _lastKey = driver.Aggregator.RoundKey.ToBytes();
        _lastStatements = driver.Aggregator.KeyCheckRequest(driver.Plan).Statements.ToDictionary(s => s.ParticipantId, s => s.Payload);
        await driver.TrainAsync();
        var check = driver.AggregateCheck();
        var fingerprints = await driver.FingerprintsAsync(check);
        var masks = CiphertextMasks.FromBytes(check.AggregateMasks.Inline!, parameters);
        var colludersShare = SecretKeyShare.FromBytes(colluder.Round!.Record!.Secret!, parameters).CreateDecryptionShare(driver.Aggregator.RoundKey, masks);
        // Steps 6–6b: the honest members commit to their parts and reveal them (the colluder commits to anything).
        var commitments = new List<SignedPayload> { colluder.Sign(RoundPurpose.PartCommitment, "CH/guard-collusion", 1, new byte[OpeningSpotCheck.CommitmentLength]) };
        foreach (var id in honestIds)
            commitments.Add((await Grain(id).Decrypt(driver.Decryption(fingerprints))).PartCommitment);
        var reveal = new RoundPartRevealRequest("CH/guard-collusion", 1, commitments);
        var parts = new List<OpenedPlaintext>();
        foreach (var id in honestIds)
            parts.Add(OpenedPlaintext.FromBytes(ColluderMember.PartOf(await Grain(id).RevealPart(reveal)).Payload, parameters));

        // The opening, ciphertext by ciphertext: the honest parts, and the colluder's c0 and share.
        var whole = EncryptedVector.FromBytes(crafted!, parameters);
        int n = parameters.RingDimension;
        var opened = new ulong[whole.ChunkCount * n];
        var addend = new ulong[n];
        for (int chunk = 0; chunk < whole.ChunkCount; chunk++)
        {
            var slice = opened.AsSpan(chunk * n, n);
            foreach (var part in parts)
            {
                part.ReadChunk(chunk, addend);
                RnsRing.AddInPlace(q0, slice, addend);
            }
            whole.ReadC0(chunk, addend);
            RnsRing.AddInPlace(q0, slice, addend);
            colludersShare.ReadChunk(chunk, addend);
            RnsRing.AddInPlace(q0, slice, addend);
        }
        // The round's secret, coefficient by coefficient, off the first ciphertext of the opened sum.
        var secret = opened.Take(n).Select(c => (long)Math.Round((double)q0.ToCentered(c) / t)).ToArray();
        Assert.All(secret, s => Assert.InRange(s, -3, 3)); // the sum of three ternary secrets: it reads as one

        // The honest sum decrypts (the opening less t·s; the colluder's masks cancel theirs): its weight slot is their weights' sum...
        var ts = secret.Select(s => q0.Multiply(t, q0.FromSigned(s))).ToArray();
        var sum = Decode(parameters, opened, ts, whole.Length, whole.Scale);
        double honestWeight = honestIds.Sum(id => driver.Reports[id].TrainSamples) / driver.WeightNormaliser;
        Assert.Equal(honestWeight, sum[^1], 6);
        Assert.All(sum, v => Assert.InRange(v, -4 * honestWeight - 1e-3, 4 * honestWeight + 1e-3));
        // ...but of each honest member it holds only its masks, no ciphertext it could decrypt with s, and its part c0ᵢ + sᵢ·M:
        // with s in place of sᵢ, the closest it gets, it reads garbage far outside any update's bound, its weight slot included.
        foreach (var (part, id) in parts.Zip(honestIds))
        {
            Assert.Throws<FedCore.Crypto.Wire.HeFormatException>(() => EncryptedVector.FromBytes(driver.SealedUpdates[id], parameters));
            var own = CiphertextMasks.FromBytes(driver.SealedUpdates[id], parameters);
            var guess = new ulong[whole.ChunkCount * n];
            var c1 = new ulong[n];
            var m = new ulong[n];
            for (int chunk = 0; chunk < whole.ChunkCount; chunk++)
            {
                part.ReadChunk(chunk, guess.AsSpan(chunk * n, n));
                own.ReadC1(chunk, c1);
                masks.ReadC1(chunk, m);
                var sc1 = CkksAttackTools.MultiplyBySecret(parameters, secret, c1);
                var sm = CkksAttackTools.MultiplyBySecret(parameters, secret, m);
                for (int j = 0; j < n; j++)
                    guess[chunk * n + j] = q0.Subtract(q0.Add(guess[chunk * n + j], sc1[j]), sm[j]);
            }
            var alone = Decode(parameters, guess, new ulong[n], whole.Length, whole.Scale);
            Assert.True(alone.Max(Math.Abs) > 100, $"{id}'s part decrypts within ±{alone.Max(Math.Abs)}");
            Assert.NotEqual(driver.Reports[id].TrainSamples / driver.WeightNormaliser, alone[^1], 3);
        }
    }

    [Fact]
    public async Task A_colluders_lie_over_a_constant_aggregate_reads_no_honest_key_share_off_a_part()
    {
        // The aggregate's masks a constant T in the first ciphertext (zero in the rest), the colluder's fingerprint the
        // difference: the honest grains commit and reveal parts c0ᵢ + sᵢ·T + eᵢ there. A key share is ternary, so a part
        // without its c0 would read as sᵢ, every coefficient in {−1, 0, 1}; with the member's c0 kept home it reads as noise.
        // (The zero ciphertexts hand over c0 itself: the known limit VerifiedAggregation.md, section 2, describes.)
        const string job = "CH/guard-constant-part";
        string[] honestIds = ["CH/zurich", "HU/budapest"];
        var colluder = new ColluderMember(Colluder, _colluderKey);
        var parameters = CkksParameters.Default;
        var q0 = parameters.Context.WireModulus;
        var driver = new RoundDriver(job, 1, await AcceptAsync(job, [.. honestIds, Colluder], colluder), _keys);
        await driver.KeyAsync();
        await driver.TrainAsync();
        var honest = driver.AggregateCheck();
        var constant = ConstantMasks(honest.AggregateMasks.Inline!);
        var forged = honest with { AggregateMasks = Payload.OfInline(constant) };
        var fingerprints = new List<SignedPayload>();
        foreach (var id in honestIds)
            fingerprints.Add(await Grain(id).CheckAggregate(forged));
        var challenge = LinearFingerprint.FromBytes(fingerprints[0].Payload, parameters).Challenge.ToArray();
        var target = LinearFingerprint.OfMasks(CiphertextMasks.FromBytes(constant, parameters), challenge);
        fingerprints.Add(colluder.Sign(RoundPurpose.AggregateFingerprint, job, 1,
            CkksAttackTools.FingerprintLie(target, fingerprints.Select(f => LinearFingerprint.FromBytes(f.Payload, parameters)))));
        var commitments = new List<SignedPayload> { colluder.Sign(RoundPurpose.PartCommitment, job, 1, new byte[OpeningSpotCheck.CommitmentLength]) };
        foreach (var id in honestIds)
            commitments.Add((await Grain(id).Decrypt(driver.Decryption(fingerprints))).PartCommitment); // the lie passes
        var reveal = new RoundPartRevealRequest(job, 1, commitments);
        ulong t = parameters.WireModulus / 7;
        foreach (var id in honestIds)
        {
            var part = CkksAttackTools.FirstPolynomial(parameters, ColluderMember.PartOf(await Grain(id).RevealPart(reveal)).Payload);
            int outside = part.Count(c => Math.Abs(Math.Round((double)q0.ToCentered(c) / t)) > 1);
            Assert.True(outside > part.Length / 4, $"{id}'s part reads as a ternary key share ({outside} of {part.Length} coefficients outside it)");
        }
    }

    /// <summary>Each ciphertext's raw coefficients less <paramref name="subtract"/> (applied to the first), decoded: the first <paramref name="length"/> values.</summary>
    private static double[] Decode(CkksParameters parameters, ulong[] raw, ulong[] subtract, int length, double scale)
    {
        var q0 = parameters.Context.WireModulus;
        int n = parameters.RingDimension;
        var values = new double[length];
        var chunk = new ulong[n];
        var decoded = new double[n];
        for (int k = 0; k * n < length; k++)
        {
            raw.AsSpan(k * n, n).CopyTo(chunk);
            if (k == 0)
                for (int j = 0; j < n; j++)
                    chunk[j] = q0.Subtract(chunk[j], subtract[j]);
            int count = Math.Min(n, length - k * n);
            parameters.Context.Encoder.Decode(chunk, q0, scale, decoded.AsSpan(0, count));
            decoded.AsSpan(0, count).CopyTo(values.AsSpan(k * n));
        }
        return values;
    }


    private byte[]? _lastKey;
    private Dictionary<string, byte[]>? _lastStatements;

    /// <summary>The colluder's pairwise masks for the round: it knows its masking key and its neighbours' public keys.</summary>
    private ulong[] ColludersMasks(ColluderMember colluder, RoundAssignment assignment)
    {
        var members = assignment.Participants;
        var setDigest = FedCore.Rounds.RoundChallenges.SetDigest(assignment.JobId, assignment.Round, members);
        var key = CollectivePublicKey.FromBytes(_lastKey!, CkksParameters.Default);
        var context = FedCore.Rounds.RoundChallenges.MaskingContext(setDigest, key.KeyId.ToArray(), FedCore.Rounds.RoundChallenges.StatementsDigest(members, _lastStatements!));
        using var own = MaskingKeyPair.Import(colluder.Round!.Record!.MaskingKey!);
        using var masks = PairwiseMasks.Derive(CkksParameters.Default, own, colluder.Id,
            _lastStatements!.Where(s => s.Key != colluder.Id).Select(s => (s.Key, s.Value[64..])).ToList(), context);
        var polynomial = new ulong[CkksParameters.Default.RingDimension];
        masks.AddTo(polynomial);
        return polynomial;
    }

    private static byte[] ConstantMasks(byte[] masks)
    {
        var parameters = CkksParameters.Default;
        var bytes = (byte[])masks.Clone();
        int start = FedCore.Crypto.Wire.WireFormat.HeaderLength + 36;
        Array.Clear(bytes, start, bytes.Length - start);
        var constant = new ulong[parameters.RingDimension];
        constant[0] = parameters.WireModulus / 7;
        var packed = new byte[FedCore.Crypto.Wire.BitPacking.PackedLength(constant.Length, parameters.WireModulusBits)];
        FedCore.Crypto.Wire.BitPacking.Pack(constant, parameters.WireModulusBits, packed);
        packed.CopyTo(bytes, start);
        return bytes;
    }

    private static byte[] CraftCiphertext(CollectivePublicKey key, int length, Func<int, int, ulong> c0, Func<int, int, ulong> c1) =>
        CkksAttackTools.CraftCiphertext(CkksParameters.Default, key, length, 4, c0, c1);
}
