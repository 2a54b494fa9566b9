using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Processing;

/// <summary>Everything Stripe holds about one person: all the Stripe customers that share their email, and what hangs off them.</summary>
public sealed record PersonRecords(
    IReadOnlyList<CustomerRecord> Customers,
    IReadOnlyList<SubscriptionRecord> Subscriptions,
    IReadOnlyList<InvoiceRecord> Invoices,
    IReadOnlyList<InvoicePaymentRecord> InvoicePayments,
    IReadOnlyList<ChargeRecord> Charges,
    IReadOnlyList<PaymentMethodRecord> PaymentMethods);

/// <summary>
/// The field tokens of SPEC §6 for one person. Values are typed: strings, <see cref="bool"/>, <see cref="long"/>
/// (minor units, card months and years), <see cref="int"/> (counts), <see cref="DateTimeOffset"/> (UTC),
/// <c>IReadOnlyDictionary&lt;string, long&gt;</c> (currency → minor units) and <c>IReadOnlyList&lt;string&gt;</c>
/// (products); null where Stripe has nothing. Rules where several records compete:
/// <list type="bullet">
/// <item>Contact fields (email, name, phone, address) come from the person's customers, live before deleted and
/// newest first, taking the first that has the field; an address is taken whole from one customer.</item>
/// <item>first_name is the first word of the name, last_name the rest (a one-word name has no last name).</item>
/// <item>The most relevant subscription is the active one, else trialing, else past due, else the newest (newest
/// first within each status); the subscription and plan fields describe it, and the customer it belongs to is
/// the stripe_customer_id (else the preferred customer). The plan is its item with the highest monthly amount
/// before discounts (the base plan rather than an add-on); plan amount is that price's unit amount.</item>
/// <item>stripe_created is when the person first became a Stripe customer (the oldest customer);
/// stripe_delinquent is true if any live customer is.</item>
/// <item>Card: the default payment method of the customer (the primary customer's first; a stored payment method, else
/// the one that came expanded with the customer), else the newest card payment method, else the card of the newest
/// successful charge.</item>
/// <item>Orders are paid invoices (money moved) plus one-off succeeded charges (paying no invoice); total sales
/// is their amount net of refunds, per currency; order status is paid, partially_refunded or refunded;
/// order products are every product bought, in order of first purchase.</item>
/// <item>The last payment is the newest successful payment: a succeeded charge, or a paid invoice that no
/// succeeded charge paid (credit balance, paid out of band).</item>
/// </list>
/// </summary>
public static class PersonFields
{
    /// <summary>All field tokens, in SPEC §6 order: CSV headers and the UI list them so.</summary>
    public static IReadOnlyList<string> Tokens { get; } =
    [
        "email", "first_name", "last_name", "phone", "address", "city", "region", "postal_code", "country",
        "email_unsubscribed",
        "stripe_customer_id", "stripe_description", "stripe_delinquent", "stripe_currency", "stripe_created", "stripe_mrr",
        "stripe_card_brand", "stripe_card_last4", "stripe_card_exp_month", "stripe_card_exp_year",
        "stripe_subscription_id", "stripe_subscription_status", "stripe_trial_start", "stripe_trial_end",
        "stripe_subscription_created", "stripe_subscription_canceled_at", "stripe_cancel_at_period_end",
        "stripe_current_period_start", "stripe_current_period_end",
        "stripe_product_id", "stripe_product_name", "stripe_price_id", "stripe_plan_nickname",
        "stripe_plan_amount", "stripe_plan_currency", "stripe_plan_interval", "stripe_plan_interval_count",
        "stripe_last_amount_paid", "stripe_last_payment_currency", "stripe_last_payment_date",
        "stripe_last_payment_description", "stripe_total_orders", "stripe_total_sales",
        "stripe_first_create_order_date", "stripe_last_create_order_date", "stripe_order_status",
        "stripe_order_last_value", "stripe_order_products",
        "stripe_subscription_active", "stripe_subscription_trial", "stripe_subscription_past_due",
        "stripe_subscription_paused", "stripe_subscription_cancelled",
        "last_activity", "stripe_last_sync_at",
    ];

