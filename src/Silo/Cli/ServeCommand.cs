using System.CommandLine;
using System.Net;
using Federation.Silo.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Cli;

/// <summary>
/// `federation serve --country HU`: runs one silo of the federation until stopped. The first silo of a local
/// cluster is the primary; others join it with --primary. (Production clustering comes with its own issue.)
/// </summary>
public static class ServeCommand
{
    public static Command Create(TextWriter error)
    {
        var country = new Option<string>("--country") { Description = "ISO 3166-1 alpha-2 code of the country this silo runs in.", Required = true };
        var data = new Option<DirectoryInfo>("--data") { Description = "Data directory.", DefaultValueFactory = _ => new DirectoryInfo("data") };
        var siloPort = new Option<int>("--silo-port") { Description = "Silo-to-silo port.", DefaultValueFactory = _ => 11111 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "Client gateway port.", DefaultValueFactory = _ => 30000 };
        var primary = new Option<int?>("--primary-port") { Description = "Silo port of the primary silo on this machine (omit on the primary itself)." };
        var allowSimulation = new Option<bool>("--allow-simulation")
        {
            Description = "Let this silo's participants take part in plaintext-simulation jobs (updates in the clear; for debugging only).",
        };
        var command = new Command("serve", "Run a silo of the federation.") { country, data, siloPort, gatewayPort, primary, allowSimulation };
        command.SetAction(async (parse, cancellation) =>
        {
            var options = new LocalFederationOptions
            {
                Countries = [parse.GetValue(country)!],
                DataDirectory = parse.GetValue(data)!.FullName,
                AllowSimulation = parse.GetValue(allowSimulation),
                ConfigureLogging = logging => ConsoleLogging.Configure(logging, LogLevel.Information),
            };
            var primaryPort = parse.GetValue(primary);
            IPEndPoint? primaryEndpoint = primaryPort is { } p ? new IPEndPoint(IPAddress.Loopback, p) : null;
            try
            {
                using var host = LocalFederation.BuildSiloHost(options.Countries[0], parse.GetValue(siloPort), parse.GetValue(gatewayPort), primaryEndpoint, options);
                await host.StartAsync(cancellation);
                await error.WriteLineAsync($"Silo of {options.Countries[0]} is up (silo port {parse.GetValue(siloPort)}, gateway {parse.GetValue(gatewayPort)}). Ctrl+C stops it.");
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellation);
                }
                catch (OperationCanceledException)
                {
                }
                await host.StopAsync(CancellationToken.None);
                return 0;
            }
            catch (ArgumentException e)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
