using System.Globalization;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Stripe;
using Stripe.Checkout;

namespace StripeSync.Simulator.Data;

/// <summary>
/// The simulated Stripe account: both modes' data, the events log, and the operations that change it (used by
/// the generator for history and by the control API for scripted changes). Tests read it to compute expected
/// values independently of StripeSync.
/// </summary>
public sealed class SimulatorAccount
{
    public const string ApiVersion = "2026-10-28.endive";
    public static readonly TimeSpan EventRetention = TimeSpan.FromDays(30);

    private readonly Lock gate = new();

    internal SimulatorAccount(SimulatorOptions options)
    {
        Options = options;
        Now = options.Now ?? new DateTimeOffset(options.Clock.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero);
        Ids = new Ids(options.Seed);
        AccountId = "acct_1" + Ids.Next("x")[2..] + "S";
        Live = new ModeData(livemode: true);
        Test = new ModeData(livemode: false);
    }

    public SimulatorOptions Options { get; }

    /// <summary>The "now" the history was generated up to.</summary>
    public DateTimeOffset Now { get; }

    public string AccountId { get; }

    internal Ids Ids { get; }
    internal ModeData Live { get; }
    internal ModeData Test { get; }

    /// <summary>Called for every event created after generation (webhook delivery hooks in here).</summary>
    internal event Action<ModeData, string>? EventCreated;

    internal ModeData Mode(bool livemode) => livemode ? Live : Test;

    /// <summary>
    /// Moves on after every change (<see cref="Changed"/>): the JSON cached for an object is only served while the
    /// generation it was made in is current.
    /// </summary>
    internal long Generation => Interlocked.Read(ref generation);

    /// <summary>Called when a change is complete, so no cached JSON from before it (or from during it) is served again.</summary>
    internal void Changed() => Interlocked.Increment(ref generation);

    private long generation;

    /// <summary>The time of a change made now (live activity and control API): never before the generated history.</summary>
    internal DateTimeOffset ChangeTime()
    {
        var clock = Options.Clock.GetUtcNow();
        return clock > Now ? clock : Now.AddSeconds(1);
    }

    /// <summary>True while the history is generated: objects are appended unsorted and events are not delivered.</summary>
    private bool generating;
    private readonly Dictionary<(string Invoice, string Intent), InvoicePayment> paymentsByIntent = [];
    private readonly Dictionary<string, List<Stripe.Charge>> chargesByCustomer = new(StringComparer.Ordinal);

    internal void Generate()
    {
        generating = true;
        new Generator(this, Live, Options.Seed, Now).Generate(Options.Customers);
        new Generator(this, Test, Options.Seed + 7919, Now).Generate(Math.Max(5, Options.Customers / 10));
        generating = false;
    }

    /// <summary>Adds an object: unsorted while generating (sorted once at the end), in place afterwards.</summary>
    internal void Store(ObjectList list, Entry entry)
    {
        if (generating)
        {
            list.AddUnsorted(entry);
        }
        else
        {
            list.Add(entry);
        }
    }

    // ---- Reading, for tests' independent calculations -------------------------------------------------------

    /// <summary>Every object of a resource in one mode, oldest first, as Stripe.net entities.</summary>
    public IReadOnlyList<T> All<T>(bool livemode) where T : IHasObject
    {
        var mode = Mode(livemode);
        var list = typeof(T).Name switch
        {
            nameof(Customer) => mode.Customers,
            nameof(Product) => mode.Products,
            nameof(Stripe.Price) => mode.Prices,
            nameof(Coupon) => mode.Coupons,
            nameof(Subscription) => mode.Subscriptions,
            nameof(Invoice) => mode.Invoices,
            nameof(InvoicePayment) => mode.InvoicePayments,
            nameof(Stripe.Charge) => mode.Charges,
            nameof(Stripe.Refund) => mode.Refunds,
            nameof(Session) => mode.CheckoutSessions,
            nameof(PaymentMethod) => mode.PaymentMethods,
            nameof(PaymentIntent) => mode.PaymentIntents,
            _ => throw new ArgumentException($"No list of {typeof(T).Name}."),
        };
        return [.. list.All().Select(e => (T)e.Entity)];
    }

    /// <summary>The JSON of every event in one mode, oldest first.</summary>
    public IReadOnlyList<string> EventsJson(bool livemode) => [.. Mode(livemode).Events.All().Select(e => e.Json!)];

