using System.Text;
using FedCore.Policy.Decisions;
using FedCore.Policy.Language;
using FedCore.Policy.Packs;
using FedCore.Policy.Plans;
using static FedCore.Tests.Policy.PolicyFixture;

namespace FedCore.Tests.Policy;

/// <summary>The engine's semantics: effects, transfers, governance, the closed world, rules in force, decisions.</summary>
public sealed class PolicyEvaluationTests
{
    private static PolicyPlan WithHungary(Func<PlanParticipant, PlanParticipant> change)
    {
        var plan = Plan();
        return plan with { Participants = [change(plan.Participants[0]), .. plan.Participants[1..]] };
    }

    private static PackRuling Ruling(PolicyDecision decision, string from, string to, TransferKind kind, string pack = "gdpr-test") =>
        decision.Transfers.Single(t => t.Transfer.From == from && t.Transfer.To == to && t.Transfer.Kind == kind).Packs.Single(p => p.Pack == pack);

    private static RuleOutcome Outcome(PackRuling ruling, string rule) => ruling.Rules.Single(r => r.Rule.Id == rule).Outcome;

    [Fact]
    public void The_sample_plan_is_allowed_and_every_transfer_is_derived()
    {
        var decision = Decide(RepositoryAndGdpr());
        Assert.True(decision.Allowed, string.Join("\n", decision.DenyReasons));
        // Updates: HU→CH, US→CH (CH's own stay home). Final model: each participant to the two other countries.
        Assert.Equal(["HU→CH (update)", "US→CH (update)", "HU→CH (final-model)", "HU→US (final-model)", "CH→HU (final-model)", "CH→US (final-model)",
                      "US→CH (final-model)", "US→HU (final-model)"],
            decision.Transfers.Select(t => $"{t.Transfer.From}→{t.Transfer.To} ({t.Transfer.KindName})"));
        Assert.Equal(RuleOutcome.Fired, Outcome(Ruling(decision, "HU", "CH", TransferKind.Update), "test-adequacy"));
        Assert.Equal(RuleOutcome.Fired, Outcome(Ruling(decision, "HU", "US", TransferKind.FinalModel), "test-scc"));
    }

    [Fact]
    public void A_deny_overrides_a_permit()
    {
        var decision = Decide(RepositoryAndGdpr(), WithHungary(p => p with { Attestations = [] }));
        var ruling = Ruling(decision, "HU", "CH", TransferKind.Update);
        Assert.Equal(RuleOutcome.Fired, Outcome(ruling, "test-adequacy"));
        Assert.Equal(RuleOutcome.Fired, Outcome(ruling, "test-art9"));
        Assert.False(ruling.Allows);
        Assert.False(decision.Allowed);
        Assert.Contains("transfer HU→CH (update) of HU/budapest to CH/zurich: test-art9 (gdpr-test, GDPR Art. 9(2)(a)): Special-category data leave only with explicit consent.", decision.DenyReasons);
    }

    [Fact]
    public void A_governed_transfer_without_a_permit_is_denied_naming_it()
    {
        var plan = Plan();
        var decision = Decide(RepositoryAndGdpr(), plan with { Agreement = plan.Agreement with { TransferMechanisms = [] } });
        Assert.False(decision.Allowed);
        Assert.Equal("no lawful basis for transfer HU→US (final-model) under gdpr-test: no permit rule fired for HU→US (final-model) of HU/budapest", string.Join("\n", decision.DenyReasons));
    }

    [Fact]
    public void A_mechanism_without_an_impact_assessment_is_no_basis()
    {
        var plan = Plan();
        var decision = Decide(RepositoryAndGdpr(), plan with { Agreement = plan.Agreement with { TransferMechanisms = [new("HU", "US", "eu-scc-2021", false)] } });
        Assert.Equal(RuleOutcome.DidNotFire, Outcome(Ruling(decision, "HU", "US", TransferKind.FinalModel), "test-scc"));
        Assert.False(decision.Allowed);
    }

