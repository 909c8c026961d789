using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;
using Orleans.Runtime;

namespace Federation.Silo.Tests.Participants;

/// <summary>
/// What a participant computes from its rows, and for whom: only for a job it accepted, from the dataset and split it
/// pinned, and never from a file that changed since it was registered. The sample federation over copies of its files.
/// </summary>
public sealed class DatasetUseTests : IAsyncLifetime
{
    private static readonly string[] Parties = ["CH/zurich", "HU/budapest", "US/cleveland"];
    private readonly TempDirectory _dir = new("federation-dataset-use");
    private LocalFederation _federation = null!;
    private string _budapestCsv = null!;

    private IParticipantGrain Budapest => _federation.Grains.GetGrain<IParticipantGrain>("HU/budapest");

    public async Task InitializeAsync()
    {
        var manifest = TestFederations.SampleManifest;
        var copies = manifest with
        {
            Participants = manifest.Participants.Select(p => p with
            {
                Datasets = p.Datasets.Select(d => d with { CsvPath = Copy(d.CsvPath, p.Id) }).ToList(),
            }).ToList(),
        };
        _budapestCsv = copies.Participants.Single(p => p.Id == "HU/budapest").Datasets.Single().CsvPath;
        _federation = await LocalFederation.StartAsync(TestFederations.Options(_dir.File("data"), "US", "HU", "CH"));
        await FederationSetup.EnsureAsync(_federation.Grains, _federation.Operator!, _federation.Approvers!, copies);
    }

    public async Task DisposeAsync()
    {
        await _federation.DisposeAsync();
        _dir.Dispose();
    }

    private string Copy(string csv, string participant)
    {
        var copy = _dir.File($"{participant.Replace('/', '-')}-{Path.GetFileName(csv)}");
        File.Copy(csv, copy);
        return copy;
    }

    [Fact]
    public async Task Moments_and_scores_are_computed_only_for_a_job_the_participant_accepted()
    {
        var moments = await Assert.ThrowsAsync<FederationOperationException>(() => Budapest.ComputeFeatureMoments("CH/never-accepted"));
        Assert.Contains("has not accepted job CH/never-accepted", moments.Message);
        var score = await Assert.ThrowsAsync<FederationOperationException>(() => Budapest.Evaluate(
            new EvaluationAssignment("CH/never-accepted", 0, Federation.Contracts.Transfer.Payload.OfInline(new byte[64]), new FeatureScalingMessage([], [], []))));
        Assert.Contains("has not accepted job CH/never-accepted", score.Message);

        await Budapest.AcceptJob(TestFederations.Invitation("CH/use-accepted", Parties));
        var accepted = await Budapest.ComputeFeatureMoments("CH/use-accepted");
        // Its pinned split: the sample job's train fraction of its rows.
        long rows = (await Budapest.GetDatasets()).Single(d => d.Name == "heart").RowCount;
        Assert.InRange(accepted.Count, (long)(rows * TestFederations.SampleJob.TrainFraction) - 2, (long)(rows * TestFederations.SampleJob.TrainFraction) + 2);
    }

    [Fact]
    public async Task A_later_job_cannot_choose_another_split_of_the_same_dataset()
    {
        // Two splits of one dataset would let moments or scores over "the training rows" differ by a few rows.
        var first = TestFederations.Invitation("CH/split-first", Parties);
        await Budapest.AcceptJob(first);
        long rows = (await Budapest.ComputeFeatureMoments("CH/split-first")).Count;

        var otherFraction = await Assert.ThrowsAsync<FederationOperationException>(() =>
            Budapest.AcceptJob(TestFederations.Invitation("CH/split-fraction", Parties) with { TrainFraction = first.TrainFraction - 0.01 }));
        Assert.Equal("job.refused", otherFraction.Code);
        Assert.Contains($"split with train fraction {first.TrainFraction:R} and seed {first.Seed} in every job", otherFraction.Message);
        var otherSeed = await Assert.ThrowsAsync<FederationOperationException>(() =>
            Budapest.AcceptJob(TestFederations.Invitation("CH/split-seed", Parties) with { Seed = first.Seed + 1 }));
        Assert.Contains($"this job asks {first.TrainFraction:R} and {first.Seed + 1}", otherSeed.Message);
        await Assert.ThrowsAsync<FederationOperationException>(() => Budapest.ComputeFeatureMoments("CH/split-seed"));

        // The same split in another job: the same rows.
        await Budapest.AcceptJob(TestFederations.Invitation("CH/split-same", Parties));
        Assert.Equal(rows, (await Budapest.ComputeFeatureMoments("CH/split-same")).Count);
    }

    [Fact]
    public async Task Moments_and_scores_stop_when_the_agreement_is_suspended()
    {
        var invitation = TestFederations.Invitation("CH/use-suspended", Parties);
        await Budapest.AcceptJob(invitation);
        Assert.True((await Budapest.ComputeFeatureMoments("CH/use-suspended")).Count > 0);

        await TestFederations.ChangeAgreementStatusAsync(_federation, "HU/budapest", invitation.AgreementId, "suspend", "consent withdrawn by the data steward");
        var moments = await Assert.ThrowsAsync<FederationOperationException>(() => Budapest.ComputeFeatureMoments("CH/use-suspended"));
        Assert.Contains("compute feature moments", moments.Message);
        Assert.Contains("suspended", moments.Message);
        var score = await Assert.ThrowsAsync<FederationOperationException>(() => Budapest.Evaluate(
            new EvaluationAssignment("CH/use-suspended", 0, Federation.Contracts.Transfer.Payload.OfInline(new byte[64]), new FeatureScalingMessage([], [], []))));
        Assert.Contains("score a model", score.Message);
        Assert.Contains("suspended", score.Message);
    }

    [Fact]
    public async Task A_file_changed_after_registration_is_not_trained_on()
    {
        await Budapest.AcceptJob(TestFederations.Invitation("CH/use-drift", Parties));
        Assert.True((await Budapest.ComputeFeatureMoments("CH/use-drift")).Count > 0);

        // A new activation reads the file again and compares it with what was registered.
        File.AppendAllText(_budapestCsv, File.ReadLines(_budapestCsv).Last() + "\n");
        await _federation.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var error = await Assert.ThrowsAsync<FederationOperationException>(() => Budapest.ComputeFeatureMoments("CH/use-drift"));
        Assert.Equal("dataset.changed", error.Code);
        Assert.Contains(Path.GetFileName(_budapestCsv), error.Message);
    }
}
