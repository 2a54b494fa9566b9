using StripeSync.Core.Processing;
using StripeSync.Core.StripeApi;
using static StripeSync.Tests.Processing.Build;

namespace StripeSync.Tests.Processing;

public sealed class MetricDerivationTests
{
    private static readonly Catalog Catalog = Catalog.From(
        products:
        [
            new ProductRecord("prod_basic", false, T0, "Basic", true, false),
            new ProductRecord("prod_pro", false, T0, "Pro", true, false),
            new ProductRecord("prod_setup", false, T0, "Onboarding", true, false),
        ],
        prices:
        [
            Price(3000, id: "price_basic", product: "prod_basic"),
            Price(9000, id: "price_pro", product: "prod_pro", nickname: "Pro monthly"),
            Price(60_000, "year", id: "price_pro_year", product: "prod_pro"),
            Price(700, "week", id: "price_weekly", product: "prod_basic"),
            OneOffPrice(10_000, id: "price_setup", product: "prod_setup"),
        ],
        coupons: [PercentOff(50)]);

    [Fact]
    public void Customer_created_is_dated_at_the_stripe_creation_time()
    {
        var customer = Customer("cus_9", created: Day(-400));

        var e = MetricDerivation.CustomerCreated(customer);

        Assert.Equal((Metrics.CustomerCreated, Day(-400), "cus_9", "cus_9:Customer Created"), (e.Metric, e.Time, e.CustomerId, e.NaturalKey));
        Assert.Equal("cus_9", e.Properties["Stripe id"]);
    }

    [Fact]
    public void Issued_invoice_carries_total_items_and_due_date()
    {
        var invoice = Invoice("in_7").SubscriptionLine(3000).OneOffLine(10_000).Finalized(Day(1), due: Day(15)).Build();

        var e = MetricDerivation.IssuedInvoice(invoice, Catalog)!;

        Assert.Equal((Day(1), "in_7:Issued Invoice", 13_000L), (e.Time, e.NaturalKey, e.Amount!.Value));
        Assert.Equal("13000", e.Properties["Amount"]);
        Assert.Equal("usd", e.Properties["Currency"]);
        Assert.Equal("Basic, Onboarding", e.Properties["Items"]);
        Assert.Equal("2026-01-16T00:00:00Z", e.Properties["Due date"]);
    }

    [Fact]
    public void A_draft_invoice_is_not_issued()
    {
        Assert.Null(MetricDerivation.IssuedInvoice(Invoice().SubscriptionLine(3000).Build(), Catalog));
    }

    [Fact]
    public void Proration_lines_are_left_out_of_the_billing_amount()
    {
        // KISSmetrics shortcoming 2: a mid-cycle upgrade invoice carries a credit and a charge for the unused time.
        var invoice = Invoice()
            .SubscriptionLine(9000, price: "price_pro", product: "prod_pro")
            .SubscriptionLine(-1500, proration: true, description: "Unused time on Basic")
            .SubscriptionLine(4500, price: "price_pro", product: "prod_pro", proration: true, description: "Remaining time on Pro")
            .Paid(Day(3))
            .Build();

        var billed = Assert.Single(MetricDerivation.SubscriptionBilled(invoice, Catalog));

        Assert.Equal(9000, billed.Amount);
        Assert.Equal("9000", billed.Properties["Billing Amount"]);
        Assert.Equal("Pro monthly", billed.Properties["Plan Level"]);
        Assert.Equal("1", billed.Properties["Billing Length"]);
        Assert.Equal(9000 - 1500 + 4500, MetricDerivation.SuccessfullyPaid(invoice, Catalog)!.Amount);
    }

    [Fact]
    public void One_off_lines_beside_subscription_lines_are_paid_but_not_billed_as_subscription()
    {
        // KISSmetrics shortcoming 3: a setup fee on the same invoice as the subscription.
        var invoice = Invoice().SubscriptionLine(3000).OneOffLine(10_000).Paid(Day(2)).Build();

        var events = MetricDerivation.ForInvoice(invoice, Catalog);

        var paid = Assert.Single(events, e => e.Metric == Metrics.SuccessfullyPaid);
        var billed = Assert.Single(events, e => e.Metric == Metrics.SubscriptionBilled);
        Assert.Equal(3000 + 10_000, paid.Amount);
        Assert.Equal("Basic, Onboarding", paid.Properties["Items"]);
        Assert.Equal(3000, billed.Amount);
        Assert.Equal("Basic", billed.Properties["Plan Level"]);
        Assert.Equal(Day(2), billed.Time);
    }

