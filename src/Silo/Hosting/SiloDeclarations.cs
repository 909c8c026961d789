using Orleans.Metadata;

namespace Federation.Silo.Hosting;

/// <summary>
/// What a silo declares to the rest of the cluster about itself: the country it runs in, and whether it holds the
/// federation operator's key (and so may run the audit log, whose heads it signs). Placement and the audit log's
/// witnesses read them.
/// <para>
/// The declarations ride in the silo's grain manifest, as properties of every grain type it hosts. Orleans fetches
/// the manifest of every active silo and retries until it has it, and it places a grain only on silos whose manifest
/// has arrived: so no silo a grain could be placed on has an unknown country. Orleans' silo metadata, used before,
/// has a cache that fetches a silo's metadata once, often while the silo is still joining, and never retries a failed
/// fetch: that silo then had no country for every other silo until membership changed again (a CI run failed on it).
/// </para>
/// </summary>
public static class SiloDeclarations
{
    public const string CountryProperty = "federation.country";
    public const string OperatorKeyProperty = "federation.operator-key";

    /// <summary>The country <paramref name="silo"/> declared, or null while its manifest has not arrived (or it is not active).</summary>
    public static string? CountryOf(this ClusterManifest cluster, SiloAddress silo) => Declared(cluster, silo, CountryProperty);

    public static bool HoldsOperatorKey(this ClusterManifest cluster, SiloAddress silo) => Declared(cluster, silo, OperatorKeyProperty) is not null;

    /// <summary>The countries of the active silos whose manifest has arrived (one entry per silo).</summary>
    public static IEnumerable<string?> Countries(this ClusterManifest cluster) => cluster.Silos.Keys.Select(cluster.CountryOf);

    private static string? Declared(ClusterManifest cluster, SiloAddress silo, string property) =>
        cluster.Silos.TryGetValue(silo, out var manifest)
            ? manifest.Grains.Values.Select(grain => grain.Properties.GetValueOrDefault(property)).FirstOrDefault(value => value is not null)
            : null;

    /// <summary>Writes this silo's declarations into its grain manifest.</summary>
    internal sealed class Provider(FederationSiloOptions options) : IGrainPropertiesProvider
    {
        public void Populate(Type grainClass, GrainType grainType, Dictionary<string, string> properties)
        {
            properties[CountryProperty] = options.Country;
            if (options.OperatorKeyPath is not null)
                properties[OperatorKeyProperty] = "held";
        }
    }
}
