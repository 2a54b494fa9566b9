namespace StripeSync.Core.StripeApi;

// Our own records of Stripe objects, in the shapes of API version 2026-10-28.endive. StripeJsonReader
// reads Stripe's JSON into these; nothing outside StripeApi/ sees a Stripe.net type. Amounts are minor
// units (long) with a lower-case ISO currency, as Stripe sends them; times are UTC.

/// <summary>The Stripe object types StripeSync reads, in the order a backfill may need them.</summary>
public enum StripeObjectType
{
    Customer,
    Product,
    Price,
    Coupon,
    Subscription,
    Invoice,
    InvoicePayment,
    Charge,
    Refund,
    CheckoutSession,
    PaymentMethod,
}

/// <summary>Any Stripe object we keep: its id, mode and creation time.</summary>
public abstract record StripeRecord(string Id, bool Livemode, DateTimeOffset Created)
{
    public abstract StripeObjectType Type { get; }
}

public sealed record AddressRecord(string? Line1, string? Line2, string? City, string? State, string? PostalCode, string? Country);

public sealed record CardRecord(string? Brand, string? Last4, long? ExpMonth, long? ExpYear);

public sealed record CustomerRecord(
    string Id, bool Livemode, DateTimeOffset Created,
    string? Email, string? Name, string? Phone, AddressRecord? Address, string? Description,
    bool? Delinquent, string? Currency, string? DefaultPaymentMethodId, bool Deleted,
    IReadOnlyDictionary<string, string> Metadata, CardRecord? DefaultCard = null) : StripeRecord(Id, Livemode, Created)
{
    public override StripeObjectType Type => StripeObjectType.Customer;
}

public sealed record ProductRecord(string Id, bool Livemode, DateTimeOffset Created, string? Name, bool Active, bool Deleted)
    : StripeRecord(Id, Livemode, Created)
{
    public override StripeObjectType Type => StripeObjectType.Product;
}

/// <summary>One tier of a tiered price; <c>UpTo</c> null means "and above".</summary>
public sealed record PriceTier(long? UpTo, long? UnitAmount, long? FlatAmount);

/// <param name="Kind">"one_time" or "recurring".</param>
/// <param name="Interval">day, week, month or year for recurring prices.</param>
/// <param name="UsageType">"licensed" or "metered" for recurring prices.</param>
/// <param name="BillingScheme">"per_unit" or "tiered".</param>
/// <param name="TiersMode">"graduated" or "volume" for tiered prices.</param>
public sealed record PriceRecord(
    string Id, bool Livemode, DateTimeOffset Created,
    string ProductId, string Currency, long? UnitAmount, string Kind, string? Interval, long IntervalCount,
    string? UsageType, string BillingScheme, string? TiersMode, IReadOnlyList<PriceTier> Tiers,
    string? Nickname, bool Active) : StripeRecord(Id, Livemode, Created)
{
    public override StripeObjectType Type => StripeObjectType.Price;
}

/// <param name="Duration">"once", "repeating" or "forever".</param>
public sealed record CouponRecord(
    string Id, bool Livemode, DateTimeOffset Created,
    decimal? PercentOff, long? AmountOff, string? Currency, string Duration, long? DurationInMonths, string? Name)
    : StripeRecord(Id, Livemode, Created)
{
    public override StripeObjectType Type => StripeObjectType.Coupon;
}

/// <summary>A discount applied to a subscription, item or invoice; its coupon is named by id (<c>source.coupon</c>).</summary>
public sealed record DiscountRecord(string Id, string? CouponId, DateTimeOffset? Start, DateTimeOffset? End);

public sealed record CancellationRecord(string? Reason, string? Feedback, string? Comment);

/// <summary>A subscription item with its full price (Stripe embeds it); billing periods live here, not on the subscription.</summary>
public sealed record SubscriptionItemRecord(
    string Id, PriceRecord Price, long Quantity,
    DateTimeOffset? CurrentPeriodStart, DateTimeOffset? CurrentPeriodEnd, IReadOnlyList<DiscountRecord> Discounts);

/// <param name="Status">trialing, active, past_due, unpaid, canceled, incomplete, incomplete_expired or paused.</param>
public sealed record SubscriptionRecord(
    string Id, bool Livemode, DateTimeOffset Created,
    string CustomerId, string Status, string Currency,
    DateTimeOffset? StartDate, DateTimeOffset? TrialStart, DateTimeOffset? TrialEnd,
    DateTimeOffset? CanceledAt, DateTimeOffset? EndedAt, DateTimeOffset? CancelAt, bool CancelAtPeriodEnd,
    CancellationRecord? Cancellation, IReadOnlyList<SubscriptionItemRecord> Items, IReadOnlyList<DiscountRecord> Discounts,
    string? LatestInvoiceId) : StripeRecord(Id, Livemode, Created)
{
    public override StripeObjectType Type => StripeObjectType.Subscription;
}

