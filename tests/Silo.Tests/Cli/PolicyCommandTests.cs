using System.Text.Json.Nodes;
using Federation.Silo.Cli;

namespace Federation.Silo.Tests.Cli;

/// <summary>`federation policy eval | check`: the decision as JSON with exit 0 allow, 3 deny, 2 bad input; a folder validated.</summary>
public sealed class PolicyCommandTests : IDisposable
{
    private readonly TempDirectory _directory = new("federation-cli-policy");

    private static string Policies => Path.Combine(TestPaths.Root, "policies");

    private static readonly string PlanJson = """
        {
          "at": "2026-03-01T09:00:00Z", "jobId": "CH/heart-logistic", "purpose": "cardiology research", "recurring": true,
          "modelClass": "logistic", "strategy": "fedavg", "minParticipants": 3,
          "participants": [
            { "organisation": "HU/budapest", "country": "HU", "attestations": ["gdpr-art9-explicit-consent"],
              "datasets": [ { "id": "heart", "categories": ["health"], "rows": 294 } ] },
            { "organisation": "CH/zurich", "country": "CH", "datasets": [ { "id": "heart", "categories": ["health"], "rows": 123 } ] },
            { "organisation": "US/cleveland", "country": "US", "datasets": [ { "id": "heart", "categories": ["health"], "rows": 303 } ] }
          ],
          "agreement": { "id": "fed-heart-disease-2026", "minParticipants": 3, "updateDestinations": ["CH"], "finalModelDestinations": ["CH", "HU", "US"],
                         "transferMechanisms": [ { "from": "HU", "to": "US", "mechanism": "eu-scc-2021", "transferImpactAssessment": true } ] },
          "protection": { "scheme": "PROTECTION" },
          "updateDestinations": ["CH"],
          "finalModelDestinations": ["CH", "HU", "US"]
        }
        """;

    public void Dispose() => _directory.Dispose();

    private string Plan(string protection = "ckks", string? extra = null)
    {
        string path = _directory.File($"plan-{Guid.NewGuid():N}.json");
        string json = PlanJson.Replace("PROTECTION", protection);
        if (extra is not null)
            json = json.Replace("\"recurring\": true,", $"\"recurring\": true, {extra},");
        File.WriteAllText(path, json);
        return path;
    }

    private static async Task<CliResult> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await FederationCommandLine.RunAsync(args, output, error);
        return new CliResult(args, exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Eval_prints_an_allow_and_exits_0()
    {
        var result = (await Run("policy", "eval", "--plan", Plan(), "--dir", Policies)).Succeeded();
        var decision = result.Json;
        Assert.Equal("allow", (string)decision["decision"]!);
        Assert.Matches("^[0-9a-f]{64}$", (string)decision["policySet"]!);
        Assert.Empty(decision["denyReasons"]!.AsArray());
        Assert.Contains(decision["planRules"]!.AsArray(), r => (string)r!["rule"]! == "fed-encryption-cross-border" && (string)r["outcome"]! == "held");
    }

    [Fact]
    public async Task Eval_prints_a_deny_with_its_reasons_and_exits_3()
    {
        var result = await Run("policy", "eval", "--plan", Plan("plaintext-simulation"), "--dir", Policies);
        Assert.Equal(3, result.Exit);
        var decision = result.Json;
        Assert.Equal("deny", (string)decision["decision"]!);
        Assert.StartsWith("fed-encryption-cross-border (federation", (string)decision["denyReasons"]![0]!);
    }

    [Fact]
    public async Task Eval_names_a_missing_fact_in_its_deny()
    {
        var result = await Run("policy", "eval", "--plan", Plan(extra: "\"dp\": { \"enabled\": true, \"epsilon\": 1, \"delta\": 0.00001 }"), "--dir", Policies);
        Assert.Equal(3, result.Exit);
        Assert.Contains(result.Json["denyReasons"]!.AsArray(), r => ((string)r!).Contains("fact plan.datasets[0].epsilonRemaining was not given"));
    }

    [Fact]
    public async Task Eval_refuses_a_bad_plan_naming_the_path_with_exit_2()
    {
        string plan = Plan(extra: "\"colour\": \"blue\"");
        (await Run("policy", "eval", "--plan", plan, "--dir", Policies)).Refused(plan, "$.colour", "is not a known field");
        (await Run("policy", "eval", "--plan", Plan("rot13"), "--dir", Policies)).Refused("$.protection.scheme", "\"rot13\" is not one of ckks, plaintext-simulation, none");
        (await Run("policy", "eval", "--plan", _directory.File("absent.json"), "--dir", Policies)).Refused("--plan", "absent.json", "does not exist");
    }

    [Fact]
    public async Task Check_validates_the_repository_policies()
    {
        var summary = (await Run("policy", "check", "--dir", Policies)).Succeeded().Json;
        Assert.Matches("^[0-9a-f]{64}$", (string)summary["policySet"]!);
        var federation = summary["packs"]!.AsArray().Single(p => (string)p!["pack"]! == "federation")!;
        Assert.True((int)federation["planRules"]! >= 6);
        Assert.True((bool)summary["settings"]!["updatesArePersonalData"]!);
    }

    [Fact]
    public async Task Check_and_eval_refuse_a_broken_copy_naming_file_and_line()
    {
        string folder = _directory.File("policies");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(Policies))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        string federation = Path.Combine(folder, "federation.yaml");
        var lines = File.ReadAllLines(federation);
        int line = Array.FindIndex(lines, l => l.Contains("when: plan.participantCount >= 3")) + 1;
        lines[line - 1] = lines[line - 1].Replace("plan.participantCount", "plan.participantCnt");
        File.WriteAllLines(federation, lines);

        (await Run("policy", "check", "--dir", folder)).Refused($"{federation}:{line}: rule fed-min-participants: when: unknown attribute 'plan.participantCnt'");
        (await Run("policy", "eval", "--plan", Plan(), "--dir", folder)).Refused($"{federation}:{line}:");
    }

    [Fact]
    public void Without_dir_the_policies_folder_is_found_from_the_current_directory_upwards_then_beside_the_executable()
    {
        Assert.Equal(Policies, Federation.Silo.Governance.SiloPolicies.FindFolder(Path.Combine(TestPaths.Root, "src", "FedCore"), _directory.Path));
        Assert.Null(Federation.Silo.Governance.SiloPolicies.FindFolder(_directory.Path, _directory.Path));
        Directory.CreateDirectory(_directory.File("policies"));
        Assert.Equal(_directory.File("policies"), Federation.Silo.Governance.SiloPolicies.FindFolder("/", _directory.Path));
    }
}
