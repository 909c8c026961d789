using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Orleans.Placement;
using Orleans.Metadata;
using Orleans.Runtime.Placement;
using Federation.Silo.Hosting;

namespace Federation.Silo.Placement;

/// <summary>
/// Pins a grain whose key starts with a country code ("HU/budapest") to silos of that country. Data residency
/// is enforced by the runtime: when no silo of the country is up, placement fails; it never picks a silo abroad.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class CountryResidencyPlacementFilterAttribute()
    : PlacementFilterAttribute(new CountryResidencyFilterStrategy());

public sealed class CountryResidencyFilterStrategy() : PlacementFilterStrategy(order: 0);

internal sealed class CountryResidencyFilterDirector(IClusterManifestProvider manifests) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var key = target.GrainIdentity.Key.ToString();
        if (!ParticipantKey.TryParse(key, out var country, out _, out var error))
            throw new FederationOperationException("placement.key",
                $"Grain {target.GrainIdentity} cannot be placed: its key must start with the country it runs in ({error}).");

        var cluster = manifests.Current;
        var inCountry = silos.Where(silo => cluster.CountryOf(silo) == country).ToList();
        if (inCountry.Count == 0)
            throw new ResidencyViolationException(key, country);
        return inCountry;
    }
}
