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

    /// <summary>
    /// Applies the next batch of events in one transaction; if that fails (an event the store refuses, a deadlock),
    /// nothing of it stays and the batch is applied again one event per transaction, so one bad event fails alone.
    /// </summary>
    private async Task<int> ProcessBatchAsync(Guid connectionId, CancellationToken ct)
    {
        try
        {
            return await ApplyTogetherAsync(connectionId, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "A batch of events of connection {ConnectionId} failed as a whole; applying it one event at a time", connectionId);
            return await ApplyOneByOneAsync(connectionId, ct);
        }
    }

    private static Task<List<InboxEvent>> NextBatchAsync(AppDbContext db, Guid connectionId, CancellationToken ct) =>
        db.Inbox.Where(e => e.ConnectionId == connectionId && e.ProcessedAt == null && e.Attempts < InboxEvent.MaxAttempts)
            .OrderBy(e => e.Created).ThenBy(e => e.Id).Take(Batch).ToListAsync(ct);

    /// <summary>
    /// The batch in one transaction, in Stripe's order: one read of the stored versions, one upsert of every state
    /// (the newest of each object winning), the facts, the dirty marks and "processed" together.
    /// </summary>
    private async Task<int> ApplyTogetherAsync(Guid connectionId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var connection = await db.Connections.AsNoTracking().SingleAsync(c => c.Id == connectionId, ct);
        var livemode = connection.Mode == Connections.ConnectionMode.Live;
        var batch = await NextBatchAsync(db, connectionId, ct);
        if (batch.Count == 0)
        {
            return 0;
        }

        var started = clock.GetTimestamp();
        var asked = 0;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        // Reading events is a large part of a batch's CPU and needs nothing of the database: on every core but
        // one, which stays with the web requests (webhook intake answers Stripe while a burst is still being applied).
        var read = batch.AsParallel().AsOrdered().WithDegreeOfParallelism(Math.Max(1, Environment.ProcessorCount - 1)).Select(stored => (Stored: stored, Event: StripeEvents.Parse(stored.Json, livemode))).ToList();
        var events = new List<(InboxEvent Stored, EventRecord Event)>(batch.Count);
        foreach (var (stored, parsed) in read)
        {
            if (parsed is not null)
            {
                events.Add((stored, parsed));
            }
            else
            {
                KeepUnreadable(stored, connectionId);
            }
        }

        // Two events of one object in the same second can't be ordered by their time (Stripe's resolution). Where the
        // states themselves tell which is later (SameSecond), that one wins; otherwise the object is asked of Stripe as
        // it is now, which outranks both. Asked before the transaction opens, so no write lock is held while waiting on
        // the network; a failed question fails that event alone.
        var ids = events.Select(e => e.Event.Data?.Id).OfType<string>().Distinct().ToList();
        var versions = await db.StripeObjects.Where(o => o.ConnectionId == connectionId && ids.Contains(o.StripeId))
            .ToDictionaryAsync(o => o.StripeId, o => o.Version, ct);
        var level = events.Where(e => e.Event.Data is { } d && versions.GetValueOrDefault(d.Id) == e.Stored.Created * 1000).Select(e => e.Event.Data!.Id).Distinct().ToList();
        var latest = level.Count == 0 ? []
            : (await db.StripeObjects.Where(o => o.ConnectionId == connectionId && level.Contains(o.StripeId)).Select(o => new { o.StripeId, o.Type, o.Json }).ToListAsync(ct))
                .ToDictionary(o => o.StripeId, o => StateStore.Deserialize(o.Type, o.Json));
        var states = new List<(StripeRecord, long)>(events.Count);
        var applied = new List<(InboxEvent Stored, EventRecord Event)>(events.Count);
        foreach (var (stored, parsed) in events)
        {
            if (parsed.Data is { } changed)
            {
                var version = stored.Created * 1000;
                var known = versions.GetValueOrDefault(changed.Id, long.MinValue);
                if (version != known)
                {
                    if (version > known)
                    {
                        states.Add((changed, version));
                        (versions[changed.Id], latest[changed.Id]) = (version, changed);
                    }

                    // An older state than the one stored: a late event, whose state changes nothing.
                }
                else if (SameSecond.Compare(changed, latest[changed.Id]) is var order && order != 0)
                {
                    if (order > 0)
                    {
                        states.Add((changed, version));
                        latest[changed.Id] = changed;
                    }
                }
                else
                {
                    try
                    {
                        asked++;
                        if (await connections.ClientFor(connection).RetrieveAsync(changed.Type, changed.Id, ct) is { } current)
                        {
                            states.Add((current, now));
                            (versions[changed.Id], latest[changed.Id]) = (now, current);
                        }
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        stored.Attempts++;
                        stored.Error = Truncate(e.Message);
                        logger.LogError(e, "Event {EventId} of connection {ConnectionId} failed (attempt {Attempt})", stored.EventId, connectionId, stored.Attempts);
                        continue;
                    }
                }
            }

            applied.Add((stored, parsed));
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await StateStore.UpsertAsync(db, connectionId, states, now, ct);
        await db.SaveChangesAsync(ct); // The catalog below reads products and prices this batch brought.
        var catalog = await StoredState.CatalogAsync(db, connectionId, ct);
        var owners = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (stored, parsed) in applied)
        {
            if (parsed.Data is { } record)
            {
                var facts = EventOnlyFacts(parsed, record, catalog);
                await MetricEventStore.AddAsync(db, connection, null, facts, ct);
                owners.UnionWith(facts.Select(f => f.CustomerId).Where(c => c.Length > 0));
            }

            stored.ProcessedAt = now;
            stored.Error = null;
        }

        // A late event's state is skipped (a newer one is stored), so nothing else marks its customer, but its fact
        // still changes the person (last activity): derive it again.
        await StateStore.MarkDirtyAsync(db, connectionId, owners, now, ct);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        logger.LogDebug("Applied a batch of {Count} events ({Asked} asked of Stripe) in {Milliseconds:F1} ms", batch.Count, asked, clock.GetElapsedTime(started).TotalMilliseconds);
        return batch.Count;
    }

    /// <summary>The batch one event per transaction: what a batch that failed as a whole falls back to.</summary>
    private async Task<int> ApplyOneByOneAsync(Guid connectionId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var connection = await db.Connections.AsNoTracking().SingleAsync(c => c.Id == connectionId, ct);
        var livemode = connection.Mode == Connections.ConnectionMode.Live;
        var batch = await NextBatchAsync(db, connectionId, ct);
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
                KeepUnreadable(stored, connectionId);
                await db.SaveChangesAsync(ct);
                continue;
            }

            // The state to apply: the event's own, or on a same-second tie the later of the two (SameSecond), or else
            // Stripe's current state.
            var version = stored.Created * 1000;
            (StripeRecord Record, long Version)? state = parsed.Data is { } data ? (data, version) : null;
            try
            {
                if (parsed.Data is { } changed
                    && await db.StripeObjects.AsNoTracking().Where(o => o.ConnectionId == connectionId && o.StripeId == changed.Id && o.Version == version)
                        .Select(o => o.Json).FirstOrDefaultAsync(ct) is { } level)
                {
                    var order = SameSecond.Compare(changed, StateStore.Deserialize(changed.Type, level));
                    state = order > 0 ? state
                        : order < 0 ? null
                        : await connections.ClientFor(connection).RetrieveAsync(changed.Type, changed.Id, ct) is { } current ? (current, now) : null;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await FailAsync(db, stored, e, connectionId, ct);
                continue;
            }

            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            try
            {
                if (parsed.Data is { } record)
                {
                    if (state is { } apply)
                    {
                        await StateStore.UpsertAsync(db, connectionId, [apply], now, ct);
                    }

                    await db.SaveChangesAsync(ct);
                    catalog ??= await StoredState.CatalogAsync(db, connectionId, ct);
                    var facts = EventOnlyFacts(parsed, record, catalog);
                    await MetricEventStore.AddAsync(db, connection, null, facts, ct);
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

    /// <summary>
    /// Intake checks the signature and reads only the envelope, so a signed body whose object StripeSync cannot read (a field
    /// of the wrong kind)
    /// gets here. It is kept and shown as failed on Sync health, never applied and never silently dropped.
    /// </summary>
    private void KeepUnreadable(InboxEvent stored, Guid connectionId)
    {
        stored.Attempts = InboxEvent.MaxAttempts;
        stored.Error = "StripeSync could not read this event; it was kept as received and not applied.";
        logger.LogError("Event {EventId} of connection {ConnectionId} could not be read and was not applied", stored.EventId, connectionId);
    }

    private static string Truncate(string message) => message.Length > 2000 ? message[..2000] : message;

    private async Task FailAsync(AppDbContext db, InboxEvent stored, Exception e, Guid connectionId, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        db.Inbox.Attach(stored);
        stored.Attempts++;
        stored.Error = Truncate(e.Message);
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
