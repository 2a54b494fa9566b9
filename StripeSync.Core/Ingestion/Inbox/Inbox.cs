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
/// waiting in one transaction — <c>INSERT … ON CONFLICT (connection, event id) DO NOTHING</c>, so a duplicate costs no
/// query of its own — and only after the commit completes each caller's task. One commit per batch instead of one per
/// event is what lets 32 concurrent webhooks through (BENCHMARKS.md §3; SQLite has one writer at a time anyway). A failed
/// batch fails every caller in it: nothing of it is stored, and a webhook answered with an error is sent again by Stripe.
/// </para>
/// </summary>
public sealed class Inbox : IAsyncDisposable, IDisposable
{
    /// <summary>Rows per INSERT statement: 4 parameters each stays far below both databases' parameter limits.</summary>
    private const int RowsPerStatement = 500;

    private readonly IDbContextFactory<AppDbContext> dbFactory;
    private readonly TimeProvider clock;
    private readonly ILogger<Inbox> logger;
    private readonly Channel<Delivery> waiting = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task writer;

    public Inbox(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock, ILogger<Inbox> logger)
    {
        this.dbFactory = dbFactory;
        this.clock = clock;
        this.logger = logger;
        writer = Task.Run(WriteAsync);
    }

    /// <summary>
    /// What the caller learns once its events are committed: how many were new, or that the connection no longer exists
    /// (disconnected a moment ago), in which case nothing was stored.
    /// </summary>
    public readonly record struct Stored(int New, bool ConnectionFound);

    /// <summary>Stores the events not seen before; returns how many were new.</summary>
    public async Task<int> AcceptAsync(Guid connectionId, IReadOnlyCollection<EventRecord> events, EventSource source, CancellationToken ct)
    {
        if (events.Count == 0)
        {
            return 0;
        }

        // An event about an object StripeSync doesn't keep (payouts, balances, unknown types) is acknowledged and dropped.
        var entries = events.Where(e => e.Data is not null).Select(e => new InboxEntry(e.Id, e.Type, e.Created.ToUnixTimeSeconds(), e.Json)).ToList();
        return (await StoreAsync(connectionId, entries, source, ct)).New;
    }

