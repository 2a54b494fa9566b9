using System.Globalization;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Processing;

/// <summary>
/// Derives the metric events of SPEC §4 from our Stripe records. Every function is pure and can be called
/// again with newer state: it yields the same facts under the same natural keys, so whichever of backfill,
/// webhook or events poll sees a fact first stores it and the others change nothing.
/// <para>Natural keys are "{object id}:{metric}" plus a qualifier where one object yields the fact more than once:</para>
/// <list type="bullet">
/// <item>"{cus}:Customer Created"; "{in}:Issued Invoice"; "{in}:Successfully Paid"; "{ch}:Successfully Paid" (a
/// one-off charge, not linked to any invoice); "{re}:Refunded Payment"; "{cs}:Checkout Completed" / "…Abandoned".</item>
/// <item>"{in}:Subscription Billed:{sub}" — one per subscription billed on the invoice.</item>
/// <item>"{in}:Failed Payment:{n}" — n is the attempt ordinal: on the backfill path the rank (1, 2, …) of the failed
/// charge among the invoice's failed charges by time; on the event path (invoice.payment_failed, only the invoice
/// known) the invoice's attempt_count. Both count the same thing while every attempt is an automatic retry,
/// Stripe's normal dunning; a manual attempt that fails between retries is the one case they can drift (Stripe
/// doesn't count manual attempts after the first). "{ch}:Failed Payment" for a failed one-off charge.</item>
/// <item>"{sub}:Subscription Started", "{sub}:Trial Started", "{sub}:Trial Ended", "{sub}:Subscription Canceled" —
/// each happens once in a subscription's life.</item>
/// <item>"{sub}:Subscription Upgraded:{unix seconds}" / "…Downgraded:{unix seconds}" — the time of the change
/// (the event's creation time), the same whether the event came by webhook or poll.</item>
/// </list>
/// Amounts are minor units; property values are invariant strings, times ISO 8601 UTC.
/// </summary>
public static class MetricDerivation
{
    public static string Key(string objectId, string metric, string? qualifier = null) =>
        qualifier is null ? $"{objectId}:{metric}" : $"{objectId}:{metric}:{qualifier}";

    /// <summary>Customer Created at the customer's Stripe creation time, so backfilled history charts right.</summary>
    public static MetricEvent CustomerCreated(CustomerRecord customer)
    {
        ArgumentNullException.ThrowIfNull(customer);
        return new MetricEvent(
            Metrics.CustomerCreated, customer.Created, customer.Id, Key(customer.Id, Metrics.CustomerCreated),
            null, null, Props(("Stripe id", customer.Id)), customer.Id);
    }

    /// <summary>Everything an invoice says by itself: Issued Invoice, Successfully Paid, Subscription Billed.</summary>
    public static IReadOnlyList<MetricEvent> ForInvoice(InvoiceRecord invoice, Catalog catalog)
    {
        var events = new List<MetricEvent>();
        if (IssuedInvoice(invoice, catalog) is { } issued)
        {
            events.Add(issued);
        }

        if (SuccessfullyPaid(invoice, catalog) is { } paid)
        {
            events.Add(paid);
        }

        events.AddRange(SubscriptionBilled(invoice, catalog));
        return events;
    }

    /// <summary>Issued Invoice once the invoice is finalized (voided or not later): Amount is its total.</summary>
    public static MetricEvent? IssuedInvoice(InvoiceRecord invoice, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        if (invoice.CustomerId is null || invoice.FinalizedAt is not { } finalizedAt)
        {
            return null;
        }

        return new MetricEvent(
            Metrics.IssuedInvoice, finalizedAt, invoice.CustomerId, Key(invoice.Id, Metrics.IssuedInvoice),
            invoice.Total, invoice.Currency,
            Props(
                ("Invoice", invoice.Id), ("Number", invoice.Number), ("Amount", Number(invoice.Total)),
                ("Currency", invoice.Currency), ("Items", Items(invoice, catalog)), ("Due date", Iso(invoice.DueDate))),
            invoice.Id);
    }

