using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Federation.Silo.Tests.Cli;

/// <summary>
/// Three organisations set up through the command line alone, as their admins, stewards and the operator would:
/// `org init` (each), `org add` (the operator), `dataset register` (each), `agreement draft`, `propose` and `sign` (each).
/// Every step's output is kept for the tests, and so is what `org show`, `dataset list` and `agreement show` said at the end.
/// </summary>
public sealed class GovernanceCliFederation : IAsyncLifetime
{
    public const string AgreementId = "heart-cli";

    public static readonly (string Id, string LegalName, string File)[] Organisations =
    [
        ("CH/zurich", "University Hospital Zurich", "switzerland.data"),
        ("HU/budapest", "Hungarian Institute of Cardiology", "hungarian.data"),
        ("US/cleveland", "The Cleveland Clinic Foundation", "cleveland.data"),
    ];

    private readonly TempDirectory _directory = new("federation-cli-governance");

    public GovernanceCliFederation() => Cli = new CliRunner(_directory.File("data"));

    internal CliRunner Cli { get; }

    public string File(string name) => _directory.File(name);

    public static string Schema => Path.Combine(TestPaths.HeartSample, "heart-disease.schema.json");

    public static string DataFile(string name) => Path.Combine(TestPaths.HeartSample, "data", name);

    public List<JsonNode> Entries { get; } = [];

    public JsonNode Admitted { get; private set; } = null!;

    public List<JsonNode> Datasets { get; } = [];

    public JsonNode Drafted { get; private set; } = null!;

    public JsonNode Proposed { get; private set; } = null!;

    public List<JsonNode> Signed { get; } = [];

    /// <summary>`org show`, `dataset list` and `agreement show` once the agreement is active.</summary>
    public (string Members, string Datasets, string Agreement) Baseline { get; private set; }

    public static string[] Members(string id) => ["--member", $"{id} administrator:organisation-admin", "--member", $"{id} data steward:data-steward"];

    /// <summary>Terms of an agreement among the three organisations, valid from yesterday for a year.</summary>
    public static JsonObject Terms(string id = AgreementId)
    {
        var today = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 86400 * 86400);
        return new JsonObject
        {
            ["id"] = id,
            ["title"] = "Heart disease risk, set up by the command line",
            ["purpose"] = "Test that the command line sets a federation up end to end.",
            // Each states an Art. 9(2)(j) research basis: the policies let no EEA party train on health data without one.
            ["parties"] = new JsonArray([.. Organisations.Select(o => (JsonNode)new JsonObject { ["organisation"] = o.Id, ["datasets"] = new JsonArray("heart"), ["attestations"] = new JsonArray("gdpr-art9-research") })]),
            ["updateDestinations"] = new JsonArray("CH"),
            ["finalModelDestinations"] = new JsonArray("CH", "HU", "US"),
            ["transferMechanisms"] = new JsonArray(new JsonObject { ["from"] = "HU", ["to"] = "US", ["mechanism"] = "eu-scc-2021", ["transferImpactAssessment"] = true }),
            ["modelClasses"] = new JsonArray("logistic"),
            ["minParticipants"] = 3,
            ["protection"] = new JsonObject { ["scheme"] = "ckks", ["updateBound"] = 4 },
            ["simulation"] = false,
            ["validFrom"] = today.AddDays(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"),
            ["validUntil"] = today.AddDays(365).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"),
        };
    }

    public string WriteTerms(string name, JsonObject terms)
    {
        var path = File(name);
        System.IO.File.WriteAllText(path, terms.ToJsonString());
        return path;
    }

