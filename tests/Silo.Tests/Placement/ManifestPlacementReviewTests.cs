using System.Collections.Immutable;
using System.Net;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;
using Federation.Silo.Tests.Hosting;
using Federation.Silo.Placement;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using Orleans.Runtime.Placement;
using Orleans.TestingHost;

namespace Federation.Silo.Tests.Placement;

/// <summary>
/// Review (branch review/session-dec1): silos declare country and operator key in their grain manifest. Plays a placement
/// that could go abroad: candidates whose manifest has not arrived, that declare nothing (another build), that declare
/// another country, and an audit log with no key-holding candidate. Placement must refuse rather than pick. The same on a
/// real cluster: <see cref="ResidencyPlacementTests"/>.
/// </summary>
public sealed class ManifestPlacementReviewTests
{
    private static readonly SiloAddress Budapest = Silo(11111);
    private static readonly SiloAddress Szeged = Silo(11112);
    private static readonly SiloAddress Zurich = Silo(11113);
    private static readonly SiloAddress Joining = Silo(11114);
    private static readonly SiloAddress Bare = Silo(11115);

    private static SiloAddress Silo(int port) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1);

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
        var manifests = new Manifests((Budapest, DeclaredManifests.Of("HU")), (Zurich, DeclaredManifests.Of("CH")), (Bare, DeclaredManifests.Bare));
        Assert.Equal([Budapest], Residency(manifests, "HU/budapest", Budapest, Zurich, Joining, Bare));

        var refused = Assert.Throws<ResidencyViolationException>(() => Residency(manifests, "HU/szeged", Zurich, Joining, Bare));
        Assert.Equal("HU", refused.Country);
    }

    [Fact]
    public void A_participant_whose_country_has_no_arrived_silo_is_refused_rather_than_placed_abroad()
    {
        var manifests = new Manifests((Zurich, DeclaredManifests.Of("CH")), (Szeged, DeclaredManifests.Of("HU")));
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
        var manifests = new Manifests((Budapest, DeclaredManifests.Of("HU")), (Zurich, DeclaredManifests.Of("CH", operatorKey: true)), (Bare, DeclaredManifests.Bare));
        var director = new AuditLogFilterDirector(manifests);
        var target = new PlacementTarget(GrainId.Create("auditlog", "federation"), [], default, 0);
        Assert.Equal([Zurich], director.Filter(new AuditLogFilterStrategy(), target, [Budapest, Zurich, Joining, Bare]).ToList());
        // The key holder is joining (its manifest not in) or not a candidate: refused, not placed on a silo without the key.
        Assert.Throws<FederationOperationException>(() => director.Filter(new AuditLogFilterStrategy(), target, [Budapest, Joining, Bare]).ToList());
        Assert.False(manifests.Current.HoldsOperatorKey(Joining));
        Assert.False(manifests.Current.HoldsOperatorKey(Bare));
    }
}
