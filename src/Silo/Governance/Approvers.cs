using FedCore.Governance;
using FedCore.Governance.Agreements;
using FedCore.Governance.Approvals;
using FedCore.Governance.Datasets;
using FedCore.Governance.Membership;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;

namespace Federation.Silo.Governance;

/// <summary>
/// The organisations' approver keys, outside the cluster in a folder of their own (the embedded default's
/// <c>data/approvers</c>, apart from every silo's storage): <c>&lt;CC&gt;-&lt;name&gt;.key</c> (PKCS#8, readable by its owner
/// only) and <c>&lt;CC&gt;-&lt;name&gt;.pub</c> (SubjectPublicKeyInfo: what the organisation's silo is configured with). An
/// organisation's participant signs its membership entry, an agreement, a status change or a dataset entry only with an approval made
/// here for exactly that act (FedCore/Governance/README.md, "Approvals"); the methods below make the approval and ask
/// the participant, as the setup and the command line do for an organisation.
/// </summary>
public sealed class Approvers(string directory)
{
    /// <summary>How long an approval made here is valid: it is made for a call about to happen.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    public string Directory { get; } = directory;

    public string KeyPath(string organisation) => Path.Combine(Directory, FileName(organisation) + ".key");

    public string PublicKeyPath(string organisation) => PublicKeyPath(Directory, organisation);

    /// <summary>Where a silo configured with <paramref name="directory"/> looks for an organisation's approver public key.</summary>
    public static string PublicKeyPath(string directory, string organisation) => Path.Combine(directory, FileName(organisation) + ".pub");

    /// <summary>Makes the organisation's approver key the first time (when the organisation is set up); returns its public key.</summary>
    public byte[] Ensure(string organisation)
    {
        using var key = KeyFiles.LoadOrCreate(KeyPath(organisation), PublicKeyPath(organisation));
        return key.PublicKey;
    }

    /// <summary>The organisation's approval of one act, valid for <see cref="Lifetime"/> from now.</summary>
    /// <exception cref="FederationOperationException">The organisation has no approver key here (code <c>approval.no-key</c>).</exception>
    public byte[] Approve(string organisation, ApprovalSubject act)
    {
        var path = KeyPath(organisation);
        if (!File.Exists(path))
            throw new FederationOperationException("approval.no-key",
                $"There is no approver key for {organisation} ({path}): it is made when the organisation is set up (`federation org init --id {organisation}`).");
        using var key = FedCore.Aggregation.Integrity.ParticipantSigningKey.Import(File.ReadAllBytes(path));
        return Approval.Create(organisation, act, DateTimeOffset.UtcNow, Lifetime, key);
    }

    /// <summary>
    /// The organisation's signed membership entry: its participant drafts the entry (its key, the next serial), the
    /// approver approves that entry if it carries the details asked for, and the participant signs it.
    /// </summary>
    public async Task<byte[]> CreateOrganisationEntryAsync(IGrainFactory grains, string organisation, OrganisationDetails details)
    {
        var participant = grains.GetGrain<IParticipantGrain>(organisation);
        var source = $"the entry {organisation}'s participant drafted";
        OrganisationEntry entry;
        try
        {
            entry = MembershipJson.ParseUnsignedEntry(await participant.DraftOrganisationEntry(details), source);
        }
        catch (GovernanceException e)
        {
            throw new FederationOperationException("membership.invalid", e.Message);
        }
        // Approve only what was asked for: the draft came through the cluster.
        var asked = details.Members.Select(m => (m.Name, m.Role)).ToHashSet();
        if (entry.Id != organisation || entry.LegalName != details.LegalName || !asked.SetEquals(entry.Members.Select(m => (m.Name, GovernanceNames.Of(m.Role)))))
            throw new FederationOperationException("membership.invalid", $"{source} is not for the details asked for (id, legal name, members); it is not approved.");
        return await participant.CreateOrganisationEntry(details, Approve(organisation, ApprovalSubject.OrganisationEntry(entry)));
    }

    /// <summary>The party's signature of the agreement's terms with the digest its steward reviewed; returns the agreement document after it.</summary>
    public Task<byte[]> SignAgreementAsync(IGrainFactory grains, string party, string agreementId, string termsDigest) =>
        grains.GetGrain<IParticipantGrain>(party).SignAgreement(agreementId, termsDigest, Approve(party, ApprovalSubject.SignAgreement(agreementId, termsDigest)));

    /// <summary>
    /// The party's suspension, resumption or termination of <paramref name="current"/> (the agreement as the caller read and
    /// verified it: the approval is for its terms and its next status change); returns the agreement document after it.
    /// </summary>
    public Task<byte[]> ChangeAgreementStatusAsync(IGrainFactory grains, string party, Agreement current, string kind, string reason)
    {
        if (!GovernanceNames.TryParse<StatusChangeKind>(kind, out var parsed))
            throw new FederationOperationException("agreement.refused", $"'{kind}' is not a status change ({GovernanceNames.All<StatusChangeKind>()}).");
        ApprovalSubject act;
        try
        {
            act = ApprovalSubject.NextStatusChange(current, parsed, reason);
        }
        catch (ArgumentException e)
        {
            throw new FederationOperationException("agreement.refused", $"A {kind} of agreement '{current.Id}': {e.Message}");
        }
        return grains.GetGrain<IParticipantGrain>(party).ChangeAgreementStatus(current.Id, kind, reason, Approve(party, act));
    }

    /// <summary>
    /// The organisation's registration of a dataset: the approver reads the file and the schema itself (as a data steward
    /// on the silo's machine would) and approves that file, schema and catalog publication; then the participant registers.
    /// </summary>
    public async Task<DatasetSummary> RegisterDatasetAsync(IGrainFactory grains, string organisation, DatasetRegistration registration, CancellationToken cancellationToken = default)
    {
        var refusal = $"{organisation}'s approval of dataset '{registration.Name}'";
        string fileSha256, schemaHash;
        DatasetPublication? publication = null;
        try
        {
            fileSha256 = await FedCore.Data.FileDigest.Sha256Async(registration.CsvPath, cancellationToken);
            schemaHash = FedCore.Data.DatasetSchema.Parse(registration.SchemaJson, registration.SchemaSource).Hash;
            if (registration.Catalog is { } d)
                publication = DatasetPublication.Parse(d.Description, d.Categories, d.Jurisdiction, d.Licence, d.PrivacyUnit, d.EpsilonCap);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FedCore.Data.DatasetSchemaException or ArgumentException)
        {
            throw new FederationOperationException("dataset.invalid", $"{refusal}: {e.Message}");
        }
        var approval = Approve(organisation, ApprovalSubject.RegisterDataset(registration.Name, fileSha256, schemaHash, publication));
        return await grains.GetGrain<IParticipantGrain>(organisation).RegisterDataset(registration, approval);
    }

    // HU/budapest → HU-budapest: the country is two letters, so the name is unambiguous, and names use no '/'.
    private static string FileName(string organisation) =>
        OrganisationId.TryParse(organisation, out _, out var problem)
            ? organisation.Replace('/', '-')
            : throw new FederationOperationException("approval.no-key", $"No approver key for {problem}.");
}
