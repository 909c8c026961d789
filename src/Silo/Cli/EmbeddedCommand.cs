using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCore.Data;
using FedCore.Governance;
using FedCore.Governance.Membership;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;
using Federation.Silo.Transfer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Cli;

/// <summary>Bad input to a command; the message names the option or file (and, in a file, the JSON path).</summary>
internal sealed class CommandInputException(string message) : Exception(message);

/// <summary>
/// What the commands that work on an embedded federation over a data directory share (org, dataset, agreement, model):
/// the <c>--data</c> option, the silos a command starts, the checks of common options, and one way to answer: the result
/// as one JSON document on standard output and exit code 0; bad input, or a refusal by the federation, as a message on
/// standard error and exit code 2, with nothing stored changed.
/// </summary>
internal static class EmbeddedCommand
{
    // Relaxed escaping: keys and signatures in base64 keep their '+' (the output is read by people and JSON parsers, not embedded in HTML).
    internal static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Option<DirectoryInfo> DataOption() => new("--data")
    {
        Description = "The federation's data directory: the silos' SQLite files, the operator's key and membership chain in its operator/ folder, and the organisations' approver keys in its approvers/ folder.",
        DefaultValueFactory = _ => new DirectoryInfo("data"),
    };

    public static Command Define(string name, string description, TextWriter output, TextWriter error,
        Func<ParseResult, CancellationToken, Task<JsonNode>> run, params Option[] options)
    {
        var command = new Command(name, description);
        foreach (var option in options)
            command.Options.Add(option);
        command.SetAction(async (parse, cancellation) =>
        {
            JsonNode result;
            try
            {
                result = await run(parse, cancellation);
            }
            catch (Exception e) when (e is CommandInputException or FederationOperationException or GovernanceException or ResidencyViolationException
                                          or DatasetException or DatasetSchemaException)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return 2;
            }
            await output.WriteLineAsync(result.ToJsonString(Indented));
            return 0;
        });
        return command;
    }

    /// <summary>An organisation's id given to <paramref name="option"/>, and its country.</summary>
    public static (string Id, string Country) Organisation(string? value, string option) =>
        ParticipantKey.TryParse(value, out var country, out _, out var problem) ? (value!, country) : throw new CommandInputException($"{option}: {problem}");

    public static string Country(string? value, string option) =>
        value is { Length: 2 } && char.IsAsciiLetterUpper(value[0]) && char.IsAsciiLetterUpper(value[1])
            ? value
            : throw new CommandInputException($"{option}: '{value}' is not an ISO 3166-1 alpha-2 country code in capitals (e.g. 'HU')");

    public static T Name<T>(string value, string option) where T : struct, Enum =>
        GovernanceNames.TryParse<T>(value, out var parsed) ? parsed : throw new CommandInputException($"{option}: '{value}' is not one of {GovernanceNames.All<T>()}");

    public static string Text(string? value, string option) =>
        string.IsNullOrWhiteSpace(value) ? throw new CommandInputException($"{option}: must not be empty or blank") : value;

    public static FileInfo ExistingFile(FileInfo file, string option) =>
        file.Exists ? file : throw new CommandInputException($"{option}: the file {file.FullName} does not exist");

    /// <summary>
    /// The country of a silo for a command that involves no organisation of its own (it only reads or relays records): that
    /// of the first organisation in the operator's membership chain, which needs no silo to read.
    /// </summary>
    public static string AnyMemberCountry(DirectoryInfo data)
    {
        var chain = Path.Combine(data.FullName, "operator", "membership.json");
        if (!File.Exists(chain))
            throw new CommandInputException($"--data: the federation in {data.FullName} has no members yet; admit organisations with `federation org add` first");
        var latest = MembershipJson.Parse(File.ReadAllBytes(chain), chain)[^1];
        return latest.Organisations.Select(o => o.Entry.Country).Order(StringComparer.Ordinal).First();
    }

    public static string KeyFingerprint(IEnumerable<byte> publicKey) => Convert.ToHexStringLower(SHA256.HashData([.. publicKey]));

    /// <summary>
    /// Starts the silos of <paramref name="countries"/> over the data directory (the operator's key in its operator/ folder,
    /// made there the first time). No unfinished job is resumed: these commands sign and read records, they run no rounds.
    /// </summary>
    public static async Task<EmbeddedSession> StartAsync(DirectoryInfo data, IEnumerable<string> countries, CancellationToken cancellationToken) =>
        new(await LocalFederation.StartAsync(new LocalFederationOptions
        {
            Countries = [.. countries],
            DataDirectory = data.FullName,
            ResumeUnfinishedJobs = false,
            ConfigureLogging = logging => ConsoleLogging.Configure(logging, LogLevel.Error),
        }, cancellationToken));
}

/// <summary>The silos a command started, and the services it uses through them; disposing stops them.</summary>
internal sealed class EmbeddedSession(LocalFederation federation) : IAsyncDisposable
{
    public IGrainFactory Grains => federation.Grains;

    public FederationOperator Operator => federation.Operator!;

    /// <summary>The organisations' approver keys, in the data directory's approvers/ folder (outside the silos' storage).</summary>
    public Approvers Approvers => federation.Approvers!;

    /// <summary>The records as the first silo reads them: verified against the operator's public key it is configured with.</summary>
    public FederationRecords Records => Services.GetRequiredService<FederationRecords>();

    public PayloadTransfers Transfers => Services.GetRequiredService<PayloadTransfers>();

    /// <summary>What the command does, recorded in the federation's audit log.</summary>
    public AuditTrail Audit => Services.GetRequiredService<AuditTrail>();

    private IServiceProvider Services => federation.ServicesOf(federation.Countries[0]);

    public ValueTask DisposeAsync() => federation.DisposeAsync();
}
