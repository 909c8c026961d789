using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace Federation.Silo.Storage;

/// <summary>
/// Creates a context's tables in a database that other contexts share (grain state and the audit log live in one file):
/// EF Core's <c>EnsureCreated</c> does nothing once the database has any table, so each context creates its own tables
/// when a probe finds them missing.
/// </summary>
internal static class RelationalSchema
{
    public static async Task EnsureTablesAsync(DbContext db, Func<Task> probe)
    {
        var creator = db.GetService<IRelationalDatabaseCreator>();
        if (!await creator.ExistsAsync())
            await creator.CreateAsync();
        if (await Exists(probe))
            return;
        try
        {
            await creator.CreateTablesAsync();
        }
        catch (DbException)
        {
            if (!await Exists(probe))
                throw;
            // Another silo or process created them meanwhile.
        }
    }

    private static async Task<bool> Exists(Func<Task> probe)
    {
        try
        {
            await probe();
            return true;
        }
        catch (DbException)
        {
            return false;
        }
    }
}
