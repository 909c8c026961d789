using System.Text;
using System.Text.Json;
using FedCore.Policy.Decisions;
using FedCore.Policy.Packs;
using FedCore.Policy.Plans;
using FedCore.Tests.Data;

namespace FedCore.Tests.Policy;

/// <summary>
/// The scenario suite: every plan in Policy/Scenarios/*.json is evaluated against the repository's real policies/
/// folder and checked against its sidecar *.expected.json — the decision, the rules that must fire (or hold), the
/// exact set of rules that deny, the exact set of governed transfers without a lawful basis, rules reported not in
/// force, transfers a pack must not govern — and every deny reason must name the source of its rule.
/// </summary>
public sealed class PolicyScenarioTests
{
    /// <summary>Rules no scenario can make take effect, and why.</summary>
    private static readonly Dictionary<string, string> Unexercised = new(StringComparer.Ordinal)
    {
        ["dpdp-s16-restricted-country"] = "no country is notified under DPDP s.16(1); lists.restricted is empty, so the deny cannot fire until one is",
    };

    private static string Folder => Path.Combine(DataTestSupport.RepositoryRoot(), "tests", "FedCore.Tests", "Policy", "Scenarios");

    private static string Policies => Path.Combine(DataTestSupport.RepositoryRoot(), "policies");

    private static List<string> ScenarioNames() =>
        [.. Directory.GetFiles(Folder, "*.expected.json").Select(f => Path.GetFileName(f)[..^".expected.json".Length]).Order(StringComparer.Ordinal)];

    public static TheoryData<string> Names() => [.. ScenarioNames()];