    // ---- Operations ---------------------------------------------------------------------------------------

    internal Subscription NewSubscription(ModeData mode, Customer customer, PaymentMethod card, IReadOnlyList<(Stripe.Price Price, long Quantity)> items, DateTimeOffset started, int trialDays)
    {
        var id = Ids.Next("sub");
        var subscription = new Subscription
        {
            Id = id, Object = "subscription", CustomerId = customer.Id, Status = trialDays > 0 ? "trialing" : "active",
            Currency = items[0].Price.Currency, Created = started.UtcDateTime, StartDate = started.UtcDateTime,
            BillingCycleAnchor = started.AddDays(trialDays).UtcDateTime, CollectionMethod = "charge_automatically",
            TrialStart = trialDays > 0 ? started.UtcDateTime : null, TrialEnd = trialDays > 0 ? started.AddDays(trialDays).UtcDateTime : null,
            Livemode = mode.Livemode, Metadata = [], DefaultPaymentMethodId = card.Id, CancelAtPeriodEnd = false,
            CancellationDetails = new SubscriptionCancellationDetails(), Discounts = [], DefaultTaxRates = [],
            Items = new StripeList<SubscriptionItem> { Object = "list", Data = [], HasMore = false, Url = $"/v1/subscription_items?subscription={id}" },
        };
        foreach (var (price, quantity) in items)
        {
            AddItem(subscription, price, quantity);
        }

        Store(mode.Subscriptions, new Entry(id, started.ToUnixTimeSeconds(), subscription));
        EventAt(mode, "customer.subscription.created", subscription, started);
        return subscription;
    }

    internal void AddItem(Subscription subscription, Stripe.Price price, long quantity) =>
        subscription.Items.Data.Add(new SubscriptionItem
        {
            Id = Ids.Next("si"), Object = "subscription_item", Created = subscription.Created, Price = price, Plan = PlanOf(price),
            Quantity = quantity, Subscription = subscription.Id, Metadata = [], Discounts = [], TaxRates = [],
            CurrentPeriodStart = subscription.StartDate, CurrentPeriodEnd = subscription.StartDate,
        });

    // Stripe.net's Discounts getter builds a new list each time: add by assigning a new list.
    internal void AddDiscount(Subscription subscription, Coupon coupon, DateTimeOffset start) =>
        subscription.Discounts = [.. subscription.Discounts ?? [], new Discount
        {
            Id = Ids.Next("di"), Object = "discount", CustomerId = subscription.CustomerId, Subscription = subscription.Id,
            Start = start.UtcDateTime,
            End = coupon.Duration == "repeating" ? start.AddMonths((int)(coupon.DurationInMonths ?? 1)).UtcDateTime : null,
            Source = new DiscountSource { Type = "coupon", CouponId = coupon.Id },
        }];

