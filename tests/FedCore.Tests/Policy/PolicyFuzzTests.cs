using System.Text;
using System.Text.Json.Nodes;
using FedCore.Governance;
using FedCore.Policy;
using FedCore.Policy.Decisions;
using FedCore.Policy.Packs;
using FedCore.Policy.Plans;
using FedCore.Tests.Governance;
using Xunit.Abstractions;
using static FedCore.Tests.Policy.PolicyFixture;

namespace FedCore.Tests.Policy;

/// <summary>
/// Mutated inputs from valid seeds with a fixed seed, 115 000 in all: every plan must be read (and then decided,
/// without an exception) or refused with <see cref="GovernanceFormatException"/>; every policy file loaded or refused
/// with <see cref="PolicyLoadException"/>. Any other exception, or an input taking over two seconds, fails.
/// </summary>
internal static class PolicyFuzz
{
    public const int RandomSeed = 20260301;

    public static Dictionary<string, int> Run<TRefusal>(ITestOutputHelper output, string name, int count, Func<Random, byte[]> mutate, Func<byte[], string> read)
        where TRefusal : Exception => FedCore.Tests.Fuzzing.FuzzRunner.Run<TRefusal>(output, name, count, RandomSeed, mutate, read);
}

public sealed class PolicyPlanFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void The_plan_reader_refuses_50000_mutated_plans_cleanly_and_every_plan_read_is_decided()
    {
        var set = RepositoryAndGdpr();
        var tokens = JsonMutator.Tokenize(PlanJson);
        JsonMutator? mutator = null;
        var outcomes = PolicyFuzz.Run<GovernanceFormatException>(output, "plan", 50_000, random => (mutator ??= new JsonMutator(random)).Mutate(tokens), input =>
        {
            var decision = PolicyEngine.Evaluate(set, PolicyPlanJson.Parse(input, "fuzz.json"));
            JsonNode.Parse(decision.ToJson());
            return decision.Allowed ? "allowed" : "denied";
        });
        Assert.True(outcomes["allowed"] > 0, "no mutant was allowed: the seed or the harness is wrong");
        Assert.True(outcomes["denied"] > 0, "no mutant was denied");
    }
}

public sealed class PolicyPackFuzzTests(ITestOutputHelper output)
{
    private static readonly PolicyFile SettingsFile = PolicyFixture.File("settings.yaml", Settings);

    private static string Load(byte[] pack)
    {
        var set = PolicySetLoader.Load([SettingsFile, new PolicyFile("pack.yaml", pack)]);
        PolicyEngine.Evaluate(set, Plan());
        return "loaded";
    }

    [Fact]
    public void The_policy_reader_refuses_35000_mutated_yaml_packs_cleanly()
    {
        string seed = GdprLikePack + "\n" + System.IO.File.ReadAllText(Path.Combine(RepositoryPolicies, "federation.yaml"))
            .Replace("pack: federation\ntitle: Federation operating rules\njurisdiction: federation\n", "").Replace("rules:\n", "");
        Assert.Equal("loaded", Load(Encoding.UTF8.GetBytes(seed)));
        var lines = seed.Split('\n');
        var outcomes = PolicyFuzz.Run<PolicyLoadException>(output, "yaml pack", 35_000, random => Encoding.UTF8.GetBytes(YamlMutator.Mutate(random, lines)), Load);
        Assert.True(outcomes["loaded"] > 0, "no mutant loaded: the seed or the harness is wrong");
    }

    [Fact]
    public void The_policy_reader_refuses_30000_mutated_flow_style_packs_cleanly()
    {
        // YAML is a superset of JSON: the pack written as JSON lets the JSON mutator reach the reader through flow style.
        string json = PackAsJson(GdprLikePack);
        Assert.Equal("loaded", Load(Encoding.UTF8.GetBytes(json)));
        var tokens = JsonMutator.Tokenize(json);
        JsonMutator? mutator = null;
        var outcomes = PolicyFuzz.Run<PolicyLoadException>(output, "flow pack", 30_000, random => (mutator ??= new JsonMutator(random)).Mutate(tokens), Load);
        Assert.True(outcomes["loaded"] > 0, "no mutant loaded: the seed or the harness is wrong");
    }

    /// <summary>The GDPR-like pack as JSON, built by hand from its block form (the engine reads YAML, not JSON, so this is the only JSON writer needed).</summary>
    private static string PackAsJson(string yaml)
    {
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        stream.Load(new StringReader(yaml));
        return Convert(stream.Documents[0].RootNode)!.ToJsonString();

        static JsonNode? Convert(YamlDotNet.RepresentationModel.YamlNode node) => node switch
        {
            YamlDotNet.RepresentationModel.YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlDotNet.RepresentationModel.YamlScalarNode)c.Key).Value!, Convert(c.Value)))),
            YamlDotNet.RepresentationModel.YamlSequenceNode list => new JsonArray([.. list.Children.Select(Convert)]),
            _ => JsonValue.Create(((YamlDotNet.RepresentationModel.YamlScalarNode)node).Value),
        };
    }
}
/// <summary>
/// Line-level mutations of a YAML text: lines deleted, duplicated, swapped, re-indented or cut; characters with a
/// meaning in YAML or in conditions inserted; operators, attributes and keywords of conditions replaced.
/// </summary>
internal static class YamlMutator
{
    private static readonly string[] Inserts = [":", " : ", "- ", "\"", "'", "[", "]", "{", "}", "&a ", "*a", "!!str ", "# ", "\t", "|", ">", "%", "@", "`", "\\", "---\n", "...\n", "\u0000", "\uFEFF", "é", ",", "?"];

    private static readonly string[] Swaps =
    [
        "==", "!=", "<", ">=", "in", "not in", "contains", "and", "or", "not", "implies", "permit", "deny", "require", "plan", "transfer",
        "transfer.to", "plan.nope", "lists.eea", "lists.none", "count(", "all(", "any(", "date(\"2026-02-30\")", "2026-13-01", "2026-01-01",
        "\"x\"", "3", "-1", "true", "false", "(", ")", ",", "[]", "[1, \"a\"]", "1e5", new string('(', 40), string.Concat(Enumerable.Repeat("true and ", 600)),
    ];

    public static string Mutate(Random random, string[] seed)
    {
        var lines = seed.ToList();
        for (int m = 1 + random.Next(3); m > 0 && lines.Count > 0; m--)
        {
            int i = random.Next(lines.Count);
            switch (random.Next(8))
            {
                case 0:
                    lines.RemoveAt(i);
                    break;
                case 1:
                    lines.Insert(i, lines[i]);
                    break;
                case 2:
                    int j = random.Next(lines.Count);
                    (lines[i], lines[j]) = (lines[j], lines[i]);
                    break;
                case 3:
                    lines[i] = random.Next(2) == 0 ? "  " + lines[i] : lines[i].TrimStart();
                    break;
                case 4:
                    lines[i] = lines[i][..random.Next(lines[i].Length + 1)];
                    break;
                case 5:
                    int at = random.Next(lines[i].Length + 1);
                    lines[i] = lines[i][..at] + Inserts[random.Next(Inserts.Length)] + lines[i][at..];
                    break;
                default:
                    var words = lines[i].Split(' ');
                    words[random.Next(words.Length)] = Swaps[random.Next(Swaps.Length)];
                    lines[i] = string.Join(' ', words);
                    break;
            }
        }
        return string.Join('\n', lines);
    }
}
