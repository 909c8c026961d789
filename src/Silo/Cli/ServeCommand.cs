using System.CommandLine;
using System.Net;
using FedCore.Governance.Approvals;
using FedCore.Governance.Membership;
using Federation.Silo.Governance;
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
        var operatorKey = new Option<FileInfo?>("--operator-key")
        {
            Description = "The federation operator's public key (operator.pub, SubjectPublicKeyInfo DER): the silo verifies the membership against it. " +
                "Without it the silo is the operator of the data directory (its key in operator/, made there the first time) and hosts the audit log.",
        };
        var approverKeys = new Option<string[]>("--approver-key")
        {
            Description = "An organisation's approver public key as ID=FILE (e.g. HU/budapest=budapest-approver.pub, SubjectPublicKeyInfo DER); repeat for each " +
                "organisation of this country. Its participant signs its membership entry, agreements and status changes only with an approval by that key. " +
                "Without any, the keys are read from the data directory's approvers/ folder (<CC>-<name>.pub), where `federation org init` makes them.",
        };
        var command = new Command("serve", "Run a silo of the federation.") { country, data, siloPort, gatewayPort, primary, allowSimulation, operatorKey, approverKeys };
        command.SetAction(async (parse, cancellation) =>
        {
            var primaryPort = parse.GetValue(primary);
            IPEndPoint? primaryEndpoint = primaryPort is { } p ? new IPEndPoint(IPAddress.Loopback, p) : null;
            try
            {
                var dataDirectory = parse.GetValue(data)!.FullName;
                // Without --operator-key the silo runs as the operator of the data directory (as the embedded commands do): its
                // key there is made the first time, and this silo hosts the audit log and signs its heads.
                using var federationOperator = parse.GetValue(operatorKey) is null ? FederationOperator.LoadOrCreate(Path.Combine(dataDirectory, "operator")) : null;
                var options = new LocalFederationOptions
                {
                    Countries = [parse.GetValue(country)!],
                    DataDirectory = dataDirectory,
                    AllowSimulation = parse.GetValue(allowSimulation),
                    OperatorPublicKey = parse.GetValue(operatorKey) is { } file ? KeyFile(file, "--operator-key") : federationOperator!.PublicKey,
                    OperatorKeyPath = federationOperator?.KeyPath,
                    ApproverPublicKeys = ApproverKeys(parse.GetValue(approverKeys) ?? []),
                    ConfigureLogging = logging => ConsoleLogging.Configure(logging, LogLevel.Information),
                };
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

    /// <summary>The approver public keys given as ID=FILE, or null (none given: the data directory's approvers/ folder).</summary>
    private static Dictionary<string, byte[]>? ApproverKeys(string[] values)
    {
        if (values.Length == 0)
            return null;
        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            int equals = value.IndexOf('=');
            if (equals < 0)
                throw new ArgumentException($"--approver-key: '{value}' is not ID=FILE (e.g. HU/budapest=budapest-approver.pub)");
            var organisation = value[..equals];
            if (!OrganisationId.TryParse(organisation, out _, out var problem))
                throw new ArgumentException($"--approver-key: '{value}' is not ID=FILE with ID an organisation id such as HU/budapest: {problem}");
            var key = KeyFile(new FileInfo(value[(equals + 1)..]), $"--approver-key {organisation}");
            if (!Approval.IsApproverKey(key))
                throw new ArgumentException($"--approver-key {organisation}: {value[(equals + 1)..]} is not an ECDSA P-256 public key (SubjectPublicKeyInfo DER, 91 bytes)");
            if (!keys.TryAdd(organisation, key))
                throw new ArgumentException($"--approver-key: {organisation} is given twice");
        }
        return keys;
    }

    private static byte[] KeyFile(FileInfo file, string option) =>
        file.Exists ? File.ReadAllBytes(file.FullName) : throw new ArgumentException($"{option}: the file {file.FullName} does not exist");
}