    public async Task InitializeAsync()
    {
        var entryFiles = new List<string>();
        foreach (var (id, legalName, _) in Organisations)
        {
            var entry = File($"{id.Replace('/', '-')}.entry.json");
            entryFiles.Add(entry);
            Entries.Add(await Cli.SucceedsAsync(["org", "init", "--id", id, "--legal-name", legalName, .. Members(id), "--out", entry]));
        }
        Admitted = await Cli.SucceedsAsync(["org", "add", .. entryFiles.SelectMany(e => new[] { "--entry", e }), "--federation", "cli-heart"]);
        foreach (var (id, _, file) in Organisations)
            Datasets.Add(await Cli.SucceedsAsync("dataset", "register", "--participant", id, "--name", "heart", "--file", DataFile(file), "--schema", Schema,
                "--description", $"UCI Heart Disease, {file}", "--category", "health", "--category", "personal", "--category", "special-category",
                "--jurisdiction", id[..2], "--licence", "CC BY 4.0", "--privacy-unit", "person", "--epsilon-cap", "10"));
        Drafted = await Cli.SucceedsAsync("agreement", "draft", "--terms", WriteTerms("terms.json", Terms()));
        Proposed = await Cli.SucceedsAsync("agreement", "propose", "--id", AgreementId);
        foreach (var (id, _, _) in Organisations)
            Signed.Add(await Cli.SucceedsAsync("agreement", "sign", "--id", AgreementId, "--as", id, "--terms-digest", (string)Proposed["termsDigest"]!));
        Baseline = ((await Cli.RunAsync("org", "show")).Succeeded().Output, (await Cli.RunAsync("dataset", "list")).Succeeded().Output,
            (await Cli.RunAsync("agreement", "show", "--id", AgreementId)).Succeeded().Output);
    }

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// `federation org | dataset | agreement` over an embedded federation: the whole flow to a job, and bad input refused with
/// the option, file or JSON path named and nothing stored lost.
/// </summary>
public sealed class GovernanceCommandTests(GovernanceCliFederation federation) : IClassFixture<GovernanceCliFederation>
{
    private CliRunner Cli => federation.Cli;

