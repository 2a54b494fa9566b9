using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Connections;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Health;

/// <summary>Where the import of one object type stands; <c>Total</c> is known once the type is finished (Stripe lists have no counts).</summary>
/// <param name="PerSecond">Objects fetched per second so far: Stripe gives no totals, so this (not an ETA) says how fast it goes.</param>
public sealed record TypeProgress(string Type, long Done, long? Total, bool Finished, double PerSecond);

public sealed record ConnectionStatus(
    Guid Id, string Mode, string State, string KeyHint, string Sync,
    IReadOnlyList<TypeProgress> Backfill, DateTimeOffset? LastWebhookAt, DateTimeOffset? LastEventAt,
    double ProcessingLagSeconds, int PendingEvents, int PendingPeople, int FailedEvents, long RejectedWebhooks, int UnidentifiedCustomers, int People,
    string? LastError, DateTimeOffset? LastErrorAt, TrafficSnapshot? Traffic, bool Demo);

public sealed record SyncStatusReport(string State, string Message, IReadOnlyList<ConnectionStatus> Connections);

/// <summary>The numbers behind Sync health and <c>GET /api/v1/status</c>.</summary>
public sealed class SyncStatus(IDbContextFactory<AppDbContext> dbFactory, Connections.Connections connections, TimeProvider clock)
{
    public async Task<SyncStatusReport> ReadAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var all = (await db.Connections.AsNoTracking().ToListAsync(ct)).OrderBy(c => c.CreatedAt).ToList();
        if (all.Count == 0)
        {
            return new SyncStatusReport("not_connected",
                "No Stripe account is connected yet. Connect one with POST /api/v1/connections or in the app's connect wizard.", []);
        }

        var now = clock.GetUtcNow();
        var list = new List<ConnectionStatus>();
        foreach (var c in all)
        {
            var cursors = await db.BackfillCursors.AsNoTracking().Where(b => b.ConnectionId == c.Id).ToListAsync(ct);
            var pending = await db.Inbox.Where(e => e.ConnectionId == c.Id && e.ProcessedAt == null && e.Attempts < 5).CountAsync(ct);
            var failed = await db.Inbox.Where(e => e.ConnectionId == c.Id && e.ProcessedAt == null && e.Attempts >= 5).CountAsync(ct);
            var pendingPeople = await db.DirtyCustomers.Where(d => d.ConnectionId == c.Id).CountAsync(ct);
            var oldestPending = await db.Inbox.Where(e => e.ConnectionId == c.Id && e.ProcessedAt == null && e.Attempts < 5)
                .MinAsync(e => (long?)e.ReceivedAt, ct);
            var customers = db.PersonCustomers.Where(l => l.ConnectionId == c.Id);
            var unidentified = await db.People.Where(p => !p.Identified && customers.Any(l => l.PersonId == p.Id)).CountAsync(ct);
            var people = await db.People.Where(p => customers.Any(l => l.PersonId == p.Id)).CountAsync(ct);
            list.Add(new ConnectionStatus(
                c.Id, Lower(c.Mode), Lower(c.State), c.KeyHint, Lower(c.Sync),
                [.. cursors.OrderBy(b => b.Type).Select(b => new TypeProgress(Lower(b.Type), b.Fetched, b.Done ? b.Fetched : null, b.Done,
                    b.UpdatedAt > b.StartedAt ? Math.Round(b.Fetched * 1000d / (b.UpdatedAt - b.StartedAt), 1) : 0))],
                c.LastWebhookAt, c.LastEventCreated > 0 ? DateTimeOffset.FromUnixTimeSeconds(c.LastEventCreated) : null,
                oldestPending is { } t ? Math.Max(0, (now - DateTimeOffset.FromUnixTimeMilliseconds(t)).TotalSeconds) : 0,
                pending, pendingPeople, failed, c.RejectedWebhooks, unidentified, people, c.LastError, c.LastErrorAt,
                c.Sync == SyncChoice.NotChosen ? null : connections.ClientFor(c).Traffic.Snapshot(), c.IsDemo));
        }

        var worst = list.Select(s => s.State).OrderBy(Severity).Last();
        return new SyncStatusReport(worst, Describe(worst), list);
    }

    private static int Severity(string state) => state switch
    {
        "synced" => 0,
        "connected" => 1,
        "importing" => 2,
        "lagging" => 3,
        "error" => 4,
        _ => 5,
    };

    private static string Describe(string state) => state switch
    {
        "synced" => "In sync with Stripe.",
        "connected" => "Connected; choose import or skip to start syncing.",
        "importing" => "Importing existing customers and history.",
        "lagging" => "Behind Stripe; see each connection's last error.",
        "error" => "A connection has an error; see its last error.",
        _ => "Stripe refused a key (revoked); replace it in Settings → Connections.",
    };

    private static string Lower<T>(T value) where T : Enum => ToSnake(value.ToString());

    private static string ToSnake(string name) =>
        string.Concat(name.Select((ch, i) => i > 0 && char.IsUpper(ch) ? "_" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()));
}
