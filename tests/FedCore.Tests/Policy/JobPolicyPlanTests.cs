using FedCore.Governance.Agreements;
using FedCore.Learning;
using FedCore.Policy.Decisions;
using FedCore.Policy.Packs;
using FedCore.Policy.Plans;
using FedCore.Privacy;
using FedCore.Privacy.Accounting;
using static FedCore.Tests.Governance.GovernanceFixture;

namespace FedCore.Tests.Policy;

/// <summary>A real job, its agreement, membership and catalog, mapped to a plan and decided on the repository's policies/.</summary>
public sealed class JobPolicyPlanTests
{
    private static readonly DateTimeOffset At = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly PolicySet Policies = PolicySetLoader.Load(PolicyFixture.RepositoryPolicies);

    private static JobPolicyFacts Job(DpSgdParameters? privacy = null) => new(
        "CH/heart-job", null, true, 20, ModelKind.Logistic, "fedavg", ProtectionScheme.Ckks, "CH",
        [.. Parties.Select(p => new PlannedParticipant(p.Id, "heart"))], 2.0 / 3, 8, 1, privacy);

    /// <summary>The fixture's terms with what the policies need stated: Budapest's Art. 9(2)(j) basis, SCCs with an assessment for HU→US.</summary>
    private static AgreementTerms Stated() => Terms() with
    {
        DifferentialPrivacy = null,
        Parties = [.. Terms().Parties.Select(p => p.Organisation == Budapest.Id ? p with { Attestations = ["gdpr-art9-research"] } : p)],
        TransferMechanisms = [new TransferMechanismTerms("HU", "US", "eu-scc-2021", true)],
    };

    private static PolicyPlan Plan(AgreementTerms terms, DpSgdParameters? privacy = null, Dictionary<string, double>? spent = null) =>
        JobPolicyPlan.For(Job(privacy), terms, Membership(), Catalog(), spent ?? [], At);

    [Fact]
    public void The_plan_carries_countries_from_the_membership_and_what_each_party_signed()
    {
        var plan = Plan(Stated());
        var budapest = plan.Participants.Single(p => p.Organisation == Budapest.Id);
        Assert.Equal("HU", budapest.Country);
        Assert.Equal(["gdpr-art9-research"], budapest.Attestations.ToArray());
        Assert.Equal(["health", "personal", "special-category"], budapest.Datasets[0].Categories.Order().ToArray());
        Assert.Equal(303, budapest.Datasets[0].Rows);
        Assert.True(plan.Recurring);
        Assert.Equal(["CH"], plan.UpdateDestinations.Select(r => r.Country));
        // The model goes to the parties in each destination country; the two US hospitals state the same of themselves, so
        // they are one recipient named by both.
        Assert.Equal("US/cleveland, US/long-beach", Assert.Single(plan.FinalModelDestinations, r => r.Country == "US").Organisation);
        Assert.Single(plan.Agreement.TransferMechanisms);
    }

    [Fact]
    public void Without_an_art9_basis_and_a_mechanism_for_the_us_the_job_is_denied_naming_the_rules_and_with_them_it_is_allowed()
    {
        var denied = PolicyEngine.Evaluate(Policies, Plan(Terms()));
        Assert.False(denied.Allowed);
        Assert.Contains(denied.DenyReasons, r => r.StartsWith("gdpr-art9-special-categories (gdpr, GDPR Art. 9", StringComparison.Ordinal));
        Assert.Contains(denied.DenyReasons, r => r.Contains("no lawful basis for transfer HU→US (final-model) under gdpr"));

        var allowed = PolicyEngine.Evaluate(Policies, Plan(Stated()));
        Assert.True(allowed.Allowed, string.Join("\n", allowed.DenyReasons));
    }

    [Fact]
    public void A_participant_decides_for_itself_under_the_packs_that_govern_its_own_transfers()
    {
        var budapest = PolicyEngine.EvaluateFor(Policies, Plan(Terms()), Budapest.Id);
        Assert.False(budapest.Allowed);
        Assert.Equal(Budapest.Id, budapest.Exporter);
        Assert.Equal(["gdpr"], budapest.Packs.ToArray());
        Assert.All(budapest.Transfers, t => Assert.Equal(Budapest.Id, t.Transfer.Sender.Organisation));
        Assert.Contains(budapest.DenyReasons, r => r.StartsWith("gdpr-art9-special-categories", StringComparison.Ordinal));

        // No pack governs what leaves the United States: Cleveland applies no law of another country, nor the job's rules.
        var cleveland = PolicyEngine.EvaluateFor(Policies, Plan(Terms()), Cleveland.Id);
        Assert.True(cleveland.Allowed);
        Assert.Empty(cleveland.Packs);
        Assert.Contains("\"exporter\": \"US/cleveland\"", System.Text.Encoding.UTF8.GetString(cleveland.ToJson()));
        Assert.Throws<ArgumentException>(() => PolicyEngine.EvaluateFor(Policies, Plan(Terms()), "DE/nobody"));
    }

