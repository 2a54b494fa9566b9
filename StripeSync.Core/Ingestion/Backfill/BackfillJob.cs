using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using StripeSync.Core.Connections;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Ingestion.Backfill;

/// <summary>
/// The import of existing data: one chain of page jobs per object type, running side by side within the
/// connection's rate budget. Each page is stored with its cursor in one transaction, so a crash or restart
/// resumes at the page where it stopped, and a page fetched twice changes nothing.
/// </summary>
public sealed class BackfillJob(
    IDbContextFactory<AppDbContext> dbFactory, Connections.Connections connections, ISyncJobs jobs, TimeProvider clock, ILogger<BackfillJob> logger)
{
    /// <summary>Every object type the import walks (SPEC §2, plus invoice payments and coupons).</summary>
    public static readonly IReadOnlyList<StripeObjectType> Types =
    [
        StripeObjectType.Customer, StripeObjectType.Product, StripeObjectType.Price, StripeObjectType.Coupon,
        StripeObjectType.Subscription, StripeObjectType.Invoice, StripeObjectType.InvoicePayment,
        StripeObjectType.Charge, StripeObjectType.Refund, StripeObjectType.CheckoutSession,
    ];

    /// <summary>The reference data every sync needs, even one that skips history: names of products and plans, coupons.</summary>
    public static readonly IReadOnlyList<StripeObjectType> CatalogTypes = [StripeObjectType.Product, StripeObjectType.Price, StripeObjectType.Coupon];

    /// <summary>Creates the cursors (once) and starts every type's chain that is not finished.</summary>
    /// <param name="catalogOnly">Skip mode: only products, prices and coupons, no customers or history.</param>
    public async Task StartAsync(Guid connectionId, CancellationToken ct, bool catalogOnly = false)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var existing = await db.BackfillCursors.Where(c => c.ConnectionId == connectionId).Select(c => c.Type).ToListAsync(ct);
            foreach (var type in (catalogOnly ? CatalogTypes : Types).Except(existing))
            {
                db.BackfillCursors.Add(new BackfillCursor { ConnectionId = connectionId, Type = type, StartedAt = now, UpdatedAt = now });
            }

            await db.SaveChangesAsync(ct);
        }

        if (!catalogOnly)
        {
            await connections.SetStateAsync(connectionId, ConnectionState.Importing, null, ct);
        }

        await ResumeAsync(connectionId, ct);
    }

    /// <summary>Enqueues the next page of every unfinished type (start-up calls this: a lost queue loses nothing).</summary>
    public async Task ResumeAsync(Guid connectionId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var open = await db.BackfillCursors.Where(c => c.ConnectionId == connectionId && !c.Done).Select(c => c.Type).ToListAsync(ct);
        foreach (var type in open)
        {
            jobs.BackfillPage(connectionId, type);
        }
    }

    /// <summary>Fetches, stores and checkpoints one page of one type, then enqueues the next.</summary>
    public async Task RunPageAsync(Guid connectionId, StripeObjectType type, CancellationToken ct)
    {
        var connection = await connections.FindAsync(connectionId, ct);
        if (connection is null || connection.State == ConnectionState.KeyRevoked)
        {
            return;
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var cursor = await db.BackfillCursors.SingleOrDefaultAsync(c => c.ConnectionId == connectionId && c.Type == type, ct);
        if (cursor is null || cursor.Done)
        {
            return;
        }

        RecordPage page;
        var client = connections.ClientFor(connection);
        // The page shows every change made before the second its request left, perhaps more: it ranks just below
        // an event of that second (which then wins), above every older one. Stamped with the time it was written
        // instead, a page fetched before a change and written after it would outrank that change's event.
        var version = (clock.GetUtcNow().ToUnixTimeSeconds() * 1000) - 1;
        try
        {
            page = await client.ListAsync(type, cursor.Cursor, ct);
            page = page with { Items = await CompleteAsync(client, page.Items, ct) };
        }
        catch (StripeCallException e) when (e.KeyRevoked)
        {
            logger.LogWarning("Backfill of {Type} stopped: Stripe answered 401 for connection {ConnectionId}", type, connectionId);
            await connections.SetStateAsync(connectionId, ConnectionState.KeyRevoked,
                "Stripe refused the key (401): it was revoked or deleted. Replace the key in Settings → Connections.", ct);
            return;
        }
        catch (StripeCallException e) when (e.Status == 403)
        {
            // The key lacks this permission: the type is skipped, and health says which and why. Checkout sessions
            // are optional (SPEC §1): without them only the checkout events are missing, which is not an error.
            logger.LogWarning("Backfill of {Type} skipped: permission missing on connection {ConnectionId}", type, connectionId);
            var message = $"Cannot read {type}: {e.Message}";
            if (type == StripeObjectType.CheckoutSession)
            {
                await connections.UpdateAsync(connectionId, c =>
                {
                    c.LastError = message + " Checkout Completed and Checkout Abandoned events are not available.";
                    c.LastErrorAt = clock.GetUtcNow();
                }, ct);
            }
            else
            {
                await connections.SetStateAsync(connectionId, ConnectionState.Error, message, ct);
            }

            page = new RecordPage([], null);
        }

        if (page.Items.Count > 0)
        {
            cursor.NewestCreated ??= page.Items[0].Created.ToUnixTimeSeconds();
            cursor.ReachedCreated = page.Items[^1].Created.ToUnixTimeSeconds();
            if (cursor.OldestCreated is null && page.NextCursor is not null)
            {
                cursor.OldestCreated = await EstimateOldestAsync(client, type, cursor.NewestCreated.Value, ct);
            }
        }

        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await StateStore.UpsertAsync(db, connectionId, page.Items, version, now, ct);
        cursor.Cursor = page.NextCursor ?? cursor.Cursor;
        cursor.Done = page.NextCursor is null;
        cursor.Fetched += page.Items.Count;
        cursor.Pages++;
        cursor.UpdatedAt = now;
        try
        {
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Another run of this same page got there first and has already enqueued the next one.
            return;
        }

        if (!cursor.Done)
        {
            jobs.BackfillPage(connectionId, type);
        }
        else if (!await db.BackfillCursors.AnyAsync(c => c.ConnectionId == connectionId && !c.Done, ct))
        {
            logger.LogInformation("Backfill of connection {ConnectionId} fetched every type", connectionId);
            // Refunds and invoice payments fetched before their charge or invoice could not name a customer
            // then; deriving every customer once now covers them.
            await db.Database.ExecuteSqlAsync(
                $"INSERT INTO dirty_customers (\"ConnectionId\", \"CustomerId\", \"MarkedAt\", \"Stamp\") SELECT \"ConnectionId\", \"StripeId\", {now}, {Guid.NewGuid()} FROM stripe_objects WHERE \"ConnectionId\" = {connectionId} AND \"Type\" = {(int)StripeObjectType.Customer} ON CONFLICT (\"ConnectionId\", \"CustomerId\") DO UPDATE SET \"Stamp\" = excluded.\"Stamp\"",
                ct);
            jobs.Derive(connectionId);
        }
    }

    /// <summary>The far end of the type's time span, for progress and ETA; an import goes on without it if Stripe won't say.</summary>
    private async Task<long?> EstimateOldestAsync(StripeAccountClient client, StripeObjectType type, long newest, CancellationToken ct)
    {
        try
        {
            return await ImportSpan.OldestCreatedAsync(client, type, newest, ct);
        }
        catch (StripeCallException e) when (!e.KeyRevoked)
        {
            logger.LogInformation("No ETA for {Type}: Stripe answered {Status} while measuring its time span", type, e.Status);
            return null;
        }
    }

    /// <summary>Invoices embed only their first lines; fetch the rest so no line is missed.</summary>
    private static async Task<IReadOnlyList<StripeRecord>> CompleteAsync(StripeAccountClient client, IReadOnlyList<StripeRecord> items, CancellationToken ct)
    {
        if (!items.Any(i => i is InvoiceRecord { LinesComplete: false }))
        {
            return items;
        }

        var complete = new List<StripeRecord>(items.Count);
        foreach (var item in items)
        {
            complete.Add(item is InvoiceRecord { LinesComplete: false } invoice
                ? invoice with { Lines = await client.ListInvoiceLinesAsync(invoice.Id, ct), LinesComplete = true }
                : item);
        }

        return complete;
    }
}
