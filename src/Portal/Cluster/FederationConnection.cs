using System.Net;
using FedCore.Jobs;
using Federation.Silo.Cli;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;

namespace Federation.Portal.Cluster;

public static class FederationConnection
{
    /// <summary>
    /// Embedded: co-host the silo of the first country in this process and start companion silos for the others
    /// (all on loopback, SQLite under the data directory), then enrol the sample federation.
    /// Client: connect to running silos as an Orleans client.
    /// </summary>
    public static void AddFederationConnection(this WebApplicationBuilder builder, PortalFederationOptions options, PortalPaths paths, string dataDirectory)
    {
        var sampleManifest = string.IsNullOrWhiteSpace(options.SampleFederation) ? null : paths.Resolve(options.SampleFederation);
        var sampleJob = string.IsNullOrWhiteSpace(options.SampleJob) ? null : paths.Resolve(options.SampleJob);
        builder.Services.AddSingleton(new PortalSamples(sampleManifest, sampleJob));

        if (string.Equals(options.Mode, "Client", StringComparison.OrdinalIgnoreCase))
        {
            builder.UseOrleansClient(client => client.UseStaticClustering(
                options.GatewayPorts.Select(port => new IPEndPoint(IPAddress.Loopback, port)).ToArray()));
            return;
        }
        if (!string.Equals(options.Mode, "Embedded", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"Federation:Mode is '{options.Mode}'; use 'Embedded' or 'Client'.");

        var countries = options.Countries.Count > 0
            ? options.Countries
            : sampleManifest is not null ? SampleCountries(sampleManifest) : throw new InvalidOperationException(
                "Federation:Countries is empty and there is no Federation:SampleFederation to take the countries from.");
        // The embedded default is its own federation operator (its key under data/operator, never in a silo's storage), and
        // holds its organisations' approver keys (under data/approvers; the silos read only the public halves there).
        var federationOperator = FederationOperator.LoadOrCreate(Path.Combine(dataDirectory, "operator"));
        builder.Services.AddSingleton(federationOperator);
        var local = new LocalFederationOptions
        {
            Countries = countries,
            DataDirectory = dataDirectory,
            OperatorPublicKey = federationOperator.PublicKey,
            OperatorKeyPath = federationOperator.KeyPath, // the audit log runs here and signs its heads
            BaseSiloPort = options.BaseSiloPort,
            BaseGatewayPort = options.BaseGatewayPort,
            ConfigureLogging = logging => ConsoleLogging.Configure(logging, LogLevel.Warning),
        };

        builder.UseOrleans(silo => silo.ConfigureLocalSilo(countries[0], options.BaseSiloPort, options.BaseGatewayPort, primarySilo: null, local));
        builder.Services.AddSingleton(new CompanionSilos(local with
        {
            Countries = countries.Skip(1).ToList(),
            PrimarySilo = new IPEndPoint(IPAddress.Loopback, options.BaseSiloPort),
            BaseSiloPort = options.BaseSiloPort + 1,
            BaseGatewayPort = options.BaseGatewayPort + 1,
            ResumeUnfinishedJobs = false,
        }));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CompanionSilos>());
        builder.Services.AddSingleton(new Approvers(local.ApproverDirectory));
        builder.Services.AddHostedService<SampleFederationLoader>();
    }

    private static List<string> SampleCountries(string manifestPath) =>
        FederationManifest.Load(manifestPath).Participants.Select(p => p.Id.Split('/')[0]).Distinct().ToList();
}

public sealed record PortalSamples(string? FederationManifest, string? Job);

/// <summary>The silos of the other countries in the embedded default, started after the co-hosted one.</summary>
public sealed class CompanionSilos(LocalFederationOptions options) : IHostedService, IAsyncDisposable
{
    private LocalFederation? _federation;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Countries.Count > 0)
            _federation = await LocalFederation.StartAsync(options, cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (_federation is { } federation)
        {
            _federation = null;
            await federation.DisposeAsync();
        }
    }
}

/// <summary>Enrols the sample federation's participants and resumes unfinished jobs once every silo is up.</summary>
public sealed class SampleFederationLoader(IGrainFactory grains, PortalSamples samples, FederationOperator federationOperator, Approvers approvers,
    ILogger<SampleFederationLoader> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (samples.FederationManifest is { } path)
        {
            var manifest = FederationManifest.Load(path);
            var enrolled = await FederationSetup.EnsureAsync(grains, federationOperator, approvers, manifest, cancellationToken);
            logger.LogInformation("Sample federation {Name}: {Count} organisations and {Agreements} agreement(s) in place", manifest.Name, enrolled.Count, manifest.AgreementFiles.Count);
        }
        await grains.GetGrain<Federation.Contracts.Directory.IFederationDirectoryGrain>(0).ResumeUnfinishedJobs();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
