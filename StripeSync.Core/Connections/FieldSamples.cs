using StripeSync.Core.Processing;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Connections;

/// <summary>
/// Example values of every field token, read from the account itself before anything is imported (the wizard's field
/// mapping step): the newest page of each object type, the fields of its customers computed exactly as the sync
/// will compute them, and for each token the first customer that has a value.
/// </summary>
public static class FieldSamples
{
    private const int Customers = 20;

    public static async Task<IReadOnlyDictionary<string, object?>> FetchAsync(StripeAccountClient client, TimeProvider clock, CancellationToken ct)
    {
        var customers = (await client.ListAsync(StripeObjectType.Customer, null, null, null, ct)).Items.OfType<CustomerRecord>().ToList();
        var subscriptions = await PageAsync<SubscriptionRecord>(client, StripeObjectType.Subscription, ct);
        var invoices = await PageAsync<InvoiceRecord>(client, StripeObjectType.Invoice, ct);
        var payments = await PageAsync<InvoicePaymentRecord>(client, StripeObjectType.InvoicePayment, ct);
        var charges = await PageAsync<ChargeRecord>(client, StripeObjectType.Charge, ct);
        var catalog = Catalog.From(
            await PageAsync<ProductRecord>(client, StripeObjectType.Product, ct),
            await PageAsync<PriceRecord>(client, StripeObjectType.Price, ct),
            await PageAsync<CouponRecord>(client, StripeObjectType.Coupon, ct));

        // Customers with a subscription first: they fill the most fields.
        var withSubscription = subscriptions.Select(s => s.CustomerId).ToHashSet(StringComparer.Ordinal);
        var chosen = customers.OrderByDescending(c => withSubscription.Contains(c.Id)).Take(Customers).ToList();
        var samples = PersonFields.Tokens.ToDictionary(t => t, _ => (object?)null, StringComparer.Ordinal);
        var now = clock.GetUtcNow();
        foreach (var customer in chosen)
        {
            var own = invoices.Where(i => i.CustomerId == customer.Id).ToList();
            var ownInvoices = own.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
            var person = new PersonRecords([customer],
                [.. subscriptions.Where(s => s.CustomerId == customer.Id)], own,
                [.. payments.Where(p => ownInvoices.Contains(p.InvoiceId))],
                [.. charges.Where(c => c.CustomerId == customer.Id)], []);
            var fields = PersonFields.Compute(person, catalog, emailUnsubscribed: false, lastActivity: null, lastSyncAt: now, now);
            foreach (var (token, value) in fields)
            {
                if (samples[token] is null && !IsEmpty(value))
                {
                    samples[token] = value;
                }
            }
        }

        return samples;
    }

    private static bool IsEmpty(object? value) => value switch
    {
        null => true,
        string s => s.Length == 0,
        System.Collections.ICollection c => c.Count == 0,
        _ => false,
    };

    private static async Task<List<T>> PageAsync<T>(StripeAccountClient client, StripeObjectType type, CancellationToken ct)
        where T : StripeRecord =>
        [.. (await client.ListAsync(type, null, null, null, ct)).Items.OfType<T>()];
}
