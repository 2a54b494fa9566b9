using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Ingestion.Backfill;
using StripeSync.Core.Ingestion.Inbox;
using StripeSync.Core.People;

namespace StripeSync.Bench;

/// <summary>
/// Runs the sync's jobs in-process on a few concurrent workers, so the benchmark measures StripeSync's own
/// work; derivation is serialised as Hangfire's DisableConcurrentExecution does in the app.
/// </summary>
public sealed class InlineJobs : ISyncJobs, IDisposable
{
    private const int Workers = 4;
    private readonly ConcurrentQueue<Func<Task>> queue = new();
    private readonly SemaphoreSlim derive = new(1, 1);
    private int running;

    public IServiceProvider Provider { get; set; } = default!;

    public void Backfill(Guid connectionId) =>
        queue.Enqueue(() => Provider.GetRequiredService<BackfillJob>().RunAsync(connectionId, CancellationToken.None));

    public void DrainInbox(Guid connectionId) =>
        queue.Enqueue(() => Provider.GetRequiredService<InboxProcessor>().DrainAsync(connectionId, CancellationToken.None));

    /// <summary>When the first derivation started: the import's fetch phase ends there.</summary>
    public DateTime? FirstDerive { get; private set; }

    /// <summary>The process's CPU time when the first derivation started, to tell the fetch phase's CPU from the rest.</summary>
    public TimeSpan FirstDeriveCpu { get; private set; }

    public void Derive(Guid connectionId) => queue.Enqueue(async () =>
    {
        if (FirstDerive is null)
        {
            FirstDerive = DateTime.UtcNow;
            FirstDeriveCpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        }

        await derive.WaitAsync();
        try
        {
            await Provider.GetRequiredService<DeriveJob>().RunAsync(connectionId, CancellationToken.None);
        }
        finally
        {
            derive.Release();
        }
    });

    /// <summary>The benchmark measures the import itself; checking it against Stripe afterwards is not part of that.</summary>
    public void Reconcile(Guid connectionId)
    {
    }

    /// <summary>Runs until no job is queued or running.</summary>
    public async Task DrainAsync()
    {
        do
        {
            await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(WorkAsync)));
        }
        while (!queue.IsEmpty);
    }

    public void Dispose() => derive.Dispose();

    private async Task WorkAsync()
    {
        while (true)
        {
            if (queue.TryDequeue(out var job))
            {
                Interlocked.Increment(ref running);
                try
                {
                    await job();
                }
                finally
                {
                    Interlocked.Decrement(ref running);
                }
            }
            else if (Volatile.Read(ref running) == 0 && queue.IsEmpty)
            {
                return;
            }
            else
            {
                await Task.Delay(5);
            }
        }
    }
}
