using FedCore.Jobs;
using Federation.Contracts.Jobs;
using Federation.Silo.Cli;
using Federation.Silo.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Tests;

internal static class TestFederations
{
    public static LocalFederationOptions Options(string dataDirectory, params string[] countries) => new()
    {
        Countries = countries,
        DataDirectory = dataDirectory,
        ConfigureLogging = logging => ConsoleLogging.Configure(logging, LogLevel.Warning),
    };

    /// <summary>Runs <paramref name="job"/> as <paramref name="id"/> to its end (at most 5 minutes); it must complete.</summary>
    public static async Task<JobStatus> RunToCompletionAsync(LocalFederation federation, JobDefinition job, string id)
    {
        var grain = federation.Grains.GetGrain<ITrainingJobGrain>(id);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var status = await JobProgress.WaitAsync(grain, await grain.Start(JobSpecifications.From(job, id)), cancellationToken: timeout.Token);
        Assert.True(status.Phase == JobPhase.Completed, $"{id}: {status.Phase} {status.Error}");
        return status;
    }
}
