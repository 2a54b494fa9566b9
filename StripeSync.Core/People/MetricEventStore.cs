using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Connections;
using StripeSync.Core.Persistence;
using StripeSync.Core.Processing;

namespace StripeSync.Core.People;

/// <summary>Stores metric events once per natural key: a fact seen again (by backfill, webhook or poll) changes nothing.</summary>
public static class MetricEventStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Adds the events not stored yet. An event stored before keeps its time; only properties that the
    /// first sighting lacked (e.g. a failure reason known from the charge, not the invoice event) are filled in,
    /// except that a fact seen in an event replaces one derived from state that it describes as fully.
    /// </summary>
    public static async Task<int> AddAsync(AppDbContext db, Connection connection, Guid? personId, IReadOnlyList<MetricEvent> events, CancellationToken ct,
        bool fromState = false)
    {
        if (events.Count == 0)
        {
            return 0;
        }

        var unique = events.DistinctBy(e => e.NaturalKey).ToList();
        var keys = unique.Select(e => e.NaturalKey).ToList();
        var existing = await db.MetricEvents.Where(m => m.Mode == connection.Mode && keys.Contains(m.NaturalKey)).ToDictionaryAsync(m => m.NaturalKey, ct);
        // Rows added earlier in this context and not saved yet. Local would first scan every tracked entity for changes,
        // which a caller holding a batch of objects pays on every call; added rows are in Local without that scan.
        var detect = db.ChangeTracker.AutoDetectChangesEnabled;
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        try
        {
            foreach (var row in db.MetricEvents.Local.Where(m => m.Mode == connection.Mode && keys.Contains(m.NaturalKey)))
            {
                existing.TryAdd(row.NaturalKey, row);
            }
        }
        finally
        {
            db.ChangeTracker.AutoDetectChangesEnabled = detect;
        }

        var added = 0;
        foreach (var e in unique)
        {
            var properties = JsonSerializer.Serialize(e.Properties, Json);
            if (existing.TryGetValue(e.NaturalKey, out var row))
            {
                row.PersonId ??= personId;
                if (!fromState && row.FromState)
                {
                    // What an event showed at the time outranks what the state shows now (the plan a subscription
                    // started on, not the one it has after an upgrade; the invoice a failure was announced on), so
                    // the fact ends the same whichever path derived it first. Properties only the state knew (a
                    // decline reason from the charge) stay.
                    var at = e.Time.ToUnixTimeMilliseconds();
                    row.Time = at;
                    row.Day = (int)Math.Floor(at / 86_400_000d);
                    row.SourceId = e.SourceId;
                    row.PropertiesJson = Merge(row.PropertiesJson, properties);
                    row.Amount = e.Amount ?? row.Amount;
                    row.Currency = e.Currency ?? row.Currency;
                    row.FromState = false;
                }
                else if (e.Properties.Count > PropertyCount(row.PropertiesJson))
                {
                    row.PropertiesJson = row.FromState ? properties : Merge(properties, row.PropertiesJson);
                    row.Amount ??= e.Amount;
                    row.Currency ??= e.Currency;
                }

                continue;
            }

            var time = e.Time.ToUnixTimeMilliseconds();
            db.MetricEvents.Add(new StoredMetricEvent
            {
                Mode = connection.Mode,
                ConnectionId = connection.Id,
                Metric = e.Metric,
                NaturalKey = e.NaturalKey,
                Time = time,
                Day = (int)Math.Floor(time / 86_400_000d),
                PersonId = personId,
                CustomerId = string.IsNullOrEmpty(e.CustomerId) ? null : e.CustomerId,
                Amount = e.Amount,
                Currency = e.Currency,
                PropertiesJson = properties,
                SourceId = e.SourceId,
                FromState = fromState,
            });
            added++;
        }

        return added;
    }

    /// <summary>
    /// Makes the state-derived events of some customers exactly <paramref name="events"/>: new ones are added, and
    /// ones their state no longer shows are removed. Facts that only events showed are left alone.
    /// </summary>
    public static async Task ReplaceDerivedAsync(AppDbContext db, Connection connection, Guid personId, IReadOnlyCollection<string> customerIds,
        IReadOnlyList<MetricEvent> events, CancellationToken ct)
    {
        var keys = events.Select(e => e.NaturalKey).ToHashSet(StringComparer.Ordinal);
        var ids = customerIds.ToList();
        var stale = await db.MetricEvents
            .Where(m => m.ConnectionId == connection.Id && m.FromState && ids.Contains(m.CustomerId!))
            .Select(m => new { m.Id, m.NaturalKey }).ToListAsync(ct);
        var gone = stale.Where(m => !keys.Contains(m.NaturalKey)).Select(m => m.Id).ToList();
        if (gone.Count > 0)
        {
            await db.MetricEvents.Where(m => gone.Contains(m.Id)).ExecuteDeleteAsync(ct);
        }

        await AddAsync(db, connection, personId, events, ct, fromState: true);
    }

    /// <summary>The properties of <paramref name="under"/> with those of <paramref name="over"/> laid on top.</summary>
    private static string Merge(string under, string over)
    {
        var merged = System.Text.Json.Nodes.JsonNode.Parse(under) as System.Text.Json.Nodes.JsonObject ?? [];
        if (System.Text.Json.Nodes.JsonNode.Parse(over) is System.Text.Json.Nodes.JsonObject top)
        {
            foreach (var (key, value) in top)
            {
                merged[key] = value?.DeepClone();
            }
        }

        return merged.ToJsonString(Json);
    }

    private static int PropertyCount(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.EnumerateObject().Count() : 0;
    }
}
