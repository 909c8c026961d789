using Microsoft.Extensions.DependencyInjection;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;
using Orleans.Metadata;
using Orleans.TestingHost;

namespace Federation.Silo.Tests.Placement;

/// <summary>
/// Three silos in three countries (Orleans' in-process test cluster). Participants must activate on a silo of
/// their own country, and once a country's only silo is gone, calls to its participants fail — they never move.
/// </summary>
public sealed class ResidencyPlacementTests : IAsyncLifetime
{
    private static readonly string[] Countries = ["US", "HU", "CH"];
    private readonly TempDirectory _data = new("federation-placement");
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

    [Fact]
    public async Task Every_participant_activates_on_a_silo_of_its_own_country()
    {
        string[] participants = ["US/cleveland", "US/long-beach", "HU/budapest", "CH/zurich", "HU/szeged", "CH/basel"];
        foreach (var id in participants)
        {
            var grain = _cluster.Client.GetGrain<IParticipantGrain>(id);
            await grain.Enrol(id);
            // Ask several times: a participant stays where it is and any new activation obeys the same filter.
            for (int i = 0; i < 3; i++)
                Assert.Equal(id[..2], await grain.GetHostCountry());
        }
    }

    [Fact]
    public async Task After_a_countrys_only_silo_stops_its_participants_fail_instead_of_moving()
    {
        var zurich = _cluster.Client.GetGrain<IParticipantGrain>("CH/zurich");
        await zurich.Enrol("University Hospital Zurich");
        Assert.Equal("CH", await zurich.GetHostCountry());

        var swissSilo = _cluster.Silos.Single(s => s.ServiceProvider.GetRequiredService<SiloCountry>().Code == "CH");
        await _cluster.StopSiloAsync(swissSilo);

        var failure = await Assert.ThrowsAsync<ResidencyViolationException>(() => zurich.GetHostCountry());
        Assert.Equal("CH", failure.Country);
        Assert.Contains("CH", failure.Message);

        // A Swiss participant that was never activated cannot start abroad either.
        var basel = await Assert.ThrowsAsync<ResidencyViolationException>(() => _cluster.Client.GetGrain<IParticipantGrain>("CH/basel").GetHostCountry());
        Assert.Equal("CH/basel", basel.ParticipantKey);

        // The other countries carry on, each at home.
        Assert.Equal("HU", await _cluster.Client.GetGrain<IParticipantGrain>("HU/budapest").GetHostCountry());
        Assert.Equal("US", await _cluster.Client.GetGrain<IParticipantGrain>("US/cleveland").GetHostCountry());
    }

    [Fact]
    public async Task Every_silo_knows_the_country_of_every_silo_it_could_place_a_grain_on()
    {
        // Placement considers the silos whose grain manifest has arrived; each of those declares its country there.
        foreach (var silo in _cluster.Silos)
        {
            var manifests = silo.ServiceProvider.GetRequiredService<IClusterManifestProvider>();
            await WaitUntil(() => manifests.Current.Silos.Count == Countries.Length, $"{silo.SiloAddress} has every silo's manifest");
            foreach (var other in _cluster.Silos)
                Assert.Equal(other.ServiceProvider.GetRequiredService<SiloCountry>().Code, manifests.Current.CountryOf(other.SiloAddress));
            Assert.Equal(Countries.Order(), manifests.Current.Countries().Order());
        }
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        for (var waited = TimeSpan.Zero; !condition(); waited += TimeSpan.FromMilliseconds(50))
        {
            if (waited > TimeSpan.FromSeconds(30))
                throw new TimeoutException($"Not within 30 s: {what}.");
            await Task.Delay(50);
        }
    }

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
                Assert.Equal(silo.ServiceProvider.GetRequiredService<SiloCountry>().Code, grain.Value.Properties.GetValueOrDefault(SiloDeclarations.CountryProperty));
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
                string key = $"{country}/from-{silo.ServiceProvider.GetRequiredService<SiloCountry>().Code.ToLowerInvariant()}";
                Assert.Equal(country, await factory.GetGrain<IParticipantGrain>(key).GetHostCountry());
            }
            // A country with no silo in the cluster: refused from here too.
            await Assert.ThrowsAsync<ResidencyViolationException>(() => factory.GetGrain<IParticipantGrain>("IN/mumbai").GetHostCountry());
        }
    }

    [Fact]
    public async Task A_key_without_a_country_is_refused_by_placement()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => _cluster.Client.GetGrain<IParticipantGrain>("no-country").GetHostCountry());
        Assert.Contains("no-country", error.Message);
    }
}