    /// <summary>
    /// Successfully Paid when the invoice is paid and money moved (amount paid &gt; 0; a $0 trial invoice is not a
    /// payment, which keeps the count equal to Stripe's successful payments). Time: paid_at.
    /// </summary>
    public static MetricEvent? SuccessfullyPaid(InvoiceRecord invoice, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        if (invoice.CustomerId is null || !IsPaidOrder(invoice))
        {
            return null;
        }

        return new MetricEvent(
            Metrics.SuccessfullyPaid, PaidTime(invoice), invoice.CustomerId, Key(invoice.Id, Metrics.SuccessfullyPaid),
            invoice.AmountPaid, invoice.Currency,
            Props(
                ("Invoice", invoice.Id), ("Amount", Number(invoice.AmountPaid)), ("Currency", invoice.Currency),
                ("Items", Items(invoice, catalog))),
            invoice.Id);
    }

    /// <summary>Successfully Paid for a succeeded charge that pays no invoice (a one-off payment).</summary>
    public static MetricEvent? SuccessfullyPaid(ChargeRecord oneOffCharge)
    {
        ArgumentNullException.ThrowIfNull(oneOffCharge);
        if (oneOffCharge.CustomerId is null || !IsSucceeded(oneOffCharge))
        {
            return null;
        }

        return new MetricEvent(
            Metrics.SuccessfullyPaid, oneOffCharge.Created, oneOffCharge.CustomerId, Key(oneOffCharge.Id, Metrics.SuccessfullyPaid),
            oneOffCharge.Amount, oneOffCharge.Currency,
            Props(
                ("Charge", oneOffCharge.Id), ("Amount", Number(oneOffCharge.Amount)), ("Currency", oneOffCharge.Currency),
                ("Items", oneOffCharge.Description)),
            oneOffCharge.Id);
    }

    /// <summary>
    /// Subscription Billed for a paid invoice, one per subscription on it. Billing Amount counts only that
    /// subscription's lines (parent subscription_item_details) that are not prorations, net of their discounts;
    /// one-off invoice items beside them and proration lines are left out. An invoice with no such lines, or
    /// whose lines net to 0 (a trial, a 100% coupon), bills nothing and yields nothing. Billing Length is the
    /// billing period of the lines' price in months (month n → n, year → 12n, week → 12n/52, day → 12n/365,
    /// up to 4 decimals); Plan Level is the prices' nickname or product name.
    /// </summary>
    public static IReadOnlyList<MetricEvent> SubscriptionBilled(InvoiceRecord invoice, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        ArgumentNullException.ThrowIfNull(catalog);
        if (invoice.CustomerId is null || !string.Equals(invoice.Status, "paid", StringComparison.Ordinal))
        {
            return [];
        }

        var events = new List<MetricEvent>();
        var bySubscription = invoice.Lines
            .Where(l => string.Equals(l.Kind, "subscription_item_details", StringComparison.Ordinal) && !l.Proration)
            .GroupBy(l => l.SubscriptionId ?? invoice.SubscriptionId ?? string.Empty, StringComparer.Ordinal);
        foreach (var lines in bySubscription)
        {
            var amount = lines.Sum(l => l.Amount - l.DiscountAmount);
            if (amount <= 0)
            {
                continue;
            }

            var prices = lines.Select(l => catalog.Price(l.PriceId)).OfType<PriceRecord>().ToList();
            var cycle = prices.FirstOrDefault(Mrr.IsRecurringLicensed) ?? prices.FirstOrDefault(p => p.Interval is not null);
            var length = cycle is null ? null : Months(Mrr.MonthsPerPeriod(cycle.Interval, cycle.IntervalCount));
            var planLevel = Join(lines.Select(l => catalog.Price(l.PriceId) is { } p ? catalog.PlanName(p) : l.Description));
            events.Add(new MetricEvent(
                Metrics.SubscriptionBilled, PaidTime(invoice), invoice.CustomerId,
                Key(invoice.Id, Metrics.SubscriptionBilled, lines.Key), amount, invoice.Currency,
                Props(
                    ("Invoice", invoice.Id), ("Subscription", lines.Key), ("Billing Amount", Number(amount)),
                    ("Currency", invoice.Currency), ("Billing Length", length), ("Plan Level", planLevel)),
                invoice.Id));
        }

        return events;
    }

