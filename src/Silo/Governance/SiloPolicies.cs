using FedCore.Policy;
using FedCore.Policy.Decisions;
using FedCore.Policy.Packs;
using FedCore.Policy.Plans;
using Federation.Contracts.Errors;
using Federation.Silo.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Governance;

/// <summary>
/// The policy set this silo decides with, read from its policy folder (<see cref="FederationSiloOptions.PoliciesDirectory"/>)
/// at every decision, so an edit is in force at the next one. A folder that fails to load leaves the last good set in
/// force, and the error (file and line) is logged; with no set ever loaded there is no decision, only a refusal.
/// </summary>
public sealed class SiloPolicies(FederationSiloOptions options, ILogger<SiloPolicies> logger)
{
    private readonly PolicyStore _store = new();
    private readonly Lock _reload = new();

    /// <summary>Evaluates <paramref name="plan"/> against the set in force.</summary>
    /// <exception cref="FederationOperationException">No policy folder is configured, or none of its versions ever loaded.</exception>
    public PolicyDecision Decide(PolicyPlan plan) => PolicyEngine.Evaluate(Current(), plan);

    /// <summary>Evaluates <paramref name="plan"/> for one participant under its own country's packs (<see cref="PolicyEngine.EvaluateFor"/>).</summary>
    public PolicyDecision DecideFor(PolicyPlan plan, string participant) => PolicyEngine.EvaluateFor(Current(), plan, participant);

    public PolicySet Current()
    {
        var folder = options.PoliciesDirectory
            ?? throw new FederationOperationException("policy.unavailable", $"The {options.Country} silo has no policy folder configured: it decides nothing, so it allows nothing.");
        PolicyLoadException? error;
        lock (_reload)
        {
            if (!_store.TryReload(folder, out error))
                logger.LogError("Policy folder {Folder} does not load ({Error}); {Kept}", folder, error!.Message,
                    _store.Current is { } kept ? $"the last good set {kept.Hash} stays in force" : "no policy set is in force");
        }
        return _store.Current
            ?? throw new FederationOperationException("policy.unavailable", $"The {options.Country} silo's policy folder does not load, and no earlier version did: {error!.Message}");
    }

    /// <summary>The nearest <c>policies</c> folder holding settings.yaml from <paramref name="start"/> upwards, else the one in <paramref name="executable"/>'s folder.</summary>
    public static string? FindFolder(string start, string executable)
    {
        for (var at = new DirectoryInfo(start); at is not null; at = at.Parent)
            if (File.Exists(Path.Combine(at.FullName, "policies", PolicySetLoader.SettingsFile)))
                return Path.Combine(at.FullName, "policies");
        string beside = Path.Combine(executable, "policies");
        return Directory.Exists(beside) ? beside : null;
    }

    /// <summary>The default folder of a process: see <see cref="FindFolder"/>, from the current directory and the executable's.</summary>
    public static string? DefaultFolder() => FindFolder(Environment.CurrentDirectory, AppContext.BaseDirectory);
}