    public static IReadOnlyDictionary<string, object?> Compute(
        PersonRecords person, Catalog catalog, bool emailUnsubscribed,
        DateTimeOffset? lastActivity, DateTimeOffset? lastSyncAt, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(person);
        ArgumentNullException.ThrowIfNull(catalog);
        var fields = Tokens.ToDictionary(t => t, _ => (object?)null, StringComparer.Ordinal);

        var preferred = person.Customers
            .OrderBy(c => c.Deleted)
            .ThenByDescending(c => c.Created)
            .ThenBy(c => c.Id, StringComparer.Ordinal)
            .ToList();
        var subscription = MostRelevant(person.Subscriptions);
        var primary = preferred.FirstOrDefault(c => string.Equals(c.Id, subscription?.CustomerId, StringComparison.Ordinal))
            ?? preferred.FirstOrDefault();

        Contact(fields, preferred);
        fields["email_unsubscribed"] = emailUnsubscribed;

        fields["stripe_customer_id"] = primary?.Id;
        fields["stripe_description"] = primary?.Description;
        fields["stripe_delinquent"] = preferred.Count == 0 ? null : preferred.Any(c => !c.Deleted && c.Delinquent == true);
        fields["stripe_currency"] = primary?.Currency ?? subscription?.Currency;
        fields["stripe_created"] = preferred.Count == 0 ? null : preferred.Min(c => c.Created);
        fields["stripe_mrr"] = Mrr.ForCustomer(person.Subscriptions, catalog.Coupons, now);

        Card(fields, person, preferred, primary);
        Subscription(fields, subscription, catalog);

        var invoiceOfCharge = MetricDerivation.InvoiceOfCharge(person.InvoicePayments, person.Charges);
        Orders(fields, person, catalog, invoiceOfCharge);
        LastPayment(fields, person, catalog, invoiceOfCharge);

        fields["stripe_subscription_active"] = Count(person.Subscriptions, "active");
        fields["stripe_subscription_trial"] = Count(person.Subscriptions, "trialing");
        fields["stripe_subscription_past_due"] = Count(person.Subscriptions, "past_due");
        fields["stripe_subscription_paused"] = Count(person.Subscriptions, "paused");
        fields["stripe_subscription_cancelled"] = Count(person.Subscriptions, "canceled");
        fields["last_activity"] = lastActivity;
        fields["stripe_last_sync_at"] = lastSyncAt;
        return fields;
    }

