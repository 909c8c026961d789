using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using FedCore.Jobs;
using Federation.Contracts.Jobs;
using Federation.Silo.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Tests.Jobs;

/// <summary>Secrets (signing keys, key shares) never reach a log, at any level, during an encrypted job.</summary>
public sealed partial class SecretHygieneTests
{
    [Fact]
    public async Task No_log_line_of_an_encrypted_job_carries_key_material()
    {
        using var dir = new TempDirectory("federation-hygiene");
        var lines = new ConcurrentQueue<string>();
        var job = JobDefinition.Load(Path.Combine(TestPaths.HeartSample, "job.json")) with { Rounds = 2 };
        await using (var federation = await LocalFederation.StartAsync(new LocalFederationOptions
        {
            Countries = ["US", "HU", "CH"],
            DataDirectory = dir.Path,
            ConfigureLogging = logging =>
            {
                logging.SetMinimumLevel(LogLevel.Trace);
                logging.AddProvider(new CapturingLoggerProvider(lines));
            },
        }))
        {
            await TestFederations.SetUpSampleAsync(federation);
            var grain = federation.Grains.GetGrain<ITrainingJobGrain>("CH/hygiene");
            var status = await JobProgress.WaitAsync(grain, await grain.Start(JobSpecifications.From(job, "CH/hygiene")));
            Assert.True(status.Phase == JobPhase.Completed, $"{status.Phase}: {status.Error}");
        }

        Assert.NotEmpty(lines);
        Assert.Contains(lines, l => l.Contains("committed to its part of the opening"));
        // Key material is bytes; in a log it would show as a long hex or base64 run. The only long runs allowed are
        // SHA-256 digests (64 hex digits) of public things: dataset files, model versions.
        // A source path in a stack trace (Orleans logs the exceptions of calls it retries, such as a call to the witness of a
        // country whose silo is stopping) is words between slashes; a key in base64 is not.
        var leaks = lines.Where(l => LongBlob().Matches(l).Any(m => !Sha256Hex().IsMatch(m.Value) && !SourcePath().IsMatch(m.Value))).ToList();
        Assert.True(leaks.Count == 0, "log lines with long binary-looking runs:\n" + string.Join("\n", leaks.Take(5)));
    }

    [GeneratedRegex("[A-Za-z0-9+/=]{48,}")]
    private static partial Regex LongBlob();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();

    [GeneratedRegex("^/?([A-Za-z_]+/)+[A-Za-z_]*$")]
    private static partial Regex SourcePath();

    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Capturing(categoryName, lines);

        public void Dispose()
        {
        }

        private sealed class Capturing(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{category}: {formatter(state, exception)} {exception}");
        }
    }
}
