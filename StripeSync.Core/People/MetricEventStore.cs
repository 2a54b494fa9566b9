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
    /// first sighting lacked (e.g. a failure reason known from the charge, not the invoice event) are filled in.
    /// </summary>
    public static async Task<int> AddAsync(AppDbContext db, Connection connection, Guid? personId, IReadOnlyList<MetricEvent> events, CancellationToken ct)
    {
        if (events.Count == 0)
        {
            return 0;
        }

        var unique = events.DistinctBy(e => e.NaturalKey).ToList();
        var keys = unique.Select(e => e.NaturalKey).ToList();
        var existing = await db.MetricEvents.Where(m => m.Mode == connection.Mode && keys.Contains(m.NaturalKey)).ToDictionaryAsync(m => m.NaturalKey, ct);
        foreach (var row in db.MetricEvents.Local.Where(m => m.Mode == connection.Mode && keys.Contains(m.NaturalKey)))
        {
            existing.TryAdd(row.NaturalKey, row);
        }

        var added = 0;
        foreach (var e in unique)
        {
            var properties = JsonSerializer.Serialize(e.Properties, Json);
            if (existing.TryGetValue(e.NaturalKey, out var row))
            {
                row.PersonId ??= personId;
                if (e.Properties.Count > PropertyCount(row.PropertiesJson))
                {
                    row.PropertiesJson = properties;
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
            });
            added++;
        }

        return added;
    }

    private static int PropertyCount(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.EnumerateObject().Count() : 0;
    }
}