    /// <summary>
    /// Failed Payment for each failed attempt at an invoice, from the charges that tried to pay it (backfill,
    /// or a charge.failed event once its invoice is known). Pass all the charges linked to the invoice
    /// (see <see cref="InvoiceOfCharge"/>); the attempt ordinal is the failed charge's rank by time. A later
    /// success takes nothing away: the invoice's Successfully Paid is a separate fact.
    /// </summary>
    public static IReadOnlyList<MetricEvent> FailedPayments(InvoiceRecord invoice, IEnumerable<ChargeRecord> chargesOfInvoice)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        ArgumentNullException.ThrowIfNull(chargesOfInvoice);
        var customer = invoice.CustomerId;
        var failed = chargesOfInvoice
            .Where(IsFailed)
            .OrderBy(c => c.Created)
            .ThenBy(c => c.Id, StringComparer.Ordinal)
            .ToList();
        var events = new List<MetricEvent>(failed.Count);
        for (var i = 0; i < failed.Count; i++)
        {
            var charge = failed[i];
            var attempt = i + 1;
            if ((customer ?? charge.CustomerId) is not { } customerId)
            {
                continue;
            }

            events.Add(FailedPayment(
                invoice, customerId, attempt, charge.Created, charge.Amount, charge.Currency, charge.FailureMessage, charge.Id));
        }

