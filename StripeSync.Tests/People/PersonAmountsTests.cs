using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using StripeSync.Core.Connections;
using StripeSync.Core.People;
using StripeSync.Core.Persistence;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.People;

/// <summary>
/// person_amounts holds each money field (MRR, total sales) as one row per currency for segments to read by index: it
/// must always say what the person's FieldsJson says, and go with the person.
/// </summary>
public sealed class PersonAmountsTests
{
    [Fact]
    public Task Sqlite_amounts_follow_the_fields_and_go_with_the_person() => AmountsFollowTheFields(DatabaseProvider.Sqlite);

    [PostgresFact]
    public Task Postgres_amounts_follow_the_fields_and_go_with_the_person() => AmountsFollowTheFields(DatabaseProvider.Postgres);

    [Fact]
    public Task Sqlite_migration_fills_amounts_of_people_derived_before_it() => MigrationFillsAmounts(DatabaseProvider.Sqlite);

    [PostgresFact]
    public Task Postgres_migration_fills_amounts_of_people_derived_before_it() => MigrationFillsAmounts(DatabaseProvider.Postgres);

    private static string Fields(object totalSales, object mrr) =>
        JsonSerializer.Serialize(new Dictionary<string, object?> { ["email"] = "ann@example.com", ["stripe_total_sales"] = totalSales, ["stripe_mrr"] = mrr });

    private static async Task AmountsFollowTheFields(DatabaseProvider provider)
    {
        await using var database = TestDatabase.Create(provider);
        await using var services = Services(database);
        var factory = services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await DatabaseSetup.MigrateAsync(factory, default);
        var id = Guid.NewGuid();

        await using (var db = await factory.CreateDbContextAsync())
        {
            var person = new Person { Id = id, Mode = ConnectionMode.Live, Key = "ann@example.com", Email = "ann@example.com", Identified = true };
            person.SetFields(Fields(new Dictionary<string, long> { ["usd"] = 100, ["eur"] = 5 }, new Dictionary<string, long> { ["usd"] = 10 }));
            db.People.Add(person);
            await db.SaveChangesAsync();
        }

        Assert.Equal(["Live stripe_mrr usd 10", "Live stripe_total_sales eur 5", "Live stripe_total_sales usd 100"], await RowsAsync(factory));

        // A later derive: one amount changes, a currency and the whole MRR go away, a new currency appears.
        await using (var db = await factory.CreateDbContextAsync())
        {
            var person = await db.People.Include(p => p.Amounts).SingleAsync(p => p.Id == id);
            person.SetFields(Fields(new Dictionary<string, long> { ["usd"] = 300, ["gbp"] = 7 }, new Dictionary<string, long>()));
            await db.SaveChangesAsync();
        }

        Assert.Equal(["Live stripe_total_sales gbp 7", "Live stripe_total_sales usd 300"], await RowsAsync(factory));

        await using (var db = await factory.CreateDbContextAsync())
        {
            // As a merge or a purge deletes people: in SQL, without loading them.
            await db.People.Where(p => p.Id == id).ExecuteDeleteAsync();
        }

        Assert.Empty(await RowsAsync(factory));
    }

    private static async Task MigrationFillsAmounts(DatabaseProvider provider)
    {
        await using var database = TestDatabase.Create(provider);
        await using var services = Services(database);
        var factory = services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            var migrations = db.Database.GetMigrations().ToList();
            var before = migrations[migrations.FindIndex(m => m.EndsWith("_PersonAmounts", StringComparison.Ordinal)) - 1];
            await db.GetService<IMigrator>().MigrateAsync(before);
            var fields = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["stripe_total_sales"] = new Dictionary<string, object> { ["usd"] = 250_000, ["eur"] = 1.5, ["jpy"] = "12" },
                ["stripe_mrr"] = null,
            });
            var guid = Guid.NewGuid();
            object id = provider == DatabaseProvider.Sqlite ? guid.ToString().ToUpperInvariant() : guid;
            object identified = provider == DatabaseProvider.Sqlite ? 1 : true;
            object unsubscribed = provider == DatabaseProvider.Sqlite ? 0 : false;
            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO people (\"Id\", \"Mode\", \"Key\", \"Identified\", \"SearchText\", \"EmailUnsubscribed\", \"FieldsJson\", \"CreatedAt\", \"UpdatedAt\") " +
                "VALUES ({0}, 1, 'old@example.com', {1}, 'old@example.com', {2}, {3}, 0, 0)",
                id, identified, unsubscribed, fields);
        }

        await DatabaseSetup.MigrateAsync(factory, default);

        // Whole minor units only, as SetFields keeps them; a malformed amount is skipped, not a failed migration.
        Assert.Equal(["Live stripe_total_sales usd 250000"], await RowsAsync(factory));
    }

    private static async Task<string[]> RowsAsync(IDbContextFactory<AppDbContext> factory)
    {
        await using var db = await factory.CreateDbContextAsync();
        var rows = await db.PersonAmounts.AsNoTracking().ToListAsync();
        return [.. rows.Select(a => $"{a.Mode} {a.Token} {a.Currency} {a.Amount}").Order(StringComparer.Ordinal)];
    }

    private static ServiceProvider Services(TestDatabase database) =>
        new ServiceCollection()
            .AddStripeSyncDatabase(new DatabaseOptions { Provider = database.Provider, ConnectionString = database.ConnectionString })
            .BuildServiceProvider();
}