/// <param name="Kind">"subscription_item_details" or "invoice_item_details" (<c>parent.type</c>).</param>
/// <param name="DiscountAmount">Sum of <c>discount_amounts</c> on the line.</param>
public sealed record InvoiceLineRecord(
    string Id, long Amount, string Currency, string? Description, long Quantity,
    string? PriceId, string? ProductId, string Kind, bool Proration,
    string? SubscriptionId, string? SubscriptionItemId,
    DateTimeOffset? PeriodStart, DateTimeOffset? PeriodEnd, long DiscountAmount);

/// <param name="Status">draft, open, paid, uncollectible or void.</param>
/// <param name="BillingReason">subscription_create, subscription_cycle, subscription_update, manual, …</param>
/// <param name="SubscriptionId">From <c>parent.subscription_details.subscription</c>.</param>
public sealed record InvoiceRecord(
    string Id, bool Livemode, DateTimeOffset Created,
    string? CustomerId, string? Number, string Status, string Currency,
    long Total, long Subtotal, long AmountDue, long AmountPaid, long AmountRemaining, long Tax,
    string? BillingReason, string? SubscriptionId, long AttemptCount,
    DateTimeOffset? DueDate, DateTimeOffset? FinalizedAt, DateTimeOffset? PaidAt, DateTimeOffset? VoidedAt,
    DateTimeOffset? PeriodStart, DateTimeOffset? PeriodEnd,
    IReadOnlyList<InvoiceLineRecord> Lines, bool LinesComplete) : StripeRecord(Id, Livemode, Created)
{
    public override StripeObjectType Type => StripeObjectType.Invoice;
}

/// <summary>Which charge (or payment intent) paid, or tried to pay, which invoice.</summary>
/// <param name="Status">open, paid or canceled.</param>
public sealed record InvoicePaymentRecord(
    string Id, bool Livemode, DateTimeOffset Created,
    string InvoiceId, string? ChargeId, string? PaymentIntentId, string Status,
    long? AmountPaid, long AmountRequested, string Currency, bool IsDefault) : StripeRecord(Id, Livemode, Created)
{
    public override StripeObjectType Type => StripeObjectType.InvoicePayment;
}

/// <param name="Status">succeeded, pending or failed.</param>
public sealed record ChargeRecord(
    string Id, bool Livemode, DateTimeOffset Created,
    string? CustomerId, long Amount, long AmountRefunded, string Currency, string Status, bool Paid, bool Refunded,
    string? FailureCode, string? FailureMessage, string? Description, string? PaymentIntentId, CardRecord? Card)
    : StripeRecord(Id, Livemode, Created)
{
    public override StripeObjectType Type => StripeObjectType.Charge;
}

public sealed record RefundRecord(
    string Id, bool Livemode, DateTimeOffset Created,
    string? ChargeId, string? PaymentIntentId, long Amount, string Currency, string? Status, string? Reason)
    : StripeRecord(Id, Livemode, Created)
{
    public override StripeObjectType Type => StripeObjectType.Refund;
}

public sealed record CheckoutLineRecord(string? PriceId, string? ProductId, string? Description, long Quantity, long AmountTotal, string Currency);

/// <param name="Status">open, complete or expired.</param>
/// <param name="Mode">payment, subscription or setup.</param>
public sealed record CheckoutSessionRecord(
    string Id, bool Livemode, DateTimeOffset Created,
    string? CustomerId, string? CustomerEmail, string? Status, string? PaymentStatus, string? Mode,
    long? AmountTotal, string? Currency, string? SubscriptionId, string? InvoiceId, DateTimeOffset? ExpiresAt,
    IReadOnlyList<CheckoutLineRecord> Lines) : StripeRecord(Id, Livemode, Created)
{
    public override StripeObjectType Type => StripeObjectType.CheckoutSession;
}

public sealed record PaymentMethodRecord(string Id, bool Livemode, DateTimeOffset Created, string? CustomerId, string Kind, CardRecord? Card)
    : StripeRecord(Id, Livemode, Created)
{
    public override StripeObjectType Type => StripeObjectType.PaymentMethod;
}
