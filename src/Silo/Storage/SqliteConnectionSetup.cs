using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Federation.Silo.Storage;

/// <summary>
/// Sets up every SQLite connection EF Core opens for grain storage. <c>secure_delete</c> (off in the bundled SQLite)
/// overwrites deleted or replaced content with zeros instead of leaving it in free pages; it belongs to the connection,
/// so it is set on each open. The journal mode decides where old page images go: a write-ahead log keeps them in the
/// <c>-wal</c> file until later writes overwrite them after a checkpoint, or the last connection closes; a rollback
/// journal holds them only while a write is under way and is deleted when it commits.
/// </summary>
internal sealed class SqliteConnectionSetup(bool keepsSecrets) : DbConnectionInterceptor
{
    // Secrets: no copy of an erased one may outlive its erasing write. Otherwise the log lets readers run beside a writer.
    private readonly string _pragmas = $"PRAGMA secure_delete = ON; PRAGMA journal_mode = {(keepsSecrets ? "DELETE" : "WAL")};";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = _pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = _pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