    [Fact]
    public async Task Three_organisations_set_up_by_the_command_line_run_a_job_under_their_agreement()
    {
        // org init: each entry is signed by its own new key, serial 1.
        Assert.Equal(["CH/zurich", "HU/budapest", "US/cleveland"], federation.Entries.Select(e => (string)e["entry"]!["id"]!));
        Assert.All(federation.Entries, e => Assert.Equal(1, (int)e["entry"]!["serial"]!));
        // org add: the first record admits all three.
        Assert.Equal(1, (int)federation.Admitted["serial"]!);
        Assert.Equal(["CH/zurich", "HU/budapest", "US/cleveland"], federation.Admitted["admitted"]!.AsArray().Select(n => (string)n!));
        // dataset register: the catalog holds each file's hash and row count (metadata only).
        foreach (var (dataset, (id, _, file)) in federation.Datasets.Zip(GovernanceCliFederation.Organisations))
        {
            Assert.Equal(id, (string)dataset["organisation"]!);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(GovernanceCliFederation.DataFile(file)))), (string)dataset["fileSha256"]!);
            Assert.Equal(["health", "personal", "special-category"], dataset["categories"]!.AsArray().Select(c => (string)c!));
        }
        // draft → proposed → each signature → active, under one terms digest.
        Assert.Equal("draft", (string)federation.Drafted["state"]!);
        Assert.Equal("proposed", (string)federation.Proposed["state"]!);
        Assert.Equal((string)federation.Drafted["termsDigest"]!, (string)federation.Proposed["termsDigest"]!);
        Assert.Equal(["proposed", "proposed", "active"], federation.Signed.Select(s => (string)s["state"]!));
        Assert.Equal([2, 1, 0], federation.Signed.Select(s => s["unsigned"]!.AsArray().Count));
        var shown = JsonNode.Parse(federation.Baseline.Agreement)!;
        Assert.Equal("active", (string)shown["state"]!);
        Assert.Empty(shown["problems"]!.AsArray());

        // org show: the verified membership, with each organisation's members and key fingerprint.
        var members = JsonNode.Parse(federation.Baseline.Members)!;
        Assert.Equal("cli-heart", (string)members["federation"]!);
        var zurich = members["organisations"]!.AsArray().Single(o => (string)o!["id"]! == "CH/zurich")!;
        Assert.Equal("University Hospital Zurich", (string)zurich["legalName"]!);
        Assert.Equal(2, zurich["members"]!.AsArray().Count);
        Assert.Matches("^[0-9a-f]{64}$", (string)zurich["keyFingerprint"]!);

        // A job under the agreement. `round run` sets up what its federation file says, which is what the commands did:
        // nothing changes (the membership, the catalog and the agreement stay as they were).
        var manifest = new JsonObject
        {
            ["name"] = "cli-heart",
            ["participants"] = new JsonArray([.. GovernanceCliFederation.Organisations.Select(o => (JsonNode)new JsonObject
            {
                ["id"] = o.Id,
                ["legalName"] = o.LegalName,
                ["members"] = new JsonArray([.. GovernanceCliFederation.Members(o.Id).Where((_, i) => i % 2 == 1).Select(m => (JsonNode)new JsonObject
                {
                    ["name"] = m[..m.LastIndexOf(':')],
                    ["role"] = m[(m.LastIndexOf(':') + 1)..],
                })]),
                ["datasets"] = new JsonArray(new JsonObject
                {
                    ["name"] = "heart", ["file"] = GovernanceCliFederation.DataFile(o.File), ["schema"] = GovernanceCliFederation.Schema,
                }),
            })]),
        };
        File.WriteAllText(federation.File("federation.json"), manifest.ToJsonString());
        File.WriteAllText(federation.File("job.json"), new JsonObject
        {
            ["name"] = "cli-flow", ["federation"] = federation.File("federation.json"), ["agreement"] = GovernanceCliFederation.AgreementId,
            ["aggregatorCountry"] = "CH", ["dataset"] = "heart", ["model"] = new JsonObject { ["type"] = "logistic", ["inputs"] = 15, ["classes"] = 2 },
            ["rounds"] = 2, ["strategy"] = new JsonObject { ["name"] = "fedavg" },
            ["training"] = new JsonObject { ["epochs"] = 1, ["batchSize"] = 8, ["optimizer"] = "sgd", ["learningRate"] = 0.05 },
        }.ToJsonString());
        var run = (await Cli.RunAsync("round", "run", "--config", federation.File("job.json"), "--job-id", "CH/cli-flow")).Succeeded();
        var result = JsonNode.Parse(run.Output.TrimEnd().Split('\n')[^1])!;
        Assert.Equal("completed", (string)result["status"]!);
        Assert.Equal(3, result["participants"]!.AsArray().Count);

        Assert.Equal(federation.Baseline.Members, (await Cli.RunAsync("org", "show")).Succeeded().Output);
        Assert.Equal(federation.Baseline.Datasets, (await Cli.RunAsync("dataset", "list")).Succeeded().Output);

        // `org init` again with the same details gives the same entry (no new serial for the operator to admit).
        var again = await Cli.SucceedsAsync(["org", "init", "--id", "HU/budapest", "--legal-name", "Hungarian Institute of Cardiology", .. GovernanceCliFederation.Members("HU/budapest")]);
        Assert.Equal(federation.Entries[1]["entry"]!.ToJsonString(), again["entry"]!.ToJsonString());
    }

    [Fact]
    public async Task Bad_terms_are_refused_naming_the_file_and_the_json_path_and_the_agreement_stays_as_it_was()
    {
        // Terms for the active agreement's id: even a valid draft would be refused, but these fail before that, each naming its field.
        var cases = new (string Name, Action<JsonObject> Change, string[] Named)[]
        {
            ("unknown-field", t => t["colour"] = "red", ["$.colour"]),
            ("non-member", t => t["parties"]!.AsArray().Add(new JsonObject { ["organisation"] = "AT/vienna", ["datasets"] = new JsonArray("heart") }),
                ["$.parties[3].organisation", "'AT/vienna' is not a member"]),
            ("unknown-dataset", t => t["parties"]![1]!["datasets"] = new JsonArray("lungs"), ["$.parties[1].datasets[0]", "lungs"]),
            ("expired", t => { t["validFrom"] = "2020-01-01T00:00:00Z"; t["validUntil"] = "2021-01-01T00:00:00Z"; }, ["$.validUntil"]),
        };
        foreach (var (name, change, named) in cases)
        {
            var terms = GovernanceCliFederation.Terms();
            change(terms);
            var file = federation.WriteTerms($"{name}.json", terms);
            (await Cli.RunAsync("agreement", "draft", "--terms", file)).Refused([file, .. named]);
        }
        // Valid terms for an agreement every party signed: its terms no longer change.
        var edited = GovernanceCliFederation.Terms();
        edited["title"] = "Another title";
        (await Cli.RunAsync("agreement", "draft", "--terms", federation.WriteTerms("edited.json", edited))).Refused("cannot edit terms in state active");

        Assert.Equal(federation.Baseline.Agreement, (await Cli.RunAsync("agreement", "show", "--id", GovernanceCliFederation.AgreementId)).Succeeded().Output);
    }

    [Fact]
    public async Task An_entry_whose_signature_does_not_verify_is_not_admitted_and_the_membership_stays_as_it_was()
    {
        var entry = JsonNode.Parse(File.ReadAllText(federation.File("HU-budapest.entry.json")))!;
        entry["entry"]!["legalName"] = "Someone Else Entirely";
        entry["entry"]!["serial"] = 2;
        File.WriteAllText(federation.File("forged.entry.json"), entry.ToJsonString());
        (await Cli.RunAsync("org", "add", "--entry", federation.File("forged.entry.json"))).Refused("--entry", "HU/budapest", "does not verify");

        var broken = federation.File("broken.entry.json");
        File.WriteAllText(broken, """{"entry": {"id": "HU/budapest"}}""");
        (await Cli.RunAsync("org", "add", "--entry", broken)).Refused(broken, "$.signatures");
        (await Cli.RunAsync("org", "add", "--entry", federation.File("none.json"))).Refused("--entry", "does not exist");
        (await Cli.RunAsync("org", "add", "--entry", federation.File("CH-zurich.entry.json"), "--federation", "other")).Refused("--federation", "cli-heart");

        Assert.Equal(federation.Baseline.Members, (await Cli.RunAsync("org", "show")).Succeeded().Output);
    }

    [Fact]
    public async Task Bad_options_are_refused_naming_the_option()
    {
        (await Cli.RunAsync("org", "init", "--id", "HU/pécs", "--legal-name", "x", "--member", "A:organisation-admin")).Refused("--id");
        (await Cli.RunAsync("org", "init", "--id", "HU/pecs", "--legal-name", "x", "--member", "Ann:boss")).Refused("--member", "'boss'", "organisation-admin");
        (await Cli.RunAsync("org", "init", "--id", "HU/pecs", "--legal-name", "x", "--member", "Ann:auditor")).Refused("--member", "organisation-admin");
        (await Cli.RunAsync("org", "init", "--id", "HU/pecs", "--legal-name", "x")).Refused("--member");
        (await Cli.RunAsync("org", "show", "--id", "AT/vienna")).Refused("--id", "'AT/vienna' is not a member");
        (await Cli.RunAsync("dataset", "show", "--participant", "HU/budapest", "--name", "lungs")).Refused("--name", "lungs");
        (await Cli.RunAsync("agreement", "show", "--id", "no-such-agreement")).Refused("--id", "no-such-agreement");
        (await Cli.RunAsync("agreement", "sign", "--id", GovernanceCliFederation.AgreementId, "--as", "HU/budapest", "--terms-digest", new string('0', 64)))
            .Refused("--terms-digest", (string)federation.Proposed["termsDigest"]!);
        (await Cli.RunAsync("agreement", "suspend", "--id", GovernanceCliFederation.AgreementId, "--as", "HU/budapest", "--reason", " ")).Refused("--reason");
        (await Cli.RunAsync("serve", "--country", "HU", "--approver-key", "budapest=key.pub")).Refused("--approver-key", "'budapest=key.pub'", "HU/budapest");
        (await Cli.RunAsync("serve", "--country", "HU", "--approver-key", $"HU/budapest={federation.File("none.pub")}")).Refused("--approver-key HU/budapest", "does not exist");
        var notAKey = federation.File("not-a-key.pub");
        File.WriteAllText(notAKey, "not a key");
        (await Cli.RunAsync("serve", "--country", "HU", "--approver-key", $"HU/budapest={notAKey}")).Refused("--approver-key HU/budapest", "not an ECDSA P-256 public key");
        (await Cli.RunAsync("serve", "--country", "HU", "--operator-key", federation.File("none.pub"))).Refused("--operator-key", "does not exist");

        Assert.Equal(federation.Baseline.Agreement, (await Cli.RunAsync("agreement", "show", "--id", GovernanceCliFederation.AgreementId)).Succeeded().Output);
    }

    [Fact]
    public async Task A_party_whose_approver_key_is_not_at_hand_signs_nothing_and_the_agreement_stays_as_it_was()
    {
        // The approver key stays with the organisation, outside the cluster; without it the command cannot approve, and
        // the participant signs nothing on its own.
        var key = Path.Combine(Cli.DataDirectory, "approvers", "US-cleveland.key");
        Assert.True(File.Exists(key));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        File.Move(key, key + ".away");
        try
        {
            (await Cli.RunAsync("agreement", "suspend", "--id", GovernanceCliFederation.AgreementId, "--as", "US/cleveland", "--reason", "data quality review"))
                .Refused(key, "federation org init --id US/cleveland");
        }
        finally
        {
            File.Move(key + ".away", key);
        }
        Assert.Equal(federation.Baseline.Agreement, (await Cli.RunAsync("agreement", "show", "--id", GovernanceCliFederation.AgreementId)).Succeeded().Output);
    }

    [Fact]
    public async Task A_dataset_that_cannot_be_registered_changes_nothing_in_the_catalog()
    {
        string[] Register(string participant, string file, params string[] changed)
        {
            var args = new List<string> { "dataset", "register", "--participant", participant, "--name", "heart", "--file", file, "--schema", GovernanceCliFederation.Schema,
                "--category", "health", "--category", "personal", "--jurisdiction", participant[..2], "--licence", "CC BY 4.0", "--privacy-unit", "person", "--epsilon-cap", "10" };
            for (int i = 0; i < changed.Length; i += 2)
                args[args.IndexOf(changed[i]) + 1] = changed[i + 1];
            return [.. args];
        }
        var good = GovernanceCliFederation.DataFile("hungarian.data");
        var malformed = federation.File("malformed.csv");
        File.WriteAllLines(malformed, ["63,1,1,145,233,1,2,150,0,2.3,3,0,6,0", "67,1,four,160,286,0,2,108,1,1.5,2,3,3,2"]);
        (await Cli.RunAsync(Register("HU/budapest", malformed))).Refused("malformed.csv, line 2, column 3 'cp'", "not a category of 'cp'");
        (await Cli.RunAsync(Register("HU/budapest", good, "--category", "medical"))).Refused("--category", "'medical'");
        (await Cli.RunAsync(Register("HU/budapest", good, "--privacy-unit", "patient"))).Refused("--privacy-unit");
        (await Cli.RunAsync(Register("HU/budapest", good, "--jurisdiction", "hu"))).Refused("--jurisdiction");
        (await Cli.RunAsync(Register("HU/budapest", good, "--epsilon-cap", "0"))).Refused("--epsilon-cap");
        (await Cli.RunAsync([.. Register("HU/budapest", good), "--sha256", new string('a', 64)])).Refused("SHA-256", new string('a', 64));

        // An organisation that made its key but was never admitted cannot sign catalog entries the federation accepts.
        (await Cli.RunAsync("org", "init", "--id", "HU/pecs", "--legal-name", "University of Pécs", "--member", "Pál:organisation-admin")).Succeeded();
        (await Cli.RunAsync(Register("HU/pecs", good))).Refused("HU/pecs", "not a member");

        Assert.Equal(federation.Baseline.Datasets, (await Cli.RunAsync("dataset", "list")).Succeeded().Output);
    }

    [Fact]
    public async Task An_agreement_is_suspended_resumed_only_by_its_suspender_and_terminated_for_good()
    {
        const string id = "heart-cli-lifecycle";
        var digest = (string)(await Cli.SucceedsAsync("agreement", "draft", "--terms", federation.WriteTerms("lifecycle.json", GovernanceCliFederation.Terms(id))))["termsDigest"]!;
        Assert.Equal("proposed", (string)(await Cli.SucceedsAsync("agreement", "propose", "--id", id))["state"]!);
        (await Cli.RunAsync("agreement", "suspend", "--id", id, "--as", "HU/budapest", "--reason", "too early")).Refused("cannot suspend in state proposed");
        foreach (var (party, _, _) in GovernanceCliFederation.Organisations)
            await Cli.SucceedsAsync("agreement", "sign", "--id", id, "--as", party, "--terms-digest", digest);

        var suspended = await Cli.SucceedsAsync("agreement", "suspend", "--id", id, "--as", "HU/budapest", "--reason", "data quality review");
        Assert.Equal("suspended", (string)suspended["state"]!);
        (await Cli.RunAsync("agreement", "resume", "--id", id, "--as", "CH/zurich", "--reason", "not ours to resume"))
            .Refused("only 'HU/budapest', who suspended the agreement, can resume it");
        Assert.Equal("active", (string)(await Cli.SucceedsAsync("agreement", "resume", "--id", id, "--as", "HU/budapest", "--reason", "review done"))["state"]!);
        var terminated = await Cli.SucceedsAsync("agreement", "terminate", "--id", id, "--as", "US/cleveland", "--reason", "study closed");
        Assert.Equal("terminated", (string)terminated["state"]!);
        Assert.Equal(["suspend", "resume", "terminate"], terminated["statusChanges"]!.AsArray().Select(c => (string)c!["kind"]!));
        Assert.Equal("study closed", (string)terminated["statusChanges"]![2]!["reason"]!);
        (await Cli.RunAsync("agreement", "resume", "--id", id, "--as", "US/cleveland", "--reason", "changed our mind")).Refused("cannot resume in state terminated");

        Assert.Equal(terminated.ToJsonString(), (await Cli.SucceedsAsync("agreement", "show", "--id", id)).ToJsonString());
    }
}
