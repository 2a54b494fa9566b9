using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using StripeSync.Core.Connections;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Ingestion.Backfill;

/// <summary>
/// The import of existing data. Stripe's lists can only be walked one page after another (a page's cursor is the
/// last id of the page before), so each object type is cut into created-time slices walked side by side, each its
/// own chain of pages, and every type at once: the rate limiter, not the round trip, sets the pace
/// (docs/decisions/0011). A type starts as one open slice; while it has fewer walkers than <see cref="WalkersPerType"/>,
/// the slice with the most left is cut in two at the middle of the time it has left. Each page is stored with its
/// slice's cursor in one transaction, so a crash or restart resumes every slice where it stopped, and a page fetched
/// twice changes nothing. One run works for <see cref="ISyncJobs.RunBudget"/>, then queues its continuation.
/// </summary>
public sealed partial class BackfillJob(
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

    /// <summary>
    /// Pages of one type in flight at once. Stripe allows 25 requests/s per endpoint; a page takes its round trip
    /// (50–200 ms) plus its parse, so four chains keep an endpoint near its limit.
    /// </summary>
    public const int WalkersPerType = 4;

    /// <summary>Stripe launched in 2011: no object is older.</summary>
    private static readonly long StripeEpoch = new DateTimeOffset(2011, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    /// <summary>A slice with less time than this left (seconds) is not cut further.</summary>
    private const long MinimumWidth = 60;

    /// <summary>Creates the cursors and first slices (once) and starts the import.</summary>
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
                db.BackfillSlices.Add(new BackfillSlice { ConnectionId = connectionId, Type = type, Slice = 0 });
            }

            await db.SaveChangesAsync(ct);
        }

        if (!catalogOnly)
        {
            await connections.SetStateAsync(connectionId, ConnectionState.Importing, null, ct);
        }

        await ResumeAsync(connectionId, ct);
    }

    /// <summary>Queues a run if any slice is unfinished (start-up calls this: a lost queue loses nothing).</summary>
    public async Task ResumeAsync(Guid connectionId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.BackfillSlices.AnyAsync(s => s.ConnectionId == connectionId && !s.Done, ct))
        {
            jobs.Backfill(connectionId);
        }
    }

    /// <summary>Walks every unfinished slice of the connection for up to <see cref="ISyncJobs.RunBudget"/>, then queues the rest.</summary>
    public async Task RunAsync(Guid connectionId, CancellationToken ct)
    {
        var connection = await connections.FindAsync(connectionId, ct);
        if (connection is null || connection.State == ConnectionState.KeyRevoked)
        {
            return;
        }

        List<BackfillSlice> open;
        Dictionary<StripeObjectType, BackfillCursor> cursors;
        Dictionary<StripeObjectType, int> numbers;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            open = await db.BackfillSlices.AsNoTracking().Where(s => s.ConnectionId == connectionId && !s.Done).ToListAsync(ct);
            cursors = await db.BackfillCursors.AsNoTracking().Where(c => c.ConnectionId == connectionId).ToDictionaryAsync(c => c.Type, ct);
            numbers = (await db.BackfillSlices.Where(s => s.ConnectionId == connectionId)
                .GroupBy(s => s.Type).Select(g => new { g.Key, Max = g.Max(s => s.Slice) }).ToListAsync(ct)).ToDictionary(g => g.Key, g => g.Max);
        }

        if (open.Count == 0)
        {
            return;
        }

        using var walk = new Walk(dbFactory, connections, clock, logger, connectionId, connections.ClientFor(connection), open, cursors, numbers, ct);
        await walk.RunAsync();
        logger.LogInformation("Backfill run of connection {ConnectionId} stored {Pages} pages in {Commits} commits, writing for {Seconds:F1} s",
            connectionId, walk.Written.Pages, walk.Written.Commits, walk.Written.Writing.TotalSeconds);
        if (walk.Revoked)
        {
            logger.LogWarning("Backfill stopped: Stripe answered 401 for connection {ConnectionId}", connectionId);
            await connections.SetStateAsync(connectionId, ConnectionState.KeyRevoked,
                "Stripe refused the key (401): it was revoked or deleted. Replace the key in Settings → Connections.", CancellationToken.None);
            return;
        }

        walk.ThrowIfFailed();
        ct.ThrowIfCancellationRequested();
        if (walk.Finished)
        {
            logger.LogInformation("Backfill of connection {ConnectionId} fetched every type", connectionId);
            jobs.Derive(connectionId);
        }
        else
        {
            jobs.Backfill(connectionId);
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

    /// <summary>
    /// One run: a walker task per slice being walked, and this coordinator, which starts walkers and cuts slices
    /// whenever a walker reports a page. One writer at a time (SQLite has one anyway) stores every page waiting in one
    /// transaction (docs/decisions/0013), and a cut happens under the same lock, so a slice's bounds never change
    /// between reading a page and writing it.
    /// </summary>
    private sealed class Walk(
        IDbContextFactory<AppDbContext> dbFactory, Connections.Connections connections, TimeProvider clock, ILogger logger, Guid connectionId, StripeAccountClient client, List<BackfillSlice> slices,
        Dictionary<StripeObjectType, BackfillCursor> cursors, Dictionary<StripeObjectType, int> numbers, CancellationToken ct) : IDisposable
    {
        private readonly SemaphoreSlim writer = new(1, 1);
        private readonly SemaphoreSlim pulse = new(0);
        private readonly HashSet<BackfillSlice> running = [];

        /// <summary>
        /// Slices another run of this job walked on under this one (its optimistic check failed): that run walks them, so
        /// this one leaves them; restarted, each of its pages would be fetched only to be dropped, until the run's end.
        /// </summary>
        private readonly HashSet<BackfillSlice> lost = [];
        private readonly List<Exception> failures = [];
        private readonly List<Page> waiting = [];
        private readonly long deadline = clock.GetTimestamp() + (long)(ISyncJobs.RunBudget.TotalSeconds * clock.TimestampFrequency);
        private volatile bool over;

        public bool Revoked { get; private set; }

        /// <summary>Pages this run stored, the transactions it took and the time spent in them (only the writer counts them).</summary>
        public (int Pages, int Commits, TimeSpan Writing) Written => (written, commits, writing);

        private int written;
        private int commits;
        private TimeSpan writing;

        /// <summary>Whether this run wrote the page that finished the import.</summary>
        public bool Finished { get; private set; }

        public async Task RunAsync()
        {
            var walkers = new List<Task>();
            try
            {
                while (true)
                {
                    if (!over)
                    {
                        walkers.AddRange(await StartWalkersAsync());
                    }

                    walkers.RemoveAll(w => w.IsCompleted);
                    if (walkers.Count == 0)
                    {
                        return;
                    }

                    // Walkers pulse after every page and on their way out; the timeout covers a walker that pulsed just
                    // before its task was marked complete.
                    await pulse.WaitAsync(TimeSpan.FromMilliseconds(250), CancellationToken.None);
                    over |= ct.IsCancellationRequested || clock.GetTimestamp() > deadline;
                }
            }
            catch
            {
                // Walkers catch their own failures, so this is the coordinator's (a cut it could not write): let every
                // walker finish its page before the run ends with it.
                over = true;
                await Task.WhenAll(walkers);
                throw;
            }
        }

        public void Dispose()
        {
            writer.Dispose();
            pulse.Dispose();
        }

        public void ThrowIfFailed()
        {
            // Every walker of a failed batch reports the same exception.
            var distinct = failures.Distinct().ToList();
            if (distinct.Count > 0)
            {
                throw distinct.Count == 1 ? distinct[0] : new AggregateException(distinct);
            }
        }

        /// <summary>Starts walkers for slices nobody walks and cuts slices where a type has walkers to spare, under the writer lock.</summary>
        private async Task<List<Task>> StartWalkersAsync()
        {
            var started = new List<Task>();
            await writer.WaitAsync(CancellationToken.None);
            try
            {
                foreach (var type in slices.Where(s => !s.Done).Select(s => s.Type).Distinct().ToList())
                {
                    var walking = running.Count(s => s.Type == type);
                    foreach (var slice in slices.Where(s => s.Type == type && !s.Done && !running.Contains(s) && !lost.Contains(s)).ToList())
                    {
                        if (walking++ >= WalkersPerType)
                        {
                            break;
                        }

                        started.Add(Start(slice));
                    }

                    while (walking++ < WalkersPerType && await CutAsync(type) is { } slice)
                    {
                        started.Add(Start(slice));
                    }
                }
            }
            finally
            {
                writer.Release();
            }

            return started;
        }

        private Task Start(BackfillSlice slice)
        {
            running.Add(slice);
            return Task.Run(() => WalkAsync(slice), CancellationToken.None);
        }

        /// <summary>
        /// Cuts the walked slice of the type with the most pages left in two: it keeps the newer half of what it has
        /// left, a new slice takes the older. Pages left are estimated from the slice's own pace (objects per second
        /// of created time walked). Below the open (oldest) slice lies the time back to Stripe's launch, so the first
        /// cuts of a short history find empty time, one request each, and the open slice ends at the first that is.
        /// </summary>
        private async Task<BackfillSlice?> CutAsync(StripeObjectType type)
        {
            BackfillSlice? best = null;
            var bestLeft = 1.5;
            long bestLow = 0;
            foreach (var slice in running.Where(s => s.Type == type && s.Reached is not null && !lost.Contains(s)))
            {
                var low = slice.From ?? StripeEpoch;
                var top = slice.Before ?? (cursors[type].NewestCreated ?? slice.Reached!.Value) + 1;
                var walked = top - slice.Reached!.Value;
                var left = slice.Reached.Value - low;
                var pages = walked > 0 && slice.Fetched > 0 ? left * (slice.Fetched / (double)walked) / 100 : double.MaxValue;
                if (left >= 2 * MinimumWidth && pages > bestLeft)
                {
                    (best, bestLeft, bestLow) = (slice, pages, low);
                }
            }

            if (best is null)
            {
                return null;
            }

            var middle = bestLow + ((best.Reached!.Value - bestLow) / 2);
            var cut = new BackfillSlice
            {
                ConnectionId = connectionId,
                Type = type,
                Slice = numbers[type] = numbers.GetValueOrDefault(type) + 1,
                From = best.From,
                Before = middle,
            };
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
            await db.BackfillSlices.Where(s => s.ConnectionId == connectionId && s.Type == type && s.Slice == best.Slice)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.From, middle), CancellationToken.None);
            db.BackfillSlices.Add(cut);
            await db.SaveChangesAsync(CancellationToken.None);
            await transaction.CommitAsync(CancellationToken.None);
            lock (best)
            {
                best.From = middle;
            }

            slices.Add(cut);
            return cut;
        }

        /// <summary>Fetches and writes the slice's pages, asking for the next page while the current one is written.</summary>
        private async Task WalkAsync(BackfillSlice slice)
        {
            try
            {
                var next = FetchAsync(slice, slice.Cursor);
                while (next is not null)
                {
                    var (rows, nextCursor) = await next;
                    next = nextCursor is { } cursor && !over ? FetchAsync(slice, cursor) : null;
                    if (!await WriteAsync(slice, rows, nextCursor))
                    {
                        if (next is not null)
                        {
                            await next; // Fetched for a slice that has just ended (cut under it): nothing to keep.
                        }

                        return;
                    }
                }
            }
            catch (StripeCallException e) when (e.KeyRevoked)
            {
                Revoked = true;
                over = true;
            }
            catch (StripeCallException e) when (e.Status == 403)
            {
                await SkipAsync(slice.Type, e);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                over = true;
            }
#pragma warning disable CA1031 // The run ends with every walker's failure rethrown, so Hangfire retries it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                lock (failures)
                {
                    failures.Add(e);
                }

                over = true;
            }
            finally
            {
                await writer.WaitAsync(CancellationToken.None);
                running.Remove(slice);
                writer.Release();
                pulse.Release();
            }
        }

        private async Task<(IReadOnlyList<StateStore.PageRow> Rows, string? NextCursor)> FetchAsync(BackfillSlice slice, string? cursor)
        {
            // The page shows every change made before the second its request left, perhaps more: it ranks just below
            // an event of that second (which then wins), above every older one. Stamped with the time it was written
            // instead, a page fetched before a change and written after it would outrank that change's event.
            var version = (clock.GetUtcNow().ToUnixTimeSeconds() * 1000) - 1;
            long? from;
            lock (slice)
            {
                from = slice.From;
            }

            var page = await client.ListAsync(slice.Type, cursor, from, slice.Before, ct);
            // Serialised here, on the walker's own time, not while holding the writer.
            return ([.. (await CompleteAsync(client, page.Items, ct)).Select(r => new StateStore.PageRow(r, version))], page.NextCursor);
        }

        /// <summary>
        /// Hands a page to the writer and returns, once it is committed with its slice's new cursor, whether the slice
        /// goes on. Group commit, as the inbox does with deliveries: whichever walker gets the writer stores every page
        /// waiting by then in one transaction, so the others find theirs stored when their turn comes.
        /// </summary>
        private async Task<bool> WriteAsync(BackfillSlice slice, IReadOnlyList<StateStore.PageRow> rows, string? nextCursor)
        {
            var page = new Page(slice, rows, nextCursor);
            lock (waiting)
            {
                waiting.Add(page);
            }

            await writer.WaitAsync(CancellationToken.None);
            try
            {
                if (!page.GoesOn.Task.IsCompleted)
                {
                    List<Page> batch;
                    lock (waiting)
                    {
                        batch = [.. waiting];
                        waiting.Clear();
                    }

                    await WriteBatchAsync(batch);
                }
            }
            finally
            {
                writer.Release();
                pulse.Release();
            }

            return await page.GoesOn.Task;
        }

        /// <summary>A slice whose row is gone (its connection purged), as its walker should see it: done.</summary>
        private static BackfillSlice Gone(BackfillSlice slice)
        {
            lock (slice)
            {
                return new BackfillSlice
                {
                    ConnectionId = slice.ConnectionId, Type = slice.Type, Slice = slice.Slice, From = slice.From, Before = slice.Before,
                    Cursor = slice.Cursor, Reached = slice.Reached, Done = true, Pages = slice.Pages, Fetched = slice.Fetched,
                };
            }
        }

        /// <summary>
        /// Stores the pages (one per slice: a walker waits for its page before it hands over the next) with their slices'
        /// cursors in one transaction. Objects older than a slice's lower bound (raised by a cut while the page was on its
        /// way) are the new slice's. A page whose slice another run of this job walked on is dropped, and its slice stops
        /// for the rest of this run, with the state that run left it in; the rest commit. A failed transaction stores none
        /// of them and fails every walker in it, as one page's failure did before: the run ends with it and Hangfire retries.
        /// </summary>
        private async Task WriteBatchAsync(List<Page> batch)
        {
            var started = clock.GetTimestamp();
            try
            {
                var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
                var plans = batch.Select(Plan.Of).ToList();

                await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
                await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
                var kept = new List<Plan>(plans.Count);
                foreach (var plan in plans)
                {
                    var slice = plan.Page.Slice;
                    var updated = await db.BackfillSlices
                        .Where(s => s.ConnectionId == connectionId && s.Type == slice.Type && s.Slice == slice.Slice && s.Pages == slice.Pages)
                        .ExecuteUpdateAsync(u => u
                            .SetProperty(s => s.Cursor, plan.Cursor)
                            .SetProperty(s => s.Reached, plan.Reached)
                            .SetProperty(s => s.Done, plan.Done)
                            .SetProperty(s => s.Pages, s => s.Pages + 1)
                            .SetProperty(s => s.Fetched, s => s.Fetched + plan.Items.Count), CancellationToken.None);
                    if (updated == 1)
                    {
                        kept.Add(plan);
                    }
                }

                await StateStore.UpsertAsync(db, connectionId, [.. kept.SelectMany(p => p.Items)], now, CancellationToken.None);

                // A slice lost now, and, when a slice ends, those lost before: only the database knows how far the other run got.
                var ending = kept.Where(p => p.Done).Select(p => p.Page.Slice).ToHashSet();
                var taken = plans.Except(kept).Select(p => p.Page.Slice).ToList();
                var reread = new List<(BackfillSlice Slice, BackfillSlice Row)>();
                foreach (var slice in ending.Count > 0 ? taken.Union(lost.Where(s => !s.Done)) : taken)
                {
                    var row = await db.BackfillSlices.AsNoTracking()
                        .SingleOrDefaultAsync(s => s.ConnectionId == connectionId && s.Type == slice.Type && s.Slice == slice.Slice, CancellationToken.None);
                    // No row: the connection was disconnected and purged meanwhile. Its walker stops as at its slice's end.
                    reread.Add((slice, row ?? Gone(slice)));
                }

                // Done as the slices will be once this commits: the page that ends a type's (or the import's) last slice
                // marks it, in the same transaction, whichever other slices end beside it.
                var doneElsewhere = reread.Where(r => r.Row.Done).Select(r => r.Slice).ToHashSet();
                bool DoneAfter(BackfillSlice s) => s.Done || ending.Contains(s) || doneElsewhere.Contains(s);
                var finished = ending.Count > 0 && slices.All(DoneAfter);
                foreach (var type in kept.GroupBy(p => p.Page.Slice.Type))
                {
                    var typeDone = slices.Where(s => s.Type == type.Key).All(DoneAfter);
                    var fetched = type.Sum(p => p.Items.Count);
                    var pages = type.Count();
                    var newest = type.Max(p => p.Newest);
                    var oldest = type.Min(p => p.Reached);
                    await db.BackfillCursors.Where(c => c.ConnectionId == connectionId && c.Type == type.Key)
                        .ExecuteUpdateAsync(u => u
                            .SetProperty(c => c.Fetched, c => c.Fetched + fetched)
                            .SetProperty(c => c.Pages, c => c.Pages + pages)
                            .SetProperty(c => c.UpdatedAt, now)
                            .SetProperty(c => c.Done, typeDone)
                            .SetProperty(c => c.NewestCreated, c => newest != null && (c.NewestCreated == null || c.NewestCreated < newest) ? newest : c.NewestCreated)
                            .SetProperty(c => c.OldestCreated, c => oldest != null && (c.OldestCreated == null || c.OldestCreated > oldest) ? oldest : c.OldestCreated),
                            CancellationToken.None);
                }

                if (finished)
                {
                    await MarkEveryCustomerAsync(db, now);
                }

                await transaction.CommitAsync(CancellationToken.None);

                foreach (var plan in kept)
                {
                    var slice = plan.Page.Slice;
                    var cursorRow = cursors[slice.Type];
                    cursorRow.NewestCreated = Math.Max(cursorRow.NewestCreated ?? long.MinValue, plan.Newest ?? long.MinValue) is var n && n != long.MinValue ? n : null;
                    lock (slice)
                    {
                        slice.Cursor = plan.Cursor;
                        slice.Reached = plan.Reached;
                        slice.Done = plan.Done;
                        slice.Pages++;
                        slice.Fetched += plan.Items.Count;
                    }
                }

                foreach (var (slice, row) in reread)
                {
                    lost.Add(slice);
                    lock (slice)
                    {
                        (slice.From, slice.Before, slice.Cursor, slice.Reached, slice.Done, slice.Pages, slice.Fetched) =
                            (row.From, row.Before, row.Cursor, row.Reached, row.Done, row.Pages, row.Fetched);
                    }
                }

                Finished |= finished;
                commits++;
                written += kept.Count;
                writing += clock.GetElapsedTime(started);
                LogCommit(logger, kept.Count, batch.Count - kept.Count, kept.Sum(p => p.Items.Count), clock.GetElapsedTime(started).TotalMilliseconds);
                foreach (var plan in plans)
                {
                    // Dropped: another run of this job walked the slice on, and its pages stand; that run goes on with it.
                    plan.Page.GoesOn.TrySetResult(kept.Contains(plan) && !plan.Done);
                }
            }
#pragma warning disable CA1031 // Each walker in the batch rethrows it, as it would its own page's failure.
            catch (Exception e)
#pragma warning restore CA1031
            {
                foreach (var page in batch)
                {
                    page.GoesOn.TrySetException(e);
                }
            }
        }

        /// <summary>The key may not read this type: it is skipped, and health says which and why.</summary>
        private async Task SkipAsync(StripeObjectType type, StripeCallException e)
        {
            await writer.WaitAsync(CancellationToken.None);
            try
            {
                if (slices.Where(s => s.Type == type).All(s => s.Done))
                {
                    return; // Another walker of the type got here first.
                }

                logger.LogWarning("Backfill of {Type} skipped: permission missing on connection {ConnectionId}", type, connectionId);
                var finished = slices.All(s => s.Type == type || s.Done);
                var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
                await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
                await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
                await db.BackfillSlices.Where(s => s.ConnectionId == connectionId && s.Type == type)
                    .ExecuteUpdateAsync(u => u.SetProperty(s => s.Done, true), CancellationToken.None);
                await db.BackfillCursors.Where(c => c.ConnectionId == connectionId && c.Type == type)
                    .ExecuteUpdateAsync(u => u.SetProperty(c => c.Done, true).SetProperty(c => c.UpdatedAt, now), CancellationToken.None);
                if (finished)
                {
                    await MarkEveryCustomerAsync(db, now);
                }

                await transaction.CommitAsync(CancellationToken.None);
                foreach (var slice in slices.Where(s => s.Type == type))
                {
                    slice.Done = true;
                }

                Finished |= finished;

                // Checkout sessions are optional (SPEC §1): without them only the checkout events are missing, which is not an error.
                var message = $"Cannot read {type}: {e.Message}";
                if (type == StripeObjectType.CheckoutSession)
                {
                    await connections.UpdateAsync(connectionId, c =>
                    {
                        c.LastError = message + " Checkout Completed and Checkout Abandoned events are not available.";
                        c.LastErrorAt = clock.GetUtcNow();
                    }, CancellationToken.None);
                }
                else
                {
                    await connections.SetStateAsync(connectionId, ConnectionState.Error, message, CancellationToken.None);
                }
            }
            finally
            {
                writer.Release();
            }
        }

        /// <summary>
        /// Refunds and invoice payments fetched before their charge or invoice could not name a customer then;
        /// deriving every customer once, in the transaction that ends the import, covers them.
        /// </summary>
        private async Task MarkEveryCustomerAsync(AppDbContext db, long now) =>
            await db.Database.ExecuteSqlAsync(
                $"INSERT INTO dirty_customers (\"ConnectionId\", \"CustomerId\", \"MarkedAt\", \"Stamp\") SELECT \"ConnectionId\", \"StripeId\", {now}, {Guid.NewGuid()} FROM stripe_objects WHERE \"ConnectionId\" = {connectionId} AND \"Type\" = {(int)StripeObjectType.Customer} ON CONFLICT (\"ConnectionId\", \"CustomerId\") DO UPDATE SET \"Stamp\" = excluded.\"Stamp\"",
                CancellationToken.None);

        /// <summary>A fetched page waiting for the writer; completed with whether its slice goes on once the page is stored.</summary>
        private sealed record Page(BackfillSlice Slice, IReadOnlyList<StateStore.PageRow> Rows, string? NextCursor)
        {
            public TaskCompletionSource<bool> GoesOn { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        /// <summary>What storing a page changes: the objects it keeps and its slice's new state.</summary>
        private sealed record Plan(Page Page, IReadOnlyList<StateStore.PageRow> Items, bool Done, long? Reached, long? Newest, string? Cursor)
        {
            /// <summary>Read under the writer lock, so a cut cannot move the slice's lower bound meanwhile.</summary>
            public static Plan Of(Page page)
            {
                var slice = page.Slice;
                var items = slice.From is { } from ? page.Rows.Where(i => i.Record.Created.ToUnixTimeSeconds() >= from).ToList() : page.Rows;
                return new Plan(
                    page,
                    items,
                    Done: page.NextCursor is null || items.Count < page.Rows.Count,
                    Reached: items.Count > 0 ? items[^1].Record.Created.ToUnixTimeSeconds() : slice.Reached,
                    Newest: items.Count > 0 ? items[0].Record.Created.ToUnixTimeSeconds() : null,
                    Cursor: page.NextCursor ?? slice.Cursor);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stored {Pages} pages ({Dropped} dropped, {Objects} objects) in one commit in {Milliseconds:F1} ms")]
    private static partial void LogCommit(ILogger logger, int pages, int dropped, int objects, double milliseconds);
}
