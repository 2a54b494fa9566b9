using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;

namespace StripeSync.Core.StripeApi;

/// <summary>
/// Stripe's JSON → our records, read with System.Text.Json: the one way StripeSync reads a Stripe object (lists,
/// retrieves and events alike). Stripe.net still makes every call; it no longer parses what comes back (decision 0014).
/// Every field reads as Stripe.net's typed parse read it (the rules of the StripeMapper it replaced, kept exactly): an absent time Stripe always
/// sends is the Unix epoch and an absent number 0, an optional one null; an expandable field is its id whether Stripe sent
/// the id or the expanded object. A value of the wrong JSON kind in a field we read, or null where Stripe.net's type had
/// no null, is a <see cref="JsonException"/>, as Stripe.net's parse threw.
/// </summary>
internal static class StripeJsonReader
{
    /// <summary>The <c>object</c> values of the types <see cref="Read(JsonElement, bool)"/> reads (what intake keeps; a test holds the two together).</summary>
    public static readonly FrozenSet<string> KeptObjects = FrozenSet.Create(StringComparer.Ordinal,
        "customer", "product", "price", "coupon", "subscription", "invoice", "invoice_payment", "charge", "refund", "checkout.session", "payment_method");

    /// <summary>An object whose type its own <c>object</c> field names (an event's <c>data.object</c>); null for types we don't keep.</summary>
    /// <param name="livemode">The connection's mode, for objects that don't carry one (refunds).</param>
    public static StripeRecord? Read(JsonElement o, bool livemode) => Str(o, "object") switch
    {
        "customer" => Customer(o),
        "product" => Product(o),
        "price" => Price(o),
        "coupon" => Coupon(o),
        "subscription" => Subscription(o),
        "invoice" => Invoice(o),
        "invoice_payment" => InvoicePayment(o),
        "charge" => Charge(o),
        "refund" => Refund(o, livemode),
        "checkout.session" => CheckoutSession(o),
        "payment_method" => PaymentMethod(o),
        _ => null,
    };

