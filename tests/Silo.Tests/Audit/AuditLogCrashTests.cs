using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FedCore.Audit;
using Federation.Contracts.Audit;
using Federation.Silo.Hosting;
using Federation.Silo.Storage;

namespace Federation.Silo.Tests.Audit;

/// <summary>
/// The log survives a crash: a `federation bench audit --trace` process appends batches and prints each one the log
/// acknowledged; the test kills it (SIGKILL, no shutdown) at some moment, then reads the store and restarts the federation
/// over the same data directory.
/// </summary>
public sealed class AuditLogCrashTests
{
    private const int Attempts = 4;

    [Fact]
    public async Task A_killed_process_loses_no_acknowledged_entry_and_the_restarted_log_covers_them_with_the_same_root()
    {
        using var dir = new TempDirectory("federation-audit-crash");
        bool sawEntriesUnderNoHead = false;
        for (int attempt = 1; attempt <= Attempts && !sawEntriesUnderNoHead; attempt++)
        {
            var acknowledged = await RunAndKillAsync(dir.Path, killAfterBatches: 20 * attempt);

            var store = AuditLogStore.Sqlite(Path.Combine(dir.Path, "cluster.db"));
            var entries = await store.ReadEntriesAsync();
            foreach (var batch in acknowledged)
            {
                Assert.True(batch.First + batch.Count <= entries.Count, $"batch at {batch.First} was acknowledged but the store has {entries.Count} entries");
                var stored = entries.Skip((int)batch.First).Take(batch.Count).SelectMany(e => e).ToArray();
                Assert.Equal(batch.Sha256, Convert.ToHexStringLower(SHA256.HashData(stored)));
            }
            var tree = MerkleTree.FromEntries(entries);
            var heads = (await store.ReadHeadsAsync()).Select(h => SignedTreeHead.Read(h)).ToList();
            foreach (var head in heads) // every head published before the crash is a prefix of what is stored
                Assert.Equal(Convert.ToHexStringLower(tree.RootAt(head.Head.Size)), head.Head.RootHex);
            sawEntriesUnderNoHead |= (heads.Count == 0 ? 0 : heads[^1].Head.Size) < entries.Count;

            await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US", "HU", "CH"));
            var resumed = await federation.Grains.GetGrain<IAuditLogGrain>(0).PublishHead();
            Assert.Equal(entries.Count, resumed.Size);
            Assert.Equal(Convert.ToHexStringLower(tree.Root), resumed.RootHex);
            Assert.Equal(["CH", "HU", "US"], resumed.CosignedBy); // each witness checked it extends what it co-signed before the crash
        }
        Assert.True(sawEntriesUnderNoHead, $"in {Attempts} kills, none fell between an append and its head");
    }

    private sealed record Acknowledged(long First, int Count, string Sha256);

    private static async Task<List<Acknowledged>> RunAndKillAsync(string data, int killAfterBatches)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "federation.exe" : "federation"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestPaths.Root,
        };
        foreach (var arg in new[] { "bench", "audit", "--trace", "--batches", "100000", "--batch-size", "3", "--data", data,
                     "--federation", Path.Combine(TestPaths.HeartSample, "federation.json") })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var acknowledged = new List<Acknowledged>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            while (acknowledged.Count < killAfterBatches && await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                var json = JsonNode.Parse(line)!;
                acknowledged.Add(new Acknowledged((long)json["first"]!, (int)json["count"]!, (string)json["sha256"]!));
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true); // SIGKILL: no shutdown, no flush, no deactivation
            await process.WaitForExitAsync();
        }
        Assert.True(acknowledged.Count >= killAfterBatches, $"the bench printed {acknowledged.Count} batches before it ended: {await errors}");
        // Lines the process printed after the last one read were acknowledged too, but the test need not know of them.
        return acknowledged;
    }
}