    /// <summary>
    /// Stores the entries not seen before and, for a webhook, notes that the connection heard from Stripe (even when
    /// <paramref name="entries"/> is empty: a delivery about something StripeSync doesn't keep). Completes only once
    /// the entries are committed; throws when the batch they were written in failed.
    /// </summary>
    public async Task<Stored> StoreAsync(Guid connectionId, IReadOnlyList<InboxEntry> entries, EventSource source, CancellationToken ct)
    {
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
            // Whatever is waiting now goes into one transaction; what arrives meanwhile forms the next batch.
            batch.Clear();
            var rows = 0;
            while (rows < RowsPerStatement && waiting.Reader.TryRead(out var delivery))
            {
                batch.Add(delivery);
                rows += delivery.Entries.Count;
            }

            try
            {
                var stored = await WriteBatchAsync(batch);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(stored[i]);
                }
            }
            catch (Exception e)
            {
                logger.LogError(e, "Storing a batch of {Count} inbox deliveries failed; none of it was stored", batch.Count);
                foreach (var delivery in batch)
                {
                    delivery.Done.TrySetException(e);
                }
            }
        }
    }

    private async Task<Stored[]> WriteBatchAsync(List<Delivery> batch)
    {
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync();
        // SQLite: BEGIN IMMEDIATE, so the write lock is taken (waiting per busy_timeout) before the first read below.
        await using var transaction = await db.Database.BeginTransactionAsync();
        var connectionIds = batch.Select(d => d.ConnectionId).Distinct().ToList();
        var connections = await db.Connections.Where(c => connectionIds.Contains(c.Id))
            .Select(c => new { c.Id, c.LastWebhookAt }).ToDictionaryAsync(c => c.Id, c => c.LastWebhookAt);

        var inserted = new HashSet<(Guid, string)>();
        foreach (var group in batch.Where(d => connections.ContainsKey(d.ConnectionId)).GroupBy(d => (d.ConnectionId, d.Source)))
        {
            var entries = group.SelectMany(d => d.Entries).DistinctBy(e => e.EventId, StringComparer.Ordinal).ToList();
            foreach (var chunk in entries.Chunk(RowsPerStatement))
            {
                foreach (var eventId in await InsertAsync(db, group.Key.ConnectionId, group.Key.Source, chunk, now.ToUnixTimeMilliseconds()))
                {
                    inserted.Add((group.Key.ConnectionId, eventId));
                }
            }
        }

        // To the second is all Sync health shows: a storm of webhooks would otherwise rewrite this row with every batch.
        var heard = batch.Where(d => d.Source == EventSource.Webhook && connections.TryGetValue(d.ConnectionId, out var last) && (last is null || now - last >= TimeSpan.FromSeconds(1)))
            .Select(d => d.ConnectionId).Distinct().ToList();
        if (heard.Count > 0)
        {
            await db.Connections.Where(c => heard.Contains(c.Id)).ExecuteUpdateAsync(s => s.SetProperty(c => c.LastWebhookAt, now));
        }

        await transaction.CommitAsync();

        // Each new event counts once, for the first delivery that brought it (the same event may come twice in a batch).
        return [.. batch.Select(d => new Stored(d.Entries.Count(e => inserted.Remove((d.ConnectionId, e.EventId))), connections.ContainsKey(d.ConnectionId)))];
    }

    /// <summary>One multi-row insert; returns the ids actually inserted (a known id is skipped by ON CONFLICT).</summary>
    private static async Task<List<string>> InsertAsync(AppDbContext db, Guid connectionId, EventSource source, InboxEntry[] rows, long receivedAt)
    {
        var entity = db.Model.FindEntityType(typeof(InboxEvent))!;
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var sql = db.GetService<ISqlGenerationHelper>();
        string Column(string property) => sql.DelimitIdentifier(entity.FindProperty(property)!.GetColumnName(table)!);

        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = db.Database.CurrentTransaction!.GetDbTransaction();
        // Parameters through the model's own type mappings: a Guid is stored exactly as EF stores it on each provider.
        void Add(string name, string property, object value) =>
            command.Parameters.Add(entity.FindProperty(property)!.GetRelationalTypeMapping().CreateParameter(command, name, value));

        Add("@c", nameof(InboxEvent.ConnectionId), connectionId);
        Add("@r", nameof(InboxEvent.ReceivedAt), receivedAt);
        Add("@s", nameof(InboxEvent.Source), source);
        var text = new StringBuilder()
            .Append("INSERT INTO ").Append(sql.DelimitIdentifier(table.Name, table.Schema)).Append(" (")
            .AppendJoin(", ", new[]
            {
                nameof(InboxEvent.ConnectionId), nameof(InboxEvent.EventId), nameof(InboxEvent.Type), nameof(InboxEvent.Created),
                nameof(InboxEvent.ReceivedAt), nameof(InboxEvent.Source), nameof(InboxEvent.Json), nameof(InboxEvent.Attempts),
            }.Select(Column))
            .Append(") VALUES ");
        for (var i = 0; i < rows.Length; i++)
        {
            Add($"@e{i}", nameof(InboxEvent.EventId), rows[i].EventId);
            Add($"@t{i}", nameof(InboxEvent.Type), rows[i].Type);
            Add($"@k{i}", nameof(InboxEvent.Created), rows[i].Created);
            Add($"@j{i}", nameof(InboxEvent.Json), rows[i].Json);
            text.Append(i == 0 ? "" : ", ").Append(System.Globalization.CultureInfo.InvariantCulture, $"(@c, @e{i}, @t{i}, @k{i}, @r, @s, @j{i}, 0)");
        }

        text.Append(" ON CONFLICT (").Append(Column(nameof(InboxEvent.ConnectionId))).Append(", ").Append(Column(nameof(InboxEvent.EventId)))
            .Append(") DO NOTHING RETURNING ").Append(Column(nameof(InboxEvent.EventId)));
        command.CommandText = text.ToString();

        var inserted = new List<string>(rows.Length);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            inserted.Add(reader.GetString(0));
        }

        return inserted;
    }

    private sealed record Delivery(Guid ConnectionId, IReadOnlyList<InboxEntry> Entries, EventSource Source)
    {
        public TaskCompletionSource<Stored> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