    [Fact]
    public void Billing_amount_is_net_of_line_discounts()
    {
        var invoice = Invoice().SubscriptionLine(3000, discount: 1500).Paid(Day(2)).Build();

        Assert.Equal(1500, Assert.Single(MetricDerivation.SubscriptionBilled(invoice, Catalog)).Amount);
    }

    [Theory]
    [InlineData("price_pro_year", "12")]
    [InlineData("price_weekly", "0.2308")] // 12 / 52 months
    [InlineData("price_basic", "1")]
    public void Billing_length_is_the_price_period_in_months(string price, string expected)
    {
        var invoice = Invoice().SubscriptionLine(5000, price: price).Paid(Day(2)).Build();

        Assert.Equal(expected, Assert.Single(MetricDerivation.SubscriptionBilled(invoice, Catalog)).Properties["Billing Length"]);
    }

    [Fact]
    public void A_proration_only_or_zero_invoice_bills_no_subscription()
    {
        var prorationOnly = Invoice("in_p").SubscriptionLine(4500, proration: true).Paid(Day(3)).Build();
        var trial = Invoice("in_t").SubscriptionLine(0, description: "Trial period for Basic").Paid(Day(0)).Build();

        Assert.Empty(MetricDerivation.SubscriptionBilled(prorationOnly, Catalog));
        Assert.Empty(MetricDerivation.SubscriptionBilled(trial, Catalog));
        Assert.Null(MetricDerivation.SuccessfullyPaid(trial, Catalog));
        Assert.NotNull(MetricDerivation.IssuedInvoice(trial, Catalog));
    }

    [Fact]
    public void Each_subscription_of_a_customer_is_billed()
    {
        // KISSmetrics shortcoming 1: every subscription, not just the first.
        var basic = Invoice("in_a").SubscriptionLine(3000, sub: "sub_1").Paid(Day(1)).Build();
        var pro = Invoice("in_b").SubscriptionLine(9000, price: "price_pro", product: "prod_pro", sub: "sub_2").Paid(Day(1)).Build();

        var billed = new[] { basic, pro }.SelectMany(i => MetricDerivation.SubscriptionBilled(i, Catalog)).ToList();

        Assert.Equal(["in_a:Subscription Billed:sub_1", "in_b:Subscription Billed:sub_2"], billed.Select(e => e.NaturalKey));
        Assert.Equal(3000 + 9000, billed.Sum(e => e.Amount));
    }

    [Fact]
    public void Failed_invoice_paid_days_later_yields_both_events()
    {
        // KISSmetrics shortcoming 4: two declines, then the customer adds a new card and the retry succeeds.
        var invoice = Invoice("in_late").SubscriptionLine(3000).Paid(Day(6)).Attempts(3).Build();
        var charges = new[]
        {
            Charge("ch_1", 3000, "failed", Day(1), paymentIntent: "pi_1", failureMessage: "Your card has insufficient funds."),
            Charge("ch_2", 3000, "failed", Day(3), paymentIntent: "pi_1", failureMessage: "Your card was declined."),
            Charge("ch_3", 3000, "succeeded", Day(6), paymentIntent: "pi_1"),
        };

        var failed = MetricDerivation.FailedPayments(invoice, charges);
        var paid = MetricDerivation.SuccessfullyPaid(invoice, Catalog);

        Assert.Equal(["in_late:Failed Payment:1", "in_late:Failed Payment:2"], failed.Select(e => e.NaturalKey));
        Assert.Equal([Day(1), Day(3)], failed.Select(e => e.Time));
        Assert.Equal(["1", "2"], failed.Select(e => e.Properties["AttemptCount"]));
        Assert.Equal("Your card has insufficient funds.", failed[0].Properties["Reason"]);
        Assert.Equal("in_late", failed[0].Properties["Invoice"]);
        Assert.Equal(3000, failed[0].Amount);
        Assert.NotNull(paid);
        Assert.Equal(Day(6), paid.Time);
    }

