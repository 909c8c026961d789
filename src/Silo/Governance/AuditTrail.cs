using FedCore.Audit.Entries;
using Federation.Contracts.Audit;
using Federation.Silo.Hosting;

namespace Federation.Silo.Governance;

/// <summary>
/// How this silo's grains record what they do in the federation's audit log: an entry made by FedCore's
/// <see cref="AuditEvents"/>, stamped with this silo's clock and country, appended before the caller goes on. When the log
/// cannot take it, the caller fails: no record, no action.
/// </summary>
public sealed class AuditTrail(IGrainFactory grains, SiloCountry country, TimeProvider clock)
{
    /// <summary>Where the events recorded here happen.</summary>
    public string Country => country.Code;

    public DateTimeOffset Now => clock.GetUtcNow();

    /// <summary>This silo as the actor (for events no organisation or person did).</summary>
    public AuditActor Silo => AuditActor.Silo(country.Code);

    public Task RecordAsync(params AuditEntry[] entries) =>
        grains.GetGrain<IAuditLogGrain>(0).Append([.. entries.Select(AuditEntryJson.Write)]);
}
