using System.Net;
using System.Net.Sockets;
using Federation.Contracts.Directory;
using Federation.Silo.Governance;
using Federation.Silo.Transfer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Metadata;

namespace Federation.Silo.Hosting;

/// <summary>
/// The embedded default: one silo per country, all in this process, on loopback, clustered through the
/// first silo (Orleans development clustering), with SQLite files under one data directory. Each silo is a
/// host of its own, exactly as it would be in its own country; only the network between them is missing.
/// </summary>
public sealed class LocalFederation : IAsyncDisposable
{
    private readonly List<(string Country, IHost Host)> _silos;

    private LocalFederation(List<(string Country, IHost Host)> silos, FederationOperator? federationOperator, Approvers? approvers)
    {
        _silos = silos;
        Operator = federationOperator;
        Approvers = approvers;
    }

    /// <summary>The federation operator of the embedded default (its key in the data directory's operator folder), if this process is it.</summary>
    public FederationOperator? Operator { get; }

    /// <summary>
    /// The organisations' approver keys of the embedded default (in the data directory's approvers folder, which the silos
    /// read the public keys from), if this process holds them: null when the silos were given approver public keys.
    /// </summary>
    public Approvers? Approvers { get; }

    public IReadOnlyList<string> Countries => _silos.Select(s => s.Country).ToList();

    /// <summary>The grain factory of the first (primary) silo.</summary>
    public IGrainFactory Grains => _silos[0].Host.Services.GetRequiredService<IGrainFactory>();

    public IServiceProvider ServicesOf(string country) => HostOf(country).Services;

    public static async Task<LocalFederation> StartAsync(LocalFederationOptions options, CancellationToken cancellationToken = default)
    {
        var countries = options.Countries.Distinct(StringComparer.Ordinal).ToList();
        if (countries.Count == 0)
            throw new ArgumentException("A local federation needs at least one country.");
        Directory.CreateDirectory(options.DataDirectory);
        // The embedded default is its own operator: the key lives in the data directory's operator folder, apart from the
        // silos' storage, and the silos are configured with its public half only.
        var federationOperator = options.OperatorPublicKey is null ? FederationOperator.LoadOrCreate(options.OperatorDirectory) : null;
        if (federationOperator is not null)
            options = options with { OperatorPublicKey = federationOperator.PublicKey, OperatorKeyPath = federationOperator.KeyPath };

        var silos = new List<(string, IHost)>();
        IPEndPoint? primary = options.PrimarySilo;
        try
        {
            for (int i = 0; i < countries.Count; i++)
            {
                int siloPort = options.BaseSiloPort == 0 ? FreeTcpPort() : options.BaseSiloPort + i;
                int gatewayPort = options.BaseGatewayPort == 0 ? FreeTcpPort() : options.BaseGatewayPort + i;
                var host = BuildSiloHost(countries[i], siloPort, gatewayPort, primary, options);
                await host.StartAsync(cancellationToken);
                primary ??= new IPEndPoint(IPAddress.Loopback, siloPort);
                silos.Add((countries[i], host));
            }
        }
        catch
        {
            foreach (var (_, host) in Enumerable.Reverse(silos))
                await StopHostAsync(host);
            federationOperator?.Dispose();
            throw;
        }

        var federation = new LocalFederation(silos, federationOperator, options.ApproverPublicKeys is null ? new Approvers(options.ApproverDirectory) : null);
        await federation.WaitUntilEverySiloSeesEveryCountryAsync(cancellationToken);
        if (options.ResumeUnfinishedJobs)
            await federation.Grains.GetGrain<IFederationDirectoryGrain>(0).ResumeUnfinishedJobs();
        return federation;
    }