    /// <summary>An object of a type the caller asked Stripe for (a list page, a retrieve), whatever its <c>object</c> says.</summary>
    public static StripeRecord Read(JsonElement o, StripeObjectType type, bool livemode) => type switch
    {
        StripeObjectType.Customer => Customer(o),
        StripeObjectType.Product => Product(o),
        StripeObjectType.Price => Price(o),
        StripeObjectType.Coupon => Coupon(o),
        StripeObjectType.Subscription => Subscription(o),
        StripeObjectType.Invoice => Invoice(o),
        StripeObjectType.InvoicePayment => InvoicePayment(o),
        StripeObjectType.Charge => Charge(o),
        StripeObjectType.Refund => Refund(o, livemode),
        StripeObjectType.CheckoutSession => CheckoutSession(o),
        StripeObjectType.PaymentMethod => PaymentMethod(o),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>The objects of a list (<c>data</c>) and whether Stripe has more after them (<c>has_more</c>).</summary>
    public static (List<T> Items, bool HasMore, string? LastId) List<T>(JsonElement list, Func<JsonElement, T> read)
    {
        var items = new List<T>();
        string? lastId = null;
        foreach (var item in Array(list, "data"))
        {
            items.Add(read(item));
            lastId = Str(item, "id");
        }

        return (items, Bool(list, "has_more"), lastId);
    }

    public static CustomerRecord Customer(JsonElement c)
    {
        var settings = Obj(c, "invoice_settings");
        // Expanded when we ask (lists and retrieves), an id in events: the card comes only with the object.
        var defaultPaymentMethod = settings is { } s && Value(s, "default_payment_method") is { ValueKind: JsonValueKind.Object } expanded ? expanded : (JsonElement?)null;
        return new(
            Str(c, "id")!, Bool(c, "livemode"), Time(c, "created"),
            Str(c, "email"), Str(c, "name"), Str(c, "phone"),
            Obj(c, "address") is { } a
                ? new AddressRecord(Str(a, "line1"), Str(a, "line2"), Str(a, "city"), Str(a, "state"), Str(a, "postal_code"), Str(a, "country"))
                : null,
            Str(c, "description"), BoolOrNull(c, "delinquent"), Str(c, "currency"),
            settings is { } ids ? Id(ids, "default_payment_method") : null, BoolOrNull(c, "deleted") == true,
            Metadata(c),
            defaultPaymentMethod is { } pm && Obj(pm, "card") is { } card ? Card(card) : null);
    }

    public static ProductRecord Product(JsonElement p) =>
        new(Str(p, "id")!, Bool(p, "livemode"), Time(p, "created"), Str(p, "name"), Bool(p, "active"), BoolOrNull(p, "deleted") == true);

    public static PriceRecord Price(JsonElement p)
    {
        var recurring = Obj(p, "recurring");
        return new(
            Str(p, "id")!, Bool(p, "livemode"), Time(p, "created"), Id(p, "product")!, Str(p, "currency")!, LongOrNull(p, "unit_amount"), Str(p, "type")!,
            recurring is { } r ? Str(r, "interval") : null, recurring is { } ri ? Long(ri, "interval_count") : 1,
            recurring is { } ru ? Str(ru, "usage_type") : null,
            Str(p, "billing_scheme") ?? "per_unit", Str(p, "tiers_mode"),
            [.. Array(p, "tiers").Select(t => new PriceTier(LongOrNull(t, "up_to"), LongOrNull(t, "unit_amount"), LongOrNull(t, "flat_amount")))],
            Str(p, "nickname"), Bool(p, "active"));
    }

    public static CouponRecord Coupon(JsonElement c) => new(
        Str(c, "id")!, Bool(c, "livemode"), Time(c, "created"), DecimalOrNull(c, "percent_off"), LongOrNull(c, "amount_off"), Str(c, "currency"),
        Str(c, "duration")!, LongOrNull(c, "duration_in_months"), Str(c, "name"));

    public static SubscriptionRecord Subscription(JsonElement s)
    {
        var details = Obj(s, "cancellation_details");
        var (reason, feedback, comment) = details is { } d ? (Str(d, "reason"), Str(d, "feedback"), Str(d, "comment")) : (null, null, null);
        return new(
            Str(s, "id")!, Bool(s, "livemode"), Time(s, "created"), Id(s, "customer")!, Str(s, "status")!, Str(s, "currency")!,
            Time(s, "start_date"), TimeOrNull(s, "trial_start"), TimeOrNull(s, "trial_end"),
            TimeOrNull(s, "canceled_at"), TimeOrNull(s, "ended_at"), TimeOrNull(s, "cancel_at"), Bool(s, "cancel_at_period_end"),
            (reason ?? feedback ?? comment) is not null ? new CancellationRecord(reason, feedback, comment) : null,
            Obj(s, "items") is { } items
                ? [.. Array(items, "data").Select(i => new SubscriptionItemRecord(
                    Str(i, "id")!, Price(Obj(i, "price") ?? throw new JsonException("A subscription item without its price.")), Long(i, "quantity"),
                    Time(i, "current_period_start"), Time(i, "current_period_end"), Discounts(i)))]
                : [],
            Discounts(s), Id(s, "latest_invoice"));
    }

    public static InvoiceRecord Invoice(JsonElement i)
    {
        var transitions = Obj(i, "status_transitions");
        var lines = Obj(i, "lines");
        return new(
            Str(i, "id")!, Bool(i, "livemode"), Time(i, "created"), Id(i, "customer"), Str(i, "number"), Str(i, "status")!, Str(i, "currency")!,
            Long(i, "total"), Long(i, "subtotal"), Long(i, "amount_due"), Long(i, "amount_paid"), Long(i, "amount_remaining"),
            Array(i, "total_taxes").Sum(t => Long(t, "amount")),
            Str(i, "billing_reason"), Obj(i, "parent") is { } parent && Obj(parent, "subscription_details") is { } sd ? Id(sd, "subscription") : null,
            Long(i, "attempt_count"),
            TimeOrNull(i, "due_date"), transitions is { } f ? TimeOrNull(f, "finalized_at") : null, transitions is { } p ? TimeOrNull(p, "paid_at") : null,
            transitions is { } v ? TimeOrNull(v, "voided_at") : null, Time(i, "period_start"), Time(i, "period_end"),
            lines is { } l ? [.. Array(l, "data").Select(InvoiceLine)] : [], lines is { } more && !Bool(more, "has_more"));
    }

    public static InvoiceLineRecord InvoiceLine(JsonElement l)
    {
        var priceDetails = Obj(l, "pricing") is { } pricing ? Obj(pricing, "price_details") : null;
        var parent = Obj(l, "parent");
        var item = parent is { } pi ? Obj(pi, "subscription_item_details") : null;
        var period = Obj(l, "period");
        return new(
            Str(l, "id")!, Long(l, "amount"), Str(l, "currency")!, Str(l, "description"), LongOrNull(l, "quantity") ?? 1,
            priceDetails is { } pd ? Id(pd, "price") : null, priceDetails is { } pp ? Str(pp, "product") : null,
            (parent is { } pt ? Str(pt, "type") : null) ?? "invoice_item_details", item is { } ip && Bool(ip, "proration"),
            item is { } isub ? Str(isub, "subscription") : null, item is { } ii ? Str(ii, "subscription_item") : null,
            period is { } ps ? Time(ps, "start") : null, period is { } pe ? Time(pe, "end") : null,
            Array(l, "discount_amounts").Sum(d => Long(d, "amount")));
    }

    public static InvoicePaymentRecord InvoicePayment(JsonElement p)
    {
        var payment = Obj(p, "payment");
        return new(
            Str(p, "id")!, Bool(p, "livemode"), Time(p, "created"), Id(p, "invoice")!,
            payment is { } c ? Id(c, "charge") : null, payment is { } i ? Id(i, "payment_intent") : null, Str(p, "status")!,
            LongOrNull(p, "amount_paid"), Long(p, "amount_requested"), Str(p, "currency")!, Bool(p, "is_default"));
    }

    public static ChargeRecord Charge(JsonElement c) => new(
        Str(c, "id")!, Bool(c, "livemode"), Time(c, "created"), Id(c, "customer"), Long(c, "amount"), Long(c, "amount_refunded"), Str(c, "currency")!,
        Str(c, "status")!, Bool(c, "paid"), Bool(c, "refunded"), Str(c, "failure_code"), Str(c, "failure_message"), Str(c, "description"),
        Id(c, "payment_intent"), Obj(c, "payment_method_details") is { } details && Obj(details, "card") is { } card ? Card(card) : null);

    public static RefundRecord Refund(JsonElement r, bool livemode) => new(
        Str(r, "id")!, livemode, Time(r, "created"), Id(r, "charge"), Id(r, "payment_intent"), Long(r, "amount"), Str(r, "currency")!,
        Str(r, "status"), Str(r, "reason"));

    public static CheckoutSessionRecord CheckoutSession(JsonElement s) => new(
        Str(s, "id")!, Bool(s, "livemode"), Time(s, "created"), Id(s, "customer"),
        (Obj(s, "customer_details") is { } details ? Str(details, "email") : null) ?? Str(s, "customer_email"),
        Str(s, "status"), Str(s, "payment_status"), Str(s, "mode"), LongOrNull(s, "amount_total"), Str(s, "currency"),
        Id(s, "subscription"), Id(s, "invoice"), Time(s, "expires_at"),
        Obj(s, "line_items") is { } lines
            ? [.. Array(lines, "data").Select(l => Obj(l, "price") is { } price
                ? new CheckoutLineRecord(Str(price, "id"), Id(price, "product"), Str(l, "description"), LongOrNull(l, "quantity") ?? 1, Long(l, "amount_total"), Str(l, "currency")!)
                : new CheckoutLineRecord(null, null, Str(l, "description"), LongOrNull(l, "quantity") ?? 1, Long(l, "amount_total"), Str(l, "currency")!))]
            : []);

    public static PaymentMethodRecord PaymentMethod(JsonElement p) => new(
        Str(p, "id")!, Bool(p, "livemode"), Time(p, "created"), Id(p, "customer"), Str(p, "type")!,
        Obj(p, "card") is { } card ? Card(card) : null);

    private static CardRecord Card(JsonElement card) => new(Str(card, "brand"), Str(card, "last4"), Long(card, "exp_month"), Long(card, "exp_year"));

    /// <summary>Discounts as objects; a discount Stripe sent as a bare id (not expanded) is skipped, as Stripe.net left it null.</summary>
    private static List<DiscountRecord> Discounts(JsonElement owner) =>
    [
        .. Array(owner, "discounts").Where(d => d.ValueKind == JsonValueKind.Object).Select(d => new DiscountRecord(
            Str(d, "id")!, Obj(d, "source") is { } source ? Id(source, "coupon") : null, Time(d, "start"), TimeOrNull(d, "end"))),
    ];

    private static Dictionary<string, string> Metadata(JsonElement o)
    {
        var metadata = new Dictionary<string, string>();
        if (Obj(o, "metadata") is { } m)
        {
            foreach (var pair in m.EnumerateObject())
            {
                metadata[pair.Name] = pair.Value.ValueKind == JsonValueKind.String ? pair.Value.GetString()! : throw Wrong(pair.Name, "a string");
            }
        }

        return metadata;
    }

    // Field readers. Absent and null are the same to them; a value of another kind is malformed.

    private static JsonElement? Value(JsonElement o, string name) =>
        o.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string? Str(JsonElement o, string name) => Value(o, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        _ => throw Wrong(name, "a string"),
    };

    /// <summary>An expandable field: the id Stripe sent, or the id of the object it expanded.</summary>
    private static string? Id(JsonElement o, string name) => Value(o, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        { ValueKind: JsonValueKind.Object } v => Str(v, "id"),
        _ => throw Wrong(name, "an id or an object"),
    };

    private static JsonElement? Obj(JsonElement o, string name) => Value(o, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Object } v => v,
        _ => throw Wrong(name, "an object"),
    };

