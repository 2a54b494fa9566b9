using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StripeSync.Core.Connections;
using StripeSync.Core.Metrics;
using StripeSync.Core.People;
using StripeSync.Core.Persistence;
using StripeSync.Tests.Support;
using M = StripeSync.Core.Processing.Metrics;

// Not StripeSync.Tests.Metrics: that namespace would hide Core.Processing.Metrics from every other test.
namespace StripeSync.Tests.MetricPages;

/// <summary>The activity feed's property filters run in the database, on both providers, and match only the named property.</summary>
public sealed class MetricFeedFilterTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, string>[] Seeded =
    [
        new() { ["Reason"] = "Your card has expired.", ["Currency"] = "usd" },
        new() { ["Reason"] = "Your card was declined.", ["Currency"] = "usd" },
        new() { ["Reason"] = "The card's \"limit\" expired", ["Currency"] = "eur" },
        // "expired" in another property must not match a filter on Reason.
        new() { ["Reason"] = "Insufficient funds.", ["Note"] = "card expired last year", ["Currency"] = "usd" },
        new() { ["Currency"] = "usd" },
    ];

    public static TheoryData<string, string, string, string?, string?> Cases => new()
    {
        { "Reason", "contains", "expired", null, null },
        { "Reason", "contains", "EXPIRED", null, null },
        { "Reason", "contains", "card's", null, null },
        { "Reason", "contains", "\"limit\"", null, null },
        { "Reason", "contains", "card", "Currency", "usd" },
        { "Currency", "=", "usd", null, null },
        { "Currency", "=", "US", null, null },
        { "Currency", "=", "USD", null, null },
        { "Currency", "=", "Eur", null, null },
        { "Reason", "=", "YOUR CARD WAS DECLINED.", null, null },
        { "Reason", "=", "the card's \"LIMIT\" expired", null, null },
        { "Reason", "=", "Your card was declined.", null, null },
        { "Missing", "contains", "a", null, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Filters_match_only_the_named_property_on_sqlite(string name, string op, string value, string? andName, string? andValue) =>
        CheckAsync(DatabaseProvider.Sqlite, name, op, value, andName, andValue);

    [PostgresFact]
    public async Task Filters_match_only_the_named_property_on_postgres()
    {
        foreach (var c in Cases)
        {
            await CheckAsync(DatabaseProvider.Postgres, (string)c[0], (string)c[1], (string)c[2], (string?)c[3], (string?)c[4]);
        }
    }

    private static async Task CheckAsync(DatabaseProvider provider, string name, string op, string value, string? andName, string? andValue)
    {
        await using var database = TestDatabase.Create(provider);
        var services = new ServiceCollection()
            .AddStripeSyncDatabase(new DatabaseOptions { Provider = provider, ConnectionString = database.ConnectionString })
            .AddSingleton<TimeProvider>(new FakeTimeProvider(PageContext.Now))
            .AddSingleton<MetricQueries>();
        await using (var provided = services.BuildServiceProvider())
        {
            var factory = provided.GetRequiredService<IDbContextFactory<AppDbContext>>();
            await DatabaseSetup.MigrateAsync(factory, CancellationToken.None);
            await SeedAsync(factory);

            var filters = new List<PropertyFilter> { new(name, op == "=" ? PropertyOperator.Equals : PropertyOperator.Contains, value) };
            if (andName is not null)
            {
                filters.Add(new PropertyFilter(andName, PropertyOperator.Equals, andValue!));
            }

            var (items, total) = await provided.GetRequiredService<MetricQueries>()
                .EventsAsync(ConnectionMode.Live, M.FailedPayment, filters, 1, 50, CancellationToken.None);

            // Expected from the seed itself: equality or a substring of that one property, both ignoring case.
            var expected = Seeded.Select((p, i) => (Properties: p, Index: i))
                .Where(s => filters.All(f => s.Properties.TryGetValue(f.Name, out var v)
                    && (f.Operator == PropertyOperator.Equals ? string.Equals(v, f.Value, StringComparison.OrdinalIgnoreCase) : v.Contains(f.Value, StringComparison.OrdinalIgnoreCase))))
                .Select(s => s.Index).OrderDescending().ToList();
            Assert.Equal(expected.Count, total);
            Assert.Equal(expected, items.Select(e => int.Parse(e.SourceId!, System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    private static async Task SeedAsync(IDbContextFactory<AppDbContext> factory)
    {
        await using var db = await factory.CreateDbContextAsync();
        for (var i = 0; i < Seeded.Length; i++)
        {
            // Later seeds are newer, so the feed lists them first.
            var time = PageContext.Now.AddHours(i - 10).ToUnixTimeMilliseconds();
            db.MetricEvents.Add(new StoredMetricEvent
            {
                Mode = ConnectionMode.Live, Metric = M.FailedPayment, NaturalKey = $"in_{i}:Failed Payment", Time = time,
                Day = (int)(time / 86_400_000), PropertiesJson = JsonSerializer.Serialize(Seeded[i], Json), SourceId = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        }

        // Another metric with a matching property is not in this feed.
        db.MetricEvents.Add(new StoredMetricEvent
        {
            Mode = ConnectionMode.Live, Metric = M.RefundedPayment, NaturalKey = "re_1", Time = PageContext.Now.ToUnixTimeMilliseconds(),
            PropertiesJson = JsonSerializer.Serialize(new Dictionary<string, string> { ["Reason"] = "expired", ["Currency"] = "usd" }, Json), SourceId = "99",
        });
        await db.SaveChangesAsync();
    }
}
