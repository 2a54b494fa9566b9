using System.Collections.Concurrent;
using Hangfire;
using StripeSync.Core.Health;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Ingestion.Backfill;
using StripeSync.Core.Ingestion.Inbox;
using StripeSync.Core.People;

namespace StripeSync.Web.Setup;

/// <summary>The sync's background work as Hangfire jobs: small arguments, all state in our tables.</summary>
public sealed class HangfireSyncJobs(IBackgroundJobClient client) : ISyncJobs
{
    /// <summary>How long drain requests gather into one job: a webhook storm asks for a drain per event.</summary>
    public static readonly TimeSpan DrainGathering = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<Guid, bool> drainScheduled = new();

    public void Backfill(Guid connectionId) =>
        client.Enqueue<SyncJobRunner>(job => job.BackfillAsync(connectionId, CancellationToken.None));

    /// <summary>
    /// One drain job per connection per <see cref="DrainGathering"/>, not one per request: each drain empties the whole
    /// inbox, and one job per webhook kept every worker waiting on the drain's lock (BENCHMARKS.md §3). The mark is
    /// cleared before the job is enqueued, so an event stored after the enqueue asks for (and gets) a job of its own.
    /// </summary>
    public void DrainInbox(Guid connectionId)
    {
        if (!drainScheduled.TryAdd(connectionId, true))
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            await Task.Delay(DrainGathering);
            drainScheduled.TryRemove(connectionId, out _);
            client.Enqueue<SyncJobRunner>(job => job.DrainInboxAsync(connectionId, CancellationToken.None));
        });
    }

    public void Derive(Guid connectionId) =>
        client.Enqueue<SyncJobRunner>(job => job.DeriveAsync(connectionId, CancellationToken.None));

    public void Reconcile(Guid connectionId) =>
        client.Enqueue<SyncJobRunner>(job => job.ReconcileAsync(connectionId, CancellationToken.None));
}

/// <summary>
/// The job entry points Hangfire calls. The import, draining the inbox and deriving people are each serialised
/// (one at a time across all workers, through Hangfire's distributed lock), so two workers never walk the same
/// slice, apply the same events or rebuild the same person at once; an import run walks its pages side by side.
/// </summary>
public sealed class SyncJobRunner(BackfillJob backfill, InboxProcessor inbox, DeriveJob derive, EventsPoll poll, Reconciliation reconciliation)
{
    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    [AutomaticRetry(Attempts = 10, DelaysInSeconds = [5, 10, 30, 60, 120, 300, 600, 600, 600, 600])]
    public Task BackfillAsync(Guid connectionId, CancellationToken ct) => backfill.RunAsync(connectionId, ct);

    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    public Task DrainInboxAsync(Guid connectionId, CancellationToken ct) => inbox.DrainAsync(connectionId, ct);

    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    public Task DeriveAsync(Guid connectionId, CancellationToken ct) => derive.RunAsync(connectionId, ct);

    [DisableConcurrentExecution(timeoutInSeconds: 300)]
    [AutomaticRetry(Attempts = 0)]
    public Task PollEventsAsync(CancellationToken ct) => poll.PollAllAsync(ct);

    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    [AutomaticRetry(Attempts = 2)]
    public Task ReconcileAsync(Guid connectionId, CancellationToken ct) => reconciliation.CheckAsync(connectionId, ct);

    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    [AutomaticRetry(Attempts = 0)]
    public Task ReconcileAllAsync(CancellationToken ct) => reconciliation.CheckAllAsync(ct);
}
