using Federation.Contracts.Errors;
using Orleans.Placement;
using Federation.Silo.Hosting;
using Orleans.Metadata;
using Orleans.Runtime.Placement;

namespace Federation.Silo.Placement;

/// <summary>
/// Places the audit log on a silo that holds the operator's signing key (declared in its grain manifest,
/// <see cref="SiloDeclarations"/>), the only place its tree heads can be signed. When none is up the log does not
/// activate elsewhere: appends fail and say why.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class AuditLogPlacementFilterAttribute() : PlacementFilterAttribute(new AuditLogFilterStrategy());

public sealed class AuditLogFilterStrategy() : PlacementFilterStrategy(order: 0);

internal sealed class AuditLogFilterDirector(IClusterManifestProvider manifests) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var cluster = manifests.Current;
        var signers = silos.Where(cluster.HoldsOperatorKey).ToList();
        if (signers.Count == 0)
            throw new FederationOperationException("audit.no-log-silo",
                "No silo that holds the federation operator's key is up: the audit log runs only there, where its tree heads are signed.");
        return signers;
    }
}
