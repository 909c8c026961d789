using FedCore.Jobs;
using FedCore.Privacy;
using FedCore.Privacy.Accounting;
using Federation.Contracts.Jobs;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Privacy;

/// <summary>
/// Each participant charges its dataset's privacy ledger before it trains, and refuses a round that would take the
/// dataset past its ε cap: real silos, real grains, the sample federation (four hospitals, each dataset capped at ε = 10).
/// </summary>
public sealed class PrivacyBudgetTests
{
    private static readonly string[] Hospitals = ["US/cleveland", "US/long-beach", "HU/budapest", "CH/zurich"];

    /// <summary>
    /// One round of full-batch DP-SGD (q = 1, one step) at σ = 0.7: ε ≈ 7.16 at δ = 1e-5 per round, so a dataset capped at
    /// 10 affords one such round and not two (≈ 10.86).
    /// </summary>
    private static JobDefinition PrivateJob => TestFederations.SampleJob with
    {
        Rounds = 1,
        Training = TestFederations.SampleJob.Training with { BatchSize = 1000, Privacy = new DpSgdParameters(1, 0.7, 1e-5) },
    };

    private static Task<PrivacyBudgetSummary> BudgetAsync(LocalFederation federation, string hospital) =>
        federation.Grains.GetGrain<IParticipantGrain>(hospital).GetPrivacyBudget("heart", 1e-5);

    /// <summary>The repository's policies without the federation's budget rule: a job that does not check budgets itself.</summary>
    private static string WithoutBudgetRule(TempDirectory dir)
    {
        var folder = dir.File("policies-without-budget-rule");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.Root, "policies"), "*.yaml"))
        {
            var text = File.ReadAllText(file);
            if (Path.GetFileName(file) == "federation.yaml")
            {
                int start = text.IndexOf("  - id: fed-dp-dataset-budget", StringComparison.Ordinal);
                int end = text.IndexOf("  - id: ", start + 1, StringComparison.Ordinal);
                Assert.True(start > 0 && end > start, "the federation's budget rule was found");
                text = text[..start] + text[end..];
            }
            File.WriteAllText(Path.Combine(folder, Path.GetFileName(file)), text);
        }
        return folder;
    }

    [Fact]
    public async Task Two_jobs_racing_for_the_same_datasets_never_overspend_a_cap_and_a_third_is_refused_before_it_trains()
    {
        using var dir = new TempDirectory("federation-privacy-race");
        // The jobs run on a silo whose policies do not check budgets: the participants' ledgers alone must hold the caps.
        var options = TestFederations.Options(dir.Path, "US", "HU", "CH") with
        {
            PoliciesDirectories = new Dictionary<string, string> { ["CH"] = WithoutBudgetRule(dir) },
        };
        await using var federation = await LocalFederation.StartAsync(options);
        await TestFederations.SetUpSampleAsync(federation);
        double oneRound = SampledGaussian.Epsilon(1, 0.7, 1, 1e-5).Epsilon;
        Assert.InRange(oneRound, 5, 10); // the premise: one round fits under the cap of 10, two do not
        Assert.True(SampledGaussian.Epsilon(1, 0.7, 2, 1e-5).Epsilon > 10);

        var race = await Task.WhenAll(TestFederations.RunAsync(federation, PrivateJob, "CH/privacy-a"), TestFederations.RunAsync(federation, PrivateJob, "CH/privacy-b"));

        foreach (var hospital in Hospitals)
        {
            var budget = await BudgetAsync(federation, hospital);
            Assert.Equal(1, budget.PrivateRounds); // charged by whichever job reached it first, and by that one only
            Assert.Equal(0, budget.UnprotectedRounds);
            Assert.Equal(oneRound, budget.Epsilon, 9);
            Assert.Equal(10m, budget.EpsilonCap);
        }
        Assert.True(race.Count(s => s.Phase == JobPhase.Completed) <= 1, "two jobs cannot both have trained on every dataset");
        Assert.All(race.Where(s => s.Phase != JobPhase.Completed), s => Assert.Contains("past its cap: dataset 'heart' caps ε at 10", s.Error));

        var third = await TestFederations.RunAsync(federation, PrivateJob, "CH/privacy-c");
        Assert.Equal(JobPhase.Failed, third.Phase);
        Assert.Contains("would bring its ε to 10.86", third.Error);
        Assert.DoesNotContain(third.Rounds, r => r.Participants.Count > 0);
        foreach (var hospital in Hospitals)
            Assert.Equal(1, (await BudgetAsync(federation, hospital)).PrivateRounds); // a refusal spends nothing
    }

    [Fact]
    public async Task A_private_job_reports_no_training_loss_and_a_job_without_dp_leaves_the_ledger_unbounded()
    {
        using var dir = new TempDirectory("federation-privacy-report");
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US", "HU", "CH"));
        await TestFederations.SetUpSampleAsync(federation);

        var job = PrivateJob with { Training = PrivateJob.Training with { BatchSize = 32, Epochs = 2, Privacy = new DpSgdParameters(1, 1.1, 1e-5) } };
        var status = await TestFederations.RunToCompletionAsync(federation, job, "CH/private");
        Assert.All(status.Rounds[0].Participants, p => Assert.True(double.IsNaN(p.MeanTrainLoss), $"{p.ParticipantId} reported a training loss"));
        var budapest = await BudgetAsync(federation, "HU/budapest");
        Assert.Equal(1, budapest.PrivateRounds);
        Assert.InRange(budapest.Epsilon, 0.01, 10);

        await TestFederations.RunToCompletionAsync(federation, TestFederations.SampleJob with { Rounds = 1 }, "CH/plain");
        budapest = await BudgetAsync(federation, "HU/budapest");
        Assert.Equal(1, budapest.UnprotectedRounds);
        Assert.Equal(double.PositiveInfinity, budapest.Epsilon);
    }

    [Fact]
    public async Task A_job_on_a_silo_that_checks_budgets_is_denied_before_it_starts_when_no_dataset_has_a_rounds_epsilon_left()
    {
        using var dir = new TempDirectory("federation-privacy-policy");
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US", "HU", "CH"));
        await TestFederations.SetUpSampleAsync(federation);
        await TestFederations.RunToCompletionAsync(federation, PrivateJob, "CH/privacy-first");

        var second = await TestFederations.RunAsync(federation, PrivateJob, "CH/privacy-second");

        Assert.Equal(JobPhase.Failed, second.Phase);
        Assert.Contains("the policies deny the job", second.Error);
        Assert.Contains("fed-dp-dataset-budget", second.Error);
        Assert.False(Assert.Single(second.PolicyDecisions).Allowed);
        Assert.Equal(1, (await BudgetAsync(federation, "HU/budapest")).PrivateRounds);
    }

    [Fact]
    public void A_job_cannot_seed_a_participants_noise_whatever_its_training_settings_say()
    {
        // The claim (FedCore/Privacy/README.md, "The noise is secret"): a participant's DP noise comes from its own CSPRNG;
        // nothing a job sends can fix the seed, which would let the job subtract the noise.
        var settings = new LocalTrainingSettings(2, 8, "sgd", 0.05, 0, 0, 0, new PrivacySettings(1, 1.1, 1e-5));
        var options = Federation.Silo.Grains.ContractMapping.ToTrainingOptions(settings, seed: 42);
        Assert.NotNull(options.Privacy);
        Assert.Null(options.Privacy!.NoiseSeed);
        Assert.DoesNotContain(typeof(PrivacySettings).GetProperties(), p => p.Name.Contains("Seed", StringComparison.Ordinal));
    }
}
