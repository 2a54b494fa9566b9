using Stripe;
using Stripe.Checkout;
using StripeSync.Simulator.Data;

namespace StripeSync.Tests.Support;

/// <summary>One metric fact as the oracle expects it: SPEC §4's metric, Stripe's time of the fact, who, and its amount.</summary>
public sealed record OracleEvent(string Metric, DateTimeOffset Time, string? CustomerId, string? Email, long? Amount, string? Currency);

/// <summary>A person as the oracle expects it: their Stripe customers and every field token of SPEC §6 that is decided by Stripe's data.</summary>
public sealed record OraclePerson(string? Email, IReadOnlyList<Customer> Customers, IReadOnlyList<Subscription> Subscriptions)
{
    public string Key => string.Join(",", Customers.Select(c => c.Id).Order(StringComparer.Ordinal));
}

/// <summary>
/// What an import of the simulator's account must show, computed here from the simulator's own Stripe.net objects by
/// reading SPEC §3, §4 and §6 — never by calling StripeSync.Core, so a rule the app gets wrong cannot agree with itself.
/// Where SPEC leaves a choice open, the choice made here is written next to it; the test compares such tokens loosely.
/// </summary>
public sealed class StripeOracle
{
    private readonly Dictionary<string, Coupon> coupons;
    private readonly Dictionary<string, Product> products;
    private readonly HashSet<string> invoiceIntents;
    private readonly Dictionary<string, Charge> charges;
    private readonly ILookup<string, string> intentsOfInvoice;

    public StripeOracle(SimulatorAccount account, DateTimeOffset now, bool livemode = true)
    {
        Now = now;
        Customers = account.All<Customer>(livemode);
        Subscriptions = account.All<Subscription>(livemode);
        Invoices = account.All<Invoice>(livemode);
        Charges = account.All<Charge>(livemode);
        Refunds = account.All<Stripe.Refund>(livemode);
        Sessions = account.All<Session>(livemode);
        PaymentMethods = account.All<PaymentMethod>(livemode);
        coupons = account.All<Coupon>(livemode).ToDictionary(c => c.Id, StringComparer.Ordinal);
        products = account.All<Product>(livemode).ToDictionary(p => p.Id, StringComparer.Ordinal);
        charges = Charges.ToDictionary(c => c.Id, StringComparer.Ordinal);
        // Every attempt at an invoice is a charge of the payment intent its invoice payment names; a charge of any
        // other intent pays no invoice (a one-off payment).
        var invoicePayments = account.All<InvoicePayment>(livemode);
        invoiceIntents = invoicePayments.Select(p => p.Payment.PaymentIntentId).OfType<string>().ToHashSet(StringComparer.Ordinal);
        intentsOfInvoice = invoicePayments.Where(p => p.Payment.PaymentIntentId is not null).ToLookup(p => p.InvoiceId, p => p.Payment.PaymentIntentId, StringComparer.Ordinal);
        Events = BuildEvents();
        People = BuildPeople();
    }

    public DateTimeOffset Now { get; }
    public IReadOnlyList<Customer> Customers { get; }
    public IReadOnlyList<Subscription> Subscriptions { get; }
    public IReadOnlyList<Invoice> Invoices { get; }
    public IReadOnlyList<Charge> Charges { get; }
    public IReadOnlyList<Stripe.Refund> Refunds { get; }
    public IReadOnlyList<Session> Sessions { get; }
    public IReadOnlyList<PaymentMethod> PaymentMethods { get; }
    public IReadOnlyList<OracleEvent> Events { get; }
    public IReadOnlyList<OraclePerson> People { get; }

