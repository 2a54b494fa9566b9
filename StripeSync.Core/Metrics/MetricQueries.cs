using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Connections;
using StripeSync.Core.People;
using StripeSync.Core.Persistence;

namespace StripeSync.Core.Metrics;

public sealed record MetricSummary(string Name, int Last30Days);

public sealed record CurrencyAmount(string Currency, long Amount);

public sealed record MetricDay(DateOnly Date, int Count, IReadOnlyList<CurrencyAmount> Amounts);

/// <summary>Counts and feeds of metric events, by UTC day.</summary>
public sealed class MetricQueries(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public async Task<IReadOnlyList<MetricSummary>> ListAsync(ConnectionMode mode, CancellationToken ct)
    {
        var today = Today();
        var from = DayNumber(today.AddDays(-29));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var counts = await db.MetricEvents.Where(m => m.Mode == mode && m.Day >= from && m.Day <= DayNumber(today))
            .GroupBy(m => m.Metric).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        return [.. Processing.Metrics.All.Select(name => new MetricSummary(name, counts.GetValueOrDefault(name)))];
    }

    /// <summary>Every day from <paramref name="from"/> to <paramref name="to"/> (inclusive), zeros included.</summary>
    public async Task<IReadOnlyList<MetricDay>> DailyAsync(ConnectionMode mode, string metric, DateOnly from, DateOnly to, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.MetricEvents.Where(m => m.Mode == mode && m.Metric == metric && m.Day >= DayNumber(from) && m.Day <= DayNumber(to))
            .GroupBy(m => new { m.Day, m.Currency })
            .Select(g => new { g.Key.Day, g.Key.Currency, Count = g.Count(), Amount = g.Sum(m => m.Amount ?? 0) })
            .ToListAsync(ct);
        var byDay = rows.ToLookup(r => r.Day);
        var days = new List<MetricDay>();
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            var cells = byDay[DayNumber(day)].ToList();
            days.Add(new MetricDay(day, cells.Sum(c => c.Count),
                [.. cells.Where(c => c.Currency is not null).OrderBy(c => c.Currency).Select(c => new CurrencyAmount(c.Currency!, c.Amount))]));
        }

        return days;
    }

    /// <summary>The activity feed of a metric, newest first, filtered by exact property values.</summary>
    public async Task<(IReadOnlyList<PersonEventView> Items, int Total)> EventsAsync(
        ConnectionMode mode, string metric, IReadOnlyDictionary<string, string> properties, int page, int pageSize, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var events = db.MetricEvents.AsNoTracking().Where(m => m.Mode == mode && m.Metric == metric);
        foreach (var (name, value) in properties)
        {
            // Properties are stored as a flat JSON object of strings; an exact pair is an exact substring.
            var pair = System.Text.Json.JsonSerializer.Serialize(name) + ":" + System.Text.Json.JsonSerializer.Serialize(value);
            events = events.Where(m => m.PropertiesJson.Contains(pair));
        }

        var total = await events.CountAsync(ct);
        var rows = await events.OrderByDescending(m => m.Time).ThenByDescending(m => m.Id).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return ([.. rows.Select(PeopleQueries.EventView)], total);
    }

    private DateOnly Today() => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    public static int DayNumber(DateOnly day) => day.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
}
