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
/// force, and the error (file and line) is logged; with no set ever loaded there is no decision, only a refusal. Each set
/// this silo decides with is recorded in the audit log (its hash) before its first decision.
/// </summary>
public sealed class SiloPolicies(FederationSiloOptions options, AuditTrail audit, ILogger<SiloPolicies> logger)
{
    private readonly PolicyStore _store = new();
    private readonly Lock _reload = new();
    private string? _recordedHash;

    /// <summary>Evaluates <paramref name="plan"/> against the set in force.</summary>
    /// <exception cref="FederationOperationException">No policy folder is configured, or none of its versions ever loaded.</exception>
    public async Task<PolicyDecision> DecideAsync(PolicyPlan plan) => PolicyEngine.Evaluate(await RecordedAsync(), plan);

    /// <summary>Evaluates <paramref name="plan"/> for one participant under its own country's packs (<see cref="PolicyEngine.EvaluateFor"/>).</summary>
    public async Task<PolicyDecision> DecideForAsync(PolicyPlan plan, string participant) => PolicyEngine.EvaluateFor(await RecordedAsync(), plan, participant);

    /// <summary>The set in force, recorded in the audit log if it is not yet (two callers at once may both record it: a repeat, not a gap).</summary>
    private async Task<PolicySet> RecordedAsync()
    {
        var set = Current();
        if (Volatile.Read(ref _recordedHash) != set.Hash)
        {
            await audit.RecordAsync(FedCore.Audit.Entries.AuditEvents.PolicySetLoaded(audit.Now, audit.Silo, audit.Country,
                FedCore.Audit.Entries.AuditDigest.Parse(set.Hash), set.Packs.Length + 1)); // the packs and settings.yaml
            Volatile.Write(ref _recordedHash, set.Hash);
        }
        return set;
    }

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
