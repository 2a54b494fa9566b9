using System.Collections.Concurrent;

namespace StripeSync.Simulator.Data;

/// <summary>A registered webhook endpoint and its signing secret.</summary>
internal sealed record WebhookEndpointEntry(string Id, string Url, IReadOnlyList<string> EnabledEvents, string Secret, long Created);

/// <summary>One mode (live or test) of the simulated account: its own objects, events and webhook endpoints.</summary>
internal sealed class ModeData(bool livemode)
{
    public bool Livemode { get; } = livemode;

    public ObjectList Customers { get; } = new();
    public ObjectList Products { get; } = new();
    public ObjectList Prices { get; } = new();
    public ObjectList Coupons { get; } = new();
    public ObjectList Subscriptions { get; } = new();
    public ObjectList Invoices { get; } = new();
    public ObjectList InvoicePayments { get; } = new();
    public ObjectList Charges { get; } = new();
    public ObjectList Refunds { get; } = new();
    public ObjectList CheckoutSessions { get; } = new();
    public ObjectList PaymentMethods { get; } = new();

    /// <summary>One per charge's <c>payment_intent</c>: made when its first charge is, updated by each later attempt.</summary>
    public ObjectList PaymentIntents { get; } = new();

    // Types the generated account never has (no charge is disputed or flagged, no customer has a tax id, no invoice is
    // credited, no subscription is scheduled or set up apart from its first payment): served as Stripe serves an
    // account without them, an empty list, so a client that walks every type (scenario 5's peer) gets the true answer.
    public ObjectList SetupIntents { get; } = new();
    public ObjectList Disputes { get; } = new();
    public ObjectList EarlyFraudWarnings { get; } = new();
    public ObjectList TaxIds { get; } = new();
    public ObjectList CreditNotes { get; } = new();
    public ObjectList SubscriptionSchedules { get; } = new();

    public ObjectList Events { get; } = new();

    /// <summary>Deleted objects, id → <c>object</c>: gone from lists, a retrieve answers Stripe's <c>{id, object, deleted: true}</c>.</summary>
    public ConcurrentDictionary<string, string> Deleted { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, WebhookEndpointEntry> WebhookEndpoints { get; } = new();

    public IEnumerable<ObjectList> AllLists =>
        [
            Customers, Products, Prices, Coupons, Subscriptions, Invoices, InvoicePayments, Charges, Refunds, CheckoutSessions, PaymentMethods,
            PaymentIntents, SetupIntents, Disputes, EarlyFraudWarnings, TaxIds, CreditNotes, SubscriptionSchedules, Events,
        ];
}
