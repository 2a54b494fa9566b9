using System.Collections.Frozen;
using Stripe;
using Stripe.Checkout;

namespace StripeSync.Core.StripeApi;

/// <summary>Stripe.net objects → our records. The only place that reads Stripe.net entity properties.</summary>
internal static class StripeMapper
{
    /// <summary>The <c>object</c> values of the types <see cref="Map"/> reads (what intake keeps; a test holds the two together).</summary>
    public static readonly FrozenSet<string> KeptObjects = FrozenSet.Create(StringComparer.Ordinal,
        "customer", "product", "price", "coupon", "subscription", "invoice", "invoice_payment", "charge", "refund", "checkout.session", "payment_method");

    /// <param name="livemode">The connection's mode, for objects that don't carry one (refunds).</param>
    public static StripeRecord? Map(IHasObject? entity, bool livemode) => entity switch
    {
        Customer c => Customer(c),
        Product p => Product(p),
        Price p => Price(p),
        Coupon c => Coupon(c),
        Subscription s => Subscription(s),
        Invoice i => Invoice(i),
        InvoicePayment p => InvoicePayment(p),
        Charge c => Charge(c),
        Refund r => Refund(r, livemode),
        Session s => CheckoutSession(s),
        PaymentMethod p => PaymentMethod(p),
        _ => null,
    };

    public static CustomerRecord Customer(Customer c) => new(
        c.Id, c.Livemode, Utc(c.Created),
        c.Email, c.Name, c.Phone,
        c.Address is { } a ? new AddressRecord(a.Line1, a.Line2, a.City, a.State, a.PostalCode, a.Country) : null,
        c.Description, c.Delinquent, c.Currency, c.InvoiceSettings?.DefaultPaymentMethodId, c.Deleted == true,
        c.Metadata is null ? new Dictionary<string, string>() : new Dictionary<string, string>(c.Metadata),
        c.InvoiceSettings?.DefaultPaymentMethod?.Card is { } card ? new CardRecord(card.Brand, card.Last4, card.ExpMonth, card.ExpYear) : null);

    public static ProductRecord Product(Product p) => new(p.Id, p.Livemode, Utc(p.Created), p.Name, p.Active, p.Deleted == true);

    public static PriceRecord Price(Price p) => new(
        p.Id, p.Livemode, Utc(p.Created), p.ProductId, p.Currency, p.UnitAmount, p.Type,
        p.Recurring?.Interval, p.Recurring?.IntervalCount ?? 1, p.Recurring?.UsageType,
        p.BillingScheme ?? "per_unit", p.TiersMode,
        p.Tiers?.Select(t => new StripeSync.Core.StripeApi.PriceTier(t.UpTo, t.UnitAmount, t.FlatAmount)).ToList() ?? [],
        p.Nickname, p.Active);

    public static CouponRecord Coupon(Coupon c) => new(
        c.Id, c.Livemode, Utc(c.Created), c.PercentOff, c.AmountOff, c.Currency, c.Duration, c.DurationInMonths, c.Name);

    public static SubscriptionRecord Subscription(Subscription s) => new(
        s.Id, s.Livemode, Utc(s.Created), s.CustomerId, s.Status, s.Currency,
        Utc(s.StartDate), UtcOrNull(s.TrialStart), UtcOrNull(s.TrialEnd),
        UtcOrNull(s.CanceledAt), UtcOrNull(s.EndedAt), UtcOrNull(s.CancelAt), s.CancelAtPeriodEnd,
        s.CancellationDetails is { } d && (d.Reason ?? d.Feedback ?? d.Comment) is not null
            ? new CancellationRecord(d.Reason, d.Feedback, d.Comment) : null,
        s.Items?.Data.Select(i => new SubscriptionItemRecord(
            i.Id, Price(i.Price), i.Quantity, Utc(i.CurrentPeriodStart), Utc(i.CurrentPeriodEnd), Discounts(i.Discounts))).ToList() ?? [],
        Discounts(s.Discounts), s.LatestInvoiceId);

