using System.Security.Cryptography;
using Federation.Silo.Hosting;
using Federation.Silo.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using Orleans.Storage;

namespace Federation.Silo.Tests.Storage;

[GenerateSerializer]
public sealed class KeyShareState
{
    [Id(0)]
    public byte[] Secret { get; set; } = [];

    [Id(1)]
    public string Note { get; set; } = "";
}

/// <summary>
/// A secret erased from grain state leaves no copy in the files of a SQLite store: a 4 KiB random secret is written,
/// the state overwritten without it, and every file of the store searched for any 32-byte piece of it.
/// </summary>
public sealed class SecureDeleteTests : IDisposable
{
    private readonly TempDirectory _dir = new("federation-secure-delete");
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    [Fact]
    public async Task An_erased_secret_is_in_no_file_of_the_country_store_while_it_is_open_nor_after_it_closes()
    {
        var options = FederationSiloBuilderExtensions.SqliteStorageOptions(_dir.File("country.db"), keepsSecrets: true);
        var secret = await WriteThenEraseAsync(options);
        Assert.Equal("", PiecesFound(secret));
        Close(options);
        Assert.Equal("", PiecesFound(secret));
    }

    /// <summary>The control: without secure_delete the same search finds the erased secret in the freed pages.</summary>
    [Fact]
    public async Task Without_secure_delete_the_same_search_finds_the_erased_secret()
    {
        var options = new DbContextOptionsBuilder<GrainStateDbContext>().UseSqlite($"Data Source={_dir.File("plain.db")}").Options;
        var secret = await WriteThenEraseAsync(options);
        Close(options);
        Assert.Contains("plain.db: ", PiecesFound(secret));
    }

    /// <summary>Why the country store does not use a write-ahead log: the log keeps the page that held the secret until the store closes.</summary>
    [Fact]
    public async Task The_cluster_stores_write_ahead_log_keeps_an_erased_secret_until_the_store_closes()
    {
        var options = FederationSiloBuilderExtensions.SqliteStorageOptions(_dir.File("cluster.db"), keepsSecrets: false);
        var secret = await WriteThenEraseAsync(options);
        Assert.StartsWith("cluster.db-wal: ", PiecesFound(secret));
        Close(options);
        Assert.Equal("", PiecesFound(secret));
    }

    private async Task<byte[]> WriteThenEraseAsync(DbContextOptions<GrainStateDbContext> options)
    {
        var storage = new EfCoreGrainStorage("secrets", options, _services.GetRequiredService<Serializer>(), NullLogger<EfCoreGrainStorage>.Instance);
        var grain = GrainId.Create("participant", "HU/budapest");
        var secret = RandomNumberGenerator.GetBytes(4096);
        var state = new GrainState<KeyShareState>(new KeyShareState { Secret = secret, Note = "round 1" });
        await storage.WriteStateAsync("participant", grain, state);
        state.State = new KeyShareState { Note = "round 1 done" };
        await storage.WriteStateAsync("participant", grain, state);
        return secret;
    }

    /// <summary>Closes the store: its pooled connections, the last of which checkpoints and removes a write-ahead log.</summary>
    private static void Close(DbContextOptions<GrainStateDbContext> options)
    {
        using var db = new GrainStateDbContext(options);
        SqliteConnection.ClearPool((SqliteConnection)db.Database.GetDbConnection());
    }

    /// <summary>"file: n of 128 pieces" for each file of the store holding any 32-byte piece of <paramref name="secret"/>.</summary>
    private string PiecesFound(byte[] secret)
    {
        var found = new List<string>();
        foreach (var file in Directory.GetFiles(_dir.Path).Order(StringComparer.Ordinal))
        {
            var bytes = File.ReadAllBytes(file);
            int pieces = Enumerable.Range(0, secret.Length / 32).Count(i => bytes.AsSpan().IndexOf(secret.AsSpan(i * 32, 32)) >= 0);
            if (pieces > 0)
                found.Add($"{Path.GetFileName(file)}: {pieces} of {secret.Length / 32} pieces");
        }
        return string.Join("; ", found);
    }

    public void Dispose()
    {
        _services.Dispose();
        _dir.Dispose();
    }
}