    /// <summary>
    /// Bills a subscription from its start to <paramref name="until"/>: a $0 invoice for a trial, then one invoice
    /// per billing period, paid by a charge, sometimes after failed attempts; the last ones left unpaid for
    /// past_due, unpaid and incomplete subscriptions.
    /// </summary>
    internal void BillHistory(Subscription subscription, DateTimeOffset started, DateTimeOffset until, string finalStatus,
        (string Code, string Message) decline, Random random, Stripe.Price? setupFee, int firstNumber)
    {
        var mode = Mode(subscription.Livemode);
        var baseItem = subscription.Items.Data[0].Price.Recurring!;
        var periodStart = started;
        var number = firstNumber;
        if (subscription.TrialEnd is { } trialEnd)
        {
            var trialEnds = new DateTimeOffset(trialEnd);
            Invoice(subscription, periodStart, trialEnds > now(until) ? trialEnds : trialEnds, "subscription_create", number++, zero: true, setupFee: null,
                outcome: Outcome.Paid, decline, random);
            if (trialEnds >= until)
            {
                SetPeriod(subscription, periodStart, trialEnds);
                return;
            }

            periodStart = trialEnds;
            subscription.Status = "active";
            EventAt(mode, "customer.subscription.updated", subscription, periodStart,
                previous: new JObject { ["status"] = "trialing" });
        }

        // An incomplete subscription is so from its first invoice on: Stripe voids that invoice when it expires.
        if (finalStatus is "incomplete" or "incomplete_expired")
        {
            subscription.Status = finalStatus;
        }

        var periods = new List<(DateTimeOffset Start, DateTimeOffset End)>();
        for (var p = periodStart; p < until && periods.Count < 400; p = Advance(p, baseItem.Interval, baseItem.IntervalCount))
        {
            periods.Add((p, Advance(p, baseItem.Interval, baseItem.IntervalCount)));
        }

        // Long histories of daily and weekly plans keep their last 60 invoices (a realistic page count).
        var billed = periods.Count > 60 ? periods[^60..] : periods;
        for (var i = 0; i < billed.Count; i++)
        {
            var last = i == billed.Count - 1;
            var outcome = finalStatus switch
            {
                "past_due" when last => Outcome.Failing,
                "unpaid" when i >= billed.Count - 2 => Outcome.Failing,
                "incomplete" or "incomplete_expired" when i == 0 => Outcome.Failing,
                _ when random.NextDouble() < 0.08 => Outcome.FailedThenPaid,
                _ => Outcome.Paid,
            };
            var reason = periods.Count == billed.Count && i == 0 && subscription.TrialEnd is null ? "subscription_create" : "subscription_cycle";
            Invoice(subscription, billed[i].Start, billed[i].End, reason, number++, zero: false,
                setupFee: i == 0 ? setupFee : null, outcome, decline, random, proration: i > 0 && random.NextDouble() < 0.05);
            if (finalStatus is "incomplete" or "incomplete_expired")
            {
                break;
            }
        }

        if (billed.Count > 0)
        {
            SetPeriod(subscription, billed[^1].Start, billed[^1].End);
        }

        subscription.Status = finalStatus == "canceled" ? subscription.Status : finalStatus;
        static DateTimeOffset now(DateTimeOffset until) => until;
    }

    internal enum Outcome
    {
        Paid,
        FailedThenPaid,
        Failing,
    }

