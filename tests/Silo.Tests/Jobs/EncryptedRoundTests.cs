using FedCore.Crypto.Ckks;
using FedCore.Jobs;
using Federation.Contracts.Errors;
using Federation.Contracts.Jobs;
using Federation.Contracts.Models;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Jobs;

/// <summary>Rounds with multiparty CKKS through real grains on three country silos.</summary>
public sealed class EncryptedRoundTests
{
    [Fact]
    public async Task A_model_beyond_one_keys_flooding_budget_is_refused_before_the_job_runs()
    {
        using var dir = new TempDirectory("federation-budget");
        var job = JobDefinition.Load(Path.Combine(TestPaths.HeartSample, "job.json")) with
        {
            // 9·10⁸ parameters: four participants may decrypt at most about 8.6·10⁸ values under one key (NoiseFlooding.md).
            ModelJson = """{"type":"mlp","inputs":15,"hidden":[30000,30000],"classes":2}""",
        };
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US", "HU", "CH"));
        var grain = federation.Grains.GetGrain<ITrainingJobGrain>("CH/too-large");
        var error = await Assert.ThrowsAsync<FederationOperationException>(() => grain.Start(JobSpecifications.From(job, "CH/too-large")));
        Assert.Equal("job.invalid", error.Code);
        long parameters = FedCore.Learning.ParameterLayout.For(FedCore.Learning.ModelSpec.Parse(job.ModelJson, "test")).TotalLength;
        Assert.Contains($"its model has {parameters} parameters, but ckks with 4 participants carries at most", error.Message);
    }

    [Fact]
    public async Task The_sample_job_reaches_the_same_accuracy_with_encryption_on_as_off()
    {
        var job = JobDefinition.Load(Path.Combine(TestPaths.HeartSample, "job.json"));
        // One job id in two federations: a job's version 0 is drawn for the job, so only the same id starts from the same model.
        using var encryptedDir = new TempDirectory("federation-encrypted");
        using var plaintextDir = new TempDirectory("federation-encrypted-plain");
        var (encrypted, a) = await TestFederations.RunInOwnFederationAsync(TestFederations.Options(encryptedDir.Path, "US", "HU", "CH") with { AllowSimulation = true },
            job with { Protection = "ckks" }, "CH/sample");
        var (plaintext, b) = await TestFederations.RunInOwnFederationAsync(TestFederations.Options(plaintextDir.Path, "US", "HU", "CH") with { AllowSimulation = true },
            job with { Protection = "plaintext-simulation", Agreement = TestFederations.SimulationAgreement }, "CH/sample");

        Assert.Equal(Math.Round(plaintext.Rounds[^1].MeanLocalTestAccuracy, 3), Math.Round(encrypted.Rounds[^1].MeanLocalTestAccuracy, 3));
        Assert.True(encrypted.Rounds[^1].MeanLocalTestAccuracy >= 0.77);
        Assert.Contains(encrypted.Notes, n => n.Contains("encrypted"));
        Assert.Contains(plaintext.Notes, n => n.Contains("NOT encrypted"));

        // The final global models differ only by the encryption's rounding.
        Assert.True(a.Zip(b).Max(p => Math.Abs(p.First - p.Second)) < 1e-4);

        // What left each participant was a ciphertext's masks (its c1; c0 stays home): 7.625 bytes per value carried, one
        // 4,096-value ciphertext here.
        Assert.All(encrypted.Rounds[^1].Participants, p => Assert.InRange(p.UpdateBytes, 4096 * 7.625, 4096 * 7.625 + 256));
    }

    [Fact]
    public async Task A_job_completes_when_its_silos_reach_one_member_and_work_for_one_participant_at_a_time()
    {
        // The job's limit on members in flight and the silos' turns for their participants' work, both at one: every step
        // then waits on the one before it, and nothing may wait on a turn it holds itself.
        using var dir = new TempDirectory("federation-one-at-a-time");
        var job = JobDefinition.Load(Path.Combine(TestPaths.HeartSample, "job.json")) with { Protection = "ckks", Rounds = 2 };
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US", "HU", "CH") with
        {
            ConfigureSilo = silo => TestFederations.ChangeSiloOptions(silo, options => options with { ConcurrentMemberCalls = 1, ConcurrentParticipantWork = 1 }),
        });
        await TestFederations.SetUpSampleAsync(federation);
        var result = await TestFederations.RunToCompletionAsync(federation, job, "CH/one-at-a-time");
        Assert.Equal(2, result.Rounds.Count);
        Assert.All(result.Rounds, r => Assert.Equal(4, r.Participants.Count));
        Assert.True(result.Rounds[^1].MeanLocalTestAccuracy >= 0.7);
    }
}
