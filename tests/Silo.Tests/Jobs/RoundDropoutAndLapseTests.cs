using Federation.Contracts.Jobs;
using Federation.Contracts.Participants;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Jobs;

/// <summary>
/// What a job does when a participant's silo stops in the middle of a round, and when its agreement is suspended while
/// it runs: real silos, real grains, the sample federation (four hospitals, at least three per round).
/// </summary>
public sealed class RoundDropoutAndLapseTests
{
    private static async Task<JobStatus> WaitForAsync(ITrainingJobGrain grain, Func<JobStatus, bool> until, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        var status = await grain.GetStatus();
        while (!until(status) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            status = await grain.GetStatus();
        }
        return status;
    }

    [Fact]
    public async Task A_participant_whose_silo_stops_mid_round_is_left_out_of_a_new_round_and_the_job_completes()
    {
        using var dir = new TempDirectory("federation-dropout");
        LocalFederation? federation = null;
        int stops = 0, othersTrained = 0;
        var options = TestFederations.Options(dir.Path, "US", "HU", "CH") with
        {
            // Budapest's silo goes away when Budapest is asked to train in the job's third round: after the round's keys
            // were made, before Budapest seals. It waits for the three others to have trained first, so that each of them
            // trains that round twice whatever the timing (before, one could fail on the stopping silo before it trained,
            // and was charged once).
            ConfigureSilo = silo => silo.AddIncomingGrainCallFilter(async context =>
            {
                bool thirdRound = context.InterfaceMethod.Name == nameof(IParticipantGrain.Train)
                    && context.Request.GetArgument(0) is RoundAssignment { JobId: "CH/dropout", GlobalVersion: 2 };
                if (thirdRound && context.TargetId.Key.ToString() == "HU/budapest" && Interlocked.Exchange(ref stops, 1) == 0)
                {
                    for (int i = 0; i < 600 && Volatile.Read(ref othersTrained) < 3; i++)
                        await Task.Delay(100);
                    _ = Task.Run(() => federation!.StopCountryAsync("HU"));
                    await Task.Delay(TimeSpan.FromSeconds(30)); // the silo stops under it
                }
                await context.Invoke();
                if (thirdRound && context.TargetId.Key.ToString() != "HU/budapest")
                    Interlocked.Increment(ref othersTrained);
            }),
        };
        federation = await LocalFederation.StartAsync(options);
        await using (federation)
        {
            await TestFederations.SetUpSampleAsync(federation);
            // Under DP-SGD: a retry trains again with fresh noise, so it must be charged again.
            var job = TestFederations.SampleJob with
            {
                Rounds = 4,
                Training = TestFederations.SampleJob.Training with { Privacy = new FedCore.Privacy.DpSgdParameters(1, 2, 1e-5) },
            };

            var status = await TestFederations.RunToCompletionAsync(federation, job, "CH/dropout");

            Assert.Equal(1, stops);
            var third = status.Rounds[2];
            Assert.Contains(third.Dropouts, d => d.StartsWith("HU/budapest:", StringComparison.Ordinal));
            Assert.DoesNotContain(third.Participants, p => p.ParticipantId == "HU/budapest");
            Assert.Equal(3, third.Participants.Count);
            Assert.True(third.ProtocolRound > status.Rounds[1].ProtocolRound + 1, "the round was started again under a new protocol round");
            Assert.Equal(4, status.Rounds[0].Participants.Count);
            Assert.True(status.Rounds[3].MeanLocalTestAccuracy > 0.5);
            // Four model rounds, the third trained twice by those who stayed: five charges each, none lost to the retry.
            foreach (var hospital in new[] { "US/cleveland", "US/long-beach", "CH/zurich" })
                Assert.Equal(5, (await federation.Grains.GetGrain<IParticipantGrain>(hospital).GetPrivacyBudget("heart", 1e-5)).PrivateRounds);
        }
    }

    [Fact]
    public async Task With_fewer_participants_left_than_the_agreement_requires_the_job_stops_and_says_why()
    {
        using var dir = new TempDirectory("federation-too-few");
        // CH first: the first silo is the cluster's primary (development clustering), which must outlive the US one.
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "CH", "HU", "US"));
        await TestFederations.SetUpSampleAsync(federation);
        var grain = federation.Grains.GetGrain<ITrainingJobGrain>("CH/too-few");
        await grain.Start(JobSpecifications.From(TestFederations.SampleJob with { Rounds = 200 }, "CH/too-few"));
        await WaitForAsync(grain, s => s.CompletedRounds >= 1 || s.Phase == JobPhase.Failed, TimeSpan.FromMinutes(2));
        await federation.StopCountryAsync("US"); // Cleveland and Long Beach: two of four, and the agreement needs three

        var status = await WaitForAsync(grain, s => s.Phase is JobPhase.Completed or JobPhase.Failed, TimeSpan.FromMinutes(3));

        Assert.Equal(JobPhase.Failed, status.Phase);
        Assert.InRange(status.CompletedRounds, 1, 199);
        Assert.Contains("2 of 4 participants could take part", status.Error);
        Assert.Contains("the job's agreement requires at least 3", status.Error);
        Assert.Contains("US/cleveland", status.Error);
    }

    [Fact]
    public async Task An_agreement_suspended_mid_job_stops_the_job_at_the_next_round_saying_who_and_why()
    {
        using var dir = new TempDirectory("federation-lapse");
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US", "HU", "CH"));
        await TestFederations.SetUpSampleAsync(federation);
        var grain = federation.Grains.GetGrain<ITrainingJobGrain>("CH/lapse");
        var job = TestFederations.SampleJob with { Rounds = 200 };
        await grain.Start(JobSpecifications.From(job, "CH/lapse"));
        await WaitForAsync(grain, s => s.CompletedRounds >= 2 || s.Phase == JobPhase.Failed, TimeSpan.FromMinutes(2));

        // Zurich's data steward suspends the agreement (signed by Zurich, relayed by the agreement's grain).
        await TestFederations.ChangeAgreementStatusAsync(federation, "CH/zurich", "fed-heart-disease-2026", "suspend", "data quality review");
        var status = await WaitForAsync(grain, s => s.Phase is JobPhase.Completed or JobPhase.Failed, TimeSpan.FromMinutes(2));

        Assert.Equal(JobPhase.Failed, status.Phase);
        Assert.InRange(status.CompletedRounds, 2, 199);
        Assert.Contains("agreement 'fed-heart-disease-2026' is suspended (suspend by CH/zurich: data quality review)", status.Error);

        // Resumed by Zurich, a new job under the agreement runs again; terminated, none does.
        await TestFederations.ChangeAgreementStatusAsync(federation, "CH/zurich", "fed-heart-disease-2026", "resume", "review done");
        await TestFederations.RunToCompletionAsync(federation, job with { Rounds = 1 }, "CH/after-resume");
        await TestFederations.ChangeAgreementStatusAsync(federation, "US/cleveland", "fed-heart-disease-2026", "terminate", "study closed");
        var refused = federation.Grains.GetGrain<ITrainingJobGrain>("CH/after-termination");
        await refused.Start(JobSpecifications.From(job with { Rounds = 1 }, "CH/after-termination"));
        var final = await WaitForAsync(refused, s => s.Phase is JobPhase.Completed or JobPhase.Failed, TimeSpan.FromMinutes(1));
        Assert.Equal(JobPhase.Failed, final.Phase);
        Assert.Contains("state", final.Error);
        Assert.Contains("terminated", final.Error);
    }
}