    private static readonly JsonElement NoItems = JsonDocument.Parse("[]").RootElement;

    private static JsonElement.ArrayEnumerator Array(JsonElement o, string name) => Value(o, name) switch
    {
        null => NoItems.EnumerateArray(),
        { ValueKind: JsonValueKind.Array } v => v.EnumerateArray(),
        _ => throw Wrong(name, "a list"),
    };

    private static long? LongOrNull(JsonElement o, string name) => Value(o, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt64(out var n) => n,
        _ => throw Wrong(name, "a whole number"),
    };

    private static long Long(JsonElement o, string name) => LongOrNull(o, name) ?? (IsNull(o, name) ? throw Wrong(name, "a whole number") : 0);

    private static decimal? DecimalOrNull(JsonElement o, string name) => Value(o, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetDecimal(out var n) => n,
        _ => throw Wrong(name, "a number"),
    };

    private static bool? BoolOrNull(JsonElement o, string name) => Value(o, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw Wrong(name, "true or false"),
    };

    private static bool Bool(JsonElement o, string name) => BoolOrNull(o, name) ?? (IsNull(o, name) ? throw Wrong(name, "true or false") : false);

    /// <summary>Unix seconds; absent or null is null.</summary>
    private static DateTimeOffset? TimeOrNull(JsonElement o, string name) =>
        LongOrNull(o, name) is { } seconds ? DateTimeOffset.UnixEpoch.AddSeconds(seconds) : null;

    /// <summary>Unix seconds of a time Stripe always sends; absent or null is the epoch, as Stripe.net's default.</summary>
    private static DateTimeOffset Time(JsonElement o, string name) =>
        TimeOrNull(o, name) ?? (IsNull(o, name) ? throw Wrong(name, "a time") : DateTimeOffset.UnixEpoch);

    /// <summary>Sent as null: absent is a default, but null where Stripe.net's type has no null was refused by its parse, and is here.</summary>
    private static bool IsNull(JsonElement o, string name) => o.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Null;

    private static JsonException Wrong(string name, string expected) =>
        new(string.Create(CultureInfo.InvariantCulture, $"Stripe's \"{name}\" is not {expected}."));
}
