using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using StripeSync.Core.Connections;
using StripeSync.Core.Metrics;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Health;

/// <summary>One UTC day of one connection as last checked: successful payments counted in Stripe and in StripeSync.</summary>
public sealed class ReconciliationDay
{
    public Guid ConnectionId { get; set; }

    /// <summary>The UTC day (days since 1970-01-01, as metric events count days).</summary>
    public int Day { get; set; }

    public int InStripe { get; set; }
    public int InStripeSync { get; set; }
    public DateTimeOffset CheckedAt { get; set; }
}

public sealed record ReconciledDay(DateOnly Date, int Stripe, int StripeSync)
{
    /// <summary>Positive when StripeSync is missing payments Stripe has; negative when it counts payments Stripe does not.</summary>
    public int Difference => Stripe - StripeSync;

    public bool Equal => Difference == 0;
}

/// <summary>Why a connection has no reconciliation now: null when it was checked.</summary>
public sealed record ConnectionReconciliation(Guid ConnectionId, string Mode, DateTimeOffset? CheckedAt, string? Unavailable, IReadOnlyList<ReconciledDay> Days)
{
    public int DaysDifferent => Days.Count(d => !d.Equal);
}

/// <summary>
/// Klaviyo asks its users to compare a day's successful payments with Stripe by hand; this does it for every day of the
/// last 30. In Stripe: charges with status succeeded, by the UTC day they were created (what Stripe's Payments page
/// lists as succeeded), counted from Stripe's own list. In StripeSync: the Successfully Paid metric the marketer sees
/// (paid invoices by their paid time plus one-off charges), which is derived so that the two are equal. A red day means
/// StripeSync missed (or invented) a payment.
/// </summary>
public sealed class Reconciliation(IDbContextFactory<AppDbContext> dbFactory, Connections.Connections connections, TimeProvider clock,
    ILogger<Reconciliation> logger)
{
    public const int Days = 30;

    /// <summary>Checks every connection that finished its import (the recurring job).</summary>
    public async Task CheckAllAsync(CancellationToken ct)
    {
        foreach (var connection in await connections.ListAsync(ct))
        {
            if (Unavailable(connection) is null)
            {
                try
                {
                    await CheckAsync(connection.Id, ct);
                }
                catch (StripeCallException e)
                {
                    // One account's refusal (a revoked key) must not stop the others' check; the sync reports the key itself.
                    logger.LogWarning("Reconciliation of connection {ConnectionId} failed: Stripe answered {Status}", connection.Id, e.Status);
                }
            }
        }
    }

    /// <summary>Counts the last 30 UTC days (today included) in Stripe and in StripeSync and stores the result.</summary>
    public async Task<ConnectionReconciliation> CheckAsync(Guid connectionId, CancellationToken ct)
    {
        var connection = await connections.FindAsync(connectionId, ct) ?? throw new ArgumentException($"No connection {connectionId}.", nameof(connectionId));
        if (Unavailable(connection) is { } reason)
        {
            return new ConnectionReconciliation(connection.Id, Lower(connection.Mode), null, reason, []);
        }

        var now = clock.GetUtcNow();
        var (first, last) = Range(now);
        var from = new DateTimeOffset(first.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        if (connection is { Sync: SyncChoice.Skip, SyncStartedAt: { } started } && started > from)
        {
            // "Skip" syncs only what happens from its start: earlier payments are in Stripe and rightly not here.
            from = started;
            first = DateOnly.FromDateTime(started.UtcDateTime);
        }

        var charges = await connections.ClientFor(connection).ListChargesCreatedAsync(from, now.AddSeconds(1), ct);
        var inStripe = charges.Where(c => c.Status == "succeeded")
            .GroupBy(c => DateOnly.FromDateTime(c.Created.UtcDateTime)).ToDictionary(g => g.Key, g => g.Count());

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ours = await CountOursAsync(db, connection, from, last, ct);
        var stored = await db.ReconciliationDays.Where(r => r.ConnectionId == connection.Id).ToListAsync(ct);
        db.ReconciliationDays.RemoveRange(stored);
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            db.ReconciliationDays.Add(new ReconciliationDay
            {
                ConnectionId = connection.Id,
                Day = MetricQueries.DayNumber(day),
                InStripe = inStripe.GetValueOrDefault(day),
                InStripeSync = ours.GetValueOrDefault(MetricQueries.DayNumber(day)),
                CheckedAt = now,
            });
        }

        await db.SaveChangesAsync(ct);
        var result = await ReadAsync(db, connection, now, ct);
        logger.LogInformation("Reconciled connection {ConnectionId}: {Different} of {Days} days differ from Stripe", connection.Id, result.DaysDifferent, Days);
        return result;
    }

    /// <summary>The stored result of every connection, for Sync health and the API.</summary>
    public async Task<IReadOnlyList<ConnectionReconciliation>> ReadAllAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var all = (await db.Connections.AsNoTracking().ToListAsync(ct)).OrderBy(c => c.CreatedAt).ToList();
        var now = clock.GetUtcNow();
        var list = new List<ConnectionReconciliation>();
        foreach (var connection in all)
        {
            list.Add(await ReadAsync(db, connection, now, ct));
        }

        return list;
    }

    private static async Task<ConnectionReconciliation> ReadAsync(AppDbContext db, Connection connection, DateTimeOffset now, CancellationToken ct)
    {
        var rows = await db.ReconciliationDays.AsNoTracking().Where(r => r.ConnectionId == connection.Id).OrderByDescending(r => r.Day).ToListAsync(ct);
        if (rows.Count == 0)
        {
            return new ConnectionReconciliation(connection.Id, Lower(connection.Mode), null,
                Unavailable(connection) ?? "Not checked yet: the first check runs when the import finishes, then every hour.", []);
        }

        var epoch = DateOnly.FromDateTime(DateTime.UnixEpoch);
        return new ConnectionReconciliation(connection.Id, Lower(connection.Mode), rows.Max(r => r.CheckedAt), null,
            [.. rows.Select(r => new ReconciledDay(epoch.AddDays(r.Day), r.InStripe, r.InStripeSync))]);
    }

    private static async Task<Dictionary<int, int>> CountOursAsync(AppDbContext db, Connection connection, DateTimeOffset from, DateOnly last, CancellationToken ct)
    {
        var since = from.ToUnixTimeMilliseconds();
        var to = MetricQueries.DayNumber(last);
        return await db.MetricEvents
            .Where(m => m.Mode == connection.Mode && m.Metric == Processing.Metrics.SuccessfullyPaid && m.ConnectionId == connection.Id && m.Time >= since && m.Day <= to)
            .GroupBy(m => m.Day).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
    }

    private static (DateOnly First, DateOnly Last) Range(DateTimeOffset now)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        return (today.AddDays(-(Days - 1)), today);
    }

    /// <summary>Counting before the import is complete (or without a working key) would only show differences that aren't there.</summary>
    private static string? Unavailable(Connection connection) => connection switch
    {
        { Sync: SyncChoice.NotChosen } => "The sync has not started yet.",
        { State: ConnectionState.Importing } => "Checked once the import has finished.",
        { State: ConnectionState.KeyRevoked } => "Stripe refused the key; replace it to check again.",
        _ => null,
    };

    private static string Lower(ConnectionMode mode) => mode == ConnectionMode.Live ? "live" : "test";
}
