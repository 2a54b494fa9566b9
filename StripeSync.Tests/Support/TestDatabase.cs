using Npgsql;
using StripeSync.Core.Persistence;

namespace StripeSync.Tests.Support;

/// <summary>
/// A fresh, empty database for one test host: a temporary SQLite file, or a new database on the
/// throwaway PostgreSQL server that the test script starts (<c>STRIPESYNC_TEST_POSTGRES</c>).
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string PostgresVariable = "STRIPESYNC_TEST_POSTGRES";

    private readonly string? sqliteFolder;
    private readonly string? postgresName;

    private TestDatabase(DatabaseProvider provider, string connectionString, string? sqliteFolder, string? postgresName)
    {
        Provider = provider;
        ConnectionString = connectionString;
        this.sqliteFolder = sqliteFolder;
        this.postgresName = postgresName;
    }

    public DatabaseProvider Provider { get; }
    public string ConnectionString { get; }

    public static string? PostgresServer => Environment.GetEnvironmentVariable(PostgresVariable);

    public static TestDatabase Create(DatabaseProvider provider)
    {
        if (provider == DatabaseProvider.Sqlite)
        {
            var folder = Directory.CreateTempSubdirectory("stripesync-test-").FullName;
            return new TestDatabase(provider, $"Data Source={Path.Combine(folder, "app.db")};Pooling=False", folder, null);
        }

        var server = PostgresServer ?? throw new InvalidOperationException(
            $"{PostgresVariable} is not set: run the tests with scripts/test.sh, which starts PostgreSQL.");
        var name = "stripesync_test_" + Guid.NewGuid().ToString("N")[..12];
        var builder = new NpgsqlConnectionStringBuilder(server) { Database = name };
        return new TestDatabase(provider, builder.ConnectionString, null, name);
    }

    public async ValueTask DisposeAsync()
    {
        if (sqliteFolder is not null)
        {
            try
            {
                Directory.Delete(sqliteFolder, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open by a stopping host: the OS temp cleaner takes it later.
            }
        }

        // STRIPESYNC_KEEP_TEST_DB=1 keeps a PostgreSQL test database for a post-mortem of a failed run.
        if (postgresName is not null && PostgresServer is { } server && Environment.GetEnvironmentVariable("STRIPESYNC_KEEP_TEST_DB") != "1")
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(server);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{postgresName}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }
}

/// <summary>A fact that needs the PostgreSQL server of the test script; skipped (visibly) without it.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (TestDatabase.PostgresServer is null)
        {
            Skip = $"PostgreSQL tier: set {TestDatabase.PostgresVariable} (scripts/test.sh does).";
        }
    }

    /// <summary>
    /// Why this test is kept out of the run for now (a known failure being worked on); STRIPESYNC_RUN_KNOWN_FAILURES=1
    /// runs it anyway.
    /// </summary>
    public string? KnownFailure
    {
        get;
        init
        {
            field = value;
            if (Skip is null && Environment.GetEnvironmentVariable("STRIPESYNC_RUN_KNOWN_FAILURES") != "1")
            {
                Skip = value;
            }
        }
    }
}