    [Fact]
    public void An_ungoverned_transfer_is_not_ruled_on()
    {
        var decision = Decide(RepositoryAndGdpr());
        var ruling = Ruling(decision, "US", "CH", TransferKind.Update);
        Assert.Equal(GovernsOutcome.NotGoverned, ruling.Governance);
        Assert.Empty(ruling.Rules);
        Assert.True(ruling.Allows);
        Assert.Equal("US", ruling.Facts["transfer.from"]);
    }

    [Fact]
    public void With_updates_not_personal_data_the_pack_does_not_govern_updates()
    {
        var files = RepositoryEngineFiles().Where(f => f.Path != "settings.yaml").ToList();
        files.Add(PolicyFixture.File("gdpr-test.yaml", GdprLikePack));
        files.Add(PolicyFixture.File("settings.yaml", "updatesArePersonalData: false\nfinalModelIsPersonalData: true\n"));
        var set = PolicySetLoader.Load(files);

        // Without the Art. 9 consent the update would be denied, were it personal data.
        var decision = Decide(set, WithHungary(p => p with { Attestations = [] }));
        Assert.Equal(GovernsOutcome.NotGoverned, Ruling(decision, "HU", "CH", TransferKind.Update).Governance);
        Assert.Equal(false, Ruling(decision, "HU", "CH", TransferKind.Update).Facts["transfer.personalData"]);
        Assert.Equal(GovernsOutcome.Governed, Ruling(decision, "HU", "CH", TransferKind.FinalModel).Governance);
        Assert.All(decision.DenyReasons, r => Assert.Contains("(final-model)", r));
        Assert.False(decision.Settings.UpdatesArePersonalData);
    }

    [Fact]
    public void A_failing_require_at_plan_level_denies_with_its_reason()
    {
        var decision = Decide(RepositoryAndGdpr(), Plan() with { Protection = PlanProtection.PlaintextSimulation });
        var rule = decision.PlanRules.Single(r => r.Rule.Id == "fed-encryption-cross-border");
        Assert.Equal(RuleOutcome.Failed, rule.Outcome);
        Assert.Equal("plaintext-simulation", rule.Facts["plan.protection"]);
        Assert.Equal(true, rule.Facts["plan.updatesCrossBorder"]);
        Assert.Single(decision.DenyReasons);
        Assert.StartsWith("fed-encryption-cross-border (federation, Federation design (shared/DESIGN.md) Only homomorphically encrypted", decision.DenyReasons[0]);
    }

    [Fact]
    public void Plaintext_simulation_is_allowed_when_no_update_crosses_a_border()
    {
        var plan = Plan();
        var local = plan with
        {
            Protection = PlanProtection.PlaintextSimulation,
            Participants = [.. plan.Participants.Select(p => p with { Country = "CH" })],
            FinalModelDestinations = [PlanRecipient.InCountry("CH")],
        };
        var decision = Decide(RepositoryAndGdpr(), local);
        Assert.Empty(decision.Transfers);
        Assert.True(decision.Allowed, string.Join("\n", decision.DenyReasons));
    }

    [Theory]
    [InlineData(2, 3, "fed-min-participants")]
    [InlineData(3, 2, "fed-min-participants")]
    public void Fewer_than_three_participants_are_refused(int participants, int minimum, string rule)
    {
        var plan = Plan();
        var decision = Decide(RepositoryAndGdpr(), plan with { Participants = plan.Participants[..participants], MinParticipants = minimum });
        Assert.Contains(decision.PlanRules, r => r.Rule.Id == rule && r.Outcome == RuleOutcome.Failed);
    }

    [Fact]
    public void The_agreement_minimum_binds_the_job()
    {
        var plan = Plan();
        var decision = Decide(RepositoryAndGdpr(), plan with { Agreement = plan.Agreement with { MinParticipants = 4 } });
        Assert.Equal(["fed-min-participants-agreement"], decision.PlanRules.Where(r => r.Denies).Select(r => r.Rule.Id));
    }

