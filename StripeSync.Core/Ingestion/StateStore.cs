using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Ingestion;

/// <summary>Writes Stripe objects into <c>stripe_objects</c>, newest state winning, and marks their customers dirty.</summary>
public static class StateStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Serialize(StripeRecord record) => JsonSerializer.Serialize(record, record.GetType(), Json);

    public static StripeRecord Deserialize(StoredObject stored) => Deserialize(stored.Type, stored.Json);

    public static StripeRecord Deserialize(StripeObjectType type, string json) => (StripeRecord)JsonSerializer.Deserialize(json, ClrType(type), Json)!;

    public static T Deserialize<T>(StoredObject stored) where T : StripeRecord => (T)Deserialize(stored);

    /// <summary>
    /// A record of a backfill page with its JSON, serialised before the page waits for the database's writer, and the
    /// version (unix ms) its page was seen at.
    /// </summary>
    public sealed record PageRow(StripeRecord Record, string Json, long Version)
    {
        public PageRow(StripeRecord record, long version)
            : this(record, Serialize(record), version)
        {
        }
    }

    /// <summary>
    /// Rows per upsert statement, as for metric events: SQLite binds each parameter by looking its name up in the statement,
    /// so a statement's cost grows with the square of its parameters (2,000 customers: the import's fetch 11.2 → 9.7 s, median
    /// of two noisy runs each, against 100 rows).
    /// </summary>
    private const int UpsertRows = 30;

    /// <summary>
    /// Applies objects, each seen at its version (unix ms), in one untracked multi-row upsert per 30 objects and marks their
    /// customers: a stored state that is newer stays, and of one object given twice the later wins. It does not read the
    /// stored states first: the import needs no previous state, only the newest one. The inbox processor, which has read
    /// the stored versions before its transaction, passes the customers the stored objects name in
    /// <paramref name="storedCustomers"/>, so a change that drops its customer (a payment method detached) still marks it.
    /// </summary>
    public static async Task UpsertAsync(AppDbContext db, Guid connectionId, IReadOnlyCollection<PageRow> rows, long now, CancellationToken ct,
        IReadOnlyDictionary<string, string>? storedCustomers = null)
    {
        // One statement may not touch a row twice (PostgreSQL refuses): of an object on two pages, the later-seen wins.
        var unique = rows.GroupBy(r => r.Record.Id, StringComparer.Ordinal).Select(g => g.OrderBy(r => r.Version).Last()).ToList();
        foreach (var chunk in unique.Chunk(UpsertRows))
        {
            var parameters = new List<object> { connectionId };
            var values = new List<string>(chunk.Length);
            foreach (var (record, json, version) in chunk)
            {
                var at = parameters.Count;
                // A null cannot be a raw-SQL parameter (it has no type to map), so a missing id travels as '' and NULLIF restores it.
                values.Add($"({{0}}, {{{at}}}, {{{at + 1}}}, {{{at + 2}}}, NULLIF({{{at + 3}}}, ''), NULLIF({{{at + 4}}}, ''), {{{at + 5}}}, {{{at + 6}}}, {{{at + 7}}})");
                parameters.AddRange([record.Id, (int)record.Type, record.Livemode, CustomerOf(record) ?? "", ParentOf(record) ?? "",
                    record.Created.ToUnixTimeMilliseconds(), version, json]);
            }

            // Only placeholders are spliced in; every value is a parameter.
            var sql = "INSERT INTO stripe_objects (\"ConnectionId\", \"StripeId\", \"Type\", \"Livemode\", \"CustomerId\", \"ParentId\", \"Created\", \"Version\", \"Json\") VALUES "
                + string.Join(", ", values)
                + " ON CONFLICT (\"ConnectionId\", \"StripeId\") DO UPDATE SET \"Json\" = excluded.\"Json\", \"Version\" = excluded.\"Version\","
                + " \"CustomerId\" = COALESCE(excluded.\"CustomerId\", stripe_objects.\"CustomerId\") WHERE excluded.\"Version\" >= stripe_objects.\"Version\"";
            await db.Database.ExecuteSqlRawAsync(sql, parameters, ct);
        }

        // A refund or invoice payment belongs to the customer of its charge or invoice, if we know it yet (the full
        // derivation at the end of the import covers those we don't). One query for every page's parents.
        string? Owner(StripeRecord record) => CustomerOf(record) ?? storedCustomers?.GetValueOrDefault(record.Id);
        var customers = unique.Select(r => Owner(r.Record)).OfType<string>().ToHashSet(StringComparer.Ordinal);
        customers.UnionWith(await OwnersAsync(db, connectionId, [.. unique.Where(r => Owner(r.Record) is null).Select(r => ParentOf(r.Record)).OfType<string>().Distinct()], ct));

        await MarkDirtyAsync(db, connectionId, customers, now, ct);
    }

    /// <summary>
    /// The customers of stored parents (the charge of a refund, the invoice of an invoice payment), in one query; and of a
    /// guest checkout's email, the customers of the person who has it.
    /// </summary>
    private static async Task<List<string>> OwnersAsync(AppDbContext db, Guid connectionId, List<string> parents, CancellationToken ct)
    {
        if (parents.Count == 0)
        {
            return [];
        }

       
        var owners = (await db.StripeObjects.Where(o => o.ConnectionId == connectionId && parents.Contains(o.StripeId)).Select(o => o.CustomerId).ToListAsync(ct))
            .OfType<string>().ToList();
        var emails = parents.Where(p => p.StartsWith(GuestPrefix, StringComparison.Ordinal)).Select(p => p[GuestPrefix.Length..]).ToList();
        if (emails.Count > 0)
        {
            owners.AddRange(await db.PersonCustomers.Where(l => l.ConnectionId == connectionId)
                .Join(db.People.Where(p => emails.Contains(p.Key)), l => l.PersonId, p => p.Id, (l, _) => l.CustomerId).ToListAsync(ct));
        }

        return owners;
    }

    /// <summary>
    /// Queues customers for derivation (once each, however often they change before it runs). Concurrent
    /// jobs mark the same customers, so a mark that exists is re-stamped instead of duplicated (the same SQL on
    /// SQLite and PostgreSQL); callers run it inside their page's or event's transaction.
    /// </summary>
    public static async Task MarkDirtyAsync(AppDbContext db, Guid connectionId, IReadOnlyCollection<string> customerIds, long now, CancellationToken ct)
    {
        // One statement per 200 customers, not one per customer: a page of charges marks up to 100.
        foreach (var chunk in customerIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Chunk(200))
        {
            var values = string.Join(", ", chunk.Select((_, i) => $"({{0}}, {{{(2 * i) + 2}}}, {{1}}, {{{(2 * i) + 3}}})"));
            var parameters = new List<object> { connectionId, now };
            foreach (var id in chunk)
            {
                parameters.Add(id);
                parameters.Add(Guid.NewGuid());
            }

            // Only placeholders are spliced in; every value is a parameter.
            var sql = "INSERT INTO dirty_customers (\"ConnectionId\", \"CustomerId\", \"MarkedAt\", \"Stamp\") VALUES " + values
                + " ON CONFLICT (\"ConnectionId\", \"CustomerId\") DO UPDATE SET \"Stamp\" = excluded.\"Stamp\"";
            await db.Database.ExecuteSqlRawAsync(sql, parameters, ct);
        }
    }

    /// <summary>The customer an object belongs to, as far as the object itself says.</summary>
    public static string? CustomerOf(StripeRecord record) => record switch
    {
        CustomerRecord c => c.Id,
        SubscriptionRecord s => s.CustomerId,
        InvoiceRecord i => i.CustomerId,
        ChargeRecord c => c.CustomerId,
        CheckoutSessionRecord s => s.CustomerId,
        PaymentMethodRecord p => p.CustomerId,
        _ => null,
    };

    private static string? ParentOf(StripeRecord record) => record switch
    {
        RefundRecord r => r.ChargeId,
        InvoicePaymentRecord p => p.InvoiceId,
        CheckoutSessionRecord { CustomerId: null } s => GuestParent(s.CustomerEmail),
        _ => null,
    };

    private const string GuestPrefix = "email:";

    /// <summary>
    /// A guest checkout (a session without a customer, as most abandoned ones are) hangs off its normalised email, so the
    /// person with that email finds it by an indexed lookup; null for no usable email (or one too long for the column).
    /// </summary>
    public static string? GuestParent(string? email) =>
        Processing.Identity.NormaliseEmail(email) is { } normalised && GuestPrefix.Length + normalised.Length <= 255 ? GuestPrefix + normalised : null;

    private static Type ClrType(StripeObjectType type) => type switch
    {
        StripeObjectType.Customer => typeof(CustomerRecord),
        StripeObjectType.Product => typeof(ProductRecord),
        StripeObjectType.Price => typeof(PriceRecord),
        StripeObjectType.Coupon => typeof(CouponRecord),
        StripeObjectType.Subscription => typeof(SubscriptionRecord),
        StripeObjectType.Invoice => typeof(InvoiceRecord),
        StripeObjectType.InvoicePayment => typeof(InvoicePaymentRecord),
        StripeObjectType.Charge => typeof(ChargeRecord),
        StripeObjectType.Refund => typeof(RefundRecord),
        StripeObjectType.CheckoutSession => typeof(CheckoutSessionRecord),
        StripeObjectType.PaymentMethod => typeof(PaymentMethodRecord),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };
}
