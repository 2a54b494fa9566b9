using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Ingestion.Inbox;

/// <summary>
/// Orders two states of one object that Stripe stamped with the same second (its events' resolution), where the states
/// themselves say which came later: an object's lifecycle only moves forward. An invoice goes from draft to open to paid
/// or void, its attempts and the amount paid only grow; a charge goes from pending to settled and its refunded amount
/// only grows; a subscription leaves "incomplete" and never returns from "canceled". An invoice finalized and paid in the
/// same second, the common case, is ordered without asking Stripe. States level on every such mark (two edits of
/// metadata, a subscription moved between active and past due) cannot be ordered this way.
/// </summary>
public static class SameSecond
{
    /// <summary>Positive when <paramref name="state"/> is the later one, negative when <paramref name="other"/> is, 0 when the states do not tell.</summary>
    public static int Compare(StripeRecord state, StripeRecord other) =>
        state.Type == other.Type && Progress(state) is { } a && Progress(other) is { } b ? a.CompareTo(b) : 0;

    private static (int Stage, long First, long Second)? Progress(StripeRecord record) => record switch
    {
        InvoiceRecord i => (i.Status switch { "draft" => 0, "open" => 1, "uncollectible" => 2, _ => 3 }, i.AttemptCount, i.AmountPaid),
        ChargeRecord c => (c.Status == "pending" ? 0 : 1, c.AmountRefunded, 0),
        InvoicePaymentRecord p => (p.Status == "open" ? 0 : 1, p.AmountPaid ?? 0, 0),
        RefundRecord r => (r.Status is "pending" or "requires_action" ? 0 : 1, 0, 0),
        CheckoutSessionRecord s => (s.Status == "open" ? 0 : 1, 0, 0),
        SubscriptionRecord s => (s.Status switch { "incomplete" => 0, "canceled" or "incomplete_expired" => 2, _ => 1 }, 0, 0),
        _ => null,
    };
}
