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
    public ObjectList Events { get; } = new();
    public ConcurrentDictionary<string, WebhookEndpointEntry> WebhookEndpoints { get; } = new();

    public IEnumerable<ObjectList> AllLists =>
        [Customers, Products, Prices, Coupons, Subscriptions, Invoices, InvoicePayments, Charges, Refunds, CheckoutSessions, PaymentMethods, Events];
}
