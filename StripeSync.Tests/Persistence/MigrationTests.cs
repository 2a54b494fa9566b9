using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using StripeSync.Core.Persistence;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Persistence;

public sealed class MigrationTests
{
    [Fact]
    public Task Sqlite_migrates_an_empty_database_to_the_latest_model() => MigratesEmptyDatabase(DatabaseProvider.Sqlite);

    [PostgresFact]
    public Task Postgres_migrates_an_empty_database_to_the_latest_model() => MigratesEmptyDatabase(DatabaseProvider.Postgres);

    [PostgresFact]
    public async Task The_app_runs_on_postgres_with_hangfire_storage_there()
    {
        await using var app = AppHost.Start(DatabaseProvider.Postgres);

        var health = await app.WaitHealthyAsync();
        var users = await app.WithApiKey(AppHost.AdminApiKey).GetFromJsonAsync<JsonElement>("/api/v1/users");

        Assert.Equal("Healthy", health.GetProperty("status").GetString());
        Assert.Contains("Npgsql", health.GetProperty("checks").GetProperty("database").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, users.GetProperty("total").GetInt32());
    }

    private static async Task MigratesEmptyDatabase(DatabaseProvider provider)
    {
        await using var database = TestDatabase.Create(provider);
        var services = new ServiceCollection()
            .AddStripeSyncDatabase(new DatabaseOptions { Provider = provider, ConnectionString = database.ConnectionString })
            .BuildServiceProvider();
        var factory = services.GetRequiredService<IDbContextFactory<AppDbContext>>();

        await DatabaseSetup.MigrateAsync(factory, default);

        await using var db = await factory.CreateDbContextAsync();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.False(db.Database.HasPendingModelChanges(), $"{provider}: the model changed without a migration; run scripts/add-migration.sh");
        Assert.Equal(0, await db.Users.CountAsync());
        await services.DisposeAsync();
    }
}
