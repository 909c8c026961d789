using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using FedCore.Governance;
using FedCore.Governance.Canonical;
using FedCore.Policy;
using FedCore.Policy.Decisions;
using FedCore.Policy.Packs;
using FedCore.Policy.Plans;
using Federation.Silo.Governance;

namespace Federation.Silo.Cli;

/// <summary>
/// `federation policy eval | check`: a plan decided against the policy set, and a policy folder validated
/// (policies/README.md). Exit codes: 0 allow (or a valid set), 3 deny, 2 bad input (the plan or a policy file), with a
/// message naming the file and the line or JSON path.
/// </summary>
public static class PolicyCommand
{
    public const int Denied = 3;

    public static Command Create(TextWriter output, TextWriter error) => new("policy", "Policies: decide a plan against the rule packs, validate a policy folder.")
    {
        Eval(output, error),
        Check(output, error),
    };

    private static Option<DirectoryInfo> DirOption() => new("--dir")
    {
        Description = "The policy folder. Default: the nearest 'policies' folder holding settings.yaml from the current directory upwards, else the one next to the executable.",
    };

    private static Command Eval(TextWriter output, TextWriter error)
    {
        var plan = new Option<FileInfo>("--plan") { Description = "The plan to decide (JSON: policies/README.md, \"The plan\").", Required = true };
        var dir = DirOption();
        var command = new Command("eval", "Decide a plan: prints the decision as JSON; exit 0 allow, 3 deny, 2 bad input.") { plan, dir };
        command.SetAction(parse => Run(error, () =>
        {
            var set = Load(parse.GetValue(dir));
            var file = parse.GetValue(plan)!;
            if (!file.Exists)
                throw new CommandInputException($"--plan: the file {file.FullName} does not exist");
            var decision = PolicyEngine.Evaluate(set, PolicyPlanJson.Parse(File.ReadAllBytes(file.FullName), file.FullName));
            output.Write(Encoding.UTF8.GetString(decision.ToJson()));
            return decision.Allowed ? 0 : Denied;
        }));
        return command;
    }

    private static Command Check(TextWriter output, TextWriter error)
    {
        var dir = DirOption();
        var command = new Command("check", "Validate a policy folder: prints the set's hash and its packs; exit 0, or 2 naming the file and line.") { dir };
        command.SetAction(parse => Run(error, () =>
        {
            string folder = Folder(parse.GetValue(dir));
            var set = PolicySetLoader.Load(folder);
            var summary = new JsonObject
            {
                ["policySet"] = set.Hash,
                ["directory"] = Path.GetFullPath(folder),
                ["settings"] = new JsonObject
                {
                    ["updatesArePersonalData"] = set.Settings.UpdatesArePersonalData,
                    ["finalModelIsPersonalData"] = set.Settings.FinalModelIsPersonalData,
                },
                ["rules"] = set.RuleCount,
                ["packs"] = new JsonArray([.. set.Packs.Select(p => (JsonNode)new JsonObject
                {
                    ["pack"] = p.Id,
                    ["title"] = p.Title,
                    ["jurisdiction"] = p.Jurisdiction,
                    ["file"] = p.File,
                    ["planRules"] = p.PlanRules.Count(),
                    ["transferRules"] = p.TransferRules.Count(),
                })]),
            };
            output.Write(Encoding.UTF8.GetString(CanonicalJson.WriteIndented(summary)));
            return 0;
        }));
        return command;
    }

    private static int Run(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is PolicyLoadException or GovernanceFormatException or CommandInputException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }

    private static PolicySet Load(DirectoryInfo? dir) => PolicySetLoader.Load(Folder(dir));

    /// <summary>The folder given, or the default: see <see cref="DirOption"/>.</summary>
    private static string Folder(DirectoryInfo? dir) =>
        dir?.ToString() ?? SiloPolicies.DefaultFolder()
        ?? throw new CommandInputException($"--dir: no 'policies' folder with {PolicySetLoader.SettingsFile} in {Environment.CurrentDirectory} or above, nor next to the executable; name one with --dir");
}