    internal Invoice Invoice(Subscription subscription, DateTimeOffset periodStart, DateTimeOffset periodEnd, string reason, int number,
        bool zero, Stripe.Price? setupFee, Outcome outcome, (string Code, string Message) decline, Random random, bool proration = false)
    {
        var mode = Mode(subscription.Livemode);
        var id = Ids.Next("in");
        var lines = new List<InvoiceLineItem>();
        foreach (var item in subscription.Items.Data)
        {
            if (item.Price.Recurring?.UsageType == "metered")
            {
                continue;
            }

            var amount = zero ? 0 : AmountOf(item.Price, item.Quantity);
            lines.Add(Line(id, subscription, item, amount, periodStart, periodEnd, prorated: false,
                $"{item.Quantity} × {item.Price.Nickname} (at {Money(item.Price.UnitAmount ?? 0, item.Price.Currency)} / {item.Price.Recurring?.Interval})"));
        }

        if (proration)
        {
            var item = subscription.Items.Data[0];
            var amount = AmountOf(item.Price, item.Quantity) / 3;
            lines.Add(Line(id, subscription, item, amount, periodStart, periodStart.AddDays(10), prorated: true,
                $"Remaining time on {item.Quantity} × {item.Price.Nickname} after plan change"));
        }

        if (setupFee is not null && !zero)
        {
            lines.Add(new InvoiceLineItem
            {
                Id = Ids.Next("il"), Object = "line_item", Amount = setupFee.UnitAmount ?? 0, Currency = setupFee.Currency,
                Description = setupFee.Nickname, Quantity = 1, Livemode = subscription.Livemode, Metadata = [], Discountable = true,
                Invoice = id, DiscountAmounts = [], Discounts = [], Taxes = [], PretaxCreditAmounts = [],
                Period = new InvoiceLineItemPeriod { Start = periodStart.UtcDateTime, End = periodStart.UtcDateTime },
                Pricing = new InvoiceLineItemPricing
                {
                    Type = "price_details", UnitAmountDecimal = setupFee.UnitAmount,
                    PriceDetails = new InvoiceLineItemPricingPriceDetails { PriceId = setupFee.Id, Product = setupFee.ProductId },
                },
                Parent = new InvoiceLineItemParent
                {
                    Type = "invoice_item_details",
                    InvoiceItemDetails = new InvoiceLineItemParentInvoiceItemDetails { InvoiceItem = Ids.Next("ii"), Proration = false, ProrationDetails = null, Subscription = subscription.Id },
                },
            });
        }

        // Subscription discounts still in force on this period's start come off the subscription lines.
        foreach (var discount in subscription.Discounts)
        {
            var coupon = (Coupon)mode.Coupons.Get(discount.Source.CouponId)!.Entity;
            var applies = coupon.Duration switch
            {
                "once" => Math.Abs((periodStart - new DateTimeOffset(discount.Start)).TotalDays) < 1,
                "repeating" => periodStart < new DateTimeOffset(discount.End!.Value) && periodStart >= new DateTimeOffset(discount.Start).AddDays(-1),
                _ => periodStart >= new DateTimeOffset(discount.Start).AddDays(-1),
            };
            if (!applies)
            {
                continue;
            }

            var remainingOff = coupon.AmountOff ?? 0;
            foreach (var line in lines.Where(l => l.Parent.Type == "subscription_item_details" && !l.Parent.SubscriptionItemDetails.Proration && l.Amount > 0))
            {
                var off = coupon.PercentOff is { } percent
                    ? (long)Math.Round(line.Amount * percent / 100m, MidpointRounding.AwayFromZero)
                    : Math.Min(remainingOff, line.Amount - line.DiscountAmounts.Sum(d => d.Amount));
                if (coupon.AmountOff is not null && coupon.Currency != line.Currency)
                {
                    off = 0;
                }

                remainingOff -= coupon.PercentOff is null ? off : 0;
                if (off > 0)
                {
                    line.DiscountAmounts.Add(new InvoiceLineItemDiscountAmount { Amount = off, DiscountId = discount.Id });
                }
            }
        }

        var subtotal = lines.Sum(l => l.Amount);
        var total = subtotal - lines.Sum(l => l.DiscountAmounts.Sum(d => d.Amount));
        var customer = (Customer)mode.Customers.Get(subscription.CustomerId)!.Entity;
        // History finalizes an hour after the invoice is drafted; a change made now finalizes at once.
        var finalized = generating ? periodStart.AddHours(1) : periodStart;
        var invoice = new Invoice
        {
            Id = id, Object = "invoice", CustomerId = subscription.CustomerId, Created = periodStart.UtcDateTime, Currency = subscription.Currency,
            Number = $"{customer.InvoicePrefix}-{number:D4}", Status = "open", BillingReason = reason, CollectionMethod = "charge_automatically",
            Subtotal = subtotal, SubtotalExcludingTax = subtotal, Total = total, TotalExcludingTax = total, AmountDue = total, AmountPaid = 0,
            AmountRemaining = total, AmountShipping = 0, AttemptCount = 0, Attempted = false, AutoAdvance = true, Livemode = subscription.Livemode,
            Metadata = [], PeriodStart = periodStart.UtcDateTime, PeriodEnd = periodEnd.UtcDateTime, StartingBalance = 0, EndingBalance = 0,
            CustomerEmail = customer.Email, CustomerName = customer.Name, TotalTaxes = [], TotalDiscountAmounts = [], Discounts = [],
            AccountCountry = "US", AccountName = "Simulated Stripe account", DefaultTaxRates = [], CustomFields = null,
            TotalPretaxCreditAmounts = [], PostPaymentCreditNotesAmount = 0, PrePaymentCreditNotesAmount = 0, AmountOverpaid = 0,
            AmountPaidOffStripe = 0, EffectiveAt = finalized.UtcDateTime, WebhooksDeliveredAt = finalized.UtcDateTime,
            StatusTransitions = new InvoiceStatusTransitions { FinalizedAt = finalized.UtcDateTime },
            Parent = new InvoiceParent
            {
                Type = "subscription_details",
                SubscriptionDetails = new InvoiceParentSubscriptionDetails { SubscriptionId = subscription.Id, Metadata = [] },
            },
            Lines = new StripeList<InvoiceLineItem> { Object = "list", Data = lines, HasMore = false, Url = $"/v1/invoices/{id}/lines" },
        };
        Store(mode.Invoices, new Entry(id, periodStart.ToUnixTimeSeconds(), invoice));
        subscription.LatestInvoiceId = id;
        EventAt(mode, "invoice.finalized", invoice, finalized);

        var card = (PaymentMethod?)mode.PaymentMethods.Get(subscription.DefaultPaymentMethodId ?? "")?.Entity;
        if (total == 0)
        {
            MarkPaid(mode, invoice, finalized, paidBy: null);
            return invoice;
        }

        var intent = Ids.Next("pi");
        var attempt = finalized;
        var failures = outcome switch { Outcome.FailedThenPaid => 1 + random.Next(0, 2), Outcome.Failing => 1 + random.Next(0, 3), _ => 0 };
        for (var f = 0; f < failures && Happened(attempt); f++)
        {
            var failed = Charge(mode, subscription.CustomerId, card, total, invoice.Currency, attempt, $"Subscription update", decline, intent);
            invoice.AttemptCount++;
            invoice.Attempted = true;
            InvoicePayment(mode, invoice, intent, failed.Id, paid: false, attempt);
            EventAt(mode, "invoice.payment_failed", invoice, attempt);
            // Stripe's smart retries come days apart; a retry made now (control API) follows within seconds.
            attempt = generating ? attempt.AddDays(3) : attempt.AddSeconds(2);
        }

        if (outcome != Outcome.Failing && Happened(attempt))
        {
            var charge = Charge(mode, subscription.CustomerId, card, total, invoice.Currency, attempt, "Subscription update", null, intent);
            invoice.AttemptCount++;
            invoice.Attempted = true;
            InvoicePayment(mode, invoice, intent, charge.Id, paid: true, attempt);
            MarkPaid(mode, invoice, attempt, charge);
        }
        else if (outcome == Outcome.Failing && subscription.Status == "incomplete_expired")
        {
            invoice.Status = "void";
            invoice.StatusTransitions.VoidedAt = attempt.AddDays(1).UtcDateTime;
        }

        return invoice;
    }