    public static InvoiceRecord Invoice(Invoice i) => new(
        i.Id, i.Livemode, Utc(i.Created), i.CustomerId, i.Number, i.Status, i.Currency,
        i.Total, i.Subtotal, i.AmountDue, i.AmountPaid, i.AmountRemaining, i.TotalTaxes?.Sum(t => t.Amount) ?? 0,
        i.BillingReason, i.Parent?.SubscriptionDetails?.SubscriptionId, i.AttemptCount,
        UtcOrNull(i.DueDate), UtcOrNull(i.StatusTransitions?.FinalizedAt), UtcOrNull(i.StatusTransitions?.PaidAt),
        UtcOrNull(i.StatusTransitions?.VoidedAt), Utc(i.PeriodStart), Utc(i.PeriodEnd),
        i.Lines?.Data.Select(InvoiceLine).ToList() ?? [], i.Lines is { HasMore: false });

    public static InvoiceLineRecord InvoiceLine(InvoiceLineItem l) => new(
        l.Id, l.Amount, l.Currency, l.Description, l.Quantity ?? 1,
        l.Pricing?.PriceDetails?.PriceId, l.Pricing?.PriceDetails?.Product,
        l.Parent?.Type ?? "invoice_item_details", l.Parent?.SubscriptionItemDetails?.Proration == true,
        l.Parent?.SubscriptionItemDetails?.Subscription, l.Parent?.SubscriptionItemDetails?.SubscriptionItem,
        UtcOrNull(l.Period?.Start), UtcOrNull(l.Period?.End), l.DiscountAmounts?.Sum(d => d.Amount) ?? 0);

    public static InvoicePaymentRecord InvoicePayment(InvoicePayment p) => new(
        p.Id, p.Livemode, Utc(p.Created), p.InvoiceId, p.Payment?.ChargeId, p.Payment?.PaymentIntentId, p.Status,
        p.AmountPaid, p.AmountRequested, p.Currency, p.IsDefault);

    public static ChargeRecord Charge(Charge c) => new(
        c.Id, c.Livemode, Utc(c.Created), c.CustomerId, c.Amount, c.AmountRefunded, c.Currency, c.Status, c.Paid, c.Refunded,
        c.FailureCode, c.FailureMessage, c.Description, c.PaymentIntentId,
        c.PaymentMethodDetails?.Card is { } card ? new CardRecord(card.Brand, card.Last4, card.ExpMonth, card.ExpYear) : null);

    public static RefundRecord Refund(Refund r, bool livemode) => new(
        r.Id, livemode, Utc(r.Created), r.ChargeId, r.PaymentIntentId, r.Amount, r.Currency, r.Status, r.Reason);

    public static CheckoutSessionRecord CheckoutSession(Session s) => new(
        s.Id, s.Livemode, Utc(s.Created), s.CustomerId, s.CustomerDetails?.Email ?? s.CustomerEmail, s.Status, s.PaymentStatus, s.Mode,
        s.AmountTotal, s.Currency, s.SubscriptionId, s.InvoiceId, UtcOrNull(s.ExpiresAt),
        s.LineItems?.Data.Select(l => new CheckoutLineRecord(l.Price?.Id, l.Price?.ProductId, l.Description, l.Quantity ?? 1, l.AmountTotal, l.Currency)).ToList() ?? []);

    public static PaymentMethodRecord PaymentMethod(PaymentMethod p) => new(
        p.Id, p.Livemode, Utc(p.Created), p.CustomerId, p.Type,
        p.Card is { } card ? new CardRecord(card.Brand, card.Last4, card.ExpMonth, card.ExpYear) : null);

    private static List<DiscountRecord> Discounts(List<Discount>? discounts) =>
        discounts?.Where(d => d is not null).Select(d => new DiscountRecord(d.Id, d.Source?.CouponId, UtcOrNull(d.Start), UtcOrNull(d.End))).ToList() ?? [];

    private static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));

    private static DateTimeOffset? UtcOrNull(DateTime? time) => time is { } t && t != default ? Utc(t) : null;
}
