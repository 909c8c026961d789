using FedCore.Jobs;
using FedCore.Learning;
using Federation.Contracts.Jobs;
using Federation.Silo.Hosting;
using Federation.Silo.Tests.Transfer;
using Federation.Silo.Transfer;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Silo.Tests.Jobs;

/// <summary>A model far larger than one message moves encrypted through the round protocol in chunks.</summary>
public sealed class LargeModelTests
{
    [Fact]
    public async Task A_ten_million_parameter_model_runs_encrypted_end_to_end_with_no_message_over_the_limit()
    {
        using var dir = new TempDirectory("federation-large");
        // ≈ 10⁷ parameters: a sealed update is ≈ 133 MB, the aggregate's masks ≈ 76 MB, a share ≈ 56 MB, the model 40 MB.
        const string model = """{"type":"mlp","inputs":15,"hidden":[3160,3150],"classes":2}""";
        var job = JobDefinition.Load(Path.Combine(TestPaths.HeartSample, "job.json")) with
        {
            ModelJson = model,
            Rounds = 1,
            ParticipantIds = ["CH/zurich", "HU/budapest", "US/cleveland"],
        };
        long parameters = ParameterLayout.For(ModelSpec.Parse(model, "test")).TotalLength;
        Assert.InRange(parameters, 10_000_000, 10_100_000);
        // Every message of this federation is at most 16 MiB: Orleans closes a connection that carries a larger one.
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US", "HU", "CH") with
        {
            MaxMessageBodySize = TransferFederation.MessageLimit,
            Transfer = TransferFederation.Options with { Expiry = TimeSpan.FromMinutes(10) },
            ConfigureSilo = silo => silo.AddIncomingGrainCallFilter<ChunkCallCounter>(),
        });
        await TestFederations.SetUpSampleAsync(federation);

        var status = await TestFederations.RunToCompletionAsync(federation, job, "CH/large");

        // Each sent its sealed update's masks (7.6 bytes per parameter; the 5.6 of c0 stay home).
        Assert.All(status.Rounds[0].Participants, p => Assert.True(p.UpdateBytes > 75_000_000, $"{p.ParticipantId} sent {p.UpdateBytes} bytes"));
        int chunkCalls = federation.Countries.Sum(c => federation.ServicesOf(c).GetServices<IIncomingGrainCallFilter>().OfType<ChunkCallCounter>().Single().Count);
        // At least the three sealed updates (10 chunks each at 8 MiB) moved in chunks.
        Assert.True(chunkCalls >= 3 * 10, $"{chunkCalls} chunk calls");
        Assert.InRange(status.Rounds[0].MeanLocalTestAccuracy, 0.0, 1.0); // a number, not NaN: the model was opened and scored
    }
}
