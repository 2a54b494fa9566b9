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

    /// <summary>The stored objects of each of <paramref name="customerIds"/> (its own customer object among them), in one query per 2,000 customers.</summary>
    public static async Task<Dictionary<string, List<StoredObject>>> OwnedAsync(
        AppDbContext db, Guid connectionId, IReadOnlyCollection<string> customerIds, CancellationToken ct)
    {
        var rows = new List<StoredObject>();
        foreach (var ids in customerIds.Chunk(ChunkSize))
        {
            // IN alone: with "CustomerId IS NOT NULL AND" SQLite range-scans the (ConnectionId, CustomerId) index.
            rows.AddRange(await db.StripeObjects.AsNoTracking().Where(o => o.ConnectionId == connectionId && ids.Contains(o.CustomerId!)).ToListAsync(ct));
        }

        return rows.GroupBy(o => o.CustomerId!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
    }

    /// <summary>
    /// Everything Stripe holds about each of a batch of people (a set of customers and an email), including refunds and
    /// checkouts: theirs, and the guest checkouts made under the person's email. <paramref name="owned"/> holds the objects
    /// of customers already read (<see cref="OwnedAsync"/>); the rest, the refunds and invoice payments under the people's
    /// invoices and charges, and the guest checkouts are read for the whole batch at once.
    /// </summary>
    public static async Task<List<CustomerState>> CustomersAsync(AppDbContext db, Guid connectionId,
        IReadOnlyList<(IReadOnlyCollection<string> CustomerIds, string? Email)> people, IReadOnlyDictionary<string, List<StoredObject>> owned, CancellationToken ct)
    {
        var missing = people.SelectMany(p => p.CustomerIds).Where(id => !owned.ContainsKey(id)).Distinct(StringComparer.Ordinal).ToList();
        var more = await OwnedAsync(db, connectionId, missing, ct);
        var records = owned.Concat(more).ToDictionary(o => o.Key, o => o.Value.Select(StateStore.Deserialize).ToList(), StringComparer.Ordinal);
        var ownedOf = people.Select(p => p.CustomerIds.SelectMany(id => records.GetValueOrDefault(id) ?? []).ToList()).ToList();

        var parents = ownedOf.SelectMany(o => o).Where(r => r is InvoiceRecord or ChargeRecord).Select(r => r.Id).Distinct(StringComparer.Ordinal).ToList();
        var childRows = new List<StoredObject>();
        foreach (var ids in parents.Chunk(ChunkSize))
        {
            childRows.AddRange(await db.StripeObjects.AsNoTracking().Where(o => o.ConnectionId == connectionId && ids.Contains(o.ParentId!)).ToListAsync(ct));
        }

        var children = childRows.ToLookup(o => o.ParentId!, StateStore.Deserialize, StringComparer.Ordinal);
        var guests = people.Select(p => StateStore.GuestParent(p.Email)).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var guestRows = guests.Count == 0 ? [] : await db.StripeObjects.AsNoTracking()
            .Where(o => o.ConnectionId == connectionId && guests.Contains(o.ParentId!) && o.Type == StripeObjectType.CheckoutSession)
            .ToListAsync(ct);
        var guestSessions = guestRows.ToLookup(o => o.ParentId!, StateStore.Deserialize<CheckoutSessionRecord>, StringComparer.Ordinal);

        var states = new List<CustomerState>(people.Count);
        for (var i = 0; i < people.Count; i++)
        {
            var own = ownedOf[i];
            var under = own.Where(r => r is InvoiceRecord or ChargeRecord).SelectMany(r => children[r.Id]).ToList();
            var person = new PersonRecords(
                [.. own.OfType<CustomerRecord>()],
                [.. own.OfType<SubscriptionRecord>()],
                [.. own.OfType<InvoiceRecord>()],
                [.. under.OfType<InvoicePaymentRecord>()],
                [.. own.OfType<ChargeRecord>()],
                [.. own.OfType<PaymentMethodRecord>()]);
            var guest = StateStore.GuestParent(people[i].Email);
            states.Add(new CustomerState(person, [.. under.OfType<RefundRecord>()],
                [.. own.OfType<CheckoutSessionRecord>(), .. guest is null ? [] : guestSessions[guest]]));
        }

        return states;
    }

    /// <summary>Values per IN list: a batch's customers can own more invoices and charges than one statement takes parameters.</summary>
    private const int ChunkSize = 2000;
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