    [Fact]
    public void Failure_keys_from_charges_and_from_invoice_events_coincide()
    {
        var charges = new[]
        {
            Charge("ch_1", 3000, "failed", Day(1), paymentIntent: "pi_1"),
            Charge("ch_2", 3000, "failed", Day(4), paymentIntent: "pi_1"),
        };
        var afterFirst = Invoice("in_x").SubscriptionLine(3000).Finalized(Day(1)).Attempts(1).Build();
        var afterSecond = afterFirst with { AttemptCount = 2 };

        var backfill = MetricDerivation.FailedPayments(afterSecond, charges).Select(e => e.NaturalKey);
        var webhooks = new[]
        {
            MetricDerivation.FailedPaymentFromInvoiceEvent(afterFirst, Day(1).AddSeconds(2), null)!,
            MetricDerivation.FailedPaymentFromInvoiceEvent(afterSecond, Day(4).AddSeconds(2), null)!,
        }.Select(e => e.NaturalKey);

        Assert.Equal(["in_x:Failed Payment:1", "in_x:Failed Payment:2"], backfill);
        Assert.Equal(backfill, webhooks);
    }

    [Fact]
    public void Deriving_again_from_newer_state_keeps_the_earlier_facts_keys()
    {
        var first = Charge("ch_1", 3000, "failed", Day(1));
        var second = Charge("ch_2", 3000, "failed", Day(2));
        var open = Invoice("in_y").SubscriptionLine(3000).Finalized(Day(1)).Build();

        var early = MetricDerivation.FailedPayments(open, [first]).Select(e => e.NaturalKey).ToList();
        var late = MetricDerivation.FailedPayments(open, [second, first]).Select(e => e.NaturalKey).ToList();

        Assert.Equal(["in_y:Failed Payment:1"], early);
        Assert.Equal(["in_y:Failed Payment:1", "in_y:Failed Payment:2"], late);
    }

    [Fact]
    public void Charges_find_their_invoice_by_charge_or_payment_intent()
    {
        var charges = new[]
        {
            Charge("ch_direct", 100),
            Charge("ch_retry_1", 100, "failed", paymentIntent: "pi_9"),
            Charge("ch_retry_2", 100, paymentIntent: "pi_9"),
            Charge("ch_one_off", 100, paymentIntent: "pi_other"),
        };
        var payments = new[] { Payment("in_1", charge: "ch_direct"), Payment("in_2", paymentIntent: "pi_9") };

        var map = MetricDerivation.InvoiceOfCharge(payments, charges);

        Assert.Equal(
            new Dictionary<string, string> { ["ch_direct"] = "in_1", ["ch_retry_1"] = "in_2", ["ch_retry_2"] = "in_2" },
            map);
    }

    [Fact]
    public void One_off_charges_are_paid_or_failed_payments_of_their_own()
    {
        var paid = MetricDerivation.SuccessfullyPaid(Charge("ch_p", 2500, description: "T-shirt"))!;
        var failed = MetricDerivation.FailedPayment(Charge("ch_f", 2500, "failed", failureMessage: "Your card was declined."))!;

        Assert.Equal(("ch_p:Successfully Paid", 2500L, "T-shirt"), (paid.NaturalKey, paid.Amount!.Value, paid.Properties["Items"]));
        Assert.Equal(("ch_f:Failed Payment", "Your card was declined."), (failed.NaturalKey, failed.Properties["Reason"]));
    }

