using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Connections;
using StripeSync.Core.People;
using StripeSync.Core.Persistence;

namespace StripeSync.Core.Metrics;

public sealed record MetricSummary(string Name, int Last30Days);

public sealed record CurrencyAmount(string Currency, long Amount);

public sealed record MetricDay(DateOnly Date, int Count, IReadOnlyList<CurrencyAmount> Amounts);

public enum PropertyOperator
{
    Equals,
    Contains,
}

/// <summary>One condition of the activity feed: e.g. Currency = usd, or Reason contains "expired".</summary>
public sealed record PropertyFilter(string Name, PropertyOperator Operator, string Value);

/// <summary>One event of a metric's activity feed, with the person it belongs to (null while unattributed).</summary>
/// <param name="Person">The person's email, else their name.</param>
public sealed record MetricEventView(long Id, string Metric, DateTimeOffset Time, long? Amount, string? Currency, JsonElement Properties,
    string? SourceId, Guid? PersonId, string? Person, string? CustomerId);

/// <summary>Counts and feeds of metric events, by UTC day.</summary>
public sealed class MetricQueries(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public async Task<IReadOnlyList<MetricSummary>> ListAsync(ConnectionMode mode, CancellationToken ct)
    {
        var today = Today();
        var from = DayNumber(today.AddDays(-29));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Naming the metrics lets the (Mode, Metric, Day) index answer alone, one range per metric (BENCHMARKS.md §4).
        var counts = await db.MetricEvents.Where(m => m.Mode == mode && Processing.Metrics.All.Contains(m.Metric) && m.Day >= from && m.Day <= DayNumber(today))
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

    /// <summary>
    /// Each metric's count per day over the last <paramref name="days"/> UTC days (today last), zeros included:
    /// the sparklines of the Metrics page, in one grouped query.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, int[]>> TrendsAsync(ConnectionMode mode, int days, CancellationToken ct)
    {
        var today = DayNumber(Today());
        var from = today - days + 1;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.MetricEvents.Where(m => m.Mode == mode && Processing.Metrics.All.Contains(m.Metric) && m.Day >= from && m.Day <= today)
            .GroupBy(m => new { m.Metric, m.Day }).Select(g => new { g.Key.Metric, g.Key.Day, Count = g.Count() }).ToListAsync(ct);
        var trends = Processing.Metrics.All.ToDictionary(name => name, _ => new int[days]);
        foreach (var row in rows.Where(r => trends.ContainsKey(r.Metric)))
        {
            trends[row.Metric][row.Day - from] = row.Count;
        }

        return trends;
    }

    /// <summary>
    /// The activity feed of a metric, newest first, paged in the database. Filters: a property equal to a value, or
    /// containing a text, both case-insensitive for ASCII ("Currency = USD" finds usd), all of them at once.
    /// </summary>
    /// <param name="day">Only the events of this UTC day, when given.</param>
    public async Task<(IReadOnlyList<MetricEventView> Items, int Total)> EventsAsync(
        ConnectionMode mode, string metric, IReadOnlyList<PropertyFilter> filters, int page, int pageSize, CancellationToken ct, DateOnly? day = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var events = db.MetricEvents.AsNoTracking().Where(m => m.Mode == mode && m.Metric == metric);
        if (day is { } only)
        {
            var number = DayNumber(only);
            events = events.Where(m => m.Day == number);
        }

        foreach (var filter in filters)
        {
            events = Where(events, filter);
        }

        var total = await events.CountAsync(ct);
        var rows = await events.OrderByDescending(m => m.Time).ThenByDescending(m => m.Id).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        var personIds = rows.Where(r => r.PersonId is not null).Select(r => r.PersonId!.Value).Distinct().ToList();
        var people = await db.People.AsNoTracking().Where(p => personIds.Contains(p.Id))
            .Select(p => new { p.Id, p.Email, p.Name }).ToDictionaryAsync(p => p.Id, ct);
        return ([.. rows.Select(m => new MetricEventView(
            m.Id, m.Metric, DateTimeOffset.FromUnixTimeMilliseconds(m.Time), m.Amount, m.Currency,
            JsonDocument.Parse(m.PropertiesJson).RootElement.Clone(), m.SourceId, m.PersonId,
            m.PersonId is { } id && people.TryGetValue(id, out var person) ? person.Email ?? person.Name : null, m.CustomerId))], total);
    }

    /// <summary>The property names the metric's recent events carry, for the feed's filter picker.</summary>
    public async Task<IReadOnlyList<string>> PropertyNamesAsync(ConnectionMode mode, string metric, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var recent = await db.MetricEvents.AsNoTracking().Where(m => m.Mode == mode && m.Metric == metric)
            .OrderByDescending(m => m.Time).Take(200).Select(m => m.PropertiesJson).ToListAsync(ct);
        return [.. recent.SelectMany(json => JsonSerializer.Deserialize<Dictionary<string, string>>(json)?.Keys ?? Enumerable.Empty<string>())
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Properties are stored as a flat JSON object of strings written by System.Text.Json, whose default encoder escapes
    /// every double quote inside a value (\u0022). So <c>"Name":"</c> starts exactly that property's value and the next
    /// raw quote ends it: both operators become string functions every provider translates, not a scan in memory.
    /// </summary>
    private static IQueryable<StoredMetricEvent> Where(IQueryable<StoredMetricEvent> events, PropertyFilter filter)
    {
        var key = JsonSerializer.Serialize(filter.Name) + ":\"";
        var needle = JsonSerializer.Serialize(filter.Value)[1..^1].ToLowerInvariant();
        // The property's value as stored (JSON-encoded, the needle encoded alike), lower-cased by the database: both
        // providers' lower() fold ASCII letters, and the encoder stores other letters \u-escaped, so both operators ignore
        // ASCII case and nothing else, the same on SQLite and PostgreSQL. No index holds a property's value anyway; the
        // (Mode, Metric, Time) index still narrows the rows to the metric's feed.
        // The overloads the analyzers suggest (char, StringComparison) have no SQL translation in every provider.
#pragma warning disable CA1862, CA1866
        var valued = events.Where(m => m.PropertiesJson.Contains(key)).Select(m => new
        {
            Event = m,
            Value = m.PropertiesJson.Substring(m.PropertiesJson.IndexOf(key) + key.Length)
                .Substring(0, m.PropertiesJson.Substring(m.PropertiesJson.IndexOf(key) + key.Length).IndexOf("\""))
                .ToLower(),
        });
        return filter.Operator == PropertyOperator.Equals
            ? valued.Where(v => v.Value == needle).Select(v => v.Event)
            : valued.Where(v => v.Value.Contains(needle)).Select(v => v.Event);
#pragma warning restore CA1862, CA1866
    }

    private DateOnly Today() => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    public static int DayNumber(DateOnly day) => day.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
}
