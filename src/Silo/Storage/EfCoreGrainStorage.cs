using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Orleans.Serialization;
using Orleans.Storage;

namespace Federation.Silo.Storage;

/// <summary>
/// Orleans grain storage over EF Core: one table, the state serialised with Orleans' own (version-tolerant)
/// serializer, optimistic concurrency through a version number used as the ETag. The same code serves
/// SQLite (embedded default) and any other relational provider EF Core supports.
/// </summary>
public sealed class EfCoreGrainStorage : IGrainStorage
{
    private readonly string _name;
    private readonly DbContextOptions<GrainStateDbContext> _dbOptions;
    private readonly Serializer _serializer;
    private readonly ILogger _logger;
    private readonly Lazy<Task> _schemaReady;

    public EfCoreGrainStorage(string name, DbContextOptions<GrainStateDbContext> dbOptions, Serializer serializer, ILogger<EfCoreGrainStorage> logger)
    {
        _name = name;
        _dbOptions = dbOptions;
        _serializer = serializer;
        _logger = logger;
        _schemaReady = new Lazy<Task>(EnsureSchemaAsync);
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await _schemaReady.Value;
        await using var db = new GrainStateDbContext(_dbOptions);
        var row = await db.GrainStates.AsNoTracking()
            .SingleOrDefaultAsync(r => r.StateName == stateName && r.GrainId == grainId.ToString());
        if (row is null)
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        try
        {
            grainState.State = _serializer.Deserialize<T>(row.Payload);
        }
        catch (Exception e)
        {
            throw new OrleansException(
                $"Storage '{_name}': state '{stateName}' of grain {grainId} (version {row.Version}) cannot be read as {typeof(T).Name}: {e.Message}", e);
        }
        grainState.ETag = row.Version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await _schemaReady.Value;
        var payload = _serializer.SerializeToArray(grainState.State);
        var id = grainId.ToString();
        await using var db = new GrainStateDbContext(_dbOptions);
        long next;
        if (grainState.ETag is null)
        {
            next = 1;
            db.GrainStates.Add(new GrainStateRow { StateName = stateName, GrainId = id, Version = next, Payload = payload, UpdatedAt = DateTimeOffset.UtcNow });
            try
            {
                await db.SaveChangesAsync();
            }
            catch (DbUpdateException e)
            {
                throw Conflict(stateName, grainId, stored: "an existing record", expected: "none", e);
            }
        }
        else
        {
            long expected = ParseETag(grainState.ETag, stateName, grainId);
            next = expected + 1;
            var now = DateTimeOffset.UtcNow;
            int updated = await db.GrainStates
                .Where(r => r.StateName == stateName && r.GrainId == id && r.Version == expected)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Version, next)
                    .SetProperty(r => r.Payload, payload)
                    .SetProperty(r => r.UpdatedAt, now));
            if (updated == 0)
                throw Conflict(stateName, grainId, stored: await StoredVersionAsync(db, stateName, id), expected: grainState.ETag, null);
        }
        grainState.ETag = next.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await _schemaReady.Value;
        if (grainState.ETag is not null)
        {
            long expected = ParseETag(grainState.ETag, stateName, grainId);
            var id = grainId.ToString();
            await using var db = new GrainStateDbContext(_dbOptions);
            int deleted = await db.GrainStates
                .Where(r => r.StateName == stateName && r.GrainId == id && r.Version == expected)
                .ExecuteDeleteAsync();
            if (deleted == 0)
                throw Conflict(stateName, grainId, stored: await StoredVersionAsync(db, stateName, id), expected: grainState.ETag, null);
        }
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private async Task EnsureSchemaAsync()
    {
        await using var db = new GrainStateDbContext(_dbOptions);
        await RelationalSchema.EnsureTablesAsync(db, () => db.GrainStates.AsNoTracking().AnyAsync());
        _logger.LogInformation("Grain storage {Name} ready ({Provider})", _name, db.Database.ProviderName);
    }

    private static async Task<string> StoredVersionAsync(GrainStateDbContext db, string stateName, string id)
    {
        var version = await db.GrainStates.AsNoTracking()
            .Where(r => r.StateName == stateName && r.GrainId == id)
            .Select(r => (long?)r.Version)
            .SingleOrDefaultAsync();
        return version?.ToString(CultureInfo.InvariantCulture) ?? "no record";
    }

    private long ParseETag(string etag, string stateName, GrainId grainId) =>
        long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : throw new InconsistentStateException(
                $"Storage '{_name}': ETag '{etag}' of state '{stateName}' of grain {grainId} is not one this storage wrote.");

    private InconsistentStateException Conflict(string stateName, GrainId grainId, string stored, string expected, Exception? inner)
    {
        var message = $"Storage '{_name}': state '{stateName}' of grain {grainId} was changed by someone else (stored version {stored}, expected {expected}); nothing was written.";
        return inner is null
            ? new InconsistentStateException(message, stored, expected)
            : new InconsistentStateException(message, stored, expected, inner);
    }
}
