using System.Text;
using System.Text.Json.Nodes;
using FedCore.Governance;
using FedCore.Governance.Agreements;
using FedCore.Learning;
using static FedCore.Tests.Governance.GovernanceFixture;

namespace FedCore.Tests.Governance;

public sealed class JobPlanCheckTests
{
    private static PlanViolation[] Violations(JobPlan plan, Agreement? agreement = null, DateTimeOffset? now = null) =>
        [.. Assert.Throws<JobPlanRefusedException>(() => JobPlanCheck.Check(plan, agreement ?? Active(), Membership(), now ?? Now)).Violations];

    private static void RefusedFor(string term, string expected, JobPlan plan, Agreement? agreement = null, DateTimeOffset? now = null)
    {
        var violations = Violations(plan, agreement, now);
        Assert.Contains(violations, v => v.Term == term && v.Problem.Contains(expected));
    }

    [Fact]
    public void A_plan_within_an_active_agreement_gives_the_terms_to_pin()
    {
        var pinned = JobPlanCheck.Check(Plan(), Active(), Membership(), Now);
        Assert.Equal("job-17", pinned.JobId);
        Assert.Equal(Terms().Digest, pinned.TermsDigest);
        Assert.Equal(Membership().Pin, pinned.Membership);
        Assert.Equal("heart", pinned.Dataset);
        Assert.Equal(["CH/zurich", "HU/budapest", "US/long-beach"], pinned.Participants.Select(p => p.Organisation));
        Assert.Equal(ProtectionScheme.Ckks, pinned.Scheme);
        Assert.Equal(10.0, pinned.UpdateBound);
        Assert.Equal(1.5m, pinned.DifferentialPrivacy!.EpsilonCap);
    }

    [Fact]
    public void An_agreement_that_is_not_active_is_refused_naming_its_state()
    {
        RefusedFor("state", "is proposed, not active", Plan(), SignedBy(Proposed(), Budapest));
        RefusedFor("state", "is suspended, not active", Plan(), Change(Active(), StatusChangeKind.Suspend, Zurich));
        RefusedFor("state", "is terminated, not active", Plan(), Change(Active(), StatusChangeKind.Terminate, Zurich));
        RefusedFor("state", "is draft, not active", Plan(), Agreement.Draft(Terms()));
    }

    [Fact]
    public void Every_party_that_has_not_signed_is_named()
    {
        var violations = Violations(Plan(), SignedBy(Proposed(), Budapest, Zurich));
        Assert.Contains(violations, v => v.Term == "signatures" && v.Problem == "'US/long-beach' has not signed");
        Assert.Contains(violations, v => v.Term == "signatures" && v.Problem == "'US/cleveland' has not signed");
    }

    [Fact]
    public void A_signature_that_does_not_verify_with_the_participants_membership_is_refused()
    {
        RefusedFor("signatures", "signature of 'US/cleveland' does not verify", Plan(), WithSignature(Active(), Cleveland.Id, Budapest.Key));

        // Cleveland signed, but this participant's membership is record 1, in which Cleveland is unknown.
        var e = Assert.Throws<JobPlanRefusedException>(() => JobPlanCheck.Check(Plan(), Active(), FirstRecordOnly(), Now));
        Assert.Contains(e.Violations, v => v.Term == "signatures" && v.Problem.Contains("'US/cleveland' is not a member"));
    }

    [Fact]
    public void A_status_change_that_does_not_verify_is_refused()
    {
        var suspended = Change(Active(), StatusChangeKind.Suspend, Zurich);
        var resumed = Change(suspended, StatusChangeKind.Resume, Zurich);
        var root = JsonNode.Parse(AgreementJson.Write(resumed))!;
        root["statusChanges"]![1]!["change"]!["reason"] = "a reason the party never gave";
        var altered = AgreementJson.ParseAgreement(Encoding.UTF8.GetBytes(root.ToJsonString()), "agreement.json", new(Membership()));
        RefusedFor("statusChanges", "status change 2 (resume by 'CH/zurich'): the signature does not verify", Plan(), altered);
    }

    [Fact]
    public void Participants_outside_the_parties_or_with_uncovered_datasets_are_refused()
    {
        RefusedFor("parties", "'AT/vienna' is not a party", Plan() with { Participants = Plan().Participants.Add(new("AT/vienna", "heart")) });
        RefusedFor("parties", "'HU/budapest' (this participant) would contribute 'lungs'",
            Plan() with { Participants = Plan().Participants.SetItem(0, new("HU/budapest", "lungs")) });
        RefusedFor("parties", "'CH/zurich' would contribute 'heart-2024'",
            Plan() with { Participants = Plan().Participants.SetItem(1, new("CH/zurich", "heart-2024")) });
        RefusedFor("plan.participants", "listed twice", Plan() with { Participants = Plan().Participants.Add(new("HU/budapest", "heart")) });
        RefusedFor("plan.self", "'US/cleveland', is not among", Plan("US/cleveland"));
    }

