using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using StripeSync.Core.Connections;
using StripeSync.Core.Persistence;
using StripeSync.Core.Processing;

namespace StripeSync.Core.People;

/// <summary>Stores metric events once per natural key: a fact seen again (by backfill, webhook or poll) changes nothing.</summary>
public static class MetricEventStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Values per IN list: a batch of customers can name more invoices and events than one statement takes parameters.</summary>
    private const int ChunkSize = 2000;

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

        return Apply(connection, personId, unique, existing, fromState, row => db.MetricEvents.Add(row));
    }

    /// <summary>
    /// Makes the state-derived events of each person's customers exactly that person's events: new ones are added, and
    /// ones their state no longer shows are removed. Facts that only events showed are left alone. One query reads the
    /// state-derived rows of every customer, one the stored rows of every event; new rows are written here, changed ones
    /// are tracked for the caller's save.
    /// </summary>
    public static async Task ReplaceDerivedAsync(AppDbContext db, Connection connection,
        IReadOnlyList<(Guid PersonId, IReadOnlyCollection<string> CustomerIds, IReadOnlyList<MetricEvent> Events)> people, CancellationToken ct)
    {
        var keysOf = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (_, customerIds, events) in people)
        {
            var keys = events.Select(e => e.NaturalKey).ToHashSet(StringComparer.Ordinal);
            foreach (var id in customerIds)
            {
                keysOf[id] = keys;
            }
        }

        var stale = new List<(long Id, string NaturalKey, string CustomerId)>();
        foreach (var ids in keysOf.Keys.Chunk(ChunkSize))
        {
            stale.AddRange((await db.MetricEvents
                    .Where(m => m.ConnectionId == connection.Id && m.FromState && ids.Contains(m.CustomerId!))
                    .Select(m => new { m.Id, m.NaturalKey, m.CustomerId }).ToListAsync(ct))
                .Select(m => (m.Id, m.NaturalKey, m.CustomerId!)));
        }

        foreach (var gone in stale.Where(m => !keysOf[m.CustomerId].Contains(m.NaturalKey)).Select(m => m.Id).Chunk(ChunkSize))
        {
            await db.MetricEvents.Where(m => gone.Contains(m.Id)).ExecuteDeleteAsync(ct);
        }

        var all = people.SelectMany(p => p.Events).Select(e => e.NaturalKey).Distinct(StringComparer.Ordinal).ToList();
        var existing = new Dictionary<string, StoredMetricEvent>(StringComparer.Ordinal);
        foreach (var keys in all.Chunk(ChunkSize))
        {
            foreach (var row in await db.MetricEvents.Where(m => m.Mode == connection.Mode && keys.Contains(m.NaturalKey)).ToListAsync(ct))
            {
                existing[row.NaturalKey] = row;
            }
        }

        // In the people's order, each against the rows before it: two people deriving one fact store it once, as one after the other would.
        var inserts = new List<StoredMetricEvent>();
        foreach (var (personId, _, events) in people)
        {
            Apply(connection, personId, events.DistinctBy(e => e.NaturalKey), existing, fromState: true, inserts.Add);
        }

        await InsertAsync(db, inserts, ct);
    }

    /// <summary>The columns a new row is inserted with, in <see cref="InsertAsync"/>'s order.</summary>
    private const string Columns = "\"Mode\", \"ConnectionId\", \"Metric\", \"NaturalKey\", \"Time\", \"Day\", \"PersonId\", \"CustomerId\", \"Amount\", "
        + "\"Currency\", \"PropertiesJson\", \"SourceId\", \"FromState\"";

    private static readonly Type[] ColumnTypes =
        [typeof(int), typeof(Guid), typeof(string), typeof(string), typeof(long), typeof(int), typeof(Guid), typeof(string), typeof(long), typeof(string), typeof(string), typeof(string), typeof(bool)];

    /// <summary>
    /// Inserts new rows with multi-row INSERTs, not tracked: EF's INSERT … RETURNING per row, each updating the
    /// table's six indexes, was most of deriving an import's people. One command is reused for every full chunk, so the
    /// database parses its statement once per call instead of once per chunk; values are bound through EF's own type
    /// mappings, as its raw SQL would bind them.
    /// </summary>
    private static async Task InsertAsync(AppDbContext db, List<StoredMetricEvent> rows, CancellationToken ct)
    {
        // 30 rows a statement: SQLite finds each parameter by name in its statement, so a statement's cost grows with the
        // square of its parameters (measured: 100 rows took twice as long as 30 or 10).
        const int RowsPerStatement = 30;
        if (rows.Count == 0)
        {
            return;
        }

        var mappings = db.GetService<IRelationalTypeMappingSource>();
        var types = ColumnTypes.Select(t => mappings.FindMapping(t) ?? throw new InvalidOperationException($"No type mapping for {t}.")).ToArray();
        await db.Database.OpenConnectionAsync(ct);
        DbCommand? full = null;
        try
        {
            foreach (var chunk in rows.Chunk(RowsPerStatement))
            {
                var command = chunk.Length == RowsPerStatement ? full ??= Command(db, RowsPerStatement) : Command(db, chunk.Length);
                try
                {
                    command.Parameters.Clear();
                    for (var r = 0; r < chunk.Length; r++)
                    {
                        var row = chunk[r];
                        object?[] values = [(int)row.Mode, row.ConnectionId, row.Metric, row.NaturalKey, row.Time, row.Day, row.PersonId, row.CustomerId, row.Amount,
                            row.Currency, row.PropertiesJson, row.SourceId, row.FromState];
                        for (var c = 0; c < values.Length; c++)
                        {
                            command.Parameters.Add(types[c].CreateParameter(command, Name(r * values.Length + c), values[c], nullable: values[c] is null));
                        }
                    }

                    await command.ExecuteNonQueryAsync(ct);
                }
                finally
                {
                    if (command != full)
                    {
                        await command.DisposeAsync();
                    }
                }
            }
        }
        finally
        {
            if (full is not null)
            {
                await full.DisposeAsync();
            }

            await db.Database.CloseConnectionAsync();
        }
    }

    private static DbCommand Command(AppDbContext db, int rows)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        // Only placeholders are spliced in; every value is a parameter.
        var values = Enumerable.Range(0, rows).Select(r => "(" + string.Join(", ", Enumerable.Range(r * ColumnTypes.Length, ColumnTypes.Length).Select(Name)) + ")");
        command.CommandText = $"INSERT INTO metric_events ({Columns}) VALUES {string.Join(", ", values)}";
        return command;
    }

    private static string Name(int index) => "@p" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Adds the events of <paramref name="unique"/> (one per natural key) that <paramref name="existing"/> lacks, and updates
    /// those it has as <see cref="AddAsync"/> says; new rows go to <paramref name="add"/> and join <paramref name="existing"/>.
    /// </summary>
    private static int Apply(Connection connection, Guid? personId, IEnumerable<MetricEvent> unique,
        Dictionary<string, StoredMetricEvent> existing, bool fromState, Action<StoredMetricEvent> add)
    {
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
            var stored = new StoredMetricEvent
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
            };
            add(stored);
            existing[e.NaturalKey] = stored;
            added++;
        }

        return added;
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