    [Fact]
    public void Dp_caps_bind_the_agreement_and_each_dataset()
    {
        var plan = Plan();
        var overAgreement = Decide(RepositoryAndGdpr(), plan with { Dp = plan.Dp! with { Epsilon = 5 } });
        Assert.Equal(["fed-dp-agreement-epsilon"], overAgreement.PlanRules.Where(r => r.Denies).Select(r => r.Rule.Id));

        var spent = WithHungary(p => p with { Datasets = [p.Datasets[0] with { EpsilonSpent = 7 }] });
        var overDataset = Decide(RepositoryAndGdpr(), spent);
        var rule = overDataset.PlanRules.Single(r => r.Denies);
        Assert.Equal("fed-dp-dataset-budget", rule.Rule.Id);
        Assert.Equal(1m, rule.Facts["plan.datasets[0].epsilonRemaining"]);
    }

    [Fact]
    public void A_missing_fact_makes_the_rule_undetermined_which_denies()
    {
        var plan = Plan();
        var decision = Decide(RepositoryAndGdpr(), plan with { Agreement = plan.Agreement with { Delta = null } });
        var rule = decision.PlanRules.Single(r => r.Rule.Id == "fed-dp-agreement-delta");
        Assert.Equal(RuleOutcome.Undetermined, rule.Outcome);
        Assert.Equal("agreement.delta", rule.MissingFact);
        Assert.Equal("fed-dp-agreement-delta (federation, Federation design (shared/DESIGN.md) Privacy budget) is undetermined: fact agreement.delta was not given", string.Join("\n", decision.DenyReasons));

        // Without DP, under an agreement without DP terms, δ is never needed: the same plan is allowed.
        var noDp = Decide(RepositoryAndGdpr(), plan with { Agreement = plan.Agreement with { EpsilonCap = null, Delta = null }, Dp = null });
        Assert.True(noDp.Allowed, string.Join("\n", noDp.DenyReasons));
        Assert.Equal(RuleOutcome.Held, noDp.PlanRules.Single(r => r.Rule.Id == "fed-dp-agreement-delta").Outcome);
    }

    [Fact]
    public void A_recipient_fact_a_destination_does_not_give_is_undetermined_at_transfer_level()
    {
        var pack = GdprLikePack.Replace("when: transfer.to in lists.adequate", "when: transfer.to in lists.adequate and transfer.recipient.sector == \"public\"");
        var decision = Decide(Set(("gdpr-test.yaml", pack)));
        // Updates go to CH/zurich, whose sector the plan gives; the final model goes to "CH", a country alone.
        Assert.Equal(RuleOutcome.Fired, Outcome(Ruling(decision, "HU", "CH", TransferKind.Update), "test-adequacy"));
        var ruling = Ruling(decision, "HU", "CH", TransferKind.FinalModel);
        Assert.Equal(RuleOutcome.Undetermined, Outcome(ruling, "test-adequacy"));
        Assert.Contains("transfer HU→CH (final-model) of HU/budapest: test-adequacy (gdpr-test, GDPR Art. 45) is undetermined: fact transfer.recipient.sector was not given", decision.DenyReasons);
    }

    [Theory]
    [InlineData("2026-03-01", null, RuleOutcome.Failed)] // effective on the plan's day: in force
    [InlineData("2026-03-02", null, RuleOutcome.NotInForce)] // effective the day after
    [InlineData("2026-01-01", "2026-03-02", RuleOutcome.Failed)] // expires the day after: still in force
    [InlineData("2026-01-01", "2026-03-01", RuleOutcome.NotInForce)] // expires on the plan's day: no longer
    public void A_rule_is_in_force_from_its_effective_day_until_before_its_expiry(string effective, string? expires, RuleOutcome expected)
    {
        var set = Set(("one.yaml", PlanRulePack("plan.participantCount > 10", effective: effective, expires: expires)));
        var rule = Decide(set).PlanRules.Single();
        Assert.Equal(expected, rule.Outcome);
        Assert.Equal(expected == RuleOutcome.Failed, !Decide(set).Allowed);
        if (expected == RuleOutcome.NotInForce)
            Assert.Empty(rule.Facts);
    }

    [Fact]
    public void A_plan_level_deny_that_fires_denies()
    {
        var set = Set(("one.yaml", PlanRulePack("plan.countries contains \"US\"", effect: "deny")));
        var decision = Decide(set);
        Assert.Equal(RuleOutcome.Fired, decision.PlanRules.Single().Outcome);
        Assert.Equal("only (one, Test 1): Because.", Assert.Single(decision.DenyReasons));
    }