    [Fact]
    public void Fewer_participants_than_the_minimum_are_refused_and_never_fewer_than_three()
    {
        RefusedFor("minParticipants", "has 2 participants; the agreement requires at least 3", Plan() with { Participants = Plan().Participants.RemoveAt(2) });
        RefusedFor("minParticipants", "has 3 participants; the agreement requires at least 4", Plan(), Active(Terms() with { MinParticipants = 4 }));
        Assert.Throws<GovernanceFormatException>(() => Agreement.Draft(Terms() with { MinParticipants = 2 }));
    }

    [Fact]
    public void Protection_model_class_and_destination_must_match_the_terms()
    {
        RefusedFor("protection.scheme", "the plan uses plaintext-simulation; the agreement requires ckks", Plan() with { Scheme = ProtectionScheme.PlaintextSimulation });
        RefusedFor("simulation", "allowed only under an agreement marked for simulation", Plan() with { Scheme = ProtectionScheme.PlaintextSimulation });
        RefusedFor("protection.updateBound", "bound 100; the agreement requires 10", Plan() with { UpdateBound = 100 });
        RefusedFor("modelClasses", "a cnn model; the agreement allows logistic, mlp", Plan() with { ModelClass = ModelKind.Cnn });
        RefusedFor("updateDestinations", "aggregator in 'US'", Plan() with { AggregatorCountry = "US" });
        RefusedFor("id", "cites agreement 'other'", Plan() with { AgreementId = "other" });
    }

    [Fact]
    public void A_simulation_agreement_admits_plaintext_simulation()
    {
        var simulation = Active(Terms() with { Simulation = true, Protection = new ProtectionTerms(ProtectionScheme.PlaintextSimulation, 10m) });
        Assert.Equal(ProtectionScheme.PlaintextSimulation, JobPlanCheck.Check(Plan() with { Scheme = ProtectionScheme.PlaintextSimulation }, simulation, Membership(), Now).Scheme);
    }

    [Fact]
    public void A_time_outside_the_window_is_refused()
    {
        RefusedFor("validFrom", "not valid before 2025-03-01T09:00:00Z", Plan(), now: T0.AddSeconds(-1));
        RefusedFor("validUntil", "expired at 2026-03-01T09:00:00Z", Plan(), now: T0.AddDays(365));
    }

    [Fact]
    public void Every_violation_is_listed_not_only_the_first()
    {
        var plan = Plan() with { Scheme = ProtectionScheme.PlaintextSimulation, UpdateBound = 1, ModelClass = ModelKind.Svm, AggregatorCountry = "CN" };
        var e = Assert.Throws<JobPlanRefusedException>(() => JobPlanCheck.Check(plan, SignedBy(Proposed(), Budapest), Membership(), T0.AddDays(400)));
        Assert.Equal(
            ["state", "signatures", "signatures", "signatures", "finalModelDestinations", "protection.scheme", "protection.updateBound", "simulation", "modelClasses", "updateDestinations", "validUntil"],
            e.Violations.Select(v => v.Term));
        Assert.StartsWith("job 'job-17' refused under agreement 'heart-2025': state: the agreement is proposed", e.Message);
    }

    [Fact]
    public void The_final_model_goes_only_where_the_terms_allow()
    {
        var pinned = JobPlanCheck.Check(Plan(), Active(), Membership(), Now);
        pinned.EnsureFinalModelDestination("HU");
        var e = Assert.Throws<AgreementException>(() => pinned.EnsureFinalModelDestination("CN"));
        Assert.Contains("finalModelDestinations", e.Message);
        Assert.Contains("not to 'CN'", e.Message);
    }