    /// <summary>Active, else trialing, else past due, else the newest subscription.</summary>
    public static SubscriptionRecord? MostRelevant(IEnumerable<SubscriptionRecord> subscriptions)
    {
        ArgumentNullException.ThrowIfNull(subscriptions);
        return subscriptions
            .OrderBy(s => s.Status switch { "active" => 0, "trialing" => 1, "past_due" => 2, _ => 3 })
            .ThenByDescending(s => s.Created)
            .ThenBy(s => s.Id, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    /// <summary>Splits a full name at its first space: "Ada King Lovelace" → ("Ada", "King Lovelace").</summary>
    public static (string? First, string? Last) SplitName(string? name)
    {
        var words = (name ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return words.Length switch
        {
            0 => (null, null),
            1 => (words[0], null),
            _ => (words[0], string.Join(' ', words[1..])),
        };
    }

    private static void Contact(Dictionary<string, object?> fields, List<CustomerRecord> preferred)
    {
        fields["email"] = preferred.Select(c => Identity.NormaliseEmail(c.Email)).FirstOrDefault(e => e is not null);
        var (first, last) = SplitName(preferred.Select(c => c.Name).FirstOrDefault(n => !string.IsNullOrWhiteSpace(n)));
        fields["first_name"] = first;
        fields["last_name"] = last;
        fields["phone"] = preferred.Select(c => c.Phone).FirstOrDefault(p => !string.IsNullOrWhiteSpace(p))?.Trim();

        var address = preferred.Select(c => c.Address).FirstOrDefault(a =>
            a is not null && new[] { a.Line1, a.Line2, a.City, a.State, a.PostalCode, a.Country }.Any(p => !string.IsNullOrWhiteSpace(p)));
        if (address is not null)
        {
            var lines = new[] { address.Line1, address.Line2 }.Where(l => !string.IsNullOrWhiteSpace(l)).ToList();
            fields["address"] = lines.Count == 0 ? null : string.Join(", ", lines);
            fields["city"] = address.City;
            fields["region"] = address.State;
            fields["postal_code"] = address.PostalCode;
            fields["country"] = address.Country;
        }
    }

    private static void Card(Dictionary<string, object?> fields, PersonRecords person, List<CustomerRecord> preferred, CustomerRecord? primary)
    {
        var methods = person.PaymentMethods.Where(m => m.Card is not null).ToList();
        var defaults = (primary is null ? preferred : preferred.Prepend(primary))
            .Select(c => c.DefaultPaymentMethodId)
            .OfType<string>();
        var card = defaults
                .Select(id => methods.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.Ordinal))?.Card)
                .FirstOrDefault(c => c is not null)
            ?? (primary is null ? preferred : preferred.Prepend(primary)).Select(c => c.DefaultCard).FirstOrDefault(c => c is not null)
            ?? methods.OrderByDescending(m => m.Created).ThenBy(m => m.Id, StringComparer.Ordinal).FirstOrDefault()?.Card
            ?? person.Charges.Where(c => MetricDerivation.IsSucceeded(c) && c.Card is not null)
                .OrderByDescending(c => c.Created).FirstOrDefault()?.Card;
        fields["stripe_card_brand"] = card?.Brand;
        fields["stripe_card_last4"] = card?.Last4;
        fields["stripe_card_exp_month"] = card?.ExpMonth;
        fields["stripe_card_exp_year"] = card?.ExpYear;
    }

    private static void Subscription(Dictionary<string, object?> fields, SubscriptionRecord? s, Catalog catalog)
    {
        if (s is null)
        {
            return;
        }

        fields["stripe_subscription_id"] = s.Id;
        fields["stripe_subscription_status"] = s.Status;
        fields["stripe_trial_start"] = s.TrialStart;
        fields["stripe_trial_end"] = s.TrialEnd;
        fields["stripe_subscription_created"] = s.Created;
        fields["stripe_subscription_canceled_at"] = s.CanceledAt;
        fields["stripe_cancel_at_period_end"] = s.CancelAtPeriodEnd;

        var item = s.Items
            .Select((item, index) => (item, index, monthly: Monthly(item)))
            .OrderByDescending(x => x.monthly)
            .ThenBy(x => x.index)
            .Select(x => x.item)
            .FirstOrDefault();
        if (item is null)
        {
            return;
        }

        var price = item.Price;
        fields["stripe_current_period_start"] = item.CurrentPeriodStart;
        fields["stripe_current_period_end"] = item.CurrentPeriodEnd;
        fields["stripe_product_id"] = price.ProductId;
        fields["stripe_product_name"] = catalog.Product(price.ProductId)?.Name;
        fields["stripe_price_id"] = price.Id;
        fields["stripe_plan_nickname"] = price.Nickname;
        fields["stripe_plan_amount"] = price.UnitAmount;
        fields["stripe_plan_currency"] = price.Currency;
        fields["stripe_plan_interval"] = price.Interval;
        fields["stripe_plan_interval_count"] = price.Interval is null ? null : price.IntervalCount;
    }

    private static decimal Monthly(SubscriptionItemRecord item)
    {
        if (!Mrr.IsRecurringLicensed(item.Price))
        {
            return -1m;
        }

        var months = Mrr.MonthsPerPeriod(item.Price.Interval, item.Price.IntervalCount);
        return months == 0 ? 0m : Mrr.PeriodAmount(item.Price, item.Quantity) / months;
    }

    private sealed record Order(DateTimeOffset Time, long Amount, long Refunded, string Currency, IReadOnlyList<string> Products);

    private static void Orders(
        Dictionary<string, object?> fields, PersonRecords person, Catalog catalog, IReadOnlyDictionary<string, string> invoiceOfCharge)
    {
        var refundedByInvoice = person.Charges
            .Where(c => invoiceOfCharge.ContainsKey(c.Id))
            .GroupBy(c => invoiceOfCharge[c.Id], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(c => c.AmountRefunded), StringComparer.Ordinal);
        var orders = person.Invoices
            .Where(MetricDerivation.IsPaidOrder)
            .Select(i => new Order(
                MetricDerivation.PaidTime(i), i.AmountPaid, Math.Min(refundedByInvoice.GetValueOrDefault(i.Id), i.AmountPaid),
                i.Currency, MetricDerivation.ItemNames(i, catalog)))
            .Concat(person.Charges
                .Where(c => MetricDerivation.IsSucceeded(c) && !invoiceOfCharge.ContainsKey(c.Id))
                .Select(c => new Order(
                    c.Created, c.Amount, c.AmountRefunded, c.Currency,
                    string.IsNullOrWhiteSpace(c.Description) ? [] : [c.Description])))
            .OrderBy(o => o.Time)
            .ToList();

        fields["stripe_total_orders"] = orders.Count;
        fields["stripe_total_sales"] = orders
            .GroupBy(o => o.Currency, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(o => o.Amount - o.Refunded), StringComparer.Ordinal);
        fields["stripe_order_products"] = orders.SelectMany(o => o.Products).Distinct(StringComparer.Ordinal).ToList();
        if (orders.Count == 0)
        {
            return;
        }

        var last = orders[^1];
        fields["stripe_first_create_order_date"] = orders[0].Time;
        fields["stripe_last_create_order_date"] = last.Time;
        fields["stripe_order_last_value"] = last.Amount;
        fields["stripe_order_status"] = last.Refunded == 0 ? "paid" : last.Refunded >= last.Amount ? "refunded" : "partially_refunded";
    }

    private static void LastPayment(
        Dictionary<string, object?> fields, PersonRecords person, Catalog catalog, IReadOnlyDictionary<string, string> invoiceOfCharge)
    {
        var invoices = person.Invoices.ToDictionary(i => i.Id, StringComparer.Ordinal);
        var succeeded = person.Charges.Where(MetricDerivation.IsSucceeded).ToList();
        var paidByCharge = succeeded
            .Where(c => invoiceOfCharge.ContainsKey(c.Id))
            .Select(c => invoiceOfCharge[c.Id])
            .ToHashSet(StringComparer.Ordinal);

        string? InvoiceItems(InvoiceRecord invoice) =>
            MetricDerivation.ItemNames(invoice, catalog) is { Count: > 0 } names ? string.Join(", ", names) : null;

        var payments = succeeded
            .Select(c => (
                Time: c.Created, c.Amount, c.Currency,
                Description: c.Description
                    ?? (invoiceOfCharge.TryGetValue(c.Id, out var invoiceId) && invoices.TryGetValue(invoiceId, out var invoice)
                        ? InvoiceItems(invoice) : null)))
            .Concat(person.Invoices
                .Where(i => MetricDerivation.IsPaidOrder(i) && !paidByCharge.Contains(i.Id))
                .Select(i => (Time: MetricDerivation.PaidTime(i), Amount: i.AmountPaid, i.Currency, Description: InvoiceItems(i))))
            .OrderByDescending(p => p.Time)
            .ToList();
        if (payments.Count == 0)
        {
            return;
        }

        var lastPayment = payments[0];
        fields["stripe_last_amount_paid"] = lastPayment.Amount;
        fields["stripe_last_payment_currency"] = lastPayment.Currency;
        fields["stripe_last_payment_date"] = lastPayment.Time;
        fields["stripe_last_payment_description"] = lastPayment.Description;
    }

    private static int Count(IEnumerable<SubscriptionRecord> subscriptions, string status) =>
        subscriptions.Count(s => string.Equals(s.Status, status, StringComparison.Ordinal));
}
