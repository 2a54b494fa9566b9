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

    // Untracked: "processed" and a failure are written by statements, so saving never scans the batch for changes.
    private static Task<List<InboxEvent>> NextBatchAsync(AppDbContext db, Guid connectionId, CancellationToken ct) =>
        db.Inbox.AsNoTracking().Where(e => e.ConnectionId == connectionId && e.ProcessedAt == null && e.Attempts < InboxEvent.MaxAttempts)
            .OrderBy(e => e.Created).ThenBy(e => e.Id).Take(Batch).ToListAsync(ct);

    /// <summary>
    /// The batch in one transaction, in Stripe's order. Everything that only reads (the events, the stored versions, the
    /// same-second ties, the catalog, the facts) is done before the transaction opens, so on SQLite the write lock, which
    /// webhook intake waits for, is held only for the writes: one upsert of every state, the facts, the dirty marks and
    /// "processed".
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
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        // Reading events is a large part of a batch's CPU and needs nothing of the database: on every core but
        // one, which stays with the web requests (webhook intake answers Stripe while a burst is still being applied).
        var read = batch.AsParallel().AsOrdered().WithDegreeOfParallelism(Math.Max(1, Environment.ProcessorCount - 1)).Select(stored => (Stored: stored, Event: StripeEvents.Parse(stored.Json, livemode))).ToList();
        var events = new List<(InboxEvent Stored, EventRecord Event)>(batch.Count);
        var unreadable = new List<InboxEvent>();
        foreach (var (stored, parsed) in read)
        {
            if (parsed is not null)
            {
                events.Add((stored, parsed));
            }
            else
            {
                KeepUnreadable(stored, connectionId);
                unreadable.Add(stored);
            }
        }

        var plan = await PlanAsync(db, connection, events, ct);
        plan.Failed.AddRange(unreadable);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Timed from its start (on SQLite, once its turn at the write lock came): how long it holds the lock.
        var writing = clock.GetTimestamp();
        await WriteAsync(db, connection, plan, now, ct);
        await transaction.CommitAsync(ct);
        logger.LogDebug("Applied a batch of {Count} events ({Asked} asked of Stripe) in {Milliseconds:F1} ms, {Transaction:F1} ms of it in the transaction",
            batch.Count, plan.Asked, clock.GetElapsedTime(started).TotalMilliseconds, clock.GetElapsedTime(writing).TotalMilliseconds);
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
        foreach (var stored in batch)
        {
            var parsed = StripeEvents.Parse(stored.Json, livemode);
            if (parsed is null)
            {
                KeepUnreadable(stored, connectionId);
                await KeepFailedAsync(db, [stored], ct);
                continue;
            }

            // The plan counts an attempt itself when Stripe fails to answer: a write that then fails too is the same attempt.
            var attempts = stored.Attempts;
            try
            {
                var plan = await PlanAsync(db, connection, [(stored, parsed)], ct);
                await using var transaction = await db.Database.BeginTransactionAsync(ct);
                await WriteAsync(db, connection, plan, now, ct);
                await transaction.CommitAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Nothing of the failed event stays (its transaction is disposed, so rolled back); it is retried by a
                // later drain, up to five attempts.
                db.ChangeTracker.Clear();
                stored.Attempts = attempts + 1;
                stored.Error = Truncate(e.Message);
                await KeepFailedAsync(db, [stored], ct);
                logger.LogError(e, "Event {EventId} of connection {ConnectionId} failed (attempt {Attempt})", stored.EventId, connectionId, stored.Attempts);
            }
        }

        return batch.Count;
    }

    /// <summary>
    /// What applying a batch of events writes, decided from reads alone: each object's winning state (see
    /// <see cref="PlanAsync"/>), the facts the events show, and the events that failed.
    /// </summary>
    private sealed record Plan(
        List<StateStore.PageRow> States,
        Dictionary<string, string> StoredCustomers,
        List<InboxEvent> Applied,
        List<MetricEvent> Facts,
        List<InboxEvent> Failed,
        int Asked);

    /// <summary>
    /// The states that win, in Stripe's order: a state older than the stored one (a late event) changes nothing, a newer
    /// one wins. Two events of one object in the same second can't be ordered by their time (Stripe's resolution): where
    /// the states themselves tell which is later (SameSecond), that one wins; otherwise the object is asked of Stripe as
    /// it is now, which outranks both. Decided before any transaction opens, so no write lock is held while reading or
    /// waiting on the network; a failed question fails that event alone. The upsert's own "newest wins" still guards
    /// against a newer state a concurrent writer stores in between.
    /// </summary>
    private async Task<Plan> PlanAsync(AppDbContext db, Connections.Connection connection, List<(InboxEvent Stored, EventRecord Event)> events, CancellationToken ct)
    {
        var connectionId = connection.Id;
        var ids = events.Select(e => e.Event.Data?.Id).OfType<string>().Distinct().ToList();
        var stored = await db.StripeObjects.AsNoTracking().Where(o => o.ConnectionId == connectionId && ids.Contains(o.StripeId))
            .Select(o => new { o.StripeId, o.Version, o.CustomerId }).ToListAsync(ct);
        var versions = stored.ToDictionary(o => o.StripeId, o => o.Version, StringComparer.Ordinal);
        var customers = stored.Where(o => o.CustomerId is not null).ToDictionary(o => o.StripeId, o => o.CustomerId!, StringComparer.Ordinal);
        var level = events.Where(e => e.Event.Data is { } d && versions.TryGetValue(d.Id, out var v) && v == e.Stored.Created * 1000).Select(e => e.Event.Data!.Id).Distinct().ToList();
        var latest = level.Count == 0 ? []
            : (await db.StripeObjects.AsNoTracking().Where(o => o.ConnectionId == connectionId && level.Contains(o.StripeId)).Select(o => new { o.StripeId, o.Type, o.Json }).ToListAsync(ct))
                .ToDictionary(o => o.StripeId, o => StateStore.Deserialize(o.Type, o.Json), StringComparer.Ordinal);

        var states = new List<(StripeRecord Record, long Version)>(events.Count);
        var applied = new List<(InboxEvent Stored, EventRecord Event)>(events.Count);
        var failed = new List<InboxEvent>();
        // Objects asked of Stripe in this plan: their current state is at least as new as every event of the batch (each
        // was in the inbox before the question), whatever the clocks say.
        var current = new HashSet<string>(StringComparer.Ordinal);
        var asked = 0;
        foreach (var (inboxEvent, parsed) in events)
        {
            if (parsed.Data is { } changed && !current.Contains(changed.Id))
            {
                var version = inboxEvent.Created * 1000;
                var known = versions.GetValueOrDefault(changed.Id, long.MinValue);
                var order = version != known ? version.CompareTo(known) : SameSecond.Compare(changed, latest[changed.Id]);
                if (order > 0)
                {
                    states.Add((changed, version));
                    (versions[changed.Id], latest[changed.Id]) = (version, changed);
                }
                else if (order == 0)
                {
                    try
                    {
                        asked++;
                        // Ranked at the second it was asked, as the import ranks a page: a change Stripe makes later in that
                        // second ties with it and is asked again, one of a later second wins. Ranked at the millisecond, it
                        // outranked a cancellation made later in the same second, whose event was then skipped as late.
                        var askedAt = Math.Max(version, clock.GetUtcNow().ToUnixTimeSeconds() * 1000);
                        if (await connections.ClientFor(connection).RetrieveAsync(changed.Type, changed.Id, ct) is { } state)
                        {
                            states.Add((state, askedAt));
                            (versions[changed.Id], latest[changed.Id]) = (askedAt, state);
                            current.Add(changed.Id);
                        }
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        inboxEvent.Attempts++;
                        inboxEvent.Error = Truncate(e.Message);
                        failed.Add(inboxEvent);
                        logger.LogError(e, "Event {EventId} of connection {ConnectionId} failed (attempt {Attempt})", inboxEvent.EventId, connectionId, inboxEvent.Attempts);
                        continue;
                    }
                }

                // Otherwise an older state than the one stored (a late event), whose state changes nothing; its facts still count.
            }

            applied.Add((inboxEvent, parsed));
        }

        // Of an object changed twice, the later state: the one written.
        var winners = states.GroupBy(s => s.Record.Id, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        var catalog = applied.Any(a => a.Event.Data is SubscriptionRecord or CheckoutSessionRecord)
            ? await CatalogAsync(db, connectionId, winners.Select(w => w.Record), ct)
            : Catalog.Empty;
        var facts = applied.Where(a => a.Event.Data is not null).SelectMany(a => EventOnlyFacts(a.Event, a.Event.Data!, catalog)).ToList();
        return new Plan([.. winners.Select(w => new StateStore.PageRow(w.Record, w.Version))], customers, [.. applied.Select(a => a.Stored)], facts, failed, asked);
    }

    /// <summary>
    /// Writes a plan in the caller's transaction: the states in multi-row upserts (untracked), the facts once each, the
    /// dirty marks, "processed", and the failed events' attempts.
    /// </summary>
    private static async Task WriteAsync(AppDbContext db, Connections.Connection connection, Plan plan, long now, CancellationToken ct)
    {
        await StateStore.UpsertAsync(db, connection.Id, plan.States, now, ct, plan.StoredCustomers);
        // One call per occurrence of a fact's key: the first of each in one query, a repeat (rare) merged into it as if
        // added event by event.
        foreach (var round in plan.Facts.GroupBy(f => f.NaturalKey, StringComparer.Ordinal).SelectMany(g => g.Select((f, i) => (Fact: f, Round: i))).GroupBy(f => f.Round))
        {
            await MetricEventStore.AddAsync(db, connection, null, [.. round.Select(f => f.Fact)], ct);
        }

        // A late event's state is skipped (a newer one is stored), so nothing else marks its customer, but its fact
        // still changes the person (last activity): derive it again.
        await StateStore.MarkDirtyAsync(db, connection.Id, [.. plan.Facts.Select(f => f.CustomerId).Where(c => c.Length > 0)], now, ct);
        await db.SaveChangesAsync(ct);
        var ids = plan.Applied.Select(e => e.Id).ToList();
        if (ids.Count > 0)
        {
            await db.Inbox.Where(e => ids.Contains(e.Id))
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.ProcessedAt, now).SetProperty(e => e.Error, (string?)null), ct);
        }

        await KeepFailedAsync(db, plan.Failed, ct);
    }

    /// <summary>The attempts and error of events that failed (few: one statement each).</summary>
    private static async Task KeepFailedAsync(AppDbContext db, IEnumerable<InboxEvent> failed, CancellationToken ct)
    {
        foreach (var stored in failed)
        {
            await db.Inbox.Where(e => e.Id == stored.Id).ExecuteUpdateAsync(s => s.SetProperty(e => e.Attempts, stored.Attempts).SetProperty(e => e.Error, stored.Error), ct);
        }
    }

    /// <summary>The products, prices and coupons facts are priced with: the stored ones, and those this batch brings.</summary>
    private static async Task<Catalog> CatalogAsync(AppDbContext db, Guid connectionId, IEnumerable<StripeRecord> batch, CancellationToken ct)
    {
        var rows = await db.StripeObjects.AsNoTracking()
            .Where(o => o.ConnectionId == connectionId && (o.Type == StripeObjectType.Product || o.Type == StripeObjectType.Price || o.Type == StripeObjectType.Coupon))
            .Select(o => new { o.StripeId, o.Type, o.Json }).ToListAsync(ct);
        var records = rows.ToDictionary(o => o.StripeId, o => StateStore.Deserialize(o.Type, o.Json), StringComparer.Ordinal);
        foreach (var record in batch.Where(r => r is ProductRecord or PriceRecord or CouponRecord))
        {
            records[record.Id] = record;
        }

        return Catalog.From(records.Values.OfType<ProductRecord>(), records.Values.OfType<PriceRecord>(), records.Values.OfType<CouponRecord>());
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
