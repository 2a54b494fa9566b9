using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Connections;
using StripeSync.Core.Ingestion.Backfill;
using StripeSync.Core.Persistence;

namespace StripeSync.Core.Ingestion;

/// <summary>Starts a connection's sync (import or skip) and, at start-up, resumes whatever was under way.</summary>
public sealed class SyncControl(
    IDbContextFactory<AppDbContext> dbFactory, Connections.Connections connections, BackfillJob backfill, ISyncJobs jobs, TimeProvider clock)
{
    /// <summary>
    /// Import: walk all history, then follow events. Skip: take nothing from before now, only what happens after.
    /// Either way the events poll starts from now, so nothing that happens during the import is lost.
    /// </summary>
    public async Task StartAsync(Guid connectionId, SyncChoice choice, CancellationToken ct)
    {
        if (choice == SyncChoice.NotChosen)
        {
            throw new ArgumentException("Choose import or skip.", nameof(choice));
        }

        var now = clock.GetUtcNow();
        await connections.UpdateAsync(connectionId, c =>
        {
            c.Sync = choice;
            c.SyncStartedAt ??= now;
            if (c.LastEventCreated == 0)
            {
                c.LastEventCreated = now.ToUnixTimeSeconds();
            }

            c.State = choice == SyncChoice.Import ? ConnectionState.Importing : ConnectionState.Synced;
        }, ct);

        if (choice == SyncChoice.Import)
        {
            await backfill.StartAsync(connectionId, ct);
        }
    }

    /// <summary>Re-enqueues unfinished work of every connection: in-memory job storage forgets its queue on restart.</summary>
    public async Task ResumeAllAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ids = await db.Connections.Where(c => c.State != ConnectionState.KeyRevoked && c.Sync != SyncChoice.NotChosen)
            .Select(c => c.Id).ToListAsync(ct);
        foreach (var id in ids)
        {
            await backfill.ResumeAsync(id, ct);
            if (await db.Inbox.AnyAsync(e => e.ConnectionId == id && e.ProcessedAt == null && e.Attempts < 5, ct))
            {
                jobs.DrainInbox(id);
            }

            if (await db.DirtyCustomers.AnyAsync(d => d.ConnectionId == id, ct))
            {
                jobs.Derive(id);
            }
        }
    }
}
