using Federation.Silo.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using Orleans.Storage;

namespace Federation.Silo.Tests.Storage;

[GenerateSerializer]
public sealed class CounterState
{
    [Id(0)]
    public int Count { get; set; }

    [Id(1)]
    public List<string> Notes { get; set; } = [];
}

/// <summary>The project's EF Core grain storage against a real SQLite file.</summary>
public sealed class EfCoreGrainStorageTests : IDisposable
{
    private readonly TempDirectory _dir = new("federation-storage");
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    private EfCoreGrainStorage NewStorage() => new(
        "test",
        new DbContextOptionsBuilder<GrainStateDbContext>().UseSqlite($"Data Source={_dir.File("grains.db")}").Options,
        _services.GetRequiredService<Serializer>(),
        NullLogger<EfCoreGrainStorage>.Instance);

    private static readonly GrainId Grain = GrainId.Create("counter", "alpha");

    [Fact]
    public async Task State_written_by_one_storage_instance_is_read_by_another()
    {
        var first = new GrainState<CounterState>(new CounterState { Count = 3, Notes = ["a", "b"] });
        await NewStorage().WriteStateAsync("counter", Grain, first);

        var read = new GrainState<CounterState>();
        await NewStorage().ReadStateAsync("counter", Grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal(3, read.State!.Count);
        Assert.Equal(["a", "b"], read.State!.Notes);
        Assert.Equal(first.ETag, read.ETag);
    }

    [Fact]
    public async Task Reading_a_missing_record_gives_a_fresh_state()
    {
        var read = new GrainState<CounterState>();
        await NewStorage().ReadStateAsync("counter", GrainId.Create("counter", "never-written"), read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.Equal(0, read.State!.Count);
    }

    [Fact]
    public async Task A_stale_writer_is_refused_and_the_stored_state_is_kept()
    {
        var storage = NewStorage();
        var original = new GrainState<CounterState>(new CounterState { Count = 1 });
        await storage.WriteStateAsync("counter", Grain, original);

        var a = new GrainState<CounterState>();
        var b = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", Grain, a);
        await storage.ReadStateAsync("counter", Grain, b);

        a.State!.Count = 2;
        await storage.WriteStateAsync("counter", Grain, a);

        b.State!.Count = 99;
        var conflict = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("counter", Grain, b));
        Assert.Contains("changed by someone else", conflict.Message);

        var read = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", Grain, read);
        Assert.Equal(2, read.State!.Count);
    }

    [Fact]
    public async Task Two_first_writes_of_the_same_grain_cannot_both_succeed()
    {
        var storage = NewStorage();
        await storage.WriteStateAsync("counter", Grain, new GrainState<CounterState>(new CounterState { Count = 1 }));
        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync("counter", Grain, new GrainState<CounterState>(new CounterState { Count = 5 })));
    }

    [Fact]
    public async Task Clear_removes_the_record_and_checks_the_etag()
    {
        var storage = NewStorage();
        var state = new GrainState<CounterState>(new CounterState { Count = 7 });
        await storage.WriteStateAsync("counter", Grain, state);

        var stale = new GrainState<CounterState> { ETag = "12345" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("counter", Grain, stale));

        await storage.ClearStateAsync("counter", Grain, state);
        Assert.False(state.RecordExists);
        var read = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", Grain, read);
        Assert.False(read.RecordExists);
    }

    [Fact]
    public async Task States_of_different_names_and_grains_are_kept_apart()
    {
        var storage = NewStorage();
        await storage.WriteStateAsync("counter", Grain, new GrainState<CounterState>(new CounterState { Count = 1 }));
        await storage.WriteStateAsync("other", Grain, new GrainState<CounterState>(new CounterState { Count = 2 }));
        await storage.WriteStateAsync("counter", GrainId.Create("counter", "beta"), new GrainState<CounterState>(new CounterState { Count = 3 }));

        var read = new GrainState<CounterState>();
        await storage.ReadStateAsync("other", Grain, read);
        Assert.Equal(2, read.State!.Count);
        await storage.ReadStateAsync("counter", GrainId.Create("counter", "beta"), read);
        Assert.Equal(3, read.State!.Count);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _services.Dispose();
        _dir.Dispose();
    }
}
