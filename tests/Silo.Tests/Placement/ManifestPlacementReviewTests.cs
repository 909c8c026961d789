using System.Collections.Immutable;
using System.Net;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;
using Federation.Silo.Placement;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using Orleans.Runtime.Placement;
using Orleans.TestingHost;

namespace Federation.Silo.Tests.Placement;

/// <summary>
/// Session review (branch review/session-dec1) of 3331bc6: silos declare country and operator key in their grain manifest.
/// Plays a placement that could go abroad: candidates whose manifest has not arrived, that declare nothing (another build),
/// that declare another country, and an audit log with no key-holding candidate. Placement must refuse rather than pick.
/// </summary>
public sealed class ManifestPlacementReviewTests
{
    private static readonly SiloAddress Budapest = Silo(11111);
    private static readonly SiloAddress Szeged = Silo(11112);
    private static readonly SiloAddress Zurich = Silo(11113);
    private static readonly SiloAddress Joining = Silo(11114);
    private static readonly SiloAddress Bare = Silo(11115);

    private static SiloAddress Silo(int port) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1);

    private static GrainManifest Declared(string country, bool operatorKey = false)
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
            var properties = new Dictionary<string, string>();
            provider.Populate(typeof(object), GrainType.Create(name), properties);
            grains = grains.Add(GrainType.Create(name), new GrainProperties(properties.ToImmutableDictionary(StringComparer.Ordinal)));
        }
        return new GrainManifest(grains, ImmutableDictionary<GrainInterfaceType, GrainInterfaceProperties>.Empty);
    }

    private static readonly GrainManifest Nothing = new(
        ImmutableDictionary<GrainType, GrainProperties>.Empty.Add(GrainType.Create("participant"), new GrainProperties(ImmutableDictionary.Create<string, string>(StringComparer.Ordinal))),
        ImmutableDictionary<GrainInterfaceType, GrainInterfaceProperties>.Empty);

    private sealed class Manifests(params (SiloAddress Silo, GrainManifest Manifest)[] silos) : IClusterManifestProvider
    {
        public ClusterManifest Current { get; } = new(new MajorMinorVersion(1, 0), silos.ToImmutableDictionary(s => s.Silo, s => s.Manifest));
        public IAsyncEnumerable<ClusterManifest> Updates => throw new NotSupportedException();
        public GrainManifest LocalGrainManifest => throw new NotSupportedException();
    }

    private static PlacementTarget Target(string key) =>
        new(GrainId.Create("participant", key), [], default, 0);

    private static List<SiloAddress> Residency(Manifests manifests, string key, params SiloAddress[] candidates) =>
        [.. new CountryResidencyFilterDirector(manifests).Filter(new CountryResidencyFilterStrategy(), Target(key), candidates)];

    [Fact]
    public void A_hungarian_participant_is_never_placed_on_a_candidate_whose_manifest_has_not_arrived_or_that_declares_nothing()
    {
        // Joining is a candidate (placement's list may be older or newer than the manifest it reads) but its manifest is not in.
        var manifests = new Manifests((Budapest, Declared("HU")), (Zurich, Declared("CH")), (Bare, Nothing));
        Assert.Equal([Budapest], Residency(manifests, "HU/budapest", Budapest, Zurich, Joining, Bare));

        var refused = Assert.Throws<ResidencyViolationException>(() => Residency(manifests, "HU/szeged", Zurich, Joining, Bare));
        Assert.Equal("HU", refused.Country);
    }

    [Fact]
    public void A_participant_whose_country_has_no_arrived_silo_is_refused_rather_than_placed_abroad()
    {
        var manifests = new Manifests((Zurich, Declared("CH")), (Szeged, Declared("HU")));
        Assert.Throws<ResidencyViolationException>(() => Residency(manifests, "US/cleveland", Zurich, Szeged));
        // The Hungarian silo is up but not among this grain's candidates: still nowhere else.
        Assert.Throws<ResidencyViolationException>(() => Residency(manifests, "HU/budapest", Zurich));
        // Keys that do not name a country in capitals never match a declared one.
        foreach (var key in new[] { "hu/budapest", "HU", "/budapest", "HUN/budapest" })
            Assert.Throws<FederationOperationException>(() => Residency(manifests, key, Zurich, Szeged));
    }

    [Fact]
    public void The_audit_log_is_never_placed_on_a_silo_that_has_not_declared_the_operator_key()
    {
        var manifests = new Manifests((Budapest, Declared("HU")), (Zurich, Declared("CH", operatorKey: true)), (Bare, Nothing));
        var director = new AuditLogFilterDirector(manifests);
        var target = new PlacementTarget(GrainId.Create("auditlog", "federation"), [], default, 0);
        Assert.Equal([Zurich], director.Filter(new AuditLogFilterStrategy(), target, [Budapest, Zurich, Joining, Bare]).ToList());
        // The key holder is joining (its manifest not in) or not a candidate: refused, not placed on a silo without the key.
        Assert.Throws<FederationOperationException>(() => director.Filter(new AuditLogFilterStrategy(), target, [Budapest, Joining, Bare]).ToList());
        Assert.False(manifests.Current.HoldsOperatorKey(Joining));
        Assert.False(manifests.Current.HoldsOperatorKey(Bare));
    }
}