    /// <summary>While generating, only what lies before "now" has happened; a change made now always has.</summary>
    private bool Happened(DateTimeOffset at) => !generating || at < Now;

    internal void MarkPaid(ModeData mode, Invoice invoice, DateTimeOffset at, Stripe.Charge? paidBy)
    {
        invoice.Status = "paid";
        invoice.AmountPaid = invoice.Total;
        invoice.AmountRemaining = 0;
        invoice.StatusTransitions.PaidAt = at.UtcDateTime;
        EventAt(mode, "invoice.paid", invoice, at);
    }

    internal InvoicePayment InvoicePayment(ModeData mode, Invoice invoice, string intent, string chargeId, bool paid, DateTimeOffset at)
    {
        // One invoice payment per payment intent: it stays open through failed attempts and turns paid on success.
        if (paymentsByIntent.TryGetValue((invoice.Id, intent), out var existing))
        {
            existing.Payment.ChargeId = chargeId;
            existing.Status = paid ? "paid" : "open";
            existing.AmountPaid = paid ? invoice.Total : 0;
            existing.StatusTransitions.PaidAt = paid ? at.UtcDateTime : null;
            if (paid)
            {
                EventAt(mode, "invoice_payment.paid", existing, at);
            }

            return existing;
        }

        var payment = new InvoicePayment
        {
            Id = Ids.Next("inpay"), Object = "invoice_payment", InvoiceId = invoice.Id, Created = at.UtcDateTime, Currency = invoice.Currency,
            AmountRequested = invoice.Total, AmountPaid = paid ? invoice.Total : 0, IsDefault = true, Livemode = invoice.Livemode,
            Status = paid ? "paid" : "open",
            Payment = new InvoicePaymentPayment { Type = "payment_intent", PaymentIntentId = intent, ChargeId = chargeId },
            StatusTransitions = new InvoicePaymentStatusTransitions { PaidAt = paid ? at.UtcDateTime : null },
        };
        Store(mode.InvoicePayments, new Entry(payment.Id, at.ToUnixTimeSeconds(), payment));
        paymentsByIntent[(invoice.Id, intent)] = payment;
        if (paid)
        {
            EventAt(mode, "invoice_payment.paid", payment, at);
        }

        return payment;
    }