    private sealed record Expected(
        string Description,
        string Decision,
        string[] Fired,
        string[] Denying,
        string[] NoLawfulBasis,
        string[] NotInForce,
        string[] NotGoverned,
        Dictionary<string, bool>? Settings);

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true, UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow };

    private static Expected ReadExpected(string name) =>
        JsonSerializer.Deserialize<Expected>(File.ReadAllBytes(Path.Combine(Folder, name + ".expected.json")), Json)
            ?? throw new InvalidDataException(name);

    /// <summary>The real policy folder; with the expected file's settings in place of settings.yaml when it gives them.</summary>
    private static PolicySet Set(Dictionary<string, bool>? settings)
    {
        if (settings is null)
            return PolicySetLoader.Load(Policies);
        var files = Directory.GetFiles(Policies, "*.yaml").Where(f => Path.GetFileName(f) != PolicySetLoader.SettingsFile)
            .Select(f => new PolicyFile(Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
        string yaml = string.Join("\n", settings.Select(s => $"{s.Key}: {(s.Value ? "true" : "false")}"));
        files.Add(new PolicyFile(PolicySetLoader.SettingsFile, Encoding.UTF8.GetBytes(yaml)));
        return PolicySetLoader.Load(files);
    }

    private static PolicyDecision Decide(string name, Expected expected)
    {
        var plan = PolicyPlanJson.Parse(File.ReadAllBytes(Path.Combine(Folder, name + ".json")), name + ".json");
        return PolicyEngine.Evaluate(Set(expected.Settings), plan);
    }

    private static IEnumerable<RuleEvaluation> AllRules(PolicyDecision decision) =>
        decision.PlanRules.Concat(decision.Transfers.SelectMany(t => t.Packs.SelectMany(p => p.Rules)));

    private static string Label(TransferDecision transfer) => $"{transfer.Transfer.From}→{transfer.Transfer.To} ({transfer.Transfer.KindName})";

    [Fact]
    public void There_are_at_least_thirty_scenarios_allowed_and_denied_across_every_pack()
    {
        var names = ScenarioNames();
        Assert.True(names.Count >= 30, $"{names.Count} scenarios");
        var decisions = names.Select(n => ReadExpected(n).Decision).ToList();
        Assert.Contains("allow", decisions);
        Assert.Contains("deny", decisions);
        foreach (var pack in PolicySetLoader.Load(Policies).Packs)
            Assert.True(names.Any(n => n.StartsWith(pack.Id == "federation" ? "fed-" : pack.Id + "-", StringComparison.Ordinal)), $"no scenario for pack {pack.Id}");
        // Every plan file has its expected file.
        foreach (var plan in Directory.GetFiles(Folder, "*.json").Where(f => !f.EndsWith(".expected.json", StringComparison.Ordinal)))
            Assert.True(File.Exists(plan[..^".json".Length] + ".expected.json"), $"{Path.GetFileName(plan)} has no .expected.json");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_scenario_gets_its_expected_decision_for_its_expected_reasons(string name)
    {
        var expected = ReadExpected(name);
        var decision = Decide(name, expected);
        string reasons = string.Join("\n", decision.DenyReasons);
        Assert.True(expected.Decision == (decision.Allowed ? "allow" : "deny"), $"{name}: expected {expected.Decision}, got {(decision.Allowed ? "allow" : "deny")}\n{reasons}");

        var rules = AllRules(decision).ToList();
        foreach (string id in expected.Fired)
            Assert.True(rules.Any(r => r.Rule.Id == id && r.Outcome is RuleOutcome.Fired or RuleOutcome.Held),
                $"{name}: {id} should fire or hold; it was {string.Join(", ", rules.Where(r => r.Rule.Id == id).Select(r => r.Outcome).Distinct())}");
        Assert.Equal(expected.Denying.Order(StringComparer.Ordinal), rules.Where(r => r.Denies).Select(r => r.Rule.Id).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(expected.NoLawfulBasis.Order(StringComparer.Ordinal),
            decision.Transfers.SelectMany(t => t.Packs.Where(p => p.Governance == GovernsOutcome.Governed && !p.HasLawfulBasis).Select(p => $"{Label(t)} {p.Pack}"))
                .Distinct().Order(StringComparer.Ordinal));
        foreach (string id in expected.NotInForce)
            Assert.True(rules.Any(r => r.Rule.Id == id && r.Outcome == RuleOutcome.NotInForce), $"{name}: {id} should be reported not in force");
        foreach (string entry in expected.NotGoverned)
            Assert.True(decision.Transfers.Any(t => t.Packs.Any(p => $"{p.Pack} {Label(t)}" == entry && p.Governance == GovernsOutcome.NotGoverned)),
                $"{name}: {entry} should not be governed");
        Assert.DoesNotContain(decision.Transfers, t => t.Packs.Any(p => p.Governance == GovernsOutcome.Undetermined));

        // Every deny reason names its rule and that rule's source; a transfer without a lawful basis names its pack.
        foreach (string reason in decision.DenyReasons)
        {
            var rule = rules.Where(r => r.Denies).Select(r => r.Rule).FirstOrDefault(r => reason.Contains($"{r.Id} (", StringComparison.Ordinal));
            if (rule is not null)
                Assert.Contains($"{rule.Source.Document} {rule.Source.Article}", reason);
            else
                Assert.Matches(@"^no lawful basis for transfer \w\w→\w\w \((update|final-model)\) under [a-z0-9.-]+: ", reason);
        }
        Assert.Equal(expected.Decision == "allow", decision.DenyReasons.IsEmpty);
    }

    [Fact]
    public void Every_rule_carries_a_source_and_is_exercised_by_a_scenario_or_listed_as_exempt()
    {
        var set = PolicySetLoader.Load(Policies);
        var rules = set.Packs.SelectMany(p => p.Rules).ToList();
        foreach (var rule in rules)
        {
            Assert.False(string.IsNullOrWhiteSpace(rule.Source.Document), $"{rule.Id}: no source document");
            Assert.False(string.IsNullOrWhiteSpace(rule.Source.Article), $"{rule.Id}: no source article");
            Assert.False(string.IsNullOrWhiteSpace(rule.Reason), $"{rule.Id}: no reason");
        }

        // Exercised: in some scenario a permit or deny fired, and a require both held and (in some scenario) failed —
        // that is, the rule's condition made a difference, not merely that it was evaluated.
        var outcomes = new Dictionary<string, HashSet<RuleOutcome>>(StringComparer.Ordinal);
        foreach (string name in ScenarioNames())
        {
            foreach (var evaluation in AllRules(Decide(name, ReadExpected(name))))
            {
                if (!outcomes.TryGetValue(evaluation.Rule.Id, out var seen))
                    outcomes[evaluation.Rule.Id] = seen = [];
                seen.Add(evaluation.Outcome);
            }
        }
        bool Exercised(PolicyRule rule) => outcomes.TryGetValue(rule.Id, out var seen) && (rule.Effect == RuleEffect.Require
            ? seen.Contains(RuleOutcome.Held) && (seen.Contains(RuleOutcome.Failed) || seen.Contains(RuleOutcome.Undetermined))
            : seen.Contains(RuleOutcome.Fired));
        var missing = rules.Where(r => !Exercised(r) && !Unexercised.ContainsKey(r.Id)).Select(r => r.Id).ToList();
        Assert.True(missing.Count == 0, "rules no scenario exercises: " + string.Join(", ", missing));
        // The exemptions are real rules that really are not exercised (a stale entry is an error too).
        foreach (string id in Unexercised.Keys)
        {
            var rule = Assert.Single(rules, r => r.Id == id);
            Assert.False(Exercised(rule), $"{id} is listed as unexercised but a scenario exercises it");
        }
    }
}