    [Fact]
    public void Refund_names_its_charge_invoice_and_reason()
    {
        var charge = Charge("ch_1", 3000, customer: "cus_4");
        var refund = new RefundRecord("re_1", false, Day(9), "ch_1", null, 1200, "usd", "succeeded", "requested_by_customer");

        var e = MetricDerivation.RefundedPayment(refund, charge, "in_1")!;

        Assert.Equal(("re_1:Refunded Payment", Day(9), "cus_4", 1200L), (e.NaturalKey, e.Time, e.CustomerId, e.Amount!.Value));
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["Amount"] = "1200", ["Currency"] = "usd", ["Charge"] = "ch_1", ["Invoice"] = "in_1", ["Reason"] = "requested_by_customer",
            },
            e.Properties);
    }

    [Fact]
    public void A_refund_that_has_not_succeeded_is_not_a_refunded_payment()
    {
        var refund = new RefundRecord("re_2", false, Day(9), "ch_1", null, 1200, "usd", "pending", null);

        Assert.Null(MetricDerivation.RefundedPayment(refund, Charge("ch_1", 3000), null));
    }

    [Fact]
    public void Upgrade_and_downgrade_follow_the_mrr_delta()
    {
        // KISSmetrics shortcoming 5: upgrades and downgrades are recorded, with MRR before and after.
        var basic = Subscription().Item(Price(3000, id: "price_basic", product: "prod_basic")).Build();
        var pro = Subscription().Item(Price(9000, id: "price_pro", product: "prod_pro", nickname: "Pro monthly")).Build();
        var twoSeats = Subscription().Item(Price(3000, id: "price_basic", product: "prod_basic"), quantity: 2).Build();

        var up = MetricDerivation.Change(basic, pro, Day(10), Catalog)!;
        var down = MetricDerivation.Change(pro, basic, Day(20), Catalog)!;

        Assert.Equal((Metrics.SubscriptionUpgraded, Day(10), 9000L - 3000), (up.Metric, up.Time, up.Amount!.Value));
        Assert.Equal(("3000", "9000", "Pro monthly", "Basic"), (up.Properties["MRR before"], up.Properties["MRR after"], up.Properties["Plan"], up.Properties["Previous plan"]));
        Assert.Equal($"sub_1:Subscription Upgraded:{Day(10).ToUnixTimeSeconds()}", up.NaturalKey);
        Assert.Equal((Metrics.SubscriptionDowngraded, 9000L - 3000), (down.Metric, down.Amount!.Value));
        Assert.Equal(Metrics.SubscriptionDowngraded, MetricDerivation.Change(pro, twoSeats, Day(21), Catalog)!.Metric);
        Assert.Equal(Metrics.SubscriptionUpgraded, MetricDerivation.Change(basic, twoSeats, Day(22), Catalog)!.Metric);
    }

    [Fact]
    public void A_change_that_leaves_mrr_alone_is_neither_upgrade_nor_downgrade()
    {
        var monthly = Subscription().Item(Price(5000)).Build();
        var yearly = Subscription().Item(Price(60_000, "year", id: "price_pro_year")).Build();

        Assert.Null(MetricDerivation.Change(monthly, yearly, Day(5), Catalog));
        Assert.Null(MetricDerivation.Change(monthly, monthly with { CancelAtPeriodEnd = true }, Day(5), Catalog));
    }

    [Fact]
    public void The_same_change_seen_by_webhook_and_poll_has_one_key()
    {
        var before = Subscription().Item(Price(3000)).Build();
        var after = Subscription().Item(Price(3000), quantity: 2).Build();

        var webhook = MetricDerivation.ForSubscription(before, after, Day(10), Catalog, Day(10));
        var poll = MetricDerivation.ForSubscription(before, after, Day(10), Catalog, Day(11));
        var later = MetricDerivation.Change(after, after with { Items = [after.Items[0] with { Quantity = 5 }] }, Day(12), Catalog)!;

        Assert.Equal(webhook.Select(e => e.NaturalKey), poll.Select(e => e.NaturalKey));
        Assert.Contains(webhook, e => e.Metric == Metrics.SubscriptionUpgraded);
        Assert.DoesNotContain(later.NaturalKey, webhook.Select(e => e.NaturalKey));
    }

    [Fact]
    public void Cancellation_carries_reason_feedback_and_the_lost_mrr()
    {
        var canceled = Subscription()
            .Item(Price(3000), quantity: 2)
            .Canceled(Day(30), reason: "cancellation_requested", feedback: "too_expensive", comment: "Back next year")
            .Build();

        var e = Assert.Single(MetricDerivation.Lifecycle(canceled, Catalog, Day(31)), x => x.Metric == Metrics.SubscriptionCanceled);

        Assert.Equal((Day(30), "sub_1:Subscription Canceled", 6000L), (e.Time, e.NaturalKey, e.Amount!.Value));
        Assert.Equal("cancellation_requested", e.Properties["Cancellation reason"]);
        Assert.Equal("too_expensive", e.Properties["Cancellation feedback"]);
        Assert.Equal("Back next year", e.Properties["Cancellation comment"]);
        Assert.Equal(("6000", "0"), (e.Properties["MRR before"], e.Properties["MRR after"]));
    }

    [Fact]
    public void A_scheduled_cancellation_is_not_yet_a_cancellation()
    {
        var s = Subscription().Item(Price(3000)).CancelAtPeriodEnd(Day(5)).Build();

        Assert.DoesNotContain(MetricDerivation.Lifecycle(s, Catalog, Day(6)), e => e.Metric == Metrics.SubscriptionCanceled);
    }

    [Fact]
    public void Backfilled_subscription_yields_its_life_cycle_but_no_guessed_upgrades()
    {
        var s = Subscription("sub_b").Created(Day(0)).Trial(Day(0), Day(14)).Item(Price(3000)).Canceled(Day(60)).Build();

        var events = MetricDerivation.ForSubscription(null, s, Day(70), Catalog, Day(70));

        Assert.Equal(
            [
                (Metrics.SubscriptionStarted, Day(0), "sub_b:Subscription Started"),
                (Metrics.TrialStarted, Day(0), "sub_b:Trial Started"),
                (Metrics.TrialEnded, Day(14), "sub_b:Trial Ended"),
                (Metrics.SubscriptionCanceled, Day(60), "sub_b:Subscription Canceled"),
            ],
            events.Select(e => (e.Metric, e.Time, e.NaturalKey)));
    }

    [Fact]
    public void Trial_ends_only_once_its_end_has_passed()
    {
        var s = Subscription().Status("trialing").Trial(Day(0), Day(14)).Item(Price(3000)).Build();

        Assert.DoesNotContain(MetricDerivation.Lifecycle(s, Catalog, Day(13)), e => e.Metric == Metrics.TrialEnded);
        Assert.Contains(MetricDerivation.Lifecycle(s, Catalog, Day(14)), e => e.Metric == Metrics.TrialEnded && e.Time == Day(14));
    }

    [Fact]
    public void An_incomplete_subscription_has_not_started()
    {
        var s = Subscription().Status("incomplete_expired").Item(Price(3000)).Build();

        Assert.Empty(MetricDerivation.Lifecycle(s, Catalog, Day(5)));
    }

    [Fact]
    public void Checkout_completed_and_abandoned_with_amount_and_items()
    {
        var complete = new CheckoutSessionRecord(
            "cs_1", false, Day(1), "cus_1", null, "complete", "paid", "subscription", 9000, "usd", "sub_1", "in_1", Day(2),
            [new CheckoutLineRecord("price_pro", "prod_pro", "Pro", 1, 9000, "usd")]);
        var guest = new CheckoutSessionRecord(
            "cs_2", false, Day(1), null, " Guest@Example.TEST ", "expired", "unpaid", "payment", 10_000, "usd", null, null, Day(2),
            [new CheckoutLineRecord("price_setup", null, "Onboarding session", 1, 10_000, "usd")]);

        var completed = MetricDerivation.Checkout(complete, Day(1).AddMinutes(3), Catalog)!;
        var abandoned = MetricDerivation.Checkout(guest, null, Catalog)!;

        Assert.Equal((Metrics.CheckoutCompleted, Day(1).AddMinutes(3), "cs_1:Checkout Completed", "Pro"), (completed.Metric, completed.Time, completed.NaturalKey, completed.Properties["Items"]));
        Assert.Equal((Metrics.CheckoutAbandoned, Day(2), "", "guest@example.test"), (abandoned.Metric, abandoned.Time, abandoned.CustomerId, abandoned.Email));
        Assert.Equal(("10000", "Onboarding"), (abandoned.Properties["Amount"], abandoned.Properties["Items"]));
        Assert.Null(MetricDerivation.Checkout(complete with { Status = "open" }, null, Catalog));
    }
}
