using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.People;

/// <summary>The account-wide objects derivation looks things up in: products, prices and coupons.</summary>
public sealed record AccountState(
    IReadOnlyDictionary<string, ProductRecord> Products,
    IReadOnlyDictionary<string, PriceRecord> Prices,
    IReadOnlyDictionary<string, CouponRecord> Coupons)
{
    public static async Task<AccountState> LoadAsync(AppDbContext db, Guid connectionId, CancellationToken ct)
    {
        var rows = await db.StripeObjects.AsNoTracking()
            .Where(o => o.ConnectionId == connectionId &&
                (o.Type == StripeObjectType.Product || o.Type == StripeObjectType.Price || o.Type == StripeObjectType.Coupon))
            .ToListAsync(ct);
        var records = rows.Select(StateStore.Deserialize).ToList();
        return new AccountState(
            records.OfType<ProductRecord>().ToDictionary(p => p.Id),
            records.OfType<PriceRecord>().ToDictionary(p => p.Id),
            records.OfType<CouponRecord>().ToDictionary(c => c.Id));
    }

    public CouponRecord? Coupon(string id) => Coupons.GetValueOrDefault(id);
}

/// <summary>Everything Stripe holds about one person's customers.</summary>
public sealed record CustomerRecords(
    IReadOnlyList<CustomerRecord> Customers,
    IReadOnlyList<SubscriptionRecord> Subscriptions,
    IReadOnlyList<InvoiceRecord> Invoices,
    IReadOnlyList<InvoicePaymentRecord> InvoicePayments,
    IReadOnlyList<ChargeRecord> Charges,
    IReadOnlyList<RefundRecord> Refunds,
    IReadOnlyList<CheckoutSessionRecord> CheckoutSessions,
    IReadOnlyList<PaymentMethodRecord> PaymentMethods)
{
    public static async Task<CustomerRecords> LoadAsync(AppDbContext db, Guid connectionId, IReadOnlyCollection<string> customerIds, CancellationToken ct)
    {
        var ids = customerIds.ToList();
        var owned = (await db.StripeObjects.AsNoTracking()
                .Where(o => o.ConnectionId == connectionId && o.CustomerId != null && ids.Contains(o.CustomerId))
                .ToListAsync(ct))
            .Select(StateStore.Deserialize).ToList();
        var parents = owned.Where(r => r is InvoiceRecord or ChargeRecord).Select(r => r.Id).ToList();
        var children = parents.Count == 0 ? [] : (await db.StripeObjects.AsNoTracking()
                .Where(o => o.ConnectionId == connectionId && o.ParentId != null && parents.Contains(o.ParentId))
                .ToListAsync(ct))
            .Select(StateStore.Deserialize).ToList();
        return new CustomerRecords(
            [.. owned.OfType<CustomerRecord>()],
            [.. owned.OfType<SubscriptionRecord>()],
            [.. owned.OfType<InvoiceRecord>()],
            [.. children.OfType<InvoicePaymentRecord>()],
            [.. owned.OfType<ChargeRecord>()],
            [.. children.OfType<RefundRecord>()],
            [.. owned.OfType<CheckoutSessionRecord>()],
            [.. owned.OfType<PaymentMethodRecord>()]);
    }
}