    [Fact]
    public void Terms_that_ask_for_differential_privacy_bound_the_plans_dp_sgd()
    {
        // Terms: clip at most 1, noise multiplier at least 0.8, δ at most 1e-5.
        RefusedFor("differentialPrivacy", "requires training with differential privacy (DP-SGD); the plan trains without it", Plan() with { Privacy = null });
        RefusedFor("differentialPrivacy.maxClippingNorm", "the plan clips at 2; the agreement allows at most 1", Plan() with { Privacy = new(2, 1.1, 1e-5) });
        RefusedFor("differentialPrivacy.minNoiseMultiplier", "noise multiplier is 0.5; the agreement requires at least 0.8", Plan() with { Privacy = new(1, 0.5, 1e-5) });
        RefusedFor("differentialPrivacy.delta", "δ = 0.001; the agreement allows at most 0.00001", Plan() with { Privacy = new(1, 1.1, 1e-3) });
        RefusedFor("plan.privacy", "noiseMultiplier must be a positive number, not NaN", Plan() with { Privacy = new(1, double.NaN, 1e-5) });
        Assert.NotNull(JobPlanCheck.Check(Plan() with { Privacy = new(0.5, 0.8, 1e-6) }, Active(), Membership(), Now));

        // Terms without DP allow a job with it, and one without.
        var withoutDp = SignedBy(Proposed(Terms() with { DifferentialPrivacy = null }), Parties.ToArray());
        Assert.NotNull(JobPlanCheck.Check(Plan() with { Privacy = null }, withoutDp, Membership(), Now));
        Assert.NotNull(JobPlanCheck.Check(Plan(), withoutDp, Membership(), Now));
    }

    [Fact]
    public void Terms_that_fix_the_training_refuse_a_coordinator_that_would_keep_consecutive_models_nearly_equal()
    {
        // The cross-round read under a server learning rate of 10⁻⁶ (ModelChainReviewTests.Known_limit_…), and its twins: an
        // adaptive optimiser's τ or β₁ shrink the step as its rate does, and so does a tiny local rate. Under terms that fix
        // the training the coordinator can choose none of them; the parties would have to sign it.
        var training = new TrainingTerms([new StrategyTerms("fedavg", 1m), new StrategyTerms("fedadam", 0.01m)], 0.001m);
        var bounded = SignedBy(Proposed(Terms() with { Training = training }), Parties.ToArray());
        var plan = Plan() with { Training = new TrainingPlan(new("fedavg"), 0.05) };
        Assert.NotNull(JobPlanCheck.Check(plan, bounded, Membership(), Now));
        Assert.NotNull(JobPlanCheck.Check(plan with { Training = new(new("FedAdam", ServerLearningRate: 0.01), 0.05) }, bounded, Membership(), Now));
        RefusedFor("training.strategies", "server strategy is fedavg (server learning rate 1E-06", plan with { Training = new(new("fedavg", ServerLearningRate: 1e-6), 0.05) }, bounded);
        RefusedFor("training.strategies", "τ 1000000000", plan with { Training = new(new("fedadam", ServerLearningRate: 0.01, Tau: 1e9), 0.05) }, bounded);
        RefusedFor("training.strategies", "β₁ 0.999999", plan with { Training = new(new("fedadam", ServerLearningRate: 0.01, Beta1: 0.999999), 0.05) }, bounded);
        RefusedFor("training.strategies", "the agreement allows fedavg (1, 0.9, 0.99, 0.001); fedadam (0.01, 0.9, 0.99, 0.001)", plan with { Training = new(new("fedyogi", ServerLearningRate: 0.01), 0.05) }, bounded);
        RefusedFor("training.minLearningRate", "local learning rate is 1E-07; the agreement requires at least 0.001", plan with { Training = new(new("fedavg"), 1e-7) }, bounded);
        RefusedFor("training", "does not say how it trains", plan with { Training = null }, bounded);
        // Terms without it allow any, and keep the digest they were signed under (the field is not written).
        Assert.NotNull(JobPlanCheck.Check(plan with { Training = new(new("fedavg", ServerLearningRate: 1e-6), 1e-7) }, Active(), Membership(), Now));
        Assert.DoesNotContain("training", Encoding.UTF8.GetString(FedCore.Governance.Canonical.CanonicalJson.Write(AgreementJson.ToJson(Terms()))));
        Assert.NotEqual(Terms().Digest, (Terms() with { Training = training }).Digest);
    }

    [Fact]
    public void A_participant_in_a_country_the_model_may_not_go_to_is_refused_as_every_rounds_model_reaches_it()
    {
        // Security review: each round's global model, built from every member's update, reaches every member; under
        // terms that keep the final model out of the US, US members would still have received it every round.
        var terms = Terms() with { FinalModelDestinations = ["CH", "HU"] };
        RefusedFor("finalModelDestinations", "every round's model reaches 'US/long-beach' in US", Plan(), Active(terms));
    }

    [Fact]
    public void An_aggregator_in_a_country_the_model_may_not_go_to_is_refused_as_it_opens_every_rounds_model()
    {
        // Second security review: the aggregator combines the decryption shares, so it holds every round's model.
        var terms = Terms() with { UpdateDestinations = ["CH"], FinalModelDestinations = ["HU", "US"] };
        RefusedFor("finalModelDestinations", "the aggregator in CH opens every round's model", Plan(), Active(terms));
    }
}
