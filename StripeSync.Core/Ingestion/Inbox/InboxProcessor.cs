using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using StripeSync.Core.People;
using StripeSync.Core.Persistence;
using StripeSync.Core.Processing;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Ingestion.Inbox;

/// <summary>
/// Applies stored events in Stripe's order to the stored state. An event's object is its state at the
/// event's time, so a late or duplicate event never overwrites a newer state; each change marks its
/// customer for derivation, and subscription changes keep their before/after for upgrade/downgrade events.
/// </summary>
public sealed class InboxProcessor(
    IDbContextFactory<AppDbContext> dbFactory, Connections.Connections connections, ISyncJobs jobs, TimeProvider clock, ILogger<InboxProcessor> logger)
{
    private const int Batch = 200;

    public async Task DrainAsync(Guid connectionId, CancellationToken ct)
    {
        var started = clock.GetTimestamp();
        while (await ProcessBatchAsync(connectionId, ct) == Batch)
        {
            if (clock.GetElapsedTime(started) > ISyncJobs.RunBudget)
            {
                jobs.DrainInbox(connectionId);
                break;
            }
        }

        jobs.Derive(connectionId);
    }

    private async Task<int> ProcessBatchAsync(Guid connectionId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var connection = await db.Connections.AsNoTracking().SingleAsync(c => c.Id == connectionId, ct);
        var livemode = connection.Mode == Connections.ConnectionMode.Live;
        var batch = await db.Inbox.Where(e => e.ConnectionId == connectionId && e.ProcessedAt == null && e.Attempts < InboxEvent.MaxAttempts)
            .OrderBy(e => e.Created).ThenBy(e => e.Id).Take(Batch).ToListAsync(ct);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        Catalog? catalog = null;
        foreach (var stored in batch)
        {
            // A failure earlier in the batch clears the change tracker; track this event again so "processed" is saved.
            if (db.Entry(stored).State == EntityState.Detached)
            {
                db.Inbox.Attach(stored);
            }

            var parsed = StripeEvents.Parse(stored.Json, livemode);
            if (parsed is null)
            {
                // Intake checks the signature and reads only the envelope, so a signed body whose object Stripe.net cannot
                // read gets here. It is kept and shown as failed on Sync health, never applied and never silently dropped.
                db.ChangeTracker.Clear();
                db.Inbox.Attach(stored);
                stored.Attempts = InboxEvent.MaxAttempts;
                stored.Error = "Stripe.net could not read this event; it was kept as received and not applied.";
                await db.SaveChangesAsync(ct);
                logger.LogError("Event {EventId} of connection {ConnectionId} could not be read and was not applied", stored.EventId, connectionId);
                continue;
            }

            var version = stored.Created * 1000;
            StripeRecord? current = null;
            var tie = false;
            try
            {
                if (parsed.Data is { } changed
                    && await db.StripeObjects.AnyAsync(o => o.ConnectionId == connectionId && o.StripeId == changed.Id && o.Version == version, ct))
                {
                    // Two events of one object in the same second can't be ordered by their time (Stripe's
                    // resolution): ask Stripe for the object as it is now, which outranks both. Asked before the
                    // transaction opens: no write lock is held while waiting on the network.
                    tie = true;
                    current = await connections.ClientFor(connection).RetrieveAsync(changed.Type, changed.Id, ct);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await FailAsync(db, stored, e, connectionId, ct);
                continue;
            }

            // One transaction per event: its state, facts, dirty marks and "processed" land together or not at all.
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            try
            {
                if (parsed.Data is { } record)
                {
                    if (!tie)
                    {
                        await StateStore.UpsertAsync(db, connectionId, [record], version, now, ct);
                    }
                    else if (current is not null)
                    {
                        await StateStore.UpsertAsync(db, connectionId, [current], now, now, ct);
                    }

                    catalog ??= await StoredState.CatalogAsync(db, connectionId, ct);
                    var facts = EventOnlyFacts(parsed, record, catalog);
                    await MetricEventStore.AddAsync(db, connection, null, facts, ct);
                    // A late event's state is skipped (a newer one is stored), so nothing else marks its customer, but
                    // its fact still changes the person (last activity): derive it again.
                    await StateStore.MarkDirtyAsync(db, connectionId, [.. facts.Select(f => f.CustomerId).Where(c => c.Length > 0)], now, ct);
                }

                stored.ProcessedAt = now;
                stored.Error = null;
                await db.SaveChangesAsync(ct);
                await transaction.CommitAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Nothing of the failed event stays; it is retried by a later drain, up to five attempts.
                await transaction.RollbackAsync(ct);
                await FailAsync(db, stored, e, connectionId, ct);
            }
        }

        return batch.Count;
    }

    private async Task FailAsync(AppDbContext db, InboxEvent stored, Exception e, Guid connectionId, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        db.Inbox.Attach(stored);
        stored.Attempts++;
        stored.Error = e.Message.Length > 2000 ? e.Message[..2000] : e.Message;
        await db.SaveChangesAsync(ct);
        logger.LogError(e, "Event {EventId} of connection {ConnectionId} failed (attempt {Attempt})", stored.EventId, connectionId, stored.Attempts);
    }

    /// <summary>
    /// The facts only an event shows (derived from the event itself, so a late event still counts): a plan
    /// change's before and after, a failed attempt on an invoice, when a checkout completed.
    /// </summary>
    private static List<MetricEvent> EventOnlyFacts(EventRecord stripeEvent, StripeRecord record, Catalog catalog)
    {
        var facts = new List<MetricEvent>();
        switch (record)
        {
            case SubscriptionRecord current when stripeEvent.Previous is SubscriptionRecord previous:
                if (MetricDerivation.Change(previous, current, stripeEvent.Created, catalog) is { } change)
                {
                    facts.Add(change);
                }

                break;
            case SubscriptionRecord created when stripeEvent.Type == "customer.subscription.created":
                // The subscription as it was created: the plan it started on, even if it changed before we derived it.
                facts.AddRange(MetricDerivation.Lifecycle(created, catalog, stripeEvent.Created)
                    .Where(f => f.Metric is Processing.Metrics.SubscriptionStarted or Processing.Metrics.TrialStarted));
                break;
            case InvoiceRecord invoice when stripeEvent.Type == "invoice.payment_failed":
                if (MetricDerivation.FailedPaymentFromInvoiceEvent(invoice, stripeEvent.Created, null) is { } failed)
                {
                    facts.Add(failed);
                }

                break;
            case CheckoutSessionRecord session when stripeEvent.Type == "checkout.session.completed":
                if (MetricDerivation.Checkout(session, stripeEvent.Created, catalog) is { } completed)
                {
                    facts.Add(completed);
                }

                break;
        }

        return facts;
    }
}
