using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Connections;
using StripeSync.Core.Ingestion;
using StripeSync.Core.People;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Revenue;

/// <summary>MRR per day and currency, with its movements, for the connections of one mode.</summary>
public sealed class RevenueQueries(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public async Task<IReadOnlyList<MrrDay>> DailyAsync(ConnectionMode mode, DateOnly from, DateOnly to, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var connectionIds = await db.Connections.Where(c => c.Mode == mode).Select(c => c.Id).ToListAsync(ct);
        var subscriptions = new List<SubscriptionRecord>();
        var catalogs = new List<Processing.Catalog>();
        foreach (var id in connectionIds)
        {
            catalogs.Add(await StoredState.CatalogAsync(db, id, ct));
            subscriptions.AddRange((await db.StripeObjects.AsNoTracking().Where(o => o.ConnectionId == id && o.Type == StripeObjectType.Subscription).ToListAsync(ct))
                .Select(StateStore.Deserialize<SubscriptionRecord>));
        }

        var changeRows = await db.MetricEvents.AsNoTracking()
            .Where(m => m.Mode == mode && (m.Metric == Processing.Metrics.SubscriptionUpgraded || m.Metric == Processing.Metrics.SubscriptionDowngraded))
            .Select(m => new { m.SourceId, m.Time, m.PropertiesJson }).ToListAsync(ct);
        var changes = changeRows.Select(r =>
        {
            var properties = JsonSerializer.Deserialize<Dictionary<string, string>>(r.PropertiesJson) ?? [];
            return new MrrChange(r.SourceId ?? "", DateTimeOffset.FromUnixTimeMilliseconds(r.Time), properties.GetValueOrDefault("Currency") ?? "",
                Number(properties.GetValueOrDefault("MRR before")), Number(properties.GetValueOrDefault("MRR after")));
        });
        return MrrHistory.Daily(subscriptions, changes, id => catalogs.Select(c => c.Coupon(id)).FirstOrDefault(c => c is not null),
            from, to, clock.GetUtcNow());
    }

    private static long Number(string? text) => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
}
