using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Ingestion.Inbox;

/// <summary>An event as the inbox stores it: its id, type, Stripe's creation time (unix seconds) and raw JSON.</summary>
public sealed record InboxEntry(string EventId, string Type, long Created, string Json);

/// <summary>
/// The one door for Stripe events, from webhooks and from the events poll alike: stored once per event id.
/// <para>
/// Group commit: callers hand their events to one writer per database (this singleton), which inserts whatever is
/// waiting in one statement — a multi-row <c>INSERT … ON CONFLICT (connection, event id) DO NOTHING</c>, so a duplicate
/// costs no query of its own — and only once it is committed completes each caller's task. One commit per batch instead
/// of one per event is what lets 32 concurrent webhooks through (BENCHMARKS.md §3; SQLite has one writer at a time
/// anyway). A failed statement fails every caller in it: nothing of it is stored, and a webhook answered with an error
/// is sent again by Stripe.
/// </para>
/// </summary>
public sealed partial class Inbox : IAsyncDisposable, IDisposable
{
    /// <summary>
    /// Rows a batch gathers before it is written (it may hold up to twice as many: a delivery has at most this many).
    /// 4 parameters a row stays far below both databases' limits on parameters per statement.
    /// </summary>
    private const int MaxRows = 500;

    private readonly IDbContextFactory<AppDbContext> dbFactory;
    private readonly TimeProvider clock;
    private readonly ILogger<Inbox> logger;
    private readonly Channel<Delivery> waiting = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task writer;

    /// <summary>When the writer last noted a webhook on each connection (only the writer's loop touches it).</summary>
    private readonly Dictionary<Guid, DateTimeOffset> lastWebhookNoted = [];

    public Inbox(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock, ILogger<Inbox> logger)
    {
        this.dbFactory = dbFactory;
        this.clock = clock;
        this.logger = logger;
        writer = Task.Run(WriteAsync);
    }

    /// <summary>Stores the events not seen before; returns how many were new.</summary>
    public async Task<int> AcceptAsync(Guid connectionId, IReadOnlyCollection<EventRecord> events, EventSource source, CancellationToken ct)
    {
        if (events.Count == 0)
        {
            return 0;
        }

        // An event about an object StripeSync doesn't keep (payouts, balances, unknown types) is acknowledged and dropped.
        var entries = events.Where(e => e.Data is not null).Select(e => new InboxEntry(e.Id, e.Type, e.Created.ToUnixTimeSeconds(), e.Json)).ToList();
        var stored = 0;
        foreach (var chunk in entries.Chunk(MaxRows))
        {
            stored += await StoreAsync(connectionId, chunk, source, ct);
        }

        return stored;
    }

    /// <summary>
    /// Stores the entries not seen before (at most 500 at a time) and returns how many were new; for a webhook, also notes
    /// that the connection heard from Stripe (even when <paramref name="entries"/> is empty: a delivery about something
    /// StripeSync doesn't keep). Completes only once the entries are committed; throws when the statement that wrote them
    /// failed, and then none of them was stored.
    /// </summary>
    public async Task<int> StoreAsync(Guid connectionId, IReadOnlyList<InboxEntry> entries, EventSource source, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(entries.Count, MaxRows);
        var delivery = new Delivery(connectionId, entries, source);
        if (!waiting.Writer.TryWrite(delivery))
        {
            throw new ObjectDisposedException(nameof(Inbox), "The inbox is shutting down.");
        }

        // A caller that stops waiting (a client gone) leaves its events to be stored all the same.
        return await delivery.Done.Task.WaitAsync(ct);
    }

    /// <summary>Stops taking events and waits until those already handed over are stored (or their batch failed).</summary>
    public async ValueTask DisposeAsync()
    {
        waiting.Writer.TryComplete();
        await writer;
    }

    /// <summary>Stops taking events; those already handed over are still stored by the writer.</summary>
    public void Dispose() => waiting.Writer.TryComplete();

    private async Task WriteAsync()
    {
        var batch = new List<Delivery>();
        while (await waiting.Reader.WaitToReadAsync())
        {
            // Whatever is waiting now is written together; what arrives meanwhile forms the next batch.
            batch.Clear();
            var rows = 0;
            while (rows < MaxRows && waiting.Reader.TryRead(out var delivery))
            {
                batch.Add(delivery);
                rows += delivery.Entries.Count;
            }

            await WriteBatchAsync(batch);
        }
    }

    /// <summary>
    /// One statement per connection and source (a batch nearly always holds one of each). A statement is atomic and
    /// commits on its own, so each completes its own callers: all stored, or none and every one of them told so.
    /// </summary>
    private async Task WriteBatchAsync(List<Delivery> batch)
    {
        var started = clock.GetTimestamp();
        var now = clock.GetUtcNow();
        var inserted = 0;
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            await db.Database.OpenConnectionAsync();
            // On SQLite the batch's requests wait for this write: it goes before queued transactions (processor, derivation).
            await using var turn = await SqliteWriteGate.FirstAsync(db, CancellationToken.None);
            foreach (var group in batch.GroupBy(d => (d.ConnectionId, d.Source)))
            {
                try
                {
                    var entries = group.SelectMany(d => d.Entries).DistinctBy(e => e.EventId, StringComparer.Ordinal).ToList();
                    var fresh = entries.Count == 0 ? [] : await InsertAsync(db, group.Key.ConnectionId, group.Key.Source, entries, now.ToUnixTimeMilliseconds());
                    inserted += fresh.Count;
                    foreach (var delivery in group)
                    {
                        // Each new event counts once, for the first delivery that brought it (the same event may come twice).
                        delivery.Done.TrySetResult(delivery.Entries.Count(e => fresh.Remove(e.EventId)));
                    }
                }
                catch (Exception e)
                {
                    logger.LogError(e, "Storing {Count} inbox deliveries of connection {ConnectionId} failed; none of them was stored", group.Count(), group.Key.ConnectionId);
                    foreach (var delivery in group)
                    {
                        delivery.Done.TrySetException(e);
                    }
                }
            }

            await NoteWebhooksAsync(db, batch, now);
        }
        catch (Exception e)
        {
            // The database could not even be opened: nothing of the batch was stored.
            logger.LogError(e, "Storing a batch of {Count} inbox deliveries failed; none of it was stored", batch.Count);
            foreach (var delivery in batch)
            {
                delivery.Done.TrySetException(e);
            }
        }