        return events;
    }

    /// <summary>
    /// Failed Payment from an invoice.payment_failed event when only the invoice is known: the attempt is the
    /// invoice's attempt_count at that moment, the time the event's, the amount what was due. Same key as the
    /// charge-based derivation of the same attempt.
    /// </summary>
    public static MetricEvent? FailedPaymentFromInvoiceEvent(InvoiceRecord invoice, DateTimeOffset eventTime, string? failureMessage)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        if (invoice.CustomerId is null)
        {
            return null;
        }

        var attempt = Math.Max(invoice.AttemptCount, 1);
        return FailedPayment(invoice, invoice.CustomerId, attempt, eventTime, invoice.AmountDue, invoice.Currency, failureMessage, invoice.Id);
    }

    /// <summary>Failed Payment for a failed charge that pays no invoice.</summary>
    public static MetricEvent? FailedPayment(ChargeRecord oneOffCharge)
    {
        ArgumentNullException.ThrowIfNull(oneOffCharge);
        if (oneOffCharge.CustomerId is null || !IsFailed(oneOffCharge))
        {
            return null;
        }

        return new MetricEvent(
            Metrics.FailedPayment, oneOffCharge.Created, oneOffCharge.CustomerId, Key(oneOffCharge.Id, Metrics.FailedPayment),
            oneOffCharge.Amount, oneOffCharge.Currency,
            Props(
                ("Charge", oneOffCharge.Id), ("AttemptCount", "1"), ("Currency", oneOffCharge.Currency),
                ("Amount", Number(oneOffCharge.Amount)), ("Reason", oneOffCharge.FailureMessage)),
            oneOffCharge.Id);
    }

    private static MetricEvent FailedPayment(
        InvoiceRecord invoice, string customerId, long attempt, DateTimeOffset time, long amount, string currency,
        string? reason, string sourceId) =>
        new(
            Metrics.FailedPayment, time, customerId,
            Key(invoice.Id, Metrics.FailedPayment, attempt.ToString(CultureInfo.InvariantCulture)), amount, currency,
            Props(
                ("Invoice", invoice.Id), ("AttemptCount", Number(attempt)), ("Currency", currency),
                ("Amount", Number(amount)), ("Reason", reason)),
            sourceId);

    /// <summary>
    /// Refunded Payment for a succeeded refund (pending, failed and canceled refunds have not returned money yet
    /// or never will; a refund.updated to succeeded derives it then, at the refund's creation time). The charge
    /// supplies the customer; <paramref name="invoiceId"/> is the invoice the charge paid, if any.
    /// </summary>
    public static MetricEvent? RefundedPayment(RefundRecord refund, ChargeRecord? charge, string? invoiceId)
    {
        ArgumentNullException.ThrowIfNull(refund);
        var succeeded = refund.Status is null || string.Equals(refund.Status, "succeeded", StringComparison.Ordinal);
        if (!succeeded || charge?.CustomerId is not { } customerId)
        {
            return null;
        }

        return new MetricEvent(
            Metrics.RefundedPayment, refund.Created, customerId, Key(refund.Id, Metrics.RefundedPayment),
            refund.Amount, refund.Currency,
            Props(
                ("Amount", Number(refund.Amount)), ("Currency", refund.Currency), ("Charge", refund.ChargeId ?? charge.Id),
                ("Invoice", invoiceId), ("Reason", refund.Reason)),
            refund.Id);
    }

    /// <summary>
    /// Which invoice each charge paid or tried to pay, through invoice payments: by the payment's charge, or by
    /// its payment intent (every attempt on one payment intent is a charge of it).
    /// </summary>
    public static IReadOnlyDictionary<string, string> InvoiceOfCharge(
        IEnumerable<InvoicePaymentRecord> invoicePayments, IEnumerable<ChargeRecord> charges)
    {
        ArgumentNullException.ThrowIfNull(invoicePayments);
        ArgumentNullException.ThrowIfNull(charges);
        var byCharge = new Dictionary<string, string>(StringComparer.Ordinal);
        var byIntent = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var payment in invoicePayments)
        {
            if (payment.ChargeId is not null)
            {
                byCharge[payment.ChargeId] = payment.InvoiceId;
            }

            if (payment.PaymentIntentId is not null)
            {
                byIntent[payment.PaymentIntentId] = payment.InvoiceId;
            }
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var charge in charges)
        {
            if (byCharge.TryGetValue(charge.Id, out var invoiceId)
                || charge.PaymentIntentId is not null && byIntent.TryGetValue(charge.PaymentIntentId, out invoiceId))
            {
                result[charge.Id] = invoiceId;
            }
        }

        return result;
    }

    /// <summary>
    /// The subscription's events from its current state and, on the event path, the state before the change.
    /// Life-cycle facts come from the current state alone (so a backfill with no history derives them too):
    /// Subscription Started at start_date (once it got past incomplete), Trial Started at trial_start, Trial Ended
    /// at trial_end once that is ≤ <paramref name="now"/> (or at ended_at if it ended sooner), Subscription Canceled
    /// once the status is canceled, at ended_at, with reason, feedback and comment. A scheduled cancellation
    /// (cancel_at_period_end) is not yet a cancellation: the subscription still bills; the field
    /// stripe_cancel_at_period_end shows it. Upgraded / Downgraded need the previous state: the MRR run rate
    /// (<see cref="Mrr.RunRate"/>, both sides valued at <paramref name="changedAt"/>) going up or down decides;
    /// no change in MRR, no event. Amount is the size of the MRR change (always positive).
    /// </summary>
    public static IReadOnlyList<MetricEvent> ForSubscription(
        SubscriptionRecord? previous, SubscriptionRecord current, DateTimeOffset changedAt, Catalog catalog, DateTimeOffset now)
    {
        var events = new List<MetricEvent>(Lifecycle(current, catalog, now));
        if (previous is not null && Change(previous, current, changedAt, catalog) is { } change)
        {
            events.Add(change);
        }

        return events;
    }

    /// <summary>The life-cycle facts of a subscription known from its current state (see <see cref="ForSubscription"/>).</summary>
    public static IReadOnlyList<MetricEvent> Lifecycle(SubscriptionRecord subscription, Catalog catalog, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(catalog);
        var s = subscription;
        var plan = Plan(s, catalog);
        var events = new List<MetricEvent>();
        var started = s.Status is not ("incomplete" or "incomplete_expired");

        if (started)
        {
            var startedAt = s.StartDate ?? s.Created;
            var mrr = RunRate(s, catalog, startedAt);
            events.Add(SubscriptionEvent(
                Metrics.SubscriptionStarted, startedAt, s, null, mrr.Amount, mrr.Currency,
                ("Plan", plan), ("MRR after", Number(mrr.Amount)), ("Currency", mrr.Currency), ("Status", s.Status)));
        }

        if (s.TrialStart is { } trialStart)
        {
            events.Add(SubscriptionEvent(
                Metrics.TrialStarted, trialStart, s, null, null, null, ("Plan", plan), ("Trial end", Iso(s.TrialEnd))));
        }

        if (s.TrialStart is not null && s.TrialEnd is { } trialEnd)
        {
            var endedAt = s.EndedAt is { } ended && ended < trialEnd ? ended : trialEnd;
            if (endedAt <= now)
            {
                events.Add(SubscriptionEvent(
                    Metrics.TrialEnded, endedAt, s, null, null, null, ("Plan", plan), ("Trial end", Iso(endedAt))));
            }
        }

        if (string.Equals(s.Status, "canceled", StringComparison.Ordinal))
        {
            var canceledAt = s.EndedAt ?? s.CanceledAt ?? s.Created;
            var before = RunRate(s, catalog, canceledAt.AddTicks(-1));
            events.Add(SubscriptionEvent(
                Metrics.SubscriptionCanceled, canceledAt, s, null, before.Amount, before.Currency,
                ("Plan", plan), ("MRR before", Number(before.Amount)), ("MRR after", "0"), ("Currency", before.Currency),
                ("Canceled at", Iso(s.CanceledAt)), ("Cancellation reason", s.Cancellation?.Reason),
                ("Cancellation feedback", s.Cancellation?.Feedback), ("Cancellation comment", s.Cancellation?.Comment)));
        }

        return events;
    }

    /// <summary>Subscription Upgraded or Downgraded between two states of one subscription, or null if MRR didn't move.</summary>
    public static MetricEvent? Change(SubscriptionRecord previous, SubscriptionRecord current, DateTimeOffset changedAt, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(catalog);
        if (current.Status is "canceled" or "incomplete" or "incomplete_expired")
        {
            return null;
        }

        var before = RunRate(previous, catalog, changedAt);
        var after = RunRate(current, catalog, changedAt);
        var delta = after.Amount - before.Amount;
        if (delta == 0)
        {
            return null;
        }

        var metric = delta > 0 ? Metrics.SubscriptionUpgraded : Metrics.SubscriptionDowngraded;
        return SubscriptionEvent(
            metric, changedAt, current, changedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            Math.Abs(delta), after.Currency,
            ("Plan", Plan(current, catalog)), ("Previous plan", Plan(previous, catalog)),
            ("MRR before", Number(before.Amount)), ("MRR after", Number(after.Amount)), ("Currency", after.Currency));
    }

    /// <summary>
    /// Checkout Completed (status complete) or Checkout Abandoned (status expired, at expires_at). A session has no
    /// completion time of its own: the checkout.session.completed event's time is used when known
    /// (<paramref name="completedAt"/>), else the session's creation (a session lives at most 24 hours).
    /// A session without a customer is attributed by its email (<see cref="MetricEvent.Email"/>); with neither it
    /// names no one and yields nothing.
    /// </summary>
    public static MetricEvent? Checkout(CheckoutSessionRecord session, DateTimeOffset? completedAt, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(catalog);
        var email = Identity.NormaliseEmail(session.CustomerEmail);
        if (session.CustomerId is null && email is null)
        {
            return null;
        }

        var (metric, time) = session.Status switch
        {
            "complete" => (Metrics.CheckoutCompleted, completedAt ?? session.Created),
            "expired" => (Metrics.CheckoutAbandoned, session.ExpiresAt ?? session.Created),
            _ => (null, default(DateTimeOffset)),
        };
        if (metric is null)
        {
            return null;
        }

        var items = Join(session.Lines.Select(l => catalog.Product(l.ProductId ?? catalog.Price(l.PriceId)?.ProductId)?.Name ?? l.Description));
        return new MetricEvent(
            metric, time, session.CustomerId ?? string.Empty, Key(session.Id, metric), session.AmountTotal, session.Currency,
            Props(
                ("Amount", session.AmountTotal is { } total ? Number(total) : null), ("Currency", session.Currency),
                ("Items", items), ("Mode", session.Mode), ("Checkout session", session.Id)),
            session.Id)
        {
            Email = session.CustomerId is null ? email : null,
        };
    }

    /// <summary>An invoice that counts as an order: paid, with money moved.</summary>
    public static bool IsPaidOrder(InvoiceRecord invoice) =>
        invoice is not null && string.Equals(invoice.Status, "paid", StringComparison.Ordinal) && invoice.AmountPaid > 0;

    public static bool IsSucceeded(ChargeRecord charge) =>
        charge is not null && string.Equals(charge.Status, "succeeded", StringComparison.Ordinal) && charge.Paid;

    public static bool IsFailed(ChargeRecord charge) => string.Equals(charge?.Status, "failed", StringComparison.Ordinal);

    /// <summary>When an invoice was paid: paid_at, else (older data) when it was finalized or created.</summary>
    public static DateTimeOffset PaidTime(InvoiceRecord invoice)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        return invoice.PaidAt ?? invoice.FinalizedAt ?? invoice.Created;
    }

    /// <summary>What an invoice sold: its lines' product names (a line's description when it has no product), distinct, in order.</summary>
    public static IReadOnlyList<string> ItemNames(InvoiceRecord invoice, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        ArgumentNullException.ThrowIfNull(catalog);
        return invoice.Lines
            .Select(l => catalog.Product(l.ProductId ?? catalog.Price(l.PriceId)?.ProductId)?.Name ?? l.Description)
            .OfType<string>()
            .Where(n => n.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>A subscription's plan as a person reads it: its licensed items' plan names, joined.</summary>
    public static string? Plan(SubscriptionRecord subscription, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(catalog);
        return Join(subscription.Items.Select(i => catalog.PlanName(i.Price)));
    }

    private static (long Amount, string Currency) RunRate(SubscriptionRecord s, Catalog catalog, DateTimeOffset at)
    {
        var rate = Mrr.RunRate(s, catalog.Coupons, at);
        return (rate.GetValueOrDefault(s.Currency), s.Currency);
    }

    private static MetricEvent SubscriptionEvent(
        string metric, DateTimeOffset time, SubscriptionRecord s, string? qualifier, long? amount, string? currency,
        params (string Name, string? Value)[] properties) =>
        new(metric, time, s.CustomerId, Key(s.Id, metric, qualifier), amount, currency,
            Props([("Subscription", s.Id), .. properties]), s.Id);

    private static string? Items(InvoiceRecord invoice, Catalog catalog) => Join(ItemNames(invoice, catalog));

    private static string? Join(IEnumerable<string?> names)
    {
        var distinct = names.OfType<string>().Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        return distinct.Count == 0 ? null : string.Join(", ", distinct);
    }

    private static string Months(decimal months) =>
        Math.Round(months, 4, MidpointRounding.AwayFromZero).ToString("0.####", CultureInfo.InvariantCulture);

    internal static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    internal static string? Iso(DateTimeOffset? time) =>
        time?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    // Properties without a value are left out rather than stored as empty strings.
    private static Dictionary<string, string> Props(params (string Name, string? Value)[] properties)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in properties)
        {
            if (value is not null)
            {
                result[name] = value;
            }
        }

        return result;
    }
}
