using FedCore.Aggregation.Integrity;
using Federation.Contracts.Participants;
using Federation.Silo.Grains;
using Federation.Silo.Hosting;
using Federation.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Federation.Silo.Tests.Jobs;

/// <summary>The sample federation on three country silos for tests that play a colluding member through real grains.</summary>
internal static class ColludingFederation
{
    /// <summary>
    /// Started with <paramref name="filter"/> on every silo and set up; with the colluder's own signing key, which a
    /// colluding member knows: here read from its participant grain's state in its country's storage, and checked to be
    /// the key the job pins for it.
    /// </summary>
    public static async Task<(LocalFederation Federation, byte[] SigningKey)> StartAsync(TempDirectory dir, string colluder, IncomingGrainCallFilterDelegate filter)
    {
        var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US", "HU", "CH") with
        {
            ConfigureSilo = silo => silo.AddIncomingGrainCallFilter(filter),
        });
        try
        {
            await TestFederations.SetUpSampleAsync(federation);
            var storage = federation.ServicesOf(colluder[..2]).GetRequiredKeyedService<IGrainStorage>(StorageNames.Country);
            var stored = new Orleans.GrainState<ParticipantState>();
            await storage.ReadStateAsync("participant", federation.Grains.GetGrain<IParticipantGrain>(colluder).GetGrainId(), stored);
            var signingKey = stored.State?.SigningKey ?? throw new InvalidOperationException($"{colluder} has no signing key.");
            using var key = ParticipantSigningKey.Import(signingKey);
            Assert.Equal(TestFederations.Membership(federation).Find(colluder)!.SigningKey.ToArray(), key.PublicKey);
            return (federation, signingKey);
        }
        catch
        {
            await federation.DisposeAsync();
            throw;
        }
    }
}
