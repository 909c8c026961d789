using FedCore.Governance;
using FedCore.Governance.Agreements;
using FedCore.Governance.Datasets;
using FedCore.Governance.Membership;
using Federation.Contracts.Agreements;
using Federation.Contracts.Directory;
using Federation.Contracts.Errors;
using Federation.Silo.Hosting;

namespace Federation.Silo.Governance;

/// <summary>
/// How anything on this silo reads the federation's signed records: fetched from the relays (directory, agreement
/// grains), verified against the operator's public key this silo is configured with, never taken on the relay's word.
/// </summary>
public sealed class FederationRecords(IGrainFactory grains, FederationSiloOptions options)
{
    private byte[] OperatorKey => options.OperatorPublicKey
        ?? throw new FederationOperationException("membership.unconfigured", $"The {options.Country} silo has no operator public key configured: it cannot verify the federation's membership.");

    /// <summary>The membership, verified; refused if it rewinds or rewrites the history <paramref name="pinned"/> saw.</summary>
    public async Task<VerifiedMembership> MembershipAsync(MembershipPin? pinned = null)
    {
        var bytes = await grains.GetGrain<IFederationDirectoryGrain>(0).GetMembership()
            ?? throw new FederationOperationException("membership.none", "The federation has no membership record yet: the operator has not published one.");
        return Verify(bytes, pinned);
    }

    public VerifiedMembership Verify(byte[] chain, MembershipPin? pinned = null)
    {
        try
        {
            return MembershipChain.Verify(OperatorKey, MembershipJson.Parse(chain, "the federation's membership"), pinned);
        }
        catch (GovernanceException e)
        {
            throw new FederationOperationException("membership.refused", e.Message);
        }
    }

    public async Task<DatasetCatalog> CatalogAsync(VerifiedMembership membership)
    {
        var bytes = await grains.GetGrain<IFederationDirectoryGrain>(0).GetCatalog();
        try
        {
            return DatasetCatalog.Verify(DatasetCatalogJson.Parse(bytes, "the federation's dataset catalog"), membership);
        }
        catch (GovernanceException e)
        {
            throw new FederationOperationException("catalog.refused", e.Message);
        }
    }

    /// <summary>An agreement as relayed by its grain, read against the membership and catalog (its signatures are checked where it is used).</summary>
    public async Task<Agreement> AgreementAsync(string agreementId, VerifiedMembership membership, DatasetCatalog? catalog = null)
    {
        var bytes = await grains.GetGrain<IAgreementGrain>(agreementId).Get()
            ?? throw new FederationOperationException("agreement.unknown", $"There is no agreement '{agreementId}'.");
        return Read(bytes, agreementId, membership, catalog);
    }

    public static Agreement Read(byte[] document, string agreementId, VerifiedMembership membership, DatasetCatalog? catalog = null)
    {
        try
        {
            return AgreementJson.ParseAgreement(document, $"agreement '{agreementId}'", new AgreementReferences(membership, catalog));
        }
        catch (GovernanceException e)
        {
            throw new FederationOperationException("agreement.refused", e.Message);
        }
    }
}
