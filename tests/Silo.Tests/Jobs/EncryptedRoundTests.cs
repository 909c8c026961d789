using FedCore.Aggregation.Protection;
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
    public async Task The_sample_job_reaches_the_same_accuracy_with_encryption_on_as_off()
    {
        using var dir = new TempDirectory("federation-encrypted");
        var job = JobDefinition.Load(Path.Combine(TestPaths.HeartSample, "job.json"));
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US", "HU", "CH"));
        await FederationEnrolment.EnrolAsync(federation.Grains, job.Federation);

        var encrypted = await RunAsync(federation, job with { Protection = "ckks" }, "sample-ckks");
        var plaintext = await RunAsync(federation, job with { Protection = "plaintext-simulation" }, "sample-plain");

        Assert.Equal(Math.Round(plaintext.Rounds[^1].MeanLocalTestAccuracy, 3), Math.Round(encrypted.Rounds[^1].MeanLocalTestAccuracy, 3));
        Assert.True(encrypted.Rounds[^1].MeanLocalTestAccuracy >= 0.77);
        Assert.Contains(encrypted.Notes, n => n.Contains("encrypted"));
        Assert.Contains(plaintext.Notes, n => n.Contains("NOT encrypted"));

        // The final global models differ only by the encryption's rounding.
        var a = (await federation.Grains.GetGrain<IModelVersionGrain>(ModelVersionKey.Format("sample-ckks", job.Rounds)).Get())!.Parameters;
        var b = (await federation.Grains.GetGrain<IModelVersionGrain>(ModelVersionKey.Format("sample-plain", job.Rounds)).Get())!.Parameters;
        Assert.True(a.Zip(b).Max(p => Math.Abs(p.First - p.Second)) < 1e-4);

        // What left each participant was a ciphertext: about 16 bytes per value carried, one 4,096-value ciphertext here.
        Assert.All(encrypted.Rounds[^1].Participants, p => Assert.InRange(p.UpdateBytes, 4096 * 15, 4096 * 16 + 256));
    }

    [Fact]
    public async Task A_participant_gives_one_decryption_share_per_round_key_and_only_for_its_round()
    {
        using var dir = new TempDirectory("federation-decryption");
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "HU", "CH"));
        var budapest = federation.Grains.GetGrain<IParticipantGrain>("HU/budapest");
        var zurich = federation.Grains.GetGrain<IParticipantGrain>("CH/zurich");
        await budapest.Enrol("Budapest");
        await zurich.Enrol("Zurich");

        var protection = new ProtectionSettings("ckks", 4);
        var scheme = new CkksProtection(CkksParameters.Default, 4);
        var seed = new byte[32];
        var shares = new[]
        {
            await budapest.CreateRoundKeyShare(new RoundKeyRequest("job-x", 1, protection, seed)),
            await zurich.CreateRoundKeyShare(new RoundKeyRequest("job-x", 1, protection, seed)),
        };
        var roundKey = scheme.CombineKeyShares(shares.Select(s => s.Payload).ToList());
        var aggregate = scheme.Add([scheme.Seal([0.5f, -0.5f], 0.5, roundKey), scheme.Seal([0.25f, 0.75f], 0.5, roundKey)]);

        // Not for another round than the key's.
        var wrongRound = await Assert.ThrowsAsync<FederationOperationException>(() =>
            budapest.CreateDecryptionShare(new DecryptionRequest("job-x", 2, protection, aggregate, roundKey)));
        Assert.Equal("round.no-key-share", wrongRound.Code);

        var first = await budapest.CreateDecryptionShare(new DecryptionRequest("job-x", 1, protection, aggregate, roundKey));
        var second = await zurich.CreateDecryptionShare(new DecryptionRequest("job-x", 1, protection, aggregate, roundKey));
        var opened = scheme.Open(aggregate, roundKey, [first.Payload, second.Payload]).Mean();
        Assert.Equal(0.375, opened[0], 5);
        Assert.Equal(0.125, opened[1], 5);

        // The secret was erased: a second request (say, for one participant's own ciphertext) is refused.
        var again = await Assert.ThrowsAsync<FederationOperationException>(() =>
            budapest.CreateDecryptionShare(new DecryptionRequest("job-x", 1, protection, scheme.Seal([0.1f], 1, roundKey), roundKey)));
        Assert.Equal("round.no-key-share", again.Code);
    }

    private static async Task<JobStatus> RunAsync(LocalFederation federation, JobDefinition job, string id)
    {
        var grain = federation.Grains.GetGrain<ITrainingJobGrain>(id);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var status = await JobProgress.WaitAsync(grain, await grain.Start(JobSpecifications.From(job, id)), cancellationToken: timeout.Token);
        Assert.True(status.Phase == JobPhase.Completed, $"{id}: {status.Phase} {status.Error}");
        return status;
    }
}
