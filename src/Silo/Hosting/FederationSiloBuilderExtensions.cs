using FedCore.Learning;
using Federation.Contracts.Transfer;
using Federation.Silo.Governance;
using Federation.Silo.Grains;
using Federation.Silo.Placement;
using Federation.Silo.Storage;
using Federation.Silo.Transfer;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Placement;
using Orleans.Runtime.Hosting;
using Orleans.Metadata;
using Orleans.Serialization;

namespace Federation.Silo.Hosting;

public static class FederationSiloBuilderExtensions
{
    /// <summary>
    /// Makes this silo a member of the federation in <paramref name="options"/>.Country: declares the country (and
    /// whether it holds the operator's key) in its grain manifest (<see cref="SiloDeclarations"/>), installs the
    /// residency placement filter, the two grain storages and the payload transfers, and sets the federation's message
    /// size limit.
    /// Clustering is the caller's choice (localhost for the embedded default, Redis in production).
    /// </summary>
    public static ISiloBuilder AddFederation(this ISiloBuilder silo, FederationSiloOptions options)
    {
        options.Validate();
        Directory.CreateDirectory(Path.GetDirectoryName(options.CountryDatabasePath)!);
        TorchDevices.SetIntraOpThreads(options.TorchIntraOpThreads);

        silo.Services.AddSingleton<IGrainPropertiesProvider>(new SiloDeclarations.Provider(options));
        silo.Services.AddPlacementFilter<CountryResidencyFilterStrategy, CountryResidencyFilterDirector>(ServiceLifetime.Transient);
        silo.Services.AddPlacementFilter<AuditLogFilterStrategy, AuditLogFilterDirector>(ServiceLifetime.Transient);
        silo.Services.AddSingleton(new SiloCountry(options.Country));
        silo.Services.AddSingleton(options);
        silo.Services.AddSingleton<FederationRecords>();
        silo.Services.AddSingleton<ApprovalVerifier>();
        silo.Services.AddSingleton<Governance.SiloPolicies>();
        silo.Services.AddSingleton<AuditLogSigner>();
        silo.Services.AddSingleton<AuditTrail>();
        silo.Services.AddSingleton(AuditLogStore.Sqlite(options.ClusterDatabasePath));
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.AddIncomingGrainCallFilter<FedCoreExceptionBoundary>();

        silo.Services.Configure<SiloMessagingOptions>(messaging =>
        {
            messaging.MaxMessageBodySize = options.MaxMessageBodySize;
            messaging.ResponseTimeout = options.ResponseTimeout;
        });
        silo.Services.AddSingleton(options.Transfer);
        silo.Services.AddSingleton<IConfigurationValidator, PayloadTransferOptionsValidator>();
        silo.Services.AddSingleton<PayloadTransfers>();
        silo.Services.AddSingleton<ParticipantWorkSlots>();
        silo.AddGrainExtension<IPayloadTransferExtension, PayloadTransferExtension>();

        silo.Services.AddGrainStorage(StorageNames.Cluster, (sp, name) => CreateSqliteStorage(sp, name, options.ClusterDatabasePath, keepsSecrets: false));
        silo.Services.AddGrainStorage(StorageNames.Country, (sp, name) => CreateSqliteStorage(sp, name, options.CountryDatabasePath, keepsSecrets: true));
        return silo;
    }

    private static EfCoreGrainStorage CreateSqliteStorage(IServiceProvider services, string name, string path, bool keepsSecrets) =>
        new(name, SqliteStorageOptions(path, keepsSecrets), services.GetRequiredService<Serializer>(), services.GetRequiredService<ILogger<EfCoreGrainStorage>>());

    /// <summary>A SQLite grain store; one that <paramref name="keepsSecrets"/> leaves no copy of an erased secret in its files (see <see cref="SqliteConnectionSetup"/>).</summary>
    internal static DbContextOptions<GrainStateDbContext> SqliteStorageOptions(string path, bool keepsSecrets)
        => new DbContextOptionsBuilder<GrainStateDbContext>().UseSqlite(SqliteConnectionString(path)).AddInterceptors(new SqliteConnectionSetup(keepsSecrets)).Options;

    internal static string SqliteConnectionString(string path) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        DefaultTimeout = 60,
    }.ToString();
}
