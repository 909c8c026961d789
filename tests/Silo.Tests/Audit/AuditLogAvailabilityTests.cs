using FedCore.Audit.Entries;
using Federation.Contracts.Audit;
using Federation.Contracts.Errors;
using Federation.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Silo.Tests.Audit;

/// <summary>
/// A country's silo is trusted by that country only: what its witness does costs at most its own co-signature, never the
/// log's appends (which every operation waits on) nor the other countries' co-signatures. Switzerland misbehaves through a
/// grain call filter on its own silo, code any country can deploy. Found by review (branch review/audit), fixed, kept here.
/// </summary>
public sealed class AuditLogAvailabilityTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("federation-audit-availability");
    private LocalFederation _federation = null!;
    private volatile int _swissWitness; // 0 honest, 1 never answers, 2 throws, 3 slow
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task InitializeAsync()
    {
        _federation = await LocalFederation.StartAsync(TestFederations.Options(_dir.Path, "US", "HU", "CH") with
        {
            ConfigureSilo = silo => silo.AddIncomingGrainCallFilter(async context =>
            {
                if (context.TargetId.Key.ToString() == AuditWitnessKey.Format("CH") && context.InterfaceMethod.Name == nameof(IAuditWitnessGrain.Cosign))
                {
                    if (_swissWitness == 1)
                        await _release.Task;
                    else if (_swissWitness == 2)
                        throw new InvalidOperationException("an exception of a type the log does not expect");
                    else if (_swissWitness == 3)
                        await Task.Delay(TimeSpan.FromSeconds(1.5));
                }
                await context.Invoke();
            }),
        });
        await TestFederations.SetUpSampleAsync(_federation);
    }

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        await _federation.DisposeAsync();
        _dir.Dispose();
    }

    private IAuditLogGrain Log => _federation.Grains.GetGrain<IAuditLogGrain>(0);

    private static byte[] Entry(int n, DateTimeOffset? at = null) => AuditEntryJson.Write(AuditEvents.PredictionsMade(
        at ?? DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), AuditActor.Silo("HU"), "HU",
        AuditDigest.Hash([(byte)n]), n));

    [Fact]
    public async Task A_country_whose_witness_never_answers_holds_no_append_and_costs_only_its_own_cosignature()
    {
        await Log.PublishHead();
        _swissWitness = 1;
        var hungary = _federation.ServicesOf("HU").GetRequiredService<IGrainFactory>().GetGrain<IAuditLogGrain>(0);
        await hungary.Append([Entry(1)]);
        var head = Log.PublishHead(); // gathers co-signatures; Switzerland's never comes
        await Task.Delay(Federation.Silo.Grains.AuditLogGrain.HeadDelay * 2);
        // Appends go on meanwhile (well within the witness timeout, let alone the cluster's 5-minute call timeout).
        for (int n = 2; n <= 6; n++)
            await hungary.Append([Entry(n)]).WaitAsync(TimeSpan.FromSeconds(5));
        var published = await head;
        Assert.Equal(["HU", "US"], published.CosignedBy);
        Assert.Equal(["HU", "US"], (await Log.PublishHead()).CosignedBy);
    }

    [Fact]
    public async Task A_country_whose_witness_throws_anything_costs_only_its_own_cosignature()
    {
        _swissWitness = 2;
        await Log.Append([Entry(1)]);
        Assert.Equal(["HU", "US"], (await Log.PublishHead()).CosignedBy);
        _swissWitness = 0;
        await Log.Append([Entry(2)]);
        Assert.Equal(["CH", "HU", "US"], (await Log.PublishHead()).CosignedBy); // and it co-signs again once it behaves
    }

    [Fact]
    public async Task Entries_appended_while_a_head_gathers_its_cosignatures_get_a_head_of_their_own_unasked()
    {
        await Log.PublishHead();
        _swissWitness = 3; // each co-signature takes 1.5 s
        await Log.Append([Entry(1)]);
        await Task.Delay(Federation.Silo.Grains.AuditLogGrain.HeadDelay * 2); // its head is gathering now
        long size = await Log.Append([Entry(2)]) + 1;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while ((await Log.GetLatestHead())?.Size != size)
            await Task.Delay(100, timeout.Token);
        Assert.Equal(["CH", "HU", "US"], (await Log.GetLatestHead())!.CosignedBy);
    }

    [Fact]
    public async Task An_entry_dated_in_the_future_or_before_the_latest_head_is_refused_with_its_batch()
    {
        var head = await Log.PublishHead();
        foreach (var at in new[] { DateTimeOffset.UtcNow.AddYears(64), head.Time.AddHours(-1) })
        {
            var stamped = DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds());
            var e = await Assert.ThrowsAsync<FederationOperationException>(() => Log.Append([Entry(1), Entry(2, stamped)]));
            Assert.Equal("audit.entry", e.Code);
            Assert.Contains("entry 1 is dated", e.Message);
        }
        Assert.Equal(head.Size, (await Log.GetEntries(0, int.MaxValue)).Count);
    }

    [Fact]
    public async Task No_silo_can_append_an_entry_in_an_organisations_name_without_that_organisations_key()
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var consent = AuditEvents.ParticipantConsented(now, AuditActor.Organisation("HU/budapest"), "HU", "CH/forged-job", "HU/budapest", "heart");
        var switzerland = _federation.ServicesOf("CH").GetRequiredService<IGrainFactory>().GetGrain<IAuditLogGrain>(0);
        long size = (await Log.PublishHead()).Size;
        using var notBudapests = FedCore.Aggregation.Integrity.ParticipantSigningKey.Generate();
        foreach (var forged in new[] { consent, consent.SignedWith(notBudapests) })
        {
            var e = await Assert.ThrowsAsync<FederationOperationException>(() => switzerland.Append([AuditEntryJson.Write(forged)]));
            Assert.Equal("audit.entry", e.Code);
            Assert.Contains("in HU/budapest's name but", e.Message);
        }
        Assert.Equal(size, (await Log.GetEntries(0, int.MaxValue)).Count);
    }

    /// <summary>
    /// Known limit (FedCore/Audit/README.md, "What is still weak"): an entry in a silo's or the federation's name carries no
    /// signature, so any silo of the cluster (here Switzerland's) can append one in Hungary's silo's name, and every witness,
    /// Hungary's included, co-signs the head over it. (Entries in an organisation's name need its key: the test above.) This
    /// test asserts the attack succeeds; it should be turned around once silos sign with a key of their own.
    /// </summary>
    [Fact]
    public async Task Known_limit_any_silo_can_append_an_entry_in_another_countrys_silos_name_and_every_witness_cosigns_it()
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        byte[] forged = AuditEntryJson.Write(AuditEvents.PolicySetLoaded(now, AuditActor.Silo("HU"), "HU", AuditDigest.Hash("a set Hungary never loaded"u8), 1));
        var switzerland = _federation.ServicesOf("CH").GetRequiredService<IGrainFactory>().GetGrain<IAuditLogGrain>(0);
        long at = await switzerland.Append([forged]);
        var head = await switzerland.PublishHead();
        Assert.Equal(["CH", "HU", "US"], head.CosignedBy);
        Assert.Equal(Convert.ToHexString(forged), Convert.ToHexString((await Log.GetEntries(at, 1))[0]));
    }
}
