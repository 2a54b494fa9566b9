namespace StripeSync.Core.Ingestion;

/// <summary>
/// How the sync asks for more work to be run in the background. Core does not know Hangfire; the web
/// host implements this with it. Every job is idempotent and reads its state from the database, so a
/// job that runs twice, late, or never (a lost in-memory queue) loses nothing: start-up re-enqueues.
/// </summary>
public interface ISyncJobs
{
    /// <summary>
    /// How long one run of a looping job (draining the inbox, deriving people) works before it queues its own
    /// continuation and returns: runs stay short, so the lock a run holds is never older than a minute while its
    /// worker lives (docs/decisions/0009).
    /// </summary>
    static readonly TimeSpan RunBudget = TimeSpan.FromSeconds(20);

    /// <summary>Runs the import of every unfinished type of the connection (one run at a time per connection).</summary>
    void Backfill(Guid connectionId);

    void DrainInbox(Guid connectionId);

    void Derive(Guid connectionId);

    /// <summary>Counts the last 30 days' payments in Stripe and in StripeSync (when an import has just finished).</summary>
    void Reconcile(Guid connectionId);
}