    [Fact]
    public void Under_dp_the_plan_states_the_most_any_dataset_spends_and_the_federation_denies_what_a_budget_cannot_cover()
    {
        var privacy = new DpSgdParameters(1, 1.1, 1e-5);
        var withDp = Stated() with { DifferentialPrivacy = Terms().DifferentialPrivacy };
        var plan = Plan(withDp, privacy, Parties.ToDictionary(p => p.Id, _ => 0.0));
        // 303 catalog rows, 2/3 of them for training: 202 rows, q = 8/202, 26 steps a round, 20 rounds.
        double expected = SampledGaussian.Epsilon(8.0 / 202, 1.1, 26 * 20, 1e-5).Epsilon;
        Assert.Equal((decimal)Math.Round(expected, 6), plan.Dp!.Epsilon);

        // The agreement caps ε at 1.5 and each dataset at 8.5: a job planned past them is denied by the federation's rules.
        var decision = PolicyEngine.Evaluate(Policies, plan);
        Assert.Equal(expected > 1.5, decision.DenyReasons.Any(r => r.StartsWith("fed-dp-agreement-epsilon", StringComparison.Ordinal)));
        var spent = PolicyEngine.Evaluate(Policies, Plan(withDp, privacy, Parties.ToDictionary(p => p.Id, _ => 8.4)));
        Assert.Contains(spent.DenyReasons, r => r.StartsWith("fed-dp-dataset-budget", StringComparison.Ordinal));
        // A budget no ledger reported is unknown, and what is unknown denies.
        var unknown = PolicyEngine.Evaluate(Policies, Plan(withDp, privacy));
        // And the agreement's DP terms require DP: the same job without it is denied.
        Assert.Contains(PolicyEngine.Evaluate(Policies, Plan(withDp)).DenyReasons, r => r.StartsWith("fed-dp-required-by-agreement", StringComparison.Ordinal));
        Assert.Contains(unknown.DenyReasons, r => r.StartsWith("fed-dp-dataset-budget", StringComparison.Ordinal) && r.Contains("undetermined"));
    }

    [Fact]
    public void A_vanishing_noise_multiplier_is_denied_with_its_reason_not_a_crash()
    {
        // Security review of the DP work: σ = 1e-20 made the planned ε too large for a decimal, and the job failed with no
        // decision stored. Now the plan states the largest ε there is and the federation's rules deny it.
        var withDp = Stated() with { DifferentialPrivacy = Terms().DifferentialPrivacy };
        var plan = Plan(withDp, new DpSgdParameters(1, 1e-20, 1e-5), Parties.ToDictionary(p => p.Id, _ => 0.0));
        Assert.Equal(decimal.MaxValue, plan.Dp!.Epsilon);
        var decision = PolicyEngine.Evaluate(Policies, plan);
        Assert.Contains(decision.DenyReasons, r => r.StartsWith("fed-dp-agreement-epsilon", StringComparison.Ordinal));
        Assert.Contains(decision.DenyReasons, r => r.StartsWith("fed-dp-dataset-budget", StringComparison.Ordinal));
        // Nor does a clipping norm beyond a decimal's range crash the mapping.
        Assert.Equal(decimal.MaxValue, Plan(withDp, new DpSgdParameters(1e300, 1.1, 1e-5), Parties.ToDictionary(p => p.Id, _ => 0.0)).Dp!.ClippingNorm);
    }

    [Fact]
    public void A_plan_file_with_more_rows_than_any_dataset_has_is_bad_input_not_an_overflow()
    {
        // Security review: two datasets of long.MaxValue rows made the engine's sum overflow.
        var json = System.Text.Encoding.UTF8.GetString(System.IO.File.ReadAllBytes(
            System.IO.Path.Combine(FedCore.Tests.Data.DataTestSupport.RepositoryRoot(), "tests", "FedCore.Tests", "Policy", "Scenarios", "fed-two-participants.json")));
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        node["participants"]![0]!["datasets"]![0]!["rows"] = long.MaxValue;
        var error = Assert.Throws<FedCore.Governance.GovernanceFormatException>(() =>
            PolicyPlanJson.Parse(System.Text.Encoding.UTF8.GetBytes(node.ToJsonString()), "plan.json"));
        Assert.Equal("$.participants[0].datasets[0].rows", error.JsonPath);
    }

    [Fact]
    public void A_job_that_keeps_an_eea_participants_transfers_inside_the_eea_cannot_make_its_own_silo_skip_art9()
    {
        // Security review: with the aggregator and the final model in the EEA, no GDPR chapter V pack governed Budapest's
        // transfers, so its own decision applied no pack and let special-category data train without an Art. 9 basis.
        // Budapest's view of such a plan, reduced to itself: the aggregator and every model in Hungary, no transfer at all.
        var inEea = Terms() with { DifferentialPrivacy = null, UpdateDestinations = ["HU"], FinalModelDestinations = ["HU"] };
        var full = JobPolicyPlan.For(Job() with { AggregatorCountry = "HU" }, inEea, Membership(), Catalog(), new Dictionary<string, double>(), At);
        var plan = full with
        {
            Participants = [.. full.Participants.Where(p => p.Organisation == Budapest.Id)],
            FinalModelDestinations = [.. full.FinalModelDestinations.Where(r => r.Country == "HU")],
        };
        Assert.Empty(PolicyTransfer.Derive(plan));

        var budapest = PolicyEngine.EvaluateFor(Policies, plan, Budapest.Id);
        Assert.Equal(["gdpr"], budapest.Packs.ToArray());
        Assert.Contains(budapest.DenyReasons, r => r.StartsWith("gdpr-art9-special-categories", StringComparison.Ordinal));

        // Nor does declaring updates and models not personal data switch Art. 9 off.
        var notPersonal = Policies with { Settings = new PolicySettings(false, false) };
        Assert.Contains(PolicyEngine.EvaluateFor(notPersonal, plan, Budapest.Id).DenyReasons, r => r.StartsWith("gdpr-art9-special-categories", StringComparison.Ordinal));
    }
}
