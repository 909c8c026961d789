using FedCore.Governance;
using FedCore.Governance.Agreements;
using FedCore.Governance.Datasets;
using FedCore.Governance.Membership;
using FedCore.Jobs;
using Federation.Contracts.Agreements;
using Federation.Contracts.Directory;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;

namespace Federation.Silo.Governance;

/// <summary>
/// Sets up a federation from its manifest, as its organisations and operator would, step by step (idempotent: what is
/// already in place is left as it is):
/// <list type="number">
/// <item>each organisation makes its approver key (outside the cluster, in <see cref="Approvers"/>), and its participant its
/// signing key and, with the approver's approval, signs its membership entry (in its own country's storage);</item>
/// <item>the operator admits them in a new membership record and hands the chain to the directory, which relays it;</item>
/// <item>each organisation registers its datasets and signs their catalog entries;</item>
/// <item>each agreement of the manifest is drafted, proposed, and signed by every party (each approved by its approver),
/// which makes it active.</item>
/// </list>
/// The embedded default, <c>round run</c>, the benchmarks and the tests use it; a real federation runs the same steps
/// through <c>federation org | dataset | agreement</c>, one organisation at a time.
/// </summary>
public static class FederationSetup
{
    public static async Task<IReadOnlyList<ParticipantProfile>> EnsureAsync(IGrainFactory grains, FederationOperator federationOperator, Approvers approvers,
        FederationManifest manifest, CancellationToken cancellationToken = default)
    {
        var directory = grains.GetGrain<IFederationDirectoryGrain>(0);
        var entries = new List<SignedOrganisationEntry>();
        foreach (var member in manifest.Participants)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!ParticipantKey.TryParse(member.Id, out _, out _, out var error))
                throw new JobFileException(manifest.FilePath, $"participant '{member.Id}'", error);
            var details = new OrganisationDetails(member.LegalName, member.Members.Select(m => new MemberDetails(m.Name, m.Role)).ToList());
            approvers.Ensure(member.Id);
            var entry = await approvers.CreateOrganisationEntryAsync(grains, member.Id, details);
            entries.Add(MembershipJson.ParseEntry(entry, $"the membership entry of {member.Id}"));
        }
        await Publish(directory, federationOperator, federationOperator.Admit(manifest.Name, entries));

        var profiles = new List<ParticipantProfile>();
        foreach (var member in manifest.Participants)
        {
            var participant = grains.GetGrain<IParticipantGrain>(member.Id);
            await RegisterDatasetsAsync(grains, approvers, participant, directory, member, manifest, cancellationToken);
            profiles.Add(await participant.GetProfile());
        }
        foreach (var terms in manifest.AgreementFiles)
            await EnsureAgreementAsync(grains, federationOperator, approvers, await File.ReadAllBytesAsync(terms, cancellationToken), terms);
        return profiles;
    }

    /// <summary>Hands the operator's chain to the directory (which keeps it only if it verifies and extends the one it holds).</summary>
    public static Task Publish(IFederationDirectoryGrain directory, FederationOperator federationOperator, IReadOnlyList<MembershipRecord> chain) =>
        directory.PublishMembership(MembershipJson.Write(chain));

    private static async Task RegisterDatasetsAsync(IGrainFactory grains, Approvers approvers, IParticipantGrain participant, IFederationDirectoryGrain directory, ManifestParticipant member,
        FederationManifest manifest, CancellationToken cancellationToken)
    {
        var registered = (await participant.GetDatasets()).ToDictionary(d => d.Name);
        var catalog = DatasetCatalogJson.Parse(await directory.GetCatalog(), "the federation's catalog");
        foreach (var dataset in member.Datasets)
        {
            if (!File.Exists(dataset.SchemaPath))
                throw new JobFileException(manifest.FilePath, $"participant '{member.Id}', dataset '{dataset.Name}'", $"schema file {dataset.SchemaPath} does not exist");
            var details = new DatasetCatalogDetails(dataset.Description, dataset.Categories, dataset.Jurisdiction, dataset.Licence, dataset.PrivacyUnit, dataset.EpsilonCap);
            var registration = new DatasetRegistration(dataset.Name, dataset.CsvPath, await File.ReadAllTextAsync(dataset.SchemaPath, cancellationToken), dataset.SchemaPath, details);
            // Registering again re-reads the file; skip it when the same file is registered and in the catalog already.
            if (registered.TryGetValue(dataset.Name, out var known) && known.FileName == Path.GetFileName(dataset.CsvPath)
                && File.Exists(dataset.CsvPath) && known.FileSha256 == await FedCore.Data.FileDigest.Sha256Async(dataset.CsvPath, cancellationToken)
                && catalog.Any(e => e.Entry.Organisation == member.Id && e.Entry.Name == dataset.Name && e.Entry.FileSha256 == known.FileSha256))
                continue;
            await approvers.RegisterDatasetAsync(grains, member.Id, registration, cancellationToken);
        }
    }

    /// <summary>
    /// Drafts the agreement of <paramref name="terms"/> if there is none, proposes it, and has every party that has not
    /// signed yet review the terms (by their digest) and sign, each with its approver's approval. An agreement already past
    /// that point is left alone.
    /// </summary>
    public static async Task<byte[]> EnsureAgreementAsync(IGrainFactory grains, FederationOperator federationOperator, Approvers approvers, byte[] terms, string source)
    {
        var membership = MembershipChain.Verify(federationOperator.PublicKey, federationOperator.Chain());
        AgreementTerms parsed;
        try
        {
            parsed = AgreementJson.ParseTerms(terms, source, new AgreementReferences(membership));
        }
        catch (GovernanceException e)
        {
            throw new FederationOperationException("agreement.invalid", e.Message);
        }
        var grain = grains.GetGrain<IAgreementGrain>(parsed.Id);
        var document = await grain.Get() ?? await grain.Draft(terms);
        var agreement = FederationRecords.Read(document, parsed.Id, membership);
        if (agreement.TermsDigest != parsed.Digest && agreement.RecordedState is AgreementState.Draft or AgreementState.Proposed)
            agreement = FederationRecords.Read(await grain.Draft(terms), parsed.Id, membership);
        if (agreement.RecordedState == AgreementState.Draft)
            agreement = FederationRecords.Read(await grain.Propose(), parsed.Id, membership);
        if (agreement.RecordedState != AgreementState.Proposed)
            return document;
        foreach (var party in agreement.Unsigned.ToList())
            document = await approvers.SignAgreementAsync(grains, party, parsed.Id, agreement.TermsDigest);
        return document;
    }

    /// <summary>
    /// The same terms under another id and protection: a plaintext-simulation twin of an agreement, for the benchmarks'
    /// baseline and the tests (an agreement that allows the simulation must say so, and a silo must allow it too).
    /// </summary>
    public static byte[] Variant(byte[] terms, string id, string scheme)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(terms)!.AsObject();
        json["id"] = id;
        json["protection"]!["scheme"] = scheme;
        json["simulation"] = scheme == FedCore.Aggregation.Protection.PlaintextSimulation.SchemeName;
        return System.Text.Encoding.UTF8.GetBytes(json.ToJsonString());
    }
}
