using StripeSync.Core.StripeApi;

namespace StripeSync.Tests.Processing;

/// <summary>Small test-data builders: every record starts valid and ordinary, a test states only what matters to it.</summary>
internal static class Build
{
    /// <summary>The start of every test timeline.</summary>
    public static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static DateTimeOffset Day(int day) => T0.AddDays(day);

    public static PriceRecord Price(
        long unitAmount, string interval = "month", long intervalCount = 1, string currency = "usd",
        string id = "price_basic", string product = "prod_basic", string? nickname = null) =>
        new(id, false, T0, product, currency, unitAmount, "recurring", interval, intervalCount, "licensed", "per_unit",
            null, [], nickname, true);

    public static PriceRecord OneOffPrice(long unitAmount, string id = "price_setup", string product = "prod_setup") =>
        new(id, false, T0, product, "usd", unitAmount, "one_time", null, 1, null, "per_unit", null, [], null, true);

    public static PriceRecord MeteredPrice(long unitAmount, string id = "price_usage") =>
        Price(unitAmount, id: id, product: "prod_usage") with { UsageType = "metered" };

    public static PriceRecord TieredPrice(string mode, params PriceTier[] tiers) =>
        Price(0, id: "price_tiered", product: "prod_seats") with { UnitAmount = null, BillingScheme = "tiered", TiersMode = mode, Tiers = tiers };

    public static PriceTier Tier(long? upTo, long unitAmount, long? flatAmount = null) => new(upTo, unitAmount, flatAmount);

    public static CouponRecord PercentOff(decimal percent, string duration = "forever", long? months = null, string id = "co_percent") =>
        new(id, false, T0, percent, null, null, duration, months, null);

    public static CouponRecord AmountOff(long amount, string currency = "usd", string duration = "forever", long? months = null, string id = "co_amount") =>
        new(id, false, T0, null, amount, currency, duration, months, null);

    public static DiscountRecord Discount(string couponId, DateTimeOffset? start = null, DateTimeOffset? end = null) =>
        new($"di_{couponId}", couponId, start ?? T0, end);

    public static Func<string, CouponRecord?> Coupons(params CouponRecord[] coupons) =>
        id => coupons.FirstOrDefault(c => c.Id == id);

    public static SubscriptionBuilder Subscription(string id = "sub_1") => new(id);

    public static InvoiceBuilder Invoice(string id = "in_1") => new(id);

    public static CustomerRecord Customer(
        string id = "cus_1", string? email = "ada@example.test", string? name = "Ada Lovelace", DateTimeOffset? created = null) =>
        new(id, false, created ?? T0, email, name, null, null, null, false, "usd", null, false, new Dictionary<string, string>());

    public static ChargeRecord Charge(
        string id, long amount, string status = "succeeded", DateTimeOffset? created = null, string customer = "cus_1",
        string? paymentIntent = null, string? failureMessage = null, string? description = null, long amountRefunded = 0) =>
        new(id, false, created ?? T0, customer, amount, amountRefunded, "usd", status, status == "succeeded",
            amountRefunded > 0 && amountRefunded >= amount, status == "failed" ? "card_declined" : null,
            failureMessage, description, paymentIntent, new CardRecord("visa", "4242", 12, 2030));

    public static InvoicePaymentRecord Payment(string invoiceId, string? charge = null, string? paymentIntent = null) =>
        new($"inpay_{invoiceId}_{charge ?? paymentIntent}", false, T0, invoiceId, charge, paymentIntent, "paid", null, 0, "usd", true);
}

internal sealed class SubscriptionBuilder(string id)
{
    private readonly List<SubscriptionItemRecord> items = [];
    private readonly List<DiscountRecord> discounts = [];
    private string customer = "cus_1";
    private string status = "active";
    private string currency = "usd";
    private DateTimeOffset created = Processing.Build.T0;
    private DateTimeOffset? trialStart;
    private DateTimeOffset? trialEnd;
    private DateTimeOffset? canceledAt;
    private DateTimeOffset? endedAt;
    private bool cancelAtPeriodEnd;
    private CancellationRecord? cancellation;

    public SubscriptionBuilder For(string customerId)
    {
        customer = customerId;
        return this;
    }