    internal Stripe.Charge Charge(ModeData mode, string customerId, PaymentMethod? card, long amount, string currency, DateTimeOffset at,
        string description, (string Code, string Message)? decline, string paymentIntent, bool announce = true)
    {
        var succeeded = decline is null;
        var charge = new Stripe.Charge
        {
            Id = Ids.Next("ch"), Object = "charge", Amount = amount, AmountCaptured = succeeded ? amount : 0, AmountRefunded = 0,
            Currency = currency, CustomerId = customerId, Created = at.UtcDateTime, Description = description, Paid = succeeded,
            Captured = succeeded, Status = succeeded ? "succeeded" : "failed", Refunded = false, Disputed = false, Livemode = mode.Livemode,
            Metadata = [], PaymentIntentId = paymentIntent, PaymentMethod = card?.Id, FailureCode = decline?.Code, FailureMessage = decline?.Message,
            BalanceTransactionId = succeeded ? Ids.Next("txn") : null, CalculatedStatementDescriptor = "SIMULATED",
            ReceiptUrl = succeeded ? $"https://pay.stripe.com/receipts/{Ids.Next("rcpt")}" : null,
            BillingDetails = new ChargeBillingDetails(), FraudDetails = new ChargeFraudDetails(),
            Outcome = new ChargeOutcome
            {
                NetworkStatus = succeeded ? "approved_by_network" : "declined_by_network", Reason = decline?.Code, RiskLevel = "normal",
                SellerMessage = succeeded ? "Payment complete." : "The bank did not return any further details with this decline.",
                Type = succeeded ? "authorized" : "issuer_declined",
            },
            PaymentMethodDetails = card?.Card is { } c ? new ChargePaymentMethodDetails
            {
                Type = "card",
                Card = new ChargePaymentMethodDetailsCard { Brand = c.Brand, Last4 = c.Last4, ExpMonth = c.ExpMonth, ExpYear = c.ExpYear, Country = c.Country, Funding = c.Funding },
            } : null,
        };
        Store(mode.Charges, new Entry(charge.Id, at.ToUnixTimeSeconds(), charge));
        Attempt(mode, charge, card, decline);
        if (!chargesByCustomer.TryGetValue(customerId, out var ofCustomer))
        {
            chargesByCustomer[customerId] = ofCustomer = [];
        }

        ofCustomer.Add(charge);
        if (announce)
        {
            EventAt(mode, succeeded ? "charge.succeeded" : "charge.failed", charge, at);
        }

        return charge;
    }

    /// <summary>
    /// The charge's payment intent: created by its first attempt, and each later attempt (an invoice's retries share
    /// one intent) makes it the latest charge. A failed attempt leaves the intent waiting for a new payment method,
    /// a successful one completes it, as Stripe's automatic confirmation does.
    /// </summary>
    private void Attempt(ModeData mode, Stripe.Charge charge, PaymentMethod? card, (string Code, string Message)? decline)
    {
        if (mode.PaymentIntents.Get(charge.PaymentIntentId)?.Entity is not PaymentIntent intent)
        {
            intent = new PaymentIntent
            {
                Id = charge.PaymentIntentId, Object = "payment_intent", Amount = charge.Amount, Currency = charge.Currency, CustomerId = charge.CustomerId,
                Created = charge.Created, Description = charge.Description, Livemode = charge.Livemode, Metadata = [], CaptureMethod = "automatic",
                ConfirmationMethod = "automatic", PaymentMethodTypes = ["card"], AmountDetails = new PaymentIntentAmountDetails(),
                ClientSecret = charge.PaymentIntentId + "_secret_" + charge.Id[3..],
            };
            Store(mode.PaymentIntents, new Entry(intent.Id, new DateTimeOffset(charge.Created).ToUnixTimeSeconds(), intent));
        }

        var succeeded = decline is null;
        intent.LatestChargeId = charge.Id;
        intent.PaymentMethodId = succeeded ? card?.Id : null;
        intent.Status = succeeded ? "succeeded" : "requires_payment_method";
        intent.AmountReceived = succeeded ? charge.Amount : 0;
        intent.LastPaymentError = decline is { } d
            ? new StripeError { Type = "card_error", Code = d.Code, Message = d.Message }
            : null;
    }

