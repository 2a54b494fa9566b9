using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Ingestion.Inbox;

/// <summary>The one door for Stripe events, from webhooks and from the events poll alike: stored once per event id.</summary>
public sealed class Inbox(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    /// <summary>
    /// SQLite has one writer at a time, and a writer that finds the file locked sleeps and retries (busy_timeout), which
    /// under 32 concurrent webhooks made inserts wait up to 0.8 s (BENCHMARKS.md §3). Queuing them here instead wakes
    /// the next one the moment the previous commit ends. PostgreSQL writes concurrently and is not gated.
    /// </summary>
    private static readonly SemaphoreSlim SqliteWriter = new(1, 1);

    /// <summary>Stores the events not seen before; returns how many were new.</summary>
    public async Task<int> AcceptAsync(Guid connectionId, IReadOnlyCollection<EventRecord> events, EventSource source, CancellationToken ct)
    {
        if (events.Count == 0)
        {
            return 0;
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ids = events.Select(e => e.Id).Distinct().ToList();
        var known = (await db.Inbox.Where(e => e.ConnectionId == connectionId && ids.Contains(e.EventId)).Select(e => e.EventId).ToListAsync(ct))
            .ToHashSet(StringComparer.Ordinal);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        // An event about an object StripeSync doesn't keep (payouts, balances, unknown types) is acknowledged and dropped.
        var fresh = events.Where(e => e.Data is not null && known.Add(e.Id)).ToList();
        foreach (var e in fresh)
        {
            db.Inbox.Add(new InboxEvent
            {
                ConnectionId = connectionId,
                EventId = e.Id,
                Type = e.Type,
                Created = e.Created.ToUnixTimeSeconds(),
                ReceivedAt = now,
                Source = source,
                Json = e.Json,
            });
        }

        if (source == EventSource.Webhook)
        {
            // To the second is all Sync health shows: a storm of webhooks would otherwise all queue on this one row.
            var connection = await db.Connections.SingleAsync(c => c.Id == connectionId, ct);
            var at = clock.GetUtcNow();
            if (connection.LastWebhookAt is not { } last || at - last >= TimeSpan.FromSeconds(1))
            {
                connection.LastWebhookAt = at;
            }
        }

        var gated = db.Database.IsSqlite();
        if (gated)
        {
            await SqliteWriter.WaitAsync(ct);
        }

        try
        {
            await db.SaveChangesAsync(ct);
            return fresh.Count;
        }
        catch (DbUpdateException) when (events.Count == 1)
        {
            // The same event arrived twice at the same moment (webhook and poll): the unique index kept one.
            return 0;
        }
        finally
        {
            if (gated)
            {
                SqliteWriter.Release();
            }
        }
    }
}
