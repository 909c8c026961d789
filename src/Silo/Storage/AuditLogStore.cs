using Microsoft.EntityFrameworkCore;

namespace Federation.Silo.Storage;

/// <summary>One log entry: its position (0-based) and its canonical bytes.</summary>
public sealed class AuditEntryRow
{
    public required long Position { get; set; }

    public required byte[] Bytes { get; set; }
}

/// <summary>One signed tree head, as <c>SignedTreeHead.Write</c> gave it; at most one per size.</summary>
public sealed class AuditHeadRow
{
    public required long Size { get; set; }

    public required byte[] Json { get; set; }
}

/// <summary>A country witness's public key, as it gave it when it co-signed (what an export ships for the auditor to compare).</summary>
public sealed class AuditWitnessKeyRow
{
    public required string Country { get; set; }

    public required byte[] PublicKey { get; set; }
}

public sealed class AuditLogDbContext(DbContextOptions<AuditLogDbContext> options) : DbContext(options)
{
    public DbSet<AuditEntryRow> Entries => Set<AuditEntryRow>();

    public DbSet<AuditHeadRow> Heads => Set<AuditHeadRow>();

    public DbSet<AuditWitnessKeyRow> WitnessKeys => Set<AuditWitnessKeyRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var entry = modelBuilder.Entity<AuditEntryRow>();
        entry.ToTable("audit_entry");
        entry.HasKey(e => e.Position);
        entry.Property(e => e.Position).HasColumnName("position").ValueGeneratedNever();
        entry.Property(e => e.Bytes).HasColumnName("bytes");

        var head = modelBuilder.Entity<AuditHeadRow>();
        head.ToTable("audit_head");
        head.HasKey(h => h.Size);
        head.Property(h => h.Size).HasColumnName("size").ValueGeneratedNever();
        head.Property(h => h.Json).HasColumnName("json");

        var key = modelBuilder.Entity<AuditWitnessKeyRow>();
        key.ToTable("audit_witness_key");
        key.HasKey(k => k.Country);
        key.Property(k => k.Country).HasColumnName("country").HasMaxLength(2);
        key.Property(k => k.PublicKey).HasColumnName("public_key");
    }
}

/// <summary>
/// The audit log's entries, heads and witness keys, in the cluster's database beside the grain state (SQLite by default).
/// Entries are inserted once at their position and never updated: a second insert at a taken position fails, so a second
/// writer (there should be none: one grain orders appends) cannot overwrite history.
/// </summary>
public sealed class AuditLogStore(DbContextOptions<AuditLogDbContext> options)
{
    private readonly Lazy<Task> _schemaReady = new(() => EnsureSchemaAsync(options));

    /// <summary>The store in the cluster database of a data directory (what a silo writes and <c>audit export</c> reads).</summary>
    public static AuditLogStore Sqlite(string clusterDatabasePath) =>
        new(new DbContextOptionsBuilder<AuditLogDbContext>()
            .UseSqlite(Hosting.FederationSiloBuilderExtensions.SqliteConnectionString(clusterDatabasePath))
            .AddInterceptors(new SqliteConnectionSetup(keepsSecrets: false)).Options);

    public async Task<List<byte[]>> ReadEntriesAsync(long from = 0, int count = int.MaxValue, CancellationToken cancellationToken = default)
    {
        await _schemaReady.Value;
        await using var db = new AuditLogDbContext(options);
        return await db.Entries.AsNoTracking().Where(e => e.Position >= from).OrderBy(e => e.Position).Take(count)
            .Select(e => e.Bytes).ToListAsync(cancellationToken);
    }

    /// <summary>Inserts the entries at <paramref name="firstPosition"/> onwards in one transaction: all or none.</summary>
    public async Task AppendAsync(long firstPosition, IReadOnlyList<byte[]> entries, CancellationToken cancellationToken = default)
    {
        await _schemaReady.Value;
        await using var db = new AuditLogDbContext(options);
        for (int i = 0; i < entries.Count; i++)
            db.Entries.Add(new AuditEntryRow { Position = firstPosition + i, Bytes = entries[i] });
        await db.SaveChangesAsync(cancellationToken); // one transaction
    }

    /// <summary>Every head, by size.</summary>
    public async Task<List<byte[]>> ReadHeadsAsync(CancellationToken cancellationToken = default)
    {
        await _schemaReady.Value;
        await using var db = new AuditLogDbContext(options);
        return await db.Heads.AsNoTracking().OrderBy(h => h.Size).Select(h => h.Json).ToListAsync(cancellationToken);
    }

    /// <summary>Stores the head of <paramref name="size"/> entries, replacing one of the same size (a later publication, with the co-signatures it gathered).</summary>
    public async Task PutHeadAsync(long size, byte[] json, CancellationToken cancellationToken = default)
    {
        await _schemaReady.Value;
        await using var db = new AuditLogDbContext(options);
        var existing = await db.Heads.SingleOrDefaultAsync(h => h.Size == size, cancellationToken);
        if (existing is null)
            db.Heads.Add(new AuditHeadRow { Size = size, Json = json });
        else
            existing.Json = json;
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<Dictionary<string, byte[]>> ReadWitnessKeysAsync(CancellationToken cancellationToken = default)
    {
        await _schemaReady.Value;
        await using var db = new AuditLogDbContext(options);
        return await db.WitnessKeys.AsNoTracking().ToDictionaryAsync(k => k.Country, k => k.PublicKey, StringComparer.Ordinal, cancellationToken);
    }

    public async Task PutWitnessKeyAsync(string country, byte[] publicKey, CancellationToken cancellationToken = default)
    {
        await _schemaReady.Value;
        await using var db = new AuditLogDbContext(options);
        var existing = await db.WitnessKeys.SingleOrDefaultAsync(k => k.Country == country, cancellationToken);
        if (existing is null)
            db.WitnessKeys.Add(new AuditWitnessKeyRow { Country = country, PublicKey = publicKey });
        else if (!existing.PublicKey.AsSpan().SequenceEqual(publicKey))
            existing.PublicKey = publicKey;
        await db.SaveChangesAsync(cancellationToken);
    }

    private static async Task EnsureSchemaAsync(DbContextOptions<AuditLogDbContext> options)
    {
        await using var db = new AuditLogDbContext(options);
        await RelationalSchema.EnsureTablesAsync(db, async () =>
        {
            _ = await db.Entries.AsNoTracking().AnyAsync();
            _ = await db.Heads.AsNoTracking().AnyAsync();
            _ = await db.WitnessKeys.AsNoTracking().AnyAsync();
        });
    }
}
