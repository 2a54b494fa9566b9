using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Connections;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Persistence;
using StripeSync.Core.Processing;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.People;

public sealed record PersonView(Guid Id, string? Email, bool Identified, string? Name, IReadOnlyList<string> StripeCustomerIds, JsonElement Fields);

/// <summary>One item of a subscription as Stripe bills it: the plan, its unit price per interval and the quantity.</summary>
/// <param name="UnitAmount">Minor units per unit and interval; null for tiered prices.</param>
public sealed record SubscriptionItemView(string Plan, string? ProductName, long? UnitAmount, string Currency, string? Interval, long IntervalCount, long Quantity);

/// <summary>A subscription of one of a person's Stripe customers, with the MRR it counts for (empty unless active or past due).</summary>
public sealed record SubscriptionView(
    string Id, string CustomerId, string Status, IReadOnlyList<SubscriptionItemView> Items, IReadOnlyDictionary<string, long> Mrr,
    DateTimeOffset Created, DateTimeOffset? TrialEnd, DateTimeOffset? CurrentPeriodEnd, bool CancelAtPeriodEnd, DateTimeOffset? CanceledAt,
    DateTimeOffset? EndedAt, string? CancellationReason, string? CancellationFeedback, string? CancellationComment);

public sealed record PersonEventView(long Id, string Metric, DateTimeOffset Time, long? Amount, string? Currency, JsonElement Properties, string? SourceId);

/// <summary>Reads people for the API and the People pages.</summary>
public sealed class PeopleQueries(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public async Task<(IReadOnlyList<PersonView> Items, int Total)> SearchAsync(
        ConnectionMode mode, string? email, string? stripeCustomerId, string? q, int page, int pageSize, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var people = db.People.AsNoTracking().Where(p => p.Mode == mode);
        if (!string.IsNullOrWhiteSpace(email))
        {
            var normalised = email.Trim().ToLowerInvariant();
            // An identified person's key is their email, so this is the unique (Mode, Key) index. On Email alone, SQLite
            // walks the Key index to skip the sort and reads every person (4 s at 1M people, BENCHMARKS.md §4).
            people = people.Where(p => p.Key == normalised && p.Email == normalised);
        }

        if (!string.IsNullOrWhiteSpace(stripeCustomerId))
        {
            var id = stripeCustomerId.Trim();
            // The owners first (an index seek, one person as a rule), then the people by id: as a correlated EXISTS the
            // planner walked every person in key order (12 s at 1M people).
            var owners = await db.PersonCustomers.Where(l => l.CustomerId == id).Select(l => l.PersonId).Distinct().ToListAsync(ct);
            people = people.Where(p => owners.Contains(p.Id));
        }

        if (!string.IsNullOrWhiteSpace(q))
        {
            // A substring of the lower-case search text, as LIKE: PostgreSQL answers it from a trigram index, SQLite from the
            // narrow (Mode, Key, SearchText) index instead of every person's row (BENCHMARKS.md §4).
            // SQLite ends a LIKE pattern at a NUL, so "%\0…%" would match everyone; no search text holds a NUL, so a term with one matches no one.
            var term = q.Trim().ToLowerInvariant();
            var pattern = "%" + EscapeLike(term) + "%";
            people = term.Contains('\0', StringComparison.Ordinal)
                ? people.Where(p => false)
                : people.Where(p => EF.Functions.Like(p.SearchText, pattern, "\\"));
        }

        var total = await people.CountAsync(ct);
        var rows = await people.OrderBy(p => p.Key).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return (await ViewsAsync(db, rows, ct), total);
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    public async Task<PersonView?> FindAsync(Guid id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var person = await db.People.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, ct);
        return person is null ? null : (await ViewsAsync(db, [person], ct))[0];
    }

    /// <summary>
    /// Every subscription of the person's Stripe customers, from the stored Stripe state: first the one the person's
    /// single-subscription fields describe (<see cref="PersonFields.MostRelevant"/>), then the newest first.
    /// </summary>
    public async Task<IReadOnlyList<SubscriptionView>> SubscriptionsAsync(Guid personId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var links = await db.PersonCustomers.AsNoTracking().Where(l => l.PersonId == personId).ToListAsync(ct);
        var now = clock.GetUtcNow();
        var views = new List<(SubscriptionRecord Record, SubscriptionView View)>();
        foreach (var connection in links.GroupBy(l => l.ConnectionId))
        {
            var customerIds = connection.Select(l => l.CustomerId).ToList();
            var rows = await db.StripeObjects.AsNoTracking()
                .Where(o => o.ConnectionId == connection.Key && o.Type == StripeObjectType.Subscription && customerIds.Contains(o.CustomerId!))
                .ToListAsync(ct);
            if (rows.Count == 0)
            {
                continue;
            }

            var catalog = await StoredState.CatalogAsync(db, connection.Key, ct);
            views.AddRange(rows.Select(StateStore.Deserialize<SubscriptionRecord>).Select(s => (s, View(s, catalog, now))));
        }

        var relevant = PersonFields.MostRelevant(views.Select(v => v.Record));
        return [.. views.OrderBy(v => v.Record == relevant ? 0 : 1).ThenByDescending(v => v.Record.Created).ThenBy(v => v.Record.Id, StringComparer.Ordinal)
            .Select(v => v.View)];
    }

    private static SubscriptionView View(SubscriptionRecord s, Catalog catalog, DateTimeOffset now) =>
        new(s.Id, s.CustomerId, s.Status,
            [.. s.Items.Select(i => new SubscriptionItemView(catalog.PlanName(i.Price), catalog.Product(i.Price.ProductId)?.Name,
                string.Equals(i.Price.BillingScheme, "tiered", StringComparison.Ordinal) ? null : i.Price.UnitAmount, i.Price.Currency, i.Price.Interval, i.Price.IntervalCount, i.Quantity))],
            Mrr.ForSubscription(s, catalog.Coupons, now),
            s.Created, s.TrialEnd, s.Items.Max(i => i.CurrentPeriodEnd), s.CancelAtPeriodEnd, s.CanceledAt, s.EndedAt,
            s.Cancellation?.Reason, s.Cancellation?.Feedback, s.Cancellation?.Comment);

    /// <summary>A person's events across metrics, newest first.</summary>
    public async Task<(IReadOnlyList<PersonEventView> Items, int Total)> EventsAsync(Guid personId, int page, int pageSize, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var events = db.MetricEvents.AsNoTracking().Where(m => m.PersonId == personId);
        var total = await events.CountAsync(ct);
        var rows = await events.OrderByDescending(m => m.Time).ThenByDescending(m => m.Id).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return ([.. rows.Select(EventView)], total);
    }

    internal static PersonEventView EventView(StoredMetricEvent m) =>
        new(m.Id, m.Metric, DateTimeOffset.FromUnixTimeMilliseconds(m.Time), m.Amount, m.Currency,
            JsonDocument.Parse(m.PropertiesJson).RootElement.Clone(), m.SourceId);

    internal static async Task<IReadOnlyList<PersonView>> ViewsAsync(AppDbContext db, IReadOnlyList<Person> people, CancellationToken ct)
    {
        var ids = people.Select(p => p.Id).ToList();
        var links = (await db.PersonCustomers.AsNoTracking().Where(l => ids.Contains(l.PersonId)).ToListAsync(ct))
            .ToLookup(l => l.PersonId, l => l.CustomerId);
        return [.. people.Select(p => new PersonView(p.Id, p.Email, p.Identified, p.Name,
            [.. links[p.Id].Order(StringComparer.Ordinal)], JsonDocument.Parse(p.FieldsJson).RootElement.Clone()))];
    }
}