    internal Stripe.Refund Refund(ModeData mode, Stripe.Charge charge, long amount, string reason, DateTimeOffset at)
    {
        amount = Math.Min(amount, charge.Amount - charge.AmountRefunded);
        var refund = new Stripe.Refund
        {
            Id = Ids.Next("re"), Object = "refund", Amount = amount, ChargeId = charge.Id, Created = at.UtcDateTime, Currency = charge.Currency,
            PaymentIntentId = charge.PaymentIntentId, Reason = reason, Status = "succeeded", Metadata = [], BalanceTransactionId = Ids.Next("txn"),
        };
        var previousRefunded = charge.AmountRefunded;
        charge.AmountRefunded += amount;
        charge.Refunded = charge.AmountRefunded >= charge.Amount;
        Store(mode.Refunds, new Entry(refund.Id, at.ToUnixTimeSeconds(), refund));
        EventAt(mode, "charge.refunded", charge, at, previous: new JObject { ["amount_refunded"] = previousRefunded, ["refunded"] = false });
        EventAt(mode, "refund.created", refund, at);
        return refund;
    }

    /// <param name="feedback">The customer's answer; none when the customer did not cancel it themselves (a deleted customer).</param>
    internal void Cancel(Subscription subscription, DateTimeOffset at, string? feedback, string reason)
    {
        var mode = Mode(subscription.Livemode);
        var previousStatus = subscription.Status;
        subscription.Status = "canceled";
        subscription.CanceledAt = at.UtcDateTime;
        subscription.EndedAt = at.UtcDateTime;
        subscription.CancellationDetails = new SubscriptionCancellationDetails
        {
            Reason = reason, Feedback = feedback, Comment = feedback is not null && reason == "cancellation_requested" ? "Moving to another tool" : null,
        };
        EventAt(mode, "customer.subscription.deleted", subscription, at, previous: new JObject { ["status"] = previousStatus });
    }

    internal Session CheckoutSession(ModeData mode, string? customerId, string? email, Stripe.Price price, bool complete, DateTimeOffset created)
    {
        var id = Ids.Next("cs");
        var amount = price.UnitAmount ?? 0;
        var session = new Session
        {
            Id = id, Object = "checkout.session", Created = created.UtcDateTime, CustomerId = customerId, CustomerEmail = customerId is null ? email : null,
            CustomerDetails = email is null ? null : new SessionCustomerDetails { Email = email },
            Status = complete ? "complete" : "expired", PaymentStatus = complete ? "paid" : "unpaid", Mode = price.Type == "recurring" ? "subscription" : "payment",
            AmountSubtotal = amount, AmountTotal = amount, Currency = price.Currency, ExpiresAt = created.AddHours(24).UtcDateTime, Livemode = mode.Livemode,
            Metadata = [], SuccessUrl = "https://example.com/success", CancelUrl = "https://example.com/cancel", UiMode = "hosted", Locale = null,
            PaymentMethodTypes = ["card"], Url = null, AllowPromotionCodes = null, BillingAddressCollection = null,
            TotalDetails = new SessionTotalDetails { AmountDiscount = 0, AmountShipping = 0, AmountTax = 0 },
            LineItems = new StripeList<LineItem>
            {
                Object = "list", HasMore = false, Url = $"/v1/checkout/sessions/{id}/line_items",
                Data = [new LineItem
                {
                    Id = Ids.Next("li"), Object = "item", AmountSubtotal = amount, AmountTotal = amount, AmountDiscount = 0, AmountTax = 0,
                    Currency = price.Currency, Description = price.Nickname, Price = price, Quantity = 1, Metadata = [],
                }],
            },
        };
        Store(mode.CheckoutSessions, new Entry(id, created.ToUnixTimeSeconds(), session));
        EventAt(mode, complete ? "checkout.session.completed" : "checkout.session.expired", session,
            complete ? created.AddMinutes(3) : created.AddHours(24));
        return session;
    }

    internal IReadOnlyList<Stripe.Charge> ChargesOf(string customerId) =>
        chargesByCustomer.TryGetValue(customerId, out var charges) ? [.. charges] : [];