    /// <summary>
    /// Membership and grain manifests spread asynchronously: until every silo has every other silo's manifest, which
    /// declares its country (<see cref="SiloDeclarations"/>), placing a participant from it could fail as if its country had no silo.
    /// Waits (at most 30 s) until each of this process's silos sees all of them.
    /// </summary>
    private async Task WaitUntilEverySiloSeesEveryCountryAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var expected = _silos.Select(s => s.Country).Order(StringComparer.Ordinal).ToList();
        foreach (var (country, host) in _silos)
        {
            var manifests = host.Services.GetRequiredService<IClusterManifestProvider>();
            while (true)
            {
                var seen = manifests.Current.Countries().Select(c => c ?? "?").Order(StringComparer.Ordinal).ToList();
                // At least these: the cluster may have silos elsewhere (the portal's own, or other processes').
                if (expected.All(seen.Contains))
                    break;
                try
                {
                    await Task.Delay(50, timeout.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"The {country} silo still sees countries [{string.Join(", ", seen)}] of [{string.Join(", ", expected)}] after 30 s.");
                }
            }
        }
    }

    /// <summary>Builds the host of one silo; the portal uses the same configuration for its co-hosted silo.</summary>
    public static IHost BuildSiloHost(string country, int siloPort, int gatewayPort, IPEndPoint? primarySilo, LocalFederationOptions options)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ApplicationName = $"federation-silo-{country}",
        });
        options.ConfigureLogging?.Invoke(builder.Logging);
        builder.UseOrleans(silo => silo.ConfigureLocalSilo(country, siloPort, gatewayPort, primarySilo, options));
        return builder.Build();
    }

    /// <summary>Stops the silo of one country (for residency tests and drills); the others keep running.</summary>
    public async Task StopCountryAsync(string country)
    {
        var host = HostOf(country);
        await StopHostAsync(host);
        _silos.RemoveAll(s => s.Host == host);
    }

    public async ValueTask DisposeAsync()
    {
        // Secondary silos first, the primary (which holds development membership) last.
        foreach (var (_, host) in Enumerable.Reverse(_silos))
            await StopHostAsync(host);
        _silos.Clear();
        Operator?.Dispose();
    }

    private IHost HostOf(string country) =>
        _silos.FirstOrDefault(s => s.Country == country).Host
        ?? throw new ArgumentException($"No silo of country {country} runs in this local federation (countries: {string.Join(", ", Countries)}).");

    private static async Task StopHostAsync(IHost host)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await host.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // Not stopped gracefully in 30 s (a loaded machine, a peer silo already gone): disposing stops it abruptly.
            // Seen once in a full test run, where a silo whose peer had been stopped mid-job outlasted the timeout.
        }
        finally
        {
            host.Dispose();
        }
    }

    internal static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed record LocalFederationOptions
{
    public required IReadOnlyList<string> Countries { get; init; }

    public required string DataDirectory { get; init; }

    /// <summary>0: pick free ports. Otherwise silo i listens on BaseSiloPort + i.</summary>
    public int BaseSiloPort { get; init; }

    public int BaseGatewayPort { get; init; }

    public string ClusterId { get; init; } = "federation-local";

    public string ServiceId { get; init; } = "federation";

    public bool ResumeUnfinishedJobs { get; init; } = true;

    /// <summary>Join the cluster of this primary silo instead of making the first silo the primary (e.g. the portal's co-hosted silo).</summary>
    public IPEndPoint? PrimarySilo { get; init; }

    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }

    /// <summary>
    /// The federation operator's public key the silos verify the membership against (see <see cref="FederationSiloOptions.OperatorPublicKey"/>).
    /// Null: this process is the operator, with its key in <see cref="OperatorDirectory"/> (made there the first time).
    /// </summary>
    public byte[]? OperatorPublicKey { get; init; }

    public string OperatorDirectory => Path.Combine(DataDirectory, "operator");

    /// <summary>
    /// The operator's private key file, given to the silos of this process when it is the operator: they host the audit log
    /// and sign its heads (<see cref="FederationSiloOptions.OperatorKeyPath"/>).
    /// </summary>
    public string? OperatorKeyPath { get; init; }

    /// <summary>
    /// The organisations' approver public keys the silos check approvals against (see <see cref="FederationSiloOptions.ApproverPublicKeys"/>).
    /// Null: this process holds the organisations' approver keys, in <see cref="ApproverDirectory"/>, where the setup makes
    /// each when it sets its organisation up, and the silos read the public keys from there.
    /// </summary>
    public IReadOnlyDictionary<string, byte[]>? ApproverPublicKeys { get; init; }

    public string ApproverDirectory => Path.Combine(DataDirectory, "approvers");

    /// <summary>Whether the silos' participants may take part in plaintext-simulation jobs (see <see cref="FederationSiloOptions.AllowSimulation"/>).</summary>
    public bool AllowSimulation { get; init; }

    /// <summary>
    /// Each country's policy folder, where it differs from the default (<see cref="FederationSiloOptions.PoliciesDirectory"/>):
    /// every country decides with its own.
    /// </summary>
    public IReadOnlyDictionary<string, string> PoliciesDirectories { get; init; } = new Dictionary<string, string>();

    /// <summary>The federation's message body limit (see <see cref="FederationSiloOptions.MaxMessageBodySize"/>).</summary>
    public int MaxMessageBodySize { get; init; } = FederationSiloOptions.DefaultMaxMessageBodySize;

    public PayloadTransferOptions Transfer { get; init; } = new();

    /// <summary>Extra configuration for every silo, after the federation's own (drills and fault-injection tests).</summary>
    public Action<ISiloBuilder>? ConfigureSilo { get; init; }
}

public static class LocalSiloBuilderExtensions
{
    /// <summary>A federation silo on loopback, clustered through <paramref name="primarySilo"/> (null: this is the primary).</summary>
    public static ISiloBuilder ConfigureLocalSilo(this ISiloBuilder silo, string country, int siloPort, int gatewayPort, IPEndPoint? primarySilo, LocalFederationOptions options)
    {
        // Loopback clustering also advertises 127.0.0.1, never the machine's own address.
        silo.UseLocalhostClustering(siloPort, gatewayPort, primarySilo, options.ServiceId, options.ClusterId);
        silo.AddFederation(new FederationSiloOptions
        {
            Country = country,
            DataDirectory = options.DataDirectory,
            MaxMessageBodySize = options.MaxMessageBodySize,
            Transfer = options.Transfer,
            AllowSimulation = options.AllowSimulation,
            PoliciesDirectory = options.PoliciesDirectories.GetValueOrDefault(country) ?? SiloPolicies.DefaultFolder(),
            OperatorPublicKey = options.OperatorPublicKey,
            OperatorKeyPath = options.OperatorKeyPath,
            ApproverPublicKeys = options.ApproverPublicKeys ?? new Dictionary<string, byte[]>(),
            ApproverKeyDirectory = options.ApproverPublicKeys is null ? options.ApproverDirectory : null,
        });
        options.ConfigureSilo?.Invoke(silo);
        return silo;
    }
}
