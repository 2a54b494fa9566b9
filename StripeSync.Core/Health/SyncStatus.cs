using System.Globalization;
using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Connections;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Health;

/// <summary>Where the import of one object type stands; <c>Total</c> is known once the type is finished (Stripe lists have no counts).</summary>
/// <param name="PerSecond">Objects fetched per second so far.</param>
/// <param name="Percent">How far back in time the walk has come, 0–100 (see ImportSpan); null until measured.</param>
/// <param name="EtaSeconds">Seconds left at the pace so far; null when finished or not yet known.</param>
public sealed record TypeProgress(string Type, long Done, long? Total, bool Finished, double PerSecond, double? Percent, double? EtaSeconds);

/// <summary>A Stripe event that could not be applied: given up on after <c>InboxEvent.MaxAttempts</c>, or still being retried.</summary>
/// <param name="Created">Stripe's creation time of the event.</param>
/// <param name="GaveUp">True once it failed <c>InboxEvent.MaxAttempts</c> times and is no longer retried.</param>
public sealed record FailedEvent(string Type, string EventId, string? Error, int Attempts, bool GaveUp, DateTimeOffset Created);

/// <param name="State">
/// The connection's stored state, except <c>stripe_unreachable</c> for a synced or lagging connection whose events poll
/// has failed since <c>LastErrorAt</c>: the stored state still says where the sync stands, but nothing new arrives.
/// </param>
/// <param name="FailedEvents">How many events were given up on.</param>
/// <param name="RecentFailures">The newest failing events with their reasons (at most <see cref="SyncStatus.RecentFailureCount"/>).</param>
/// <param name="Severity"><c>ok</c>, <c>info</c>, <c>warning</c> or <c>error</c>: how much the state needs a person.</param>
/// <param name="Detail">What the state means for the data, where it needs saying (Stripe unreachable: since when).</param>
public sealed record ConnectionStatus(
    Guid Id, string Mode, string State, string KeyHint, string Sync,
    IReadOnlyList<TypeProgress> Backfill, DateTimeOffset? LastWebhookAt, DateTimeOffset? LastEventAt,
    double ProcessingLagSeconds, int PendingEvents, int PendingPeople, int FailedEvents, IReadOnlyList<FailedEvent> RecentFailures,
    long RejectedWebhooks, int UnidentifiedCustomers, int People,
    string? LastError, DateTimeOffset? LastErrorAt, TrafficSnapshot? Traffic, bool Demo, string Severity, string? Detail);

public static class ImportProgress
{
    /// <summary>
    /// The whole import's share done, 0–100: each type weighs its estimated object count (fetched ÷ its share
    /// walked), so a big type counts more than a small one; a type not yet measured counts what it has fetched.
    /// </summary>
    public static int Percent(IReadOnlyList<TypeProgress> types)
    {
        double done = 0, total = 0;
        foreach (var t in types)
        {
            done += t.Done;
            total += t.Finished ? t.Done : t.Percent is > 0 and var p ? Math.Max(t.Done * 100 / p, t.Done) : t.Done + 100;
        }

        return total == 0 ? 0 : (int)Math.Min(99, Math.Floor(100 * done / total));
    }
}

/// <param name="State">The most severe of the connections' states.</param>
/// <param name="Severity">That state's severity (see <see cref="ConnectionStatus.Severity"/>).</param>
public sealed record SyncStatusReport(string State, string Message, IReadOnlyList<ConnectionStatus> Connections, string Severity);

/// <summary>The numbers behind Sync health and <c>GET /api/v1/status</c>.</summary>
public sealed class SyncStatus(IDbContextFactory<AppDbContext> dbFactory, Connections.Connections connections, TimeProvider clock)
{
    public const int RecentFailureCount = 10;

    public async Task<SyncStatusReport> ReadAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var all = (await db.Connections.AsNoTracking().ToListAsync(ct)).OrderBy(c => c.CreatedAt).ToList();
        if (all.Count == 0)
        {
            return new SyncStatusReport("not_connected",
                "No Stripe account is connected yet. Connect one with POST /api/v1/connections or in the app's connect wizard.", [], "info");
        }