    /// <summary>
    /// Records an event if it happened within Stripe's 30-day window. While generating, events are only logged;
    /// afterwards they are also handed to webhook delivery.
    /// </summary>
    internal void EventAt(ModeData mode, string type, IHasObject entity, DateTimeOffset at, JObject? previous = null)
    {
        if (at < Now - EventRetention || (generating && at > Now))
        {
            return;
        }

        var id = Ids.Next("evt");
        var data = new JObject { ["object"] = JObject.Parse(StripeJson.Serialize(entity)) };
        if (previous is not null)
        {
            data["previous_attributes"] = previous;
        }

        var json = new JObject
        {
            ["id"] = id,
            ["object"] = "event",
            ["api_version"] = ApiVersion,
            ["created"] = at.ToUnixTimeSeconds(),
            ["data"] = data,
            ["livemode"] = mode.Livemode,
            ["pending_webhooks"] = mode.WebhookEndpoints.Count,
            ["request"] = new JObject { ["id"] = generating ? null : "req_" + id[4..], ["idempotency_key"] = null },
            ["type"] = type,
        }.ToString(Formatting.None);
        var entry = new Entry(id, at.ToUnixTimeSeconds(), new Event { Id = id, Object = "event", Type = type }) { Json = json };
        if (generating)
        {
            mode.Events.AddUnsorted(entry);
        }
        else
        {
            lock (gate)
            {
                mode.Events.Add(entry);
            }

            EventCreated?.Invoke(mode, json);
        }
    }

    internal static long AmountOf(Stripe.Price price, long quantity)
    {
        if (price.BillingScheme != "tiered" || price.Tiers is null)
        {
            return (price.UnitAmount ?? 0) * quantity;
        }

        long total = 0, below = 0;
        foreach (var tier in price.Tiers)
        {
            if (quantity <= below)
            {
                break;
            }

            var upTo = tier.UpTo ?? long.MaxValue;
            var units = Math.Min(quantity, upTo) - below;
            total += (units * (tier.UnitAmount ?? 0)) + (tier.FlatAmount ?? 0);
            below = upTo;
        }

        return total;
    }

    internal static DateTimeOffset Advance(DateTimeOffset from, string interval, long count) => interval switch
    {
        "day" => from.AddDays(count),
        "week" => from.AddDays(7 * count),
        "year" => from.AddYears((int)count),
        _ => from.AddMonths((int)count),
    };

    private static void SetPeriod(Subscription subscription, DateTimeOffset start, DateTimeOffset end)
    {
        foreach (var item in subscription.Items.Data)
        {
            item.CurrentPeriodStart = start.UtcDateTime;
            item.CurrentPeriodEnd = end.UtcDateTime;
        }
    }

    private InvoiceLineItem Line(string invoiceId, Subscription subscription, SubscriptionItem item, long amount, DateTimeOffset start, DateTimeOffset end,
        bool prorated, string description) => new()
    {
        Id = Ids.Next("il"), Object = "line_item", Amount = amount, Currency = item.Price.Currency, Description = description,
        Quantity = item.Quantity, Livemode = subscription.Livemode, Metadata = [], Discountable = true, Invoice = invoiceId,
        DiscountAmounts = [], Discounts = [], Taxes = [], PretaxCreditAmounts = [],
        Period = new InvoiceLineItemPeriod { Start = start.UtcDateTime, End = end.UtcDateTime },
        Pricing = new InvoiceLineItemPricing
        {
            Type = "price_details", UnitAmountDecimal = item.Price.UnitAmount,
            PriceDetails = new InvoiceLineItemPricingPriceDetails { PriceId = item.Price.Id, Product = item.Price.ProductId },
        },
        Parent = new InvoiceLineItemParent
        {
            Type = "subscription_item_details",
            SubscriptionItemDetails = new InvoiceLineItemParentSubscriptionItemDetails
            {
                Proration = prorated, Subscription = subscription.Id, SubscriptionItem = item.Id, InvoiceItem = prorated ? Ids.Next("ii") : null,
            },
        },
    };

    private static Plan PlanOf(Stripe.Price price) => new()
    {
        Id = price.Id, Object = "plan", Active = price.Active, Amount = price.UnitAmount, AmountDecimal = price.UnitAmountDecimal,
        BillingScheme = price.BillingScheme, Created = price.Created, Currency = price.Currency, Interval = price.Recurring?.Interval,
        IntervalCount = price.Recurring?.IntervalCount ?? 1, Livemode = price.Livemode, Metadata = [], Nickname = price.Nickname,
        ProductId = price.ProductId, TiersMode = price.TiersMode, UsageType = price.Recurring?.UsageType,
    };

    private static string Money(long amount, string currency) =>
        (amount / 100m).ToString("0.00", CultureInfo.InvariantCulture) + " " + currency.ToUpperInvariant();
}
