using FedCore.Policy.Packs;
using Federation.Contracts.Directory;
using Federation.Contracts.Errors;
using Federation.Contracts.Jobs;
using Federation.Contracts.Participants;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Federation.Silo.Tests.Governance;

/// <summary>
/// Policies decide every job and round: the job before it starts and before each round, every participant for itself
/// before it trains, each on its own silo's policy folder. Real silos, real grains, the sample federation.
/// </summary>
public sealed class PolicyDecisionTests
{
    private static string RepositoryPolicies => Path.Combine(TestPaths.Root, "policies");

    /// <summary>A copy of the repository's policies, changed by <paramref name="edit"/> (file name, text → text).</summary>
    private static string PoliciesCopy(TempDirectory dir, Func<string, string, string>? edit = null)
    {
        var folder = dir.File("policies");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(RepositoryPolicies, "*.yaml"))
            File.WriteAllText(Path.Combine(folder, Path.GetFileName(file)), edit?.Invoke(Path.GetFileName(file), File.ReadAllText(file)) ?? File.ReadAllText(file));
        return folder;
    }

    [Fact]
    public async Task The_job_decides_before_it_starts_and_before_each_round_and_stores_every_decision()
    {
        using var dir = new TempDirectory("federation-policy-job");
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US", "HU", "CH"));
        await TestFederations.SetUpSampleAsync(federation);

        var status = await TestFederations.RunToCompletionAsync(federation, TestFederations.SampleJob with { Rounds = 2 }, "CH/policy-job");

        Assert.Equal([null, 1, 2], status.PolicyDecisions.Select(d => d.Round));
        Assert.All(status.PolicyDecisions, d => Assert.True(d.Allowed, string.Join("; ", d.DenyReasons)));
        Assert.All(status.PolicyDecisions, d => Assert.Equal(PolicySetLoader.Load(RepositoryPolicies).Hash, d.PolicySetHash));
        var job = federation.Grains.GetGrain<ITrainingJobGrain>("CH/policy-job");
        var json = await job.GetPolicyDecision(0);
        Assert.Equal(status.PolicyDecisions[0].DecisionSha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(json))));
        var decision = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        Assert.Equal("allow", (string)decision["decision"]!);
        // Budapest's final model reaches the US under the agreement's SCCs: the decision shows the rule and what it read.
        Assert.Contains(decision["transfers"]!.AsArray(), t => (string)t!["transfer"]! == "HU→US (final-model) of HU/budapest to US/cleveland, US/long-beach"
            && t["packs"]!.AsArray().Any(p => p!["rules"]!.AsArray().Any(r => (string)r!["rule"]! == "gdpr-art46-2c-standard-contractual-clauses" && (string)r["outcome"]! == "fired")));
    }

    [Fact]
    public async Task A_job_cannot_skip_a_countrys_law_the_aggregators_silo_allows_what_hungarys_denies_and_budapest_gives_nothing_of_its_rows()
    {
        using var dir = new TempDirectory("federation-policy-country");
        // Hungary's silo reads Art. 9 more strictly: only explicit consent counts, not the research exception Budapest states.
        var hungarian = PoliciesCopy(dir, (name, text) => name == "gdpr-chapter-v.yaml"
            ? text.Replace("art9Bases: [gdpr-art9-explicit-consent, gdpr-art9-research, gdpr-art9-public-health]", "art9Bases: [gdpr-art9-explicit-consent]")
            : text);
        var options = TestFederations.Options(dir.Path, "US", "HU", "CH") with { PoliciesDirectories = new Dictionary<string, string> { ["HU"] = hungarian } };
        await using var federation = await LocalFederation.StartAsync(options);
        await TestFederations.SetUpSampleAsync(federation);

        var status = await TestFederations.RunAsync(federation, TestFederations.SampleJob with { Rounds = 2 }, "CH/policy-country");

        Assert.Equal(JobPhase.Failed, status.Phase);
        Assert.Equal(0, status.CompletedRounds);
        Assert.True(status.PolicyDecisions[0].Allowed, "the job's own silo allowed the job");
        // It refuses at the first step that would send something of its rows, its feature moments, and so at every later one.
        Assert.Contains("Participant HU/budapest refuses to compute feature moments", status.Error);
        Assert.Contains("its country's policies deny it", status.Error);
        Assert.Contains("gdpr-art9-special-categories", status.Error);
        var budapest = federation.Grains.GetGrain<Federation.Contracts.Participants.IParticipantGrain>("HU/budapest");
        var refused = await Assert.ThrowsAsync<FederationOperationException>(() => budapest.ComputeFeatureMoments("CH/policy-country"));
        Assert.Equal("policy.denied", refused.Code);

        // The audit log holds Budapest's deny with its reasons, under Hungary's policy set and not Switzerland's, and no round.
        var entries = (await federation.Grains.GetGrain<Federation.Contracts.Audit.IAuditLogGrain>(0).GetEntries(0, int.MaxValue))
            .Select((b, i) => FedCore.Audit.Entries.AuditEntryJson.Read(b, $"entry {i}")).Where(e => e["job"]?.AsString == "CH/policy-country").ToList();
        // Two: the job's request, and the test's own call above.
        var denials = entries.Where(e => e.Kind == FedCore.Audit.Entries.AuditEventKind.PolicyDecided && e["participant"]?.AsString == "HU/budapest"
            && e["effect"]!.AsString == "deny" && e["step"]!.AsString == "compute feature moments").ToList();
        Assert.Equal(2, denials.Count);
        var denied = denials[0];
        Assert.Equal("HU", denied.Country);
        Assert.Equal(PolicySetLoader.Load(hungarian).Hash, denied["setHash"]!.AsDigest.Hex);
        Assert.Contains(denied["rules"]!.Items, r => r.AsString.Contains("art9", StringComparison.Ordinal));
        Assert.NotEmpty(denied["reasons"]!.Items);
        Assert.DoesNotContain(entries, e => e.Kind == FedCore.Audit.Entries.AuditEventKind.RoundStarted);
    }

    // Reading the set in force records nothing; only a decision records the set it used.
    private static readonly AuditTrail UnrecordedTrail = new(null!, new SiloCountry("CH"), TimeProvider.System);

    [Fact]
    public void A_policy_folder_that_breaks_keeps_the_last_good_set_and_a_silo_without_one_decides_nothing()
    {
        using var dir = new TempDirectory("federation-policy-reload");
        var folder = PoliciesCopy(dir);
        var policies = new SiloPolicies(new FederationSiloOptions { Country = "CH", DataDirectory = dir.Path, PoliciesDirectory = folder }, UnrecordedTrail, NullLogger<SiloPolicies>.Instance);
        var good = policies.Current().Hash;

        File.AppendAllText(Path.Combine(folder, "federation.yaml"), "\n  - id: [unclosed\n");
        Assert.Equal(good, policies.Current().Hash);

        var fresh = new SiloPolicies(new FederationSiloOptions { Country = "CH", DataDirectory = dir.Path, PoliciesDirectory = folder }, UnrecordedTrail, NullLogger<SiloPolicies>.Instance);
        var broken = Assert.Throws<FederationOperationException>(() => fresh.Current());
        Assert.Equal("policy.unavailable", broken.Code);
        Assert.Contains("federation.yaml", broken.Message);

        var none = new SiloPolicies(new FederationSiloOptions { Country = "CH", DataDirectory = dir.Path, PoliciesDirectory = null }, UnrecordedTrail, NullLogger<SiloPolicies>.Instance);
        Assert.Contains("no policy folder configured", Assert.Throws<FederationOperationException>(() => none.Current()).Message);
    }

    [Fact]
    public async Task Anyone_in_the_cluster_who_replays_an_older_catalog_entry_of_budapests_dataset_gets_a_refusal_not_a_decision_on_stale_facts()
    {
        // Security review: the relay accepts any validly signed entry, an older one too; Budapest decided its own law on
        // the categories of its dataset's first registration after the steward had corrected them.
        using var dir = new TempDirectory("federation-policy-replay");
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US", "HU", "CH"));
        await TestFederations.SetUpSampleAsync(federation);
        var directory = federation.Grains.GetGrain<IFederationDirectoryGrain>(0);
        var dataset = TestFederations.SampleManifest.Participants.Single(p => p.Id == "HU/budapest").Datasets.Single();
        DatasetRegistration Registration(IReadOnlyList<string> categories) => new(dataset.Name, dataset.CsvPath, File.ReadAllText(dataset.SchemaPath), dataset.SchemaPath,
            new DatasetCatalogDetails(dataset.Description, categories, dataset.Jurisdiction, dataset.Licence, dataset.PrivacyUnit, dataset.EpsilonCap));
        await federation.Approvers!.RegisterDatasetAsync(federation.Grains, "HU/budapest", Registration(["personal"]));
        var older = await directory.GetCatalog();
        await federation.Approvers!.RegisterDatasetAsync(federation.Grains, "HU/budapest", Registration(dataset.Categories));

        await directory.PublishDatasets(older);
        var status = await TestFederations.RunAsync(federation, TestFederations.SampleJob with { Rounds = 1 }, "CH/policy-replay");

        Assert.Equal(JobPhase.Failed, status.Phase);
        Assert.Contains("Participant HU/budapest refuses to", status.Error);
        Assert.Contains("the catalog's entry for its dataset 'heart' is not the one it registered", status.Error);
    }

    [Fact]
    public async Task A_deny_that_comes_while_a_round_runs_stops_it_at_decryption_budapest_gives_no_share()
    {
        using var dir = new TempDirectory("federation-policy-midround");
        var hungarian = PoliciesCopy(dir);
        int tightened = 0;
        var options = TestFederations.Options(dir.Path, "US", "HU", "CH") with
        {
            PoliciesDirectories = new Dictionary<string, string> { ["HU"] = hungarian },
            // Hungary's silo reads Art. 9 more strictly from the moment Budapest is asked to check the first aggregate.
            ConfigureSilo = silo => silo.AddIncomingGrainCallFilter(async context =>
            {
                if (context.InterfaceMethod.Name == nameof(IParticipantGrain.CheckAggregate) && context.TargetId.Key.ToString() == "HU/budapest"
                    && Interlocked.Exchange(ref tightened, 1) == 0)
                {
                    var gdpr = Path.Combine(hungarian, "gdpr-chapter-v.yaml");
                    File.WriteAllText(gdpr, File.ReadAllText(gdpr).Replace(
                        "art9Bases: [gdpr-art9-explicit-consent, gdpr-art9-research, gdpr-art9-public-health]", "art9Bases: [gdpr-art9-explicit-consent]"));
                }
                await context.Invoke();
            }),
        };
        await using var federation = await LocalFederation.StartAsync(options);
        await TestFederations.SetUpSampleAsync(federation);

        var status = await TestFederations.RunAsync(federation, TestFederations.SampleJob with { Rounds = 2 }, "CH/policy-midround");

        Assert.Equal(1, tightened);
        Assert.Equal(JobPhase.Failed, status.Phase);
        Assert.Equal(0, status.CompletedRounds);
        Assert.Contains("Participant HU/budapest refuses to help decrypt", status.Error);
        Assert.Contains("gdpr-art9-special-categories", status.Error);
    }
}