        var now = clock.GetUtcNow();
        var list = new List<ConnectionStatus>();
        foreach (var c in all)
        {
            var cursors = await db.BackfillCursors.AsNoTracking().Where(b => b.ConnectionId == c.Id).ToListAsync(ct);
            var slices = (await db.BackfillSlices.AsNoTracking().Where(b => b.ConnectionId == c.Id).ToListAsync(ct)).ToLookup(b => b.Type);
            var pending = await db.Inbox.Where(e => e.ConnectionId == c.Id && e.ProcessedAt == null && e.Attempts < Ingestion.InboxEvent.MaxAttempts).CountAsync(ct);
            var failed = await db.Inbox.Where(e => e.ConnectionId == c.Id && e.ProcessedAt == null && e.Attempts >= Ingestion.InboxEvent.MaxAttempts).CountAsync(ct);
            // Unprocessed with an error: given up on, or failed at least once and waiting for its next attempt. The
            // (ConnectionId, ProcessedAt, Created) index serves both the filter and the order.
            var failures = await db.Inbox.AsNoTracking()
                .Where(e => e.ConnectionId == c.Id && e.ProcessedAt == null && (e.Attempts >= Ingestion.InboxEvent.MaxAttempts || e.Error != null))
                .OrderByDescending(e => e.Created).ThenByDescending(e => e.Id).Take(RecentFailureCount)
                .Select(e => new { e.Type, e.EventId, e.Error, e.Attempts, e.Created })
                .ToListAsync(ct);
            var pendingPeople = await db.DirtyCustomers.Where(d => d.ConnectionId == c.Id).CountAsync(ct);
            var oldestPending = await db.Inbox.Where(e => e.ConnectionId == c.Id && e.ProcessedAt == null && e.Attempts < Ingestion.InboxEvent.MaxAttempts)
                .MinAsync(e => (long?)e.ReceivedAt, ct);
            var customers = db.PersonCustomers.Where(l => l.ConnectionId == c.Id);
            var unidentified = await db.People.Where(p => !p.Identified && customers.Any(l => l.PersonId == p.Id)).CountAsync(ct);
            var people = await db.People.Where(p => customers.Any(l => l.PersonId == p.Id)).CountAsync(ct);
            var lastEventAt = c.LastEventCreated > 0 ? DateTimeOffset.FromUnixTimeSeconds(c.LastEventCreated) : (DateTimeOffset?)null;
            var (state, detail) = StateOf(c, lastEventAt, now);
            list.Add(new ConnectionStatus(
                c.Id, Lower(c.Mode), state, c.KeyHint, Lower(c.Sync),
                [.. cursors.OrderBy(b => b.Type).Select(b => Progress(b, [.. slices[b.Type]]))],
                c.LastWebhookAt, lastEventAt,
                oldestPending is { } t ? Math.Max(0, (now - DateTimeOffset.FromUnixTimeMilliseconds(t)).TotalSeconds) : 0,
                pending, pendingPeople, failed,
                [.. failures.Select(f => new FailedEvent(f.Type, f.EventId, f.Error, f.Attempts, f.Attempts >= Ingestion.InboxEvent.MaxAttempts,
                    DateTimeOffset.FromUnixTimeSeconds(f.Created)))],
                c.RejectedWebhooks, unidentified, people, c.LastError, c.LastErrorAt,
                c.Sync == SyncChoice.NotChosen ? null : connections.ClientFor(c).Traffic.Snapshot(), c.IsDemo, SeverityOf(state), detail));
        }

        var worst = list.Select(s => s.State).OrderBy(Rank).Last();
        return new SyncStatusReport(worst, Describe(worst), list, SeverityOf(worst));
    }

    /// <summary>
    /// The state shown: the stored one, unless the sync follows Stripe (synced, lagging) and its events poll has been
    /// failing. The stored state is left alone, so the import, the poll and the key checks that read it work as before,
    /// and the next poll that Stripe answers clears the error and the state is synced again.
    /// </summary>
    internal static (string State, string? Detail) StateOf(Connection c, DateTimeOffset? lastEventAt, DateTimeOffset now)
    {
        if (UnreachableSince(c) is not { } since)
        {
            return (Lower(c.State), null);
        }

        var newest = lastEventAt is { } e ? $"; the newest Stripe change StripeSync has is from {At(e, now)}" : "";
        return ("stripe_unreachable",
            $"Stripe unreachable since {At(since, now)}{newest}. Changes made in Stripe since then are missing here until it answers; " +
            "the events poll retries every minute and catches up by itself.");
    }

    /// <summary>
    /// Since when Stripe has not answered the events poll of a synced or lagging connection (the first failed poll of the
    /// outage); null while it answers. What Sync health calls <c>stripe_unreachable</c> and the data pages warn of.
    /// </summary>
    public static DateTimeOffset? UnreachableSince(Connection c) =>
        c.State is ConnectionState.Synced or ConnectionState.Lagging && Ingestion.Inbox.EventsPoll.PollFailed(c) ? c.LastErrorAt : null;

    /// <summary>A time as a person reads it on the page: the hour today, the date and hour before.</summary>
    private static string At(DateTimeOffset time, DateTimeOffset now) =>
        time.ToUniversalTime().ToString(time.UtcDateTime.Date == now.UtcDateTime.Date ? "HH:mm 'UTC'" : "yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private static TypeProgress Progress(Ingestion.BackfillCursor b, IReadOnlyCollection<Ingestion.BackfillSlice> slices)
    {
        var elapsed = (b.UpdatedAt - b.StartedAt) / 1000d;
        var fraction = Ingestion.Backfill.ImportSpan.Fraction(b, slices);
        return new TypeProgress(Lower(b.Type), b.Fetched, b.Done ? b.Fetched : null, b.Done,
            elapsed > 0 ? Math.Round(b.Fetched / elapsed, 1) : 0,
            fraction is { } f ? Math.Round(100 * f, 1) : null,
            b.Done ? null : Ingestion.Backfill.ImportSpan.SecondsLeft(fraction, elapsed) is { } left ? Math.Round(left) : null);
    }

    private static int Rank(string state) => state switch
    {
        "synced" => 0,
        "connected" => 1,
        "importing" => 2,
        "lagging" => 3,
        "stripe_unreachable" => 4,
        "error" => 5,
        _ => 6,
    };

    private static string SeverityOf(string state) => state switch
    {
        "synced" => "ok",
        "connected" or "importing" => "info",
        "lagging" or "stripe_unreachable" => "warning",
        _ => "error",
    };

    private static string Describe(string state) => state switch
    {
        "synced" => "In sync with Stripe.",
        "connected" => "Connected; choose import or skip to start syncing.",
        "importing" => "Importing existing customers and history.",
        "lagging" => "Behind Stripe; see each connection's last error.",
        "stripe_unreachable" => "Stripe does not answer: changes made in Stripe since then are missing until it does; see each connection.",
        "error" => "A connection has an error; see its last error.",
        _ => "Stripe refused a key (revoked); replace it in Settings → Connections.",
    };

    private static string Lower<T>(T value) where T : Enum => ToSnake(value.ToString());

    private static string ToSnake(string name) =>
        string.Concat(name.Select((ch, i) => i > 0 && char.IsUpper(ch) ? "_" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()));
}
