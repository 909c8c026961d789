using Federation.Silo.Storage;
using Microsoft.EntityFrameworkCore;

namespace Federation.Silo.Tests.Storage;

/// <summary>The audit log's store inserts at a position once: a second writer cannot overwrite history there.</summary>
public sealed class AuditLogStoreTests
{
    [Fact]
    public async Task A_second_writer_cannot_overwrite_a_stored_position_and_a_refused_batch_stores_nothing()
    {
        using var dir = new TempDirectory("federation-audit-store");
        var store = AuditLogStore.Sqlite(Path.Combine(dir.Path, "cluster.db"));
        await store.AppendAsync(0, ["first"u8.ToArray(), "second"u8.ToArray()]);

        var other = AuditLogStore.Sqlite(Path.Combine(dir.Path, "cluster.db"));
        await Assert.ThrowsAsync<DbUpdateException>(() => other.AppendAsync(1, ["rewritten"u8.ToArray(), "third"u8.ToArray()]));

        var stored = await store.ReadEntriesAsync();
        Assert.Equal(["first", "second"], stored.Select(System.Text.Encoding.UTF8.GetString));
    }
}
