using Microsoft.Extensions.Logging;
using StripeSync.Core.Connections;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Ingestion.Inbox;

/// <summary>
/// Reads the Events API after the newest event seen: for connections that Stripe can't reach by webhook,
/// and to fill any gap (downtime, a missed webhook). Writes into the same inbox as webhooks.
/// </summary>
public sealed class EventsPoll(
    Connections.Connections connections, Inbox inbox, ISyncJobs jobs, SyncControl control, Microsoft.Extensions.Options.IOptions<SyncOptions> options,
    TimeProvider clock, ILogger<EventsPoll> logger)
{
    /// <summary>Stripe keeps events for 30 days; a gap longer than that can only be closed by a re-import.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(30);

    /// <summary>Events of the same second can arrive out of order; re-reading a few seconds back costs nothing (ids dedupe).</summary>
    private const long OverlapSeconds = 10;

    private const string Unreachable = "Stripe could not be reached by the events poll";

    /// <summary>
    /// The connection's last error is the one a failed poll left (and a complete walk clears): Stripe has not answered
    /// since <see cref="Connection.LastErrorAt"/>, the first failed poll of the outage.
    /// </summary>
    public static bool PollFailed(Connection c) => c.LastError?.StartsWith(Unreachable, StringComparison.Ordinal) == true;

    public async Task PollAllAsync(CancellationToken ct)
    {
        foreach (var connection in await connections.ListAsync(ct))
        {
            if (connection.Sync != SyncChoice.NotChosen && connection.State != ConnectionState.KeyRevoked)
            {
                await PollAsync(connection.Id, ct);
                await RetryWebhookAsync(connection.Id, ct);
            }
        }
    }

    /// <summary>
    /// A connection whose webhook registration failed is polled, and once per <see cref="SyncOptions.WebhookRetryInterval"/>
    /// (counted from its last error) it tries again: a 500 at connect time, or a permission granted to the key since,
    /// should not leave it on minute-old changes for good.
    /// </summary>
    private async Task RetryWebhookAsync(Guid connectionId, CancellationToken ct)
    {
        // Read after the poll: while polls fail (Stripe down) no registration is tried.
        if (options.Value.PublicUrl is not { } publicUrl || await connections.FindAsync(connectionId, ct) is not { } connection
            || connection.WebhookEndpointId is not null || connection.State == ConnectionState.KeyRevoked || PollFailed(connection)
            || (connection.LastErrorAt is { } at && clock.GetUtcNow() - at < options.Value.WebhookRetryInterval))
        {
            return;
        }

        if (await control.RegisterWebhookAsync(connection.Id, publicUrl, ct))
        {
            logger.LogInformation("Registered the webhook endpoint of connection {ConnectionId} on a retry", connection.Id);
        }
    }

    public async Task PollAsync(Guid connectionId, CancellationToken ct)
    {
        var connection = await connections.FindAsync(connectionId, ct);
        if (connection is null || connection.State == ConnectionState.KeyRevoked)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var since = connection.LastEventCreated > 0 ? connection.LastEventCreated - OverlapSeconds
            : (connection.SyncStartedAt ?? now).ToUnixTimeSeconds() - OverlapSeconds;
        if (DateTimeOffset.FromUnixTimeSeconds(since) < now - Retention)
        {
            await connections.SetStateAsync(connectionId, ConnectionState.Lagging,
                "StripeSync was out of touch for more than 30 days, longer than Stripe keeps events; re-import to close the gap.", ct);
            since = (now - Retention).ToUnixTimeSeconds();
        }

        var client = connections.ClientFor(connection);
        var taken = 0;
        var newest = connection.LastEventCreated;
        string? cursor = null;
        try
        {
            do
            {
                var page = await client.ListEventsAsync(since, cursor, ct);
                taken += await inbox.AcceptAsync(connectionId, page.Items, EventSource.Poll, ct);
                newest = Math.Max(newest, page.Items.Select(e => e.Created.ToUnixTimeSeconds()).DefaultIfEmpty(0).Max());
                cursor = page.NextCursor;
            }
            while (cursor is not null);

            // Only a complete walk moves the watermark: pages come newest first, so one that failed midway
            // would otherwise leave its older events behind the mark for good.
            if (newest > connection.LastEventCreated || PollFailed(connection))
            {
                await connections.UpdateAsync(connectionId, c =>
                {
                    c.LastEventCreated = Math.Max(c.LastEventCreated, newest);
                    if (PollFailed(c))
                    {
                        c.LastError = null; // Stripe answers again: the gap is being filled by this very walk.
                    }
                }, ct);
            }
        }
        catch (StripeCallException e) when (e.KeyRevoked)
        {
            await connections.SetStateAsync(connectionId, ConnectionState.KeyRevoked,
                "Stripe refused the key (401): it was revoked or deleted. Replace the key in Settings → Connections.", ct);
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Stripe down or unreachable after every retry: say so on Sync health (nothing is lost, the next poll
            // starts from the same watermark), and go on with the other connections.
            logger.LogWarning(e, "Events poll of connection {ConnectionId} failed", connectionId);
            await connections.UpdateAsync(connectionId, c =>
            {
                // The first failed poll of an outage keeps its time: Sync health says since when Stripe has not answered.
                if (!PollFailed(c) || c.LastErrorAt is null)
                {
                    c.LastErrorAt = clock.GetUtcNow();
                }

                c.LastError = $"{Unreachable} ({e.Message}). Changes made meanwhile are fetched from the Events API as soon as it answers; the poll retries every minute.";
            }, ct);
            return;
        }

        if (taken > 0)
        {
            logger.LogInformation("Events poll took {Count} new events for connection {ConnectionId}", taken, connectionId);
            jobs.DrainInbox(connectionId);
        }
    }
}