    public SubscriptionBuilder Status(string value)
    {
        status = value;
        return this;
    }

    public SubscriptionBuilder Created(DateTimeOffset at)
    {
        created = at;
        return this;
    }

    public SubscriptionBuilder Item(PriceRecord price, long quantity = 1, params DiscountRecord[] itemDiscounts)
    {
        currency = price.Currency;
        items.Add(new SubscriptionItemRecord(
            $"si_{id}_{items.Count + 1}", price, quantity, created, created.AddMonths(1), itemDiscounts));
        return this;
    }

    public SubscriptionBuilder Discount(DiscountRecord discount)
    {
        discounts.Add(discount);
        return this;
    }

    public SubscriptionBuilder Trial(DateTimeOffset start, DateTimeOffset end)
    {
        trialStart = start;
        trialEnd = end;
        return this;
    }

    public SubscriptionBuilder CancelAtPeriodEnd(DateTimeOffset requestedAt)
    {
        cancelAtPeriodEnd = true;
        canceledAt = requestedAt;
        return this;
    }

    public SubscriptionBuilder Canceled(DateTimeOffset at, string? reason = null, string? feedback = null, string? comment = null)
    {
        status = "canceled";
        canceledAt = at;
        endedAt = at;
        cancellation = new CancellationRecord(reason, feedback, comment);
        return this;
    }

    public SubscriptionRecord Build() => new(
        id, false, created, customer, status, currency, created, trialStart, trialEnd, canceledAt, endedAt, null,
        cancelAtPeriodEnd, cancellation, [.. items], [.. discounts], null);
}

internal sealed class InvoiceBuilder(string id)
{
    private readonly List<InvoiceLineRecord> lines = [];
    private string customer = "cus_1";
    private string? subscription;
    private string status = "draft";
    private string? billingReason = "subscription_cycle";
    private long attemptCount;
    private DateTimeOffset? finalizedAt;
    private DateTimeOffset? paidAt;
    private DateTimeOffset? dueDate;

    public InvoiceBuilder For(string customerId)
    {
        customer = customerId;
        return this;
    }

    public InvoiceBuilder SubscriptionLine(
        long amount, string price = "price_basic", string product = "prod_basic", string sub = "sub_1",
        bool proration = false, long discount = 0, string? description = null)
    {
        subscription ??= sub;
        lines.Add(new InvoiceLineRecord(
            $"il_{id}_{lines.Count + 1}", amount, "usd", description ?? "1 × Basic", 1, price, product,
            "subscription_item_details", proration, sub, $"si_{sub}_1", Processing.Build.T0, Processing.Build.T0.AddMonths(1), discount));
        return this;
    }

    public InvoiceBuilder OneOffLine(long amount, string description = "Setup fee", string? product = "prod_setup")
    {
        billingReason = "manual";
        lines.Add(new InvoiceLineRecord(
            $"il_{id}_{lines.Count + 1}", amount, "usd", description, 1, product is null ? null : "price_setup", product,
            "invoice_item_details", false, null, null, null, null, 0));
        return this;
    }

    public InvoiceBuilder Finalized(DateTimeOffset at, DateTimeOffset? due = null)
    {
        status = "open";
        finalizedAt = at;
        dueDate = due;
        return this;
    }

    public InvoiceBuilder Attempts(long count)
    {
        attemptCount = count;
        return this;
    }

    public InvoiceBuilder Paid(DateTimeOffset at)
    {
        finalizedAt ??= at;
        status = "paid";
        paidAt = at;
        attemptCount = Math.Max(attemptCount, 1);
        return this;
    }

    public InvoiceRecord Build()
    {
        var total = lines.Sum(l => l.Amount - l.DiscountAmount);
        var paid = status == "paid";
        return new InvoiceRecord(
            id, false, finalizedAt ?? Processing.Build.T0, customer, $"N-{id}", status, "usd", total, lines.Sum(l => l.Amount),
            total, paid ? total : 0, paid ? 0 : total, 0, billingReason, subscription, attemptCount,
            dueDate, finalizedAt, paidAt, null, Processing.Build.T0, Processing.Build.T0.AddMonths(1), [.. lines], true);
    }
}