/// <summary>Two silos (HU, CH) of Orleans' in-process test cluster: what their real manifests declare, and placement from inside a silo.</summary>
public sealed class ManifestPlacementClusterReviewTests : IAsyncLifetime
{
    private static readonly string[] Countries = ["HU", "CH"];
    private readonly TempDirectory _data = new("federation-session-review");
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder((short)Countries.Length);
        int next = 0;
        var assigned = new Dictionary<string, string>();
        builder.ConfigureSilo((options, silo) =>
        {
            string country;
            lock (assigned)
            {
                if (!assigned.TryGetValue(options.SiloName, out country!))
                    assigned[options.SiloName] = country = Countries[next++];
            }
            silo.AddFederation(new FederationSiloOptions { Country = country, DataDirectory = _data.Path });
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _data.Dispose();
    }

    private static string CountryOf(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<SiloCountry>().Code;

    [Fact]
    public void Every_grain_type_a_silo_hosts_declares_that_silos_own_country_and_no_operator_key_it_does_not_hold()
    {
        // FirstOrDefault over grain types would pick whichever came first: every one must agree, and none may lack it.
        foreach (var silo in _cluster.Silos)
        {
            var local = silo.ServiceProvider.GetRequiredService<IClusterManifestProvider>().LocalGrainManifest;
            Assert.NotEmpty(local.Grains);
            Assert.All(local.Grains, grain =>
            {
                Assert.Equal(CountryOf(silo), grain.Value.Properties.GetValueOrDefault(SiloDeclarations.CountryProperty));
                Assert.False(grain.Value.Properties.ContainsKey(SiloDeclarations.OperatorKeyProperty));
            });
            Assert.Contains(local.Grains, g => g.Value.Properties.GetValueOrDefault("type-name")?.Contains("ParticipantGrain") == true);
        }
    }

    [Fact]
    public async Task A_participant_called_from_inside_a_silo_of_another_country_still_activates_only_at_home()
    {
        foreach (var silo in _cluster.Silos)
        {
            var factory = silo.ServiceProvider.GetRequiredService<IGrainFactory>();
            foreach (var country in Countries)
            {
                string key = $"{country}/from-{CountryOf(silo).ToLowerInvariant()}";
                Assert.Equal(country, await factory.GetGrain<IParticipantGrain>(key).GetHostCountry());
            }
            // A country with no silo in the cluster: refused from here too.
            await Assert.ThrowsAsync<ResidencyViolationException>(() => factory.GetGrain<IParticipantGrain>("US/cleveland").GetHostCountry());
        }
    }
}