    public static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));

    public static string? NormalisedEmail(string? email) => string.IsNullOrWhiteSpace(email) ? null : email.Trim().ToLowerInvariant();

    public bool PaysAnInvoice(Charge charge) => charge.PaymentIntentId is { } intent && invoiceIntents.Contains(intent);

    // ---- SPEC §4: metric events an import can derive from Stripe's current state ------------------------------

    private List<OracleEvent> BuildEvents()
    {
        var events = new List<OracleEvent>();
        foreach (var c in Customers)
        {
            events.Add(new("Customer Created", Utc(c.Created), c.Id, null, null, null));
        }

        foreach (var i in Invoices)
        {
            // "invoice finalized": every invoice that left draft, whatever happened to it later (paid, open, void).
            if (i.StatusTransitions?.FinalizedAt is { } finalized)
            {
                events.Add(new("Issued Invoice", Utc(finalized), i.CustomerId, null, i.Total, i.Currency));
            }

            // "invoice paid": a $0 invoice (a trial) moved no money and is no payment, as Stripe's payments list agrees.
            if (i.Status == "paid" && i.AmountPaid > 0)
            {
                var paidAt = Utc(i.StatusTransitions!.PaidAt!.Value);
                events.Add(new("Successfully Paid", paidAt, i.CustomerId, null, i.AmountPaid, i.Currency));

                // "recurring invoice paid", Billing Amount = "the subscription lines only": the lines a subscription item
                // bills for its period, net of their discounts; one-off lines (a setup fee) are out, and so are proration
                // lines — a credit or charge for part of a period is not the recurring charge that Billing Length and Plan
                // Level describe (SPEC §3 leaves prorations out of MRR for the same reason; KISSmetrics shortcoming 2).
                // One event per subscription on the invoice.
                foreach (var lines in i.Lines.Data.Where(l => l.Parent?.Type == "subscription_item_details" && l.Parent.SubscriptionItemDetails.Proration != true)
                    .GroupBy(l => l.Parent.SubscriptionItemDetails.Subscription))
                {
                    var amount = lines.Sum(l => l.Amount - (l.DiscountAmounts?.Sum(d => d.Amount) ?? 0));
                    if (amount > 0)
                    {
                        events.Add(new("Subscription Billed", paidAt, i.CustomerId, null, amount, i.Currency));
                    }
                }
            }
        }

        foreach (var c in Charges)
        {
            if (c.Status == "succeeded" && !PaysAnInvoice(c))
            {
                events.Add(new("Successfully Paid", Utc(c.Created), c.CustomerId, null, c.Amount, c.Currency));
            }

            // Every failed attempt, at an invoice or a one-off payment.
            if (c.Status == "failed")
            {
                events.Add(new("Failed Payment", Utc(c.Created), c.CustomerId, null, c.Amount, c.Currency));
            }
        }

        foreach (var r in Refunds.Where(r => r.Status == "succeeded"))
        {
            events.Add(new("Refunded Payment", Utc(r.Created), charges[r.ChargeId].CustomerId, null, r.Amount, r.Currency));
        }

        foreach (var s in Subscriptions)
        {
            // A subscription whose first payment never went through (incomplete, then expired) never started.
            if (s.Status is not ("incomplete" or "incomplete_expired"))
            {
                // A subscription fact's amount is the MRR it brings (started) or takes away (canceled), valued at that moment.
                var started = Utc(s.StartDate);
                events.Add(new("Subscription Started", started, s.CustomerId, null, Mrr(s, started).GetValueOrDefault(s.Currency), s.Currency));
            }

            if (s.TrialStart is { } trialStart)
            {
                events.Add(new("Trial Started", Utc(trialStart), s.CustomerId, null, null, null));
                if (s.TrialEnd is { } trialEnd && Utc(trialEnd) <= Now)
                {
                    events.Add(new("Trial Ended", Utc(trialEnd), s.CustomerId, null, null, null));
                }
            }

            if (s.Status == "canceled")
            {
                var ended = Utc(s.EndedAt ?? s.CanceledAt!.Value);
                events.Add(new("Subscription Canceled", ended, s.CustomerId, null, Mrr(s, ended.AddTicks(-1)).GetValueOrDefault(s.Currency), s.Currency));
            }
        }

        foreach (var s in Sessions)
        {
            // A guest checkout (no customer) belongs to whoever has its email; with neither it names no one.
            var email = NormalisedEmail(s.CustomerDetails?.Email ?? s.CustomerEmail);
            if (s.CustomerId is null && email is null)
            {
                continue;
            }

            // A session carries no completion time; it completes within its 24 hours, so its creation dates it.
            // An abandoned one is abandoned when it expires.
            var fact = s.Status switch
            {
                "complete" => ("Checkout Completed", Utc(s.Created)),
                "expired" => ("Checkout Abandoned", Utc(s.ExpiresAt)),
                _ => default((string, DateTimeOffset)?),
            };
            if (fact is var (metric, time))
            {
                events.Add(new(metric, time, s.CustomerId, s.CustomerId is null ? email : null, s.AmountTotal, s.Currency));
            }
        }

        return events;
    }

    // ---- SPEC §3: people and MRR ---------------------------------------------------------------------------

    private List<OraclePerson> BuildPeople()
    {
        var people = new List<OraclePerson>();
        foreach (var group in Customers.GroupBy(c => NormalisedEmail(c.Email) ?? "stripe:" + c.Id))
        {
            var ids = group.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
            people.Add(new OraclePerson(NormalisedEmail(group.First().Email), [.. group], [.. Subscriptions.Where(s => ids.Contains(s.CustomerId))]));
        }

        return people;
    }

    /// <summary>The events of one person: of their customers, and guest checkouts under their email.</summary>
    public IEnumerable<OracleEvent> EventsOf(OraclePerson person)
    {
        var ids = person.Customers.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        return Events.Where(e => e.CustomerId is { } id ? ids.Contains(id) : person.Email is not null && e.Email == person.Email);
    }

    /// <summary>
    /// MRR at a past moment: the subscriptions that were paying then (active or past due), each valued with the discounts
    /// in force then. A subscription pays from its start (after its trial, if it had one) until it ended; one that is
    /// unpaid or paused now stopped when its current period began — the state shows no earlier moment. Trialing and
    /// never-completed ones have not paid yet.
    /// </summary>
    public Dictionary<string, long> MrrAt(DateTimeOffset at)
    {
        var total = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var s in Subscriptions.Where(s => s.Status is not ("trialing" or "incomplete" or "incomplete_expired")))
        {
            var start = s.TrialEnd is { } trialEnd && Utc(trialEnd) <= Now ? Utc(trialEnd) : Utc(s.StartDate);
            DateTimeOffset? end = s.Status switch
            {
                "canceled" => Utc(s.EndedAt ?? s.CanceledAt!.Value),
                "unpaid" or "paused" => Utc(s.Items.Data.Min(i => i.CurrentPeriodStart)),
                _ => null,
            };
            if (at < start || at >= end)
            {
                continue;
            }

            foreach (var (currency, amount) in Mrr(s, at))
            {
                total[currency] = total.GetValueOrDefault(currency) + amount;
            }
        }

        return total;
    }

    /// <summary>MRR of a person: the sum of their active and past-due subscriptions' MRR, per currency.</summary>
    public Dictionary<string, long> Mrr(IEnumerable<Subscription> subscriptions)
    {
        var total = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var s in subscriptions.Where(s => s.Status is "active" or "past_due"))
        {
            foreach (var (currency, amount) in Mrr(s, Now))
            {
                total[currency] = total.GetValueOrDefault(currency) + amount;
            }
        }

        return total;
    }

    /// <summary>
    /// SPEC §3 for one subscription at a moment, whatever its status: every licensed recurring item × quantity (tiers
    /// billed as Stripe bills them), one-off and metered lines out, each normalised to a month (year ÷ 12, week × 52 ÷ 12,
    /// day × 365 ÷ 12, ÷ interval count), then the discounts in force at that moment (item discounts, then the
    /// subscription's, each on what is left). Exact until the end, then rounded half away from zero per subscription.
    /// </summary>
    public Dictionary<string, long> Mrr(Subscription s, DateTimeOffset at)
    {
        var monthly = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var items = s.Items.Data.Where(i => i.Price.Type == "recurring" && i.Price.Recurring?.UsageType != "metered").ToList();
        foreach (var item in items)
        {
            var perMonth = PerMonth(PeriodAmount(item.Price, item.Quantity), item.Price.Recurring);
            perMonth = Discounted(perMonth, item.Discounts, item.Price.Recurring, item.Price.Currency, s, at);
            monthly[item.Price.Currency] = monthly.GetValueOrDefault(item.Price.Currency) + perMonth;
        }

        // An amount off the subscription comes off each of its invoices: once per billing period of its (first) plan.
        var cycle = items.FirstOrDefault()?.Price.Recurring;
        return monthly.ToDictionary(
            m => m.Key,
            m => (long)Math.Round(Discounted(m.Value, s.Discounts, cycle, m.Key, s, at), MidpointRounding.AwayFromZero),
            StringComparer.Ordinal);
    }

    private static decimal PeriodAmount(Price price, long quantity)
    {
        if (price.BillingScheme != "tiered")
        {
            return (price.UnitAmount ?? 0) * (decimal)quantity;
        }

        // Graduated tiers (the only kind the simulator makes): each tier bills its own units, plus its flat fee once reached.
        decimal total = 0;
        long below = 0;
        foreach (var tier in price.Tiers)
        {
            if (quantity <= below)
            {
                break;
            }

            var upTo = tier.UpTo ?? long.MaxValue;
            total += ((Math.Min(quantity, upTo) - below) * (decimal)(tier.UnitAmount ?? 0)) + (tier.FlatAmount ?? 0);
            below = upTo;
        }

        return total;
    }

    private static decimal PerMonth(decimal perPeriod, PriceRecurring? recurring) =>
        recurring is null ? 0m : recurring.Interval switch
        {
            "year" => perPeriod / 12m,
            "week" => perPeriod * 52m / 12m,
            "day" => perPeriod * 365m / 12m,
            _ => perPeriod,
        } / Math.Max(recurring.IntervalCount, 1);

    private decimal Discounted(decimal perMonth, IEnumerable<Discount>? discounts, PriceRecurring? cycle, string currency, Subscription s, DateTimeOffset at)
    {
        foreach (var discount in discounts ?? [])
        {
            if (discount?.Source?.CouponId is not { } couponId || !coupons.TryGetValue(couponId, out var coupon) || !InForce(discount, coupon, cycle, s, at))
            {
                continue;
            }

            if (coupon.PercentOff is { } percent)
            {
                perMonth *= 1 - (percent / 100m);
            }
            else if (coupon.AmountOff is { } off && string.Equals(coupon.Currency, currency, StringComparison.OrdinalIgnoreCase))
            {
                perMonth = Math.Max(0m, perMonth - PerMonth(off, cycle));
            }
        }

        return perMonth;
    }

    /// <summary>
    /// Stripe's coupon durations: forever always; repeating for its months from the discount's start; once for the one
    /// invoice it discounts, i.e. the billing period that starts with it. A discount ended (its <c>end</c>) is gone.
    /// </summary>
    private static bool InForce(Discount discount, Coupon coupon, PriceRecurring? cycle, Subscription s, DateTimeOffset at)
    {
        var start = discount.Start == default ? Utc(s.StartDate) : Utc(discount.Start);
        if (at < start || discount.End is { } end && at >= Utc(end))
        {
            return false;
        }

        return coupon.Duration switch
        {
            "repeating" => at < start.AddMonths((int)(coupon.DurationInMonths ?? 0)),
            "once" => at < (cycle?.Interval switch
            {
                "year" => start.AddYears((int)cycle.IntervalCount),
                "week" => start.AddDays(7 * cycle.IntervalCount),
                "day" => start.AddDays(cycle.IntervalCount),
                _ => start.AddMonths((int)(cycle?.IntervalCount ?? 1)),
            }),
            _ => true,
        };
    }

    public string? ProductName(string? productId) => productId is not null && products.TryGetValue(productId, out var p) ? p.Name : null;

    public Charge Charge(string id) => charges[id];

    // ---- SPEC §6: field tokens -----------------------------------------------------------------------------

    /// <summary>
    /// Every field token of SPEC §6 for a person. Where SPEC leaves a choice open (which of a person's several customers
    /// or tied subscriptions, which item is "the plan"), the caller names the one the app chose after checking it is
    /// admissible, and every other token must describe that one. A value that may be any of several is an <see cref="AnyOf"/>.
    /// </summary>
    public Dictionary<string, object?> Fields(OraclePerson person, Customer customer, Subscription? subscription, SubscriptionItem? item)
    {
        var f = new Dictionary<string, object?>(StringComparer.Ordinal);
        var customers = person.Customers;

        // Contact fields: SPEC does not say which of a person's customers wins, so any of theirs that has the field.
        f["email"] = person.Email;
        var name = AnyOfOrNull(customers.Select(c => c.Name));
        f["first_name"] = Map(name, n => FirstWord(n).First);
        f["last_name"] = Map(name, n => FirstWord(n).Last);
        f["phone"] = AnyOfOrNull(customers.Select(c => c.Phone));
        f["address"] = AnyOfOrNull(customers.Select(c => c.Address is { } a ? string.Join(", ", new[] { a.Line1, a.Line2 }.Where(l => !string.IsNullOrEmpty(l))) : null));
        f["city"] = AnyOfOrNull(customers.Select(c => c.Address?.City));
        f["region"] = AnyOfOrNull(customers.Select(c => c.Address?.State));
        f["postal_code"] = AnyOfOrNull(customers.Select(c => c.Address?.PostalCode));
        f["country"] = AnyOfOrNull(customers.Select(c => c.Address?.Country));
        f["email_unsubscribed"] = false; // A local flag nobody has set yet.

        f["stripe_customer_id"] = customer.Id;
        f["stripe_description"] = customer.Description;
        f["stripe_delinquent"] = customers.Any(c => c.Delinquent == true);
        // Stripe sets a customer's currency with its first subscription; the simulator leaves it unset, so the currency
        // of the customer's subscriptions stands in (any of them if the simulator mixed currencies on one customer).
        f["stripe_currency"] = customer.Currency ?? AnyOfOrNull(Subscriptions.Where(s => s.CustomerId == customer.Id).Select(s => s.Currency));
        f["stripe_created"] = AnyOfOrNull(customers.Select(c => (object?)Utc(c.Created)));
        f["stripe_mrr"] = Mrr(person.Subscriptions);

        var card = PaymentMethods.Single(m => m.Id == customer.InvoiceSettings.DefaultPaymentMethodId).Card;
        f["stripe_card_brand"] = card.Brand;
        f["stripe_card_last4"] = card.Last4;
        f["stripe_card_exp_month"] = card.ExpMonth;
        f["stripe_card_exp_year"] = card.ExpYear;

        var s = subscription;
        f["stripe_subscription_id"] = s?.Id;
        f["stripe_subscription_status"] = s?.Status;
        f["stripe_trial_start"] = s?.TrialStart is { } ts ? Utc(ts) : null;
        f["stripe_trial_end"] = s?.TrialEnd is { } te ? Utc(te) : null;
        f["stripe_subscription_created"] = s is null ? null : Utc(s.Created);
        f["stripe_subscription_canceled_at"] = s?.CanceledAt is { } ca ? Utc(ca) : null;
        f["stripe_cancel_at_period_end"] = s?.CancelAtPeriodEnd;
        f["stripe_current_period_start"] = item is null ? null : Utc(item.CurrentPeriodStart);
        f["stripe_current_period_end"] = item is null ? null : Utc(item.CurrentPeriodEnd);
        f["stripe_product_id"] = item?.Price.ProductId;
        f["stripe_product_name"] = ProductName(item?.Price.ProductId);
        f["stripe_price_id"] = item?.Price.Id;
        f["stripe_plan_nickname"] = item?.Price.Nickname;
        f["stripe_plan_amount"] = item?.Price.UnitAmount;
        f["stripe_plan_currency"] = item?.Price.Currency;
        f["stripe_plan_interval"] = item?.Price.Recurring?.Interval;
        f["stripe_plan_interval_count"] = item?.Price.Recurring?.IntervalCount;

        var ids = customers.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var theirCharges = Charges.Where(c => ids.Contains(c.CustomerId)).ToList();
        var last = theirCharges.Where(c => c.Status == "succeeded").MaxBy(c => c.Created);
        f["stripe_last_amount_paid"] = last?.Amount;
        f["stripe_last_payment_currency"] = last?.Currency;
        f["stripe_last_payment_date"] = last is null ? null : Utc(last.Created);
        f["stripe_last_payment_description"] = last?.Description;

        // Orders: paid invoices that moved money (a $0 trial invoice bought nothing) and one-off succeeded charges;
        // sales are what they brought in after refunds.
        var refunded = Refunds.Where(r => r.Status == "succeeded").GroupBy(r => charges[r.ChargeId].PaymentIntentId ?? r.ChargeId)
            .ToDictionary(g => g.Key, g => g.Sum(r => r.Amount), StringComparer.Ordinal);
        var orders = Invoices.Where(i => ids.Contains(i.CustomerId) && i.Status == "paid" && i.AmountPaid > 0)
            .Select(i => (Time: Utc(i.StatusTransitions.PaidAt!.Value), Amount: i.AmountPaid, i.Currency,
                Refunded: intentsOfInvoice[i.Id].Distinct().Sum(refunded.GetValueOrDefault),
                Products: i.Lines.Data.Select(l => ProductName(l.Pricing?.PriceDetails?.Product)).OfType<string>().ToList()))
            .Concat(theirCharges.Where(c => c.Status == "succeeded" && !PaysAnInvoice(c))
                .Select(c => (Time: Utc(c.Created), c.Amount, c.Currency, Refunded: refunded.GetValueOrDefault(c.PaymentIntentId ?? c.Id),
                    Products: new List<string> { c.Description })))
            .OrderBy(o => o.Time)
            .ToList();
        f["stripe_total_orders"] = orders.Count;
        f["stripe_total_sales"] = orders.GroupBy(o => o.Currency).ToDictionary(g => g.Key, g => g.Sum(o => o.Amount - o.Refunded), StringComparer.Ordinal);
        f["stripe_first_create_order_date"] = orders.Count == 0 ? null : orders[0].Time;
        f["stripe_last_create_order_date"] = orders.Count == 0 ? null : orders[^1].Time;
        f["stripe_order_status"] = orders.Count == 0 ? null
            : orders[^1].Refunded == 0 ? "paid" : orders[^1].Refunded >= orders[^1].Amount ? "refunded" : "partially_refunded";
        f["stripe_order_last_value"] = orders.Count == 0 ? null : orders[^1].Amount;
        f["stripe_order_products"] = orders.SelectMany(o => o.Products).Distinct().ToList();

        f["stripe_subscription_active"] = person.Subscriptions.Count(x => x.Status == "active");
        f["stripe_subscription_trial"] = person.Subscriptions.Count(x => x.Status == "trialing");
        f["stripe_subscription_past_due"] = person.Subscriptions.Count(x => x.Status == "past_due");
        f["stripe_subscription_paused"] = person.Subscriptions.Count(x => x.Status == "paused");
        f["stripe_subscription_cancelled"] = person.Subscriptions.Count(x => x.Status == "canceled");
        f["last_activity"] = EventsOf(person).Select(e => (DateTimeOffset?)e.Time).Max();
        return f;
    }

    /// <summary>SPEC §6's "most relevant" subscription: active, else trialing, else past due, else the newest; all that tie.</summary>
    public static IReadOnlyList<Subscription> MostRelevant(IReadOnlyList<Subscription> subscriptions)
    {
        if (subscriptions.Count == 0)
        {
            return [];
        }

        foreach (var status in new[] { "active", "trialing", "past_due" })
        {
            if (subscriptions.Where(s => s.Status == status).ToList() is { Count: > 0 } tied)
            {
                return tied;
            }
        }

        var newest = subscriptions.Max(s => s.Created);
        return [.. subscriptions.Where(s => s.Created == newest)];
    }

    private static (string First, string? Last) FirstWord(string name)
    {
        var words = name.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (words[0], words.Length > 1 ? string.Join(' ', words[1..]) : null);
    }

    private static object? AnyOfOrNull<T>(IEnumerable<T?> values)
    {
        var set = values.Where(v => v is not null && (v is not string text || !string.IsNullOrWhiteSpace(text))).Cast<object>().Distinct().ToList();
        return set.Count switch { 0 => null, 1 => set[0], _ => new AnyOf(set) };
    }

    private static object? Map(object? value, Func<string, object?> f) => value switch
    {
        null => null,
        AnyOf any => new AnyOf([.. any.Values.Select(v => f((string)v!))]),
        _ => f((string)value),
    };
}

/// <summary>A token SPEC leaves open between several values: any of them is right.</summary>
public sealed record AnyOf(IReadOnlyList<object?> Values);
