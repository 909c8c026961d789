using Microsoft.EntityFrameworkCore;

namespace Federation.Silo.Storage;

/// <summary>One row per (state name, grain): the serialised state and its ETag. Provider-neutral EF Core model.</summary>
public sealed class GrainStateRow
{
    public required string StateName { get; set; }

    public required string GrainId { get; set; }

    public required long Version { get; set; }

    public required byte[] Payload { get; set; }

    public required DateTimeOffset UpdatedAt { get; set; }
}

public sealed class GrainStateDbContext(DbContextOptions<GrainStateDbContext> options) : DbContext(options)
{
    public DbSet<GrainStateRow> GrainStates => Set<GrainStateRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var row = modelBuilder.Entity<GrainStateRow>();
        row.ToTable("grain_state");
        row.HasKey(r => new { r.StateName, r.GrainId });
        row.Property(r => r.StateName).HasColumnName("state_name").HasMaxLength(200);
        row.Property(r => r.GrainId).HasColumnName("grain_id").HasMaxLength(500);
        row.Property(r => r.Version).HasColumnName("version");
        row.Property(r => r.Payload).HasColumnName("payload");
        // Stored as UTC ticks so that SQLite and PostgreSQL order and compare them alike.
        row.Property(r => r.UpdatedAt).HasColumnName("updated_at_utc_ticks")
            .HasConversion(v => v.UtcTicks, v => new DateTimeOffset(v, TimeSpan.Zero));
    }
}
