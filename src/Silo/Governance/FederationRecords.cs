using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
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
    // Every protocol step of every participant on this silo reads the membership, the catalog and its job's agreement
    // afresh and checks every signature in them: O(N) signatures a step at N organisations, a fifth of the silo's CPU at
    // N = 30. What a check concludes depends only on the bytes and on what they are checked against, so a result is kept
    // under the SHA-256 of the bytes and the digest of the rest; other bytes are checked in full. Failures are not kept.
    private const int KeptResults = 256;
    private readonly ConcurrentDictionary<string, object> _checked = new(StringComparer.Ordinal);
    private readonly ConditionalWeakTable<DatasetCatalog, string> _catalogKeys = [];
    private readonly ConditionalWeakTable<Agreement, ConcurrentDictionary<string, bool>> _agreementsVerified = [];

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
            return Checked("membership", chain, pinned is null ? "unpinned" : $"{pinned.Serial}:{pinned.Digest}",
                () => MembershipChain.Verify(OperatorKey, MembershipJson.Parse(chain, "the federation's membership"), pinned));
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
            var catalog = Checked("catalog", bytes, membership.Digest,
                () => DatasetCatalog.Verify(DatasetCatalogJson.Parse(bytes, "the federation's dataset catalog"), membership), out string key);
            _catalogKeys.AddOrUpdate(catalog, key);
            return catalog;
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
        string? catalogKey = null;
        if (catalog is not null && !_catalogKeys.TryGetValue(catalog, out catalogKey))
            return Read(bytes, agreementId, membership, catalog); // a catalog from elsewhere has no key to be read against
        return Checked("agreement", bytes, $"{agreementId}|{membership.Digest}|{catalogKey ?? "none"}", () => Read(bytes, agreementId, membership, catalog));
    }

    /// <summary>
    /// <see cref="Agreement.Verify"/> against <paramref name="membership"/>, done once per agreement read and membership
    /// (the agreements <see cref="AgreementAsync"/> returns for the same bytes are one object).
    /// </summary>
    public void Verify(Agreement agreement, VerifiedMembership membership)
    {
        var verified = _agreementsVerified.GetValue(agreement, _ => new ConcurrentDictionary<string, bool>(StringComparer.Ordinal));
        if (verified.ContainsKey(membership.Digest))
            return;
        agreement.Verify(membership);
        verified[membership.Digest] = true;
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

    private T Checked<T>(string kind, byte[] bytes, string against, Func<T> check) where T : class => Checked(kind, bytes, against, check, out _);

    private T Checked<T>(string kind, byte[] bytes, string against, Func<T> check, out string key) where T : class
    {
        key = $"{kind}|{Convert.ToHexString(SHA256.HashData(bytes))}|{against}";
        if (_checked.TryGetValue(key, out var known))
            return (T)known;
        var result = check();
        if (_checked.Count >= KeptResults)
            _checked.Clear();
        _checked[key] = result;
        return result;
    }
}
