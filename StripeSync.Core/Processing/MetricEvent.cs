namespace StripeSync.Core.Processing;

/// <summary>The metrics of SPEC §4, by their display names.</summary>
public static class Metrics
{
    public const string CustomerCreated = "Customer Created";
    public const string IssuedInvoice = "Issued Invoice";
    public const string SuccessfullyPaid = "Successfully Paid";
    public const string FailedPayment = "Failed Payment";
    public const string RefundedPayment = "Refunded Payment";
    public const string SubscriptionStarted = "Subscription Started";
    public const string SubscriptionUpgraded = "Subscription Upgraded";
    public const string SubscriptionDowngraded = "Subscription Downgraded";
    public const string SubscriptionCanceled = "Subscription Canceled";
    public const string SubscriptionBilled = "Subscription Billed";
    public const string TrialStarted = "Trial Started";
    public const string TrialEnded = "Trial Ended";
    public const string CheckoutCompleted = "Checkout Completed";
    public const string CheckoutAbandoned = "Checkout Abandoned";

    public static readonly IReadOnlyList<string> All =
    [
        CustomerCreated, IssuedInvoice, SuccessfullyPaid, FailedPayment, RefundedPayment,
        SubscriptionStarted, SubscriptionUpgraded, SubscriptionDowngraded, SubscriptionCanceled, SubscriptionBilled,
        TrialStarted, TrialEnded, CheckoutCompleted, CheckoutAbandoned,
    ];
}

/// <summary>
/// One fact about a customer, derived from Stripe. <paramref name="NaturalKey"/> identifies the fact itself
/// (e.g. "in_123:Successfully Paid", "in_123:Failed Payment:2"), so the same fact reached by backfill,
/// webhook and poll is stored once. <paramref name="Amount"/> is in minor units of <paramref name="Currency"/>.
/// </summary>
public sealed record MetricEvent(
    string Metric,
    DateTimeOffset Time,
    string CustomerId,
    string NaturalKey,
    long? Amount,
    string? Currency,
    IReadOnlyDictionary<string, string> Properties,
    string SourceId)
{
    /// <summary>
    /// The normalised email the fact names when it has no Stripe customer (a guest checkout), so it can still be
    /// attributed to a person; null otherwise (the customer id attributes it). <see cref="CustomerId"/> is then "".
    /// </summary>
    public string? Email { get; init; }
}
