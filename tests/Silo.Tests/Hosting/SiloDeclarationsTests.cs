using System.Collections.Immutable;
using System.Net;
using Federation.Silo.Hosting;
using Orleans.Metadata;

namespace Federation.Silo.Tests.Hosting;

/// <summary>What a silo declares in its grain manifest, and what the others read from their cluster manifest.</summary>
public sealed class SiloDeclarationsTests
{
    private static readonly SiloAddress Budapest = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);
    private static readonly SiloAddress Zurich = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 1);
    private static readonly SiloAddress Joining = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11113), 1);

    [Fact]
    public void A_silo_is_read_back_with_the_country_and_key_it_declared()
    {
        var cluster = Cluster((Budapest, DeclaredManifests.Of("HU")), (Zurich, DeclaredManifests.Of("CH", operatorKey: true)));

        Assert.Equal("HU", cluster.CountryOf(Budapest));
        Assert.Equal("CH", cluster.CountryOf(Zurich));
        Assert.False(cluster.HoldsOperatorKey(Budapest));
        Assert.True(cluster.HoldsOperatorKey(Zurich));
        Assert.Equal(["CH", "HU"], cluster.Countries().Order());
    }

    [Fact]
    public void A_silo_whose_manifest_has_not_arrived_has_no_country_and_no_key()
    {
        var cluster = Cluster((Budapest, DeclaredManifests.Of("HU", operatorKey: true)));

        Assert.Null(cluster.CountryOf(Joining));
        Assert.False(cluster.HoldsOperatorKey(Joining));
        Assert.Equal(["HU"], cluster.Countries());
    }

    [Fact]
    public void A_silo_of_another_build_that_declares_nothing_has_no_country()
    {
        var cluster = Cluster((Budapest, DeclaredManifests.Bare));

        Assert.Null(cluster.CountryOf(Budapest));
        Assert.Equal([null], cluster.Countries());
    }

    private static ClusterManifest Cluster(params (SiloAddress Silo, GrainManifest Manifest)[] silos) =>
        new(new MajorMinorVersion(1, 0), silos.ToImmutableDictionary(s => s.Silo, s => s.Manifest));
}

/// <summary>Grain manifests as a silo of this build writes them (<see cref="SiloDeclarations.Provider"/>), and one of a build that declares nothing.</summary>
internal static class DeclaredManifests
{
    public static GrainManifest Of(string country, bool operatorKey = false)
    {
        var provider = new SiloDeclarations.Provider(new FederationSiloOptions
        {
            Country = country,
            DataDirectory = "unused",
            OperatorKeyPath = operatorKey ? "operator.key" : null,
        });
        var grains = ImmutableDictionary<GrainType, GrainProperties>.Empty;
        foreach (var name in new[] { "participant", "auditlog" })
        {
            var properties = new Dictionary<string, string> { ["type-name"] = name };
            provider.Populate(typeof(object), GrainType.Create(name), properties);
            grains = grains.Add(GrainType.Create(name), new GrainProperties(properties.ToImmutableDictionary(StringComparer.Ordinal)));
        }
        return new GrainManifest(grains, ImmutableDictionary<GrainInterfaceType, GrainInterfaceProperties>.Empty);
    }

    public static readonly GrainManifest Bare = new(
        ImmutableDictionary<GrainType, GrainProperties>.Empty.Add(GrainType.Create("participant"), new GrainProperties(ImmutableDictionary.Create<string, string>(StringComparer.Ordinal))),
        ImmutableDictionary<GrainInterfaceType, GrainInterfaceProperties>.Empty);
}
