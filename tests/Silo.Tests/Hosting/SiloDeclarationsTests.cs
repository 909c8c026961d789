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
        var cluster = Cluster((Budapest, Declared("HU", operatorKey: false)), (Zurich, Declared("CH", operatorKey: true)));

        Assert.Equal("HU", cluster.CountryOf(Budapest));
        Assert.Equal("CH", cluster.CountryOf(Zurich));
        Assert.False(cluster.HoldsOperatorKey(Budapest));
        Assert.True(cluster.HoldsOperatorKey(Zurich));
        Assert.Equal(["CH", "HU"], cluster.Countries().Order());
    }

    [Fact]
    public void A_silo_whose_manifest_has_not_arrived_has_no_country_and_no_key()
    {
        var cluster = Cluster((Budapest, Declared("HU", operatorKey: true)));

        Assert.Null(cluster.CountryOf(Joining));
        Assert.False(cluster.HoldsOperatorKey(Joining));
        Assert.Equal(["HU"], cluster.Countries());
    }

    [Fact]
    public void A_silo_of_another_build_that_declares_nothing_has_no_country()
    {
        var bare = new GrainManifest(
            ImmutableDictionary<GrainType, GrainProperties>.Empty.Add(GrainType.Create("participant"), new GrainProperties(ImmutableDictionary.Create<string, string>(StringComparer.Ordinal))),
            ImmutableDictionary<GrainInterfaceType, GrainInterfaceProperties>.Empty);
        var cluster = Cluster((Budapest, bare));

        Assert.Null(cluster.CountryOf(Budapest));
        Assert.Equal([null], cluster.Countries());
    }

    private static GrainManifest Declared(string country, bool operatorKey)
    {
        var provider = new SiloDeclarations.Provider(new FederationSiloOptions
        {
            Country = country,
            DataDirectory = "unused",
            OperatorKeyPath = operatorKey ? "operator.key" : null,
        });
        var grains = ImmutableDictionary<GrainType, GrainProperties>.Empty;
        foreach (var name in new[] { "participant", "job" })
        {
            var properties = new Dictionary<string, string> { ["type-name"] = name };
            provider.Populate(typeof(object), GrainType.Create(name), properties);
            grains = grains.Add(GrainType.Create(name), new GrainProperties(properties.ToImmutableDictionary(StringComparer.Ordinal)));
        }
        return new GrainManifest(grains, ImmutableDictionary<GrainInterfaceType, GrainInterfaceProperties>.Empty);
    }

    private static ClusterManifest Cluster(params (SiloAddress Silo, GrainManifest Manifest)[] silos) =>
        new(new MajorMinorVersion(1, 0), silos.ToImmutableDictionary(s => s.Silo, s => s.Manifest));
}