        LogBatch(logger, batch.Count, inserted, clock.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>
    /// Notes when each connection last heard from Stripe, to the second, which is all Sync health shows: a storm of webhooks
    /// would otherwise rewrite the connection's row with every batch. Its events are stored already, whatever happens here.
    /// </summary>
    private async Task NoteWebhooksAsync(AppDbContext db, List<Delivery> batch, DateTimeOffset now)
    {
        var heard = batch.Where(d => d.Source == EventSource.Webhook).Select(d => d.ConnectionId).Distinct()
            .Where(id => !lastWebhookNoted.TryGetValue(id, out var last) || now - last >= TimeSpan.FromSeconds(1)).ToList();
        if (heard.Count == 0)
        {
            return;
        }

        try
        {
            await db.Connections.Where(c => heard.Contains(c.Id)).ExecuteUpdateAsync(s => s.SetProperty(c => c.LastWebhookAt, now));
            foreach (var id in heard)
            {
                lastWebhookNoted[id] = now;
            }
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Noting the last webhook time of {Count} connection(s) failed; the next batch tries again", heard.Count);
        }
    }

    /// <summary>
    /// One multi-row insert, kept only while the connection exists (one purged a moment ago may still pass
    /// <see cref="Connections.WebhookSecrets"/>' cache); returns the ids actually inserted (a known id is skipped by ON CONFLICT).
    /// </summary>
    private static async Task<HashSet<string>> InsertAsync(AppDbContext db, Guid connectionId, EventSource source, List<InboxEntry> rows, long receivedAt)
    {
        var entity = db.Model.FindEntityType(typeof(InboxEvent))!;
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var connections = db.Model.FindEntityType(typeof(Connections.Connection))!;
        var connectionsTable = StoreObjectIdentifier.Table(connections.GetTableName()!, connections.GetSchema());
        var sql = db.GetService<ISqlGenerationHelper>();
        string Column(string property) => sql.DelimitIdentifier(entity.FindProperty(property)!.GetColumnName(table)!);

        await using var command = db.Database.GetDbConnection().CreateCommand();
        // Parameters through the model's own type mappings: a Guid is stored exactly as EF stores it on each provider.
        void Add(string name, string property, object value) =>
            command.Parameters.Add(entity.FindProperty(property)!.GetRelationalTypeMapping().CreateParameter(command, name, value));

        Add("@c", nameof(InboxEvent.ConnectionId), connectionId);
        Add("@r", nameof(InboxEvent.ReceivedAt), receivedAt);
        Add("@s", nameof(InboxEvent.Source), source);
        // SQLite and PostgreSQL both name a VALUES list's columns column1, column2, …
        var text = new StringBuilder()
            .Append("INSERT INTO ").Append(sql.DelimitIdentifier(table.Name, table.Schema)).Append(" (")
            .AppendJoin(", ", new[]
            {
                nameof(InboxEvent.ConnectionId), nameof(InboxEvent.EventId), nameof(InboxEvent.Type), nameof(InboxEvent.Created),
                nameof(InboxEvent.ReceivedAt), nameof(InboxEvent.Source), nameof(InboxEvent.Json), nameof(InboxEvent.Attempts),
            }.Select(Column))
            .Append(") SELECT @c, v.column1, v.column2, v.column3, @r, @s, v.column4, 0 FROM (VALUES ");
        for (var i = 0; i < rows.Count; i++)
        {
            Add($"@e{i}", nameof(InboxEvent.EventId), rows[i].EventId);
            Add($"@t{i}", nameof(InboxEvent.Type), rows[i].Type);
            Add($"@k{i}", nameof(InboxEvent.Created), rows[i].Created);
            Add($"@j{i}", nameof(InboxEvent.Json), rows[i].Json);
            text.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@e{i}, @t{i}, @k{i}, @j{i})");
        }

        text.Append(") AS v WHERE EXISTS (SELECT 1 FROM ").Append(sql.DelimitIdentifier(connectionsTable.Name, connectionsTable.Schema))
            .Append(" WHERE ").Append(sql.DelimitIdentifier(connections.FindProperty(nameof(Connections.Connection.Id))!.GetColumnName(connectionsTable)!)).Append(" = @c)")
            .Append(" ON CONFLICT (").Append(Column(nameof(InboxEvent.ConnectionId))).Append(", ").Append(Column(nameof(InboxEvent.EventId)))
            .Append(") DO NOTHING RETURNING ").Append(Column(nameof(InboxEvent.EventId)));
        command.CommandText = text.ToString();

        var inserted = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            inserted.Add(reader.GetString(0));
        }

        return inserted;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stored a batch of {Deliveries} deliveries ({New} new events) in {Milliseconds:F1} ms")]
    private static partial void LogBatch(ILogger logger, int deliveries, int @new, double milliseconds);

    private sealed record Delivery(Guid ConnectionId, IReadOnlyList<InboxEntry> Entries, EventSource Source)
    {
        public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
