using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace StripeSync.Core.Persistence;

public static class DatabaseSetup
{
    /// <summary>
    /// Registers the provider's context behind <see cref="AppDbContext"/>, both as a factory (one context per
    /// operation, what Blazor circuits and jobs use) and scoped (what ASP.NET Core Identity's stores want).
    /// </summary>
    public static IServiceCollection AddStripeSyncDatabase(this IServiceCollection services, DatabaseOptions options)
    {
        switch (options.Provider)
        {
            case DatabaseProvider.Sqlite:
                var sqlite = PrepareSqlite(options.ConnectionString);
                services.AddDbContextFactory<SqliteAppDbContext>(o => Configure(o, DatabaseProvider.Sqlite, sqlite));
                services.AddSingleton<IDbContextFactory<AppDbContext>>(sp =>
                    new Upcast<SqliteAppDbContext>(sp.GetRequiredService<IDbContextFactory<SqliteAppDbContext>>()));
                break;
            case DatabaseProvider.Postgres:
                services.AddDbContextFactory<PostgresAppDbContext>(o => Configure(o, DatabaseProvider.Postgres, options.ConnectionString));
                services.AddSingleton<IDbContextFactory<AppDbContext>>(sp =>
                    new Upcast<PostgresAppDbContext>(sp.GetRequiredService<IDbContextFactory<PostgresAppDbContext>>()));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Provider, "Unknown database provider.");
        }

        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext());
        return services;
    }

    /// <summary>
    /// Brings the database to the latest migration; creates it (and for SQLite its folder) if missing. Then runs
    /// <paramref name="alone"/> (the first admin, the roles) still holding the lock, so processes starting together
    /// don't both create them.
    /// </summary>
    public static async Task MigrateAsync(IDbContextFactory<AppDbContext> factory, CancellationToken ct, Func<CancellationToken, Task>? alone = null)
    {
        alone ??= _ => Task.CompletedTask;
        await using var db = await factory.CreateDbContextAsync(ct);
        // An index added to a table of millions (metric_events) takes minutes on PostgreSQL; the default 30 s command
        // timeout made start-up fail half-way through such a migration (BENCHMARKS.md §4).
        db.Database.SetCommandTimeout(TimeSpan.FromMinutes(30));
        if (db.Database.IsNpgsql())
        {
            // Web and worker processes start together and each migrates and bootstraps: one at a time, the others then find nothing to do.
            var creator = db.GetService<Microsoft.EntityFrameworkCore.Storage.IRelationalDatabaseCreator>();
            if (!await creator.ExistsAsync(ct))
            {
                try
                {
                    await creator.CreateAsync(ct);
                }
                catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.DuplicateDatabase)
                {
                    // Another process created it a moment ago.
                }
            }

            await db.Database.OpenConnectionAsync(ct);
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_lock(74610001)", ct);
            try
            {
                await db.Database.MigrateAsync(ct);
                await alone(ct);
            }
            finally
            {
                await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_unlock(74610001)", CancellationToken.None);
            }

            return;
        }

        await db.Database.MigrateAsync(ct);
        if (db.Database.IsSqlite())
        {
            // Write-ahead logging (kept in the file once set): readers don't block the sync's writers, and each
            // page's transaction costs one append instead of a journal rewrite.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
            await RefreshStatisticsAsync(db, ct);
        }

        await alone(ct);
    }

    /// <summary>
    /// SQLite plans from the statistics ANALYZE leaves, and has none until something runs it: without them it walks a
    /// million people by mode and probes each, where reading the 80k matching amounts first takes milliseconds (High
    /// value, 0.3 s → 10 ms at 100k people). <c>PRAGMA optimize</c> analyses only tables that were never analysed or have
    /// grown or shrunk tenfold, with a row limit that keeps it quick. PostgreSQL's autovacuum does this by itself.
    /// </summary>
    public static async Task RefreshStatisticsAsync(AppDbContext db, CancellationToken ct)
    {
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA optimize=0x10002;", ct);
        }
    }

    internal static void Configure(DbContextOptionsBuilder builder, DatabaseProvider provider, string connectionString)
    {
        _ = provider switch
        {
            DatabaseProvider.Sqlite => builder.UseSqlite(connectionString, o => o.MigrationsHistoryTable("__ef_migrations"))
                .AddInterceptors(SqlitePragmas.Instance, SqliteWriteTurns.Instance),
            _ => builder.UseNpgsql(connectionString, o => o.MigrationsHistoryTable("__ef_migrations")),
        };
    }

    /// <summary>Makes the SQLite file's folder exist, so the default <c>data/</c> path works on a fresh clone.</summary>
    private static string PrepareSqlite(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (builder.Mode != SqliteOpenMode.Memory && !string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:")
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }
        }

        return connectionString;
    }

    private sealed class Upcast<T>(IDbContextFactory<T> inner) : IDbContextFactory<AppDbContext> where T : AppDbContext
    {
        public AppDbContext CreateDbContext() => inner.CreateDbContext();
    }
}

/// <summary>Lets <c>dotnet ef migrations add … --context SqliteAppDbContext</c> build the context without the web host.</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteAppDbContext>
{
    public SqliteAppDbContext CreateDbContext(string[] args)
    {
        var builder = new DbContextOptionsBuilder<SqliteAppDbContext>();
        DatabaseSetup.Configure(builder, DatabaseProvider.Sqlite, "Data Source=design.db");
        return new SqliteAppDbContext(builder.Options);
    }
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresAppDbContext>
{
    public PostgresAppDbContext CreateDbContext(string[] args)
    {
        var builder = new DbContextOptionsBuilder<PostgresAppDbContext>();
        DatabaseSetup.Configure(builder, DatabaseProvider.Postgres, "Host=localhost;Database=design");
        return new PostgresAppDbContext(builder.Options);
    }
}

/// <summary>
/// With WAL, synchronous=NORMAL is safe against corruption and loses at most the last transactions on a power cut
/// (never on a process crash); busy_timeout lets concurrent jobs wait for the write lock instead of failing.
/// </summary>
internal sealed class SqlitePragmas : Microsoft.EntityFrameworkCore.Diagnostics.DbConnectionInterceptor
{
    public static readonly SqlitePragmas Instance = new();

    public override void ConnectionOpened(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;";
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData,
        CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A transaction that failed or was disposed without commit or rollback (an exception) ends its write turn here.</summary>
    public override void ConnectionClosed(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData) =>
        SqliteWriteGate.Leave(connection);

    public override Task ConnectionClosedAsync(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData)
    {
        SqliteWriteGate.Leave(connection);
        return Task.CompletedTask;
    }

    /// <summary>A context disposed with its connection open (EF closes it without reporting the close) ends its write turn here.</summary>
    public override Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult ConnectionDisposing(System.Data.Common.DbConnection connection,
        Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEventData eventData, Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult result)
    {
        SqliteWriteGate.Leave(connection);
        return result;
    }

    public override ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult> ConnectionDisposingAsync(System.Data.Common.DbConnection connection,
        Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEventData eventData, Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult result)
    {
        SqliteWriteGate.Leave(connection);
        return ValueTask.FromResult(result);
    }
}