    [Fact]
    public void The_decision_json_is_canonical_and_names_the_set()
    {
        var set = RepositoryAndGdpr();
        var plan = Plan() with { Agreement = Plan().Agreement with { Delta = null } };
        byte[] first = Decide(set, plan).ToJson();
        Assert.Equal(first, Decide(set, plan).ToJson());
        var json = System.Text.Json.Nodes.JsonNode.Parse(first)!;
        Assert.Equal("deny", (string)json["decision"]!);
        Assert.Equal(set.Hash, (string)json["policySet"]!);
        Assert.Equal("2026-03-01T09:00:00Z", (string)json["at"]!);
        Assert.Equal(1, (int)json["round"]!);
        var rule = json["planRules"]!.AsArray().Single(r => (string)r!["rule"]! == "fed-dp-agreement-delta")!;
        Assert.Equal("undetermined", (string)rule["outcome"]!);
        Assert.Equal("agreement.delta", (string)rule["missingFact"]!);
        Assert.Null(rule["facts"]!["agreement.delta"]);
        Assert.True(rule["facts"]!.AsObject().ContainsKey("agreement.delta"));
        Assert.Equal("Privacy budget", (string)rule["source"]!["article"]!);
        var transfer = json["transfers"]!.AsArray()[0]!;
        Assert.Equal("HU→CH (update) of HU/budapest to CH/zurich", (string)transfer["transfer"]!);
        Assert.Equal("yes", (string)transfer["packs"]![0]!["governs"]!);
    }

    [Fact]
    public void The_set_hash_covers_every_file_and_only_the_files()
    {
        var a = PolicySetHash.Compute([PolicyFixture.File("a.yaml", "x"), PolicyFixture.File("b.yaml", "y")]);
        Assert.Equal(a, PolicySetHash.Compute([PolicyFixture.File("b.yaml", "y"), PolicyFixture.File("a.yaml", "x")]));
        Assert.NotEqual(a, PolicySetHash.Compute([PolicyFixture.File("a.yaml", "x "), PolicyFixture.File("b.yaml", "y")]));
        Assert.NotEqual(a, PolicySetHash.Compute([PolicyFixture.File("a.yaml", "xb.yaml"), PolicyFixture.File("", "y")]));
        Assert.NotEqual(a, PolicySetHash.Compute([PolicyFixture.File("a.yaml", "x")]));
        Assert.Equal(64, a.Length);
        Assert.Equal(PolicySetLoader.Load(RepositoryPolicies).Hash, PolicySetLoader.Load(RepositoryPolicies).Hash);
    }

    [Fact]
    public void Plan_facts_give_exactly_the_schema()
    {
        var plan = Plan() with { Round = 1 };
        var facts = PlanFacts.ForPlan(plan);
        var transfer = PlanFacts.Transfer(PolicyTransfer.Derive(plan).First(), plan, new PolicySettings(true, true));
        foreach (var (obj, type) in new[]
                 {
                     ((FactObject)facts["plan"], FactSchema.Plan), ((FactObject)facts["agreement"], FactSchema.Agreement), ((FactObject)facts["dp"], FactSchema.Dp),
                     (transfer, FactSchema.Transfer), ((FactObject)transfer.Facts["recipient"], FactSchema.Recipient),
                     ((FactObject)((System.Collections.Immutable.ImmutableArray<object>)((FactObject)facts["plan"]).Facts["datasets"])[0], FactSchema.Dataset),
                     ((FactObject)((System.Collections.Immutable.ImmutableArray<object>)((FactObject)facts["plan"]).Facts["participants"])[0], FactSchema.Participant),
                 })
        {
            Assert.All(obj.Facts.Keys, key => Assert.NotNull(type.Field(key)));
            Assert.All(type.Fields.Where(f => !f.Optional), f => Assert.True(obj.Facts.ContainsKey(f.Name), $"{type.Name}.{f.Name} is missing"));
        }
    }
}
