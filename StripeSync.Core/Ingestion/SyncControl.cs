using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Connections;
using StripeSync.Core.Ingestion.Backfill;
using StripeSync.Core.Persistence;

namespace StripeSync.Core.Ingestion;

/// <summary>Starts a connection's sync (import or skip) and, at start-up, resumes whatever was under way.</summary>
public sealed class SyncControl(
    IDbContextFactory<AppDbContext> dbFactory, Connections.Connections connections, BackfillJob backfill, ISyncJobs jobs, TimeProvider clock,
    Microsoft.Extensions.Options.IOptions<SyncOptions> options)
{
    /// <summary>The events StripeSync's webhook endpoint asks Stripe for: every change the processor applies.</summary>
    public static readonly IReadOnlyList<string> WebhookEvents =
    [
        "customer.created", "customer.updated", "customer.deleted",
        "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
        "customer.subscription.paused", "customer.subscription.resumed", "customer.subscription.trial_will_end",
        "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_failed", "invoice.payment_succeeded",
        "invoice.updated", "invoice.voided", "invoice.marked_uncollectible",
        "invoice_payment.paid",
        "charge.succeeded", "charge.failed", "charge.refunded", "charge.updated", "charge.refund.updated",
        "refund.created", "refund.updated",
        "checkout.session.completed", "checkout.session.expired",
        "product.created", "product.updated", "product.deleted",
        "price.created", "price.updated", "price.deleted",
        "coupon.created", "coupon.updated", "coupon.deleted",
        "payment_method.attached", "payment_method.updated", "payment_method.detached",
    ];

    private const string NoWebhook = "No webhook endpoint";

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

        // Never throws for Stripe's sake: a webhook that cannot be registered means polling, not a sync marked
        // started whose import never begins (nothing would resume it).
        if (options.Value.PublicUrl is { } publicUrl)
        {
            await RegisterWebhookAsync(connectionId, publicUrl, ct);
        }

        await backfill.StartAsync(connectionId, ct, catalogOnly: choice == SyncChoice.Skip);
    }

    /// <summary>
    /// Registers StripeSync's webhook endpoint in Stripe (the only write StripeSync ever makes there) and keeps
    /// its secret encrypted. When that fails for any reason — no Webhook Endpoints permission, Stripe still
    /// answering 5xx after the retries, no network — the events poll carries the sync instead, and the connection's
    /// last error says so and why. Returns whether the connection has a webhook endpoint.
    /// </summary>
    public async Task<bool> RegisterWebhookAsync(Guid connectionId, Uri publicUrl, CancellationToken ct)
    {
        var connection = await connections.FindAsync(connectionId, ct) ?? throw new InvalidOperationException("No such connection.");
        if (connection.WebhookEndpointId is not null)
        {
            return true;
        }

        try
        {
            var url = new Uri(publicUrl, $"stripe/webhooks/{connectionId}");
            var (id, secret) = await connections.ClientFor(connection).CreateWebhookEndpointAsync(url, WebhookEvents, ct);
            await connections.SetWebhookAsync(connectionId, id, secret, ct);
            if (connection.LastError?.StartsWith(NoWebhook, StringComparison.Ordinal) == true)
            {
                await connections.UpdateAsync(connectionId, c => c.LastError = null, ct); // A retry succeeded: the polling note is stale.
            }

            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var why = e switch
            {
                StripeApi.StripeCallException { Status: 403 or 400 } => e.Message,
                StripeApi.StripeCallException { Status: > 0 } call => $"registering it failed: Stripe answered {call.Status}: {e.Message}",
                _ => $"registering it failed: {e.Message}",
            };
            await connections.UpdateAsync(connectionId, c =>
            {
                c.LastError = $"{NoWebhook} ({why}); StripeSync polls Stripe's Events API every minute instead.";
                c.LastErrorAt = clock.GetUtcNow();
            }, ct);
            return false;
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
            if (await db.Inbox.AnyAsync(e => e.ConnectionId == id && e.ProcessedAt == null && e.Attempts < InboxEvent.MaxAttempts, ct))
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
