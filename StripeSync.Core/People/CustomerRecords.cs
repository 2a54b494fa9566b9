using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Persistence;
using StripeSync.Core.Processing;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.People;

/// <summary>Loads what derivation reads from the stored Stripe state.</summary>
public static class StoredState
{
    /// <summary>The account-wide lookups: products, prices and coupons of a connection.</summary>
    public static async Task<Catalog> CatalogAsync(AppDbContext db, Guid connectionId, CancellationToken ct)
    {
        var rows = await db.StripeObjects.AsNoTracking()
            .Where(o => o.ConnectionId == connectionId &&
                (o.Type == StripeObjectType.Product || o.Type == StripeObjectType.Price || o.Type == StripeObjectType.Coupon))
            .ToListAsync(ct);
        var records = rows.Select(StateStore.Deserialize).ToList();
        return Catalog.From(records.OfType<ProductRecord>(), records.OfType<PriceRecord>(), records.OfType<CouponRecord>());
    }

    /// <summary>
    /// Everything Stripe holds about a set of customers (one person's), including refunds and checkouts: theirs, and the
    /// guest checkouts made under the person's <paramref name="email"/>.
    /// </summary>
    public static async Task<CustomerState> CustomersAsync(
        AppDbContext db, Guid connectionId, IReadOnlyCollection<string> customerIds, string? email, CancellationToken ct)
    {
        var ids = customerIds.ToList();
        var owned = (await db.StripeObjects.AsNoTracking()
                .Where(o => o.ConnectionId == connectionId && ids.Contains(o.CustomerId!))
                .ToListAsync(ct))
            .Select(StateStore.Deserialize).ToList();
        var parents = owned.Where(r => r is InvoiceRecord or ChargeRecord).Select(r => r.Id).ToList();
        var children = parents.Count == 0 ? [] : (await db.StripeObjects.AsNoTracking()
                .Where(o => o.ConnectionId == connectionId && parents.Contains(o.ParentId!))
                .ToListAsync(ct))
            .Select(StateStore.Deserialize).ToList();
        var person = new PersonRecords(
            [.. owned.OfType<CustomerRecord>()],
            [.. owned.OfType<SubscriptionRecord>()],
            [.. owned.OfType<InvoiceRecord>()],
            [.. children.OfType<InvoicePaymentRecord>()],
            [.. owned.OfType<ChargeRecord>()],
            [.. owned.OfType<PaymentMethodRecord>()]);
        var guest = StateStore.GuestParent(email);
        var guestSessions = guest is null ? [] : (await db.StripeObjects.AsNoTracking()
                .Where(o => o.ConnectionId == connectionId && o.ParentId == guest && o.Type == StripeObjectType.CheckoutSession)
                .ToListAsync(ct))
            .Select(StateStore.Deserialize<CheckoutSessionRecord>).ToList();
        return new CustomerState(person, [.. children.OfType<RefundRecord>()], [.. owned.OfType<CheckoutSessionRecord>(), .. guestSessions]);
    }
}

/// <summary>A person's records for fields, plus what only events read: refunds and checkout sessions.</summary>
public sealed record CustomerState(PersonRecords Person, IReadOnlyList<RefundRecord> Refunds, IReadOnlyList<CheckoutSessionRecord> CheckoutSessions)
{
    /// <summary>Every metric event the stored state shows (facts that need a before-state come from events).</summary>
    public IReadOnlyList<MetricEvent> Events(Catalog catalog, DateTimeOffset now)
    {
        var p = Person;
        var events = new List<MetricEvent>();
        events.AddRange(p.Customers.Select(MetricDerivation.CustomerCreated));
        var invoiceOfCharge = MetricDerivation.InvoiceOfCharge(p.InvoicePayments, p.Charges);
        var chargesByInvoice = p.Charges.Where(c => invoiceOfCharge.ContainsKey(c.Id)).ToLookup(c => invoiceOfCharge[c.Id]);
        foreach (var invoice in p.Invoices)
        {
            events.AddRange(MetricDerivation.ForInvoice(invoice, catalog));
            events.AddRange(MetricDerivation.FailedPayments(invoice, chargesByInvoice[invoice.Id]));
        }

        foreach (var charge in p.Charges.Where(c => !invoiceOfCharge.ContainsKey(c.Id)))
        {
            if (MetricDerivation.SuccessfullyPaid(charge) is { } paid)
            {
                events.Add(paid);
            }

            if (MetricDerivation.FailedPayment(charge) is { } failed)
            {
                events.Add(failed);
            }
        }

        var charges = p.Charges.ToDictionary(c => c.Id);
        foreach (var refund in Refunds)
        {
            var charge = refund.ChargeId is null ? null : charges.GetValueOrDefault(refund.ChargeId);
            var invoiceId = refund.ChargeId is null ? null : invoiceOfCharge.GetValueOrDefault(refund.ChargeId);
            if (MetricDerivation.RefundedPayment(refund, charge, invoiceId) is { } refunded)
            {
                events.Add(refunded);
            }
        }

        foreach (var subscription in p.Subscriptions)
        {
            events.AddRange(MetricDerivation.Lifecycle(subscription, catalog, now));
        }

        foreach (var session in CheckoutSessions)
        {
            if (MetricDerivation.Checkout(session, null, catalog) is { } checkout)
            {
                events.Add(checkout);
            }
        }

        return events;
    }
}
