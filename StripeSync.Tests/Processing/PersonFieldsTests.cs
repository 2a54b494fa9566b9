using StripeSync.Core.Processing;
using StripeSync.Core.StripeApi;
using static StripeSync.Tests.Processing.Build;

namespace StripeSync.Tests.Processing;

public sealed class PersonFieldsTests
{
    private static readonly DateTimeOffset Now = Day(0);

    private static readonly Catalog Catalog = Catalog.From(
        products:
        [
            new ProductRecord("prod_basic", false, T0, "Basic", true, false),
            new ProductRecord("prod_addon", false, T0, "Priority support", true, false),
            new ProductRecord("prod_pro", false, T0, "Pro", true, false),
        ]);

    private static PersonRecords Empty => new([], [], [], [], [], []);

    private static PaymentMethodRecord Card(string id, string customer, DateTimeOffset created, string brand, string last4) =>
        new(id, false, created, customer, "card", new CardRecord(brand, last4, 4, 2029));

    /// <summary>
    /// Ada paid as an old customer (since deleted) and as a new one under the same email: two active subscriptions
    /// (usd and eur), a trial, an old canceled one; three paid invoices (one partly refunded), an open one that
    /// failed, and a one-off T-shirt.
    /// </summary>
    private static PersonRecords Ada()
    {
        var old = Customer("cus_old", "ADA@example.test", "A. Lovelace", Day(-300)) with
        {
            Deleted = true,
            Delinquent = true,
            Address = new AddressRecord("1 Old Road", null, "Bath", null, "BA1 1AA", "GB"),
        };
        var current = Customer("cus_new", " Ada@Example.test ", "  Ada   King Lovelace ", Day(-100)) with
        {
            Phone = "+44 20 7946 0000",
            Description = "VIP",
            DefaultPaymentMethodId = "pm_default",
            Address = new AddressRecord("12 St James's Square", "Flat 3", "London", null, "SW1Y 4JH", "GB"),
        };

        var subscriptions = new[]
        {
            Subscription("sub_old").For("cus_old").Created(Day(-300)).Item(Price(3000)).Canceled(Day(-120)).Build(),
            Subscription("sub_eur").For("cus_new").Created(Day(-200)).Item(Price(24_000, "year", currency: "eur", id: "price_eur")).Build(),
            Subscription("sub_active").For("cus_new").Created(Day(-90))
                .Item(Price(3000), quantity: 2)
                .Item(Price(500, id: "price_addon", product: "prod_addon"))
                .Build(),
            Subscription("sub_trial").For("cus_new").Created(Day(-5)).Status("trialing").Trial(Day(-5), Day(9))
                .Item(Price(9000, id: "price_pro", product: "prod_pro")).Build(),
        };

        var invoices = new[]
        {
            Invoice("in_old").For("cus_old").SubscriptionLine(3000, sub: "sub_old").Paid(Day(-250)).Build(),
            Invoice("in_1").For("cus_new").SubscriptionLine(6000, sub: "sub_active")
                .SubscriptionLine(500, price: "price_addon", product: "prod_addon", sub: "sub_active").Paid(Day(-90)).Build(),
            Invoice("in_2").For("cus_new").SubscriptionLine(6500, sub: "sub_active").Paid(Day(-60)).Build(),
            Invoice("in_open").For("cus_new").SubscriptionLine(6500, sub: "sub_active").Finalized(Day(-30)).Build(),
        };
        var charges = new[]
        {
            Charge("ch_1", 6500, created: Day(-90), customer: "cus_new", paymentIntent: "pi_1"),
            Charge("ch_2", 6500, created: Day(-60), customer: "cus_new", amountRefunded: 1000),
            Charge("ch_fail", 6500, "failed", Day(-30), customer: "cus_new", paymentIntent: "pi_3"),
            Charge("ch_tee", 2500, created: Day(-10), customer: "cus_new", description: "T-shirt"),
        };
        var payments = new[] { Payment("in_1", paymentIntent: "pi_1"), Payment("in_2", charge: "ch_2"), Payment("in_open", paymentIntent: "pi_3") };
        var methods = new[]
        {
            Card("pm_old", "cus_old", Day(-300), "amex", "0005"),
            Card("pm_default", "cus_new", Day(-100), "visa", "1111"),
            Card("pm_newest", "cus_new", Day(-5), "mastercard", "4444"),
        };
        return new PersonRecords([old, current], subscriptions, invoices, payments, charges, methods);
    }

    [Fact]
    public void Every_token_is_present_once()
    {
        var fields = PersonFields.Compute(Empty, Catalog, false, null, null, Now);

        Assert.Equal(PersonFields.Tokens.Count, PersonFields.Tokens.Distinct().Count());
        Assert.Equal(PersonFields.Tokens.Order(), fields.Keys.Order());
        Assert.Equal(55, PersonFields.Tokens.Count);
        Assert.All(PersonFields.Tokens, t => Assert.Matches("^[a-z0-9_]+$", t));
    }

    [Fact]
    public void A_realistic_person_across_two_customers()
    {
        var fields = PersonFields.Compute(Ada(), Catalog, emailUnsubscribed: true, lastActivity: Day(-2), lastSyncAt: Day(-1), Now);

        var expected = new Dictionary<string, object?>
        {
            ["email"] = "ada@example.test",
            ["first_name"] = "Ada",
            ["last_name"] = "King Lovelace",
            ["phone"] = "+44 20 7946 0000",
            ["address"] = "12 St James's Square, Flat 3",
            ["city"] = "London",
            ["region"] = null,
            ["postal_code"] = "SW1Y 4JH",
            ["country"] = "GB",
            ["email_unsubscribed"] = true,
            ["stripe_customer_id"] = "cus_new", // owner of the most relevant subscription
            ["stripe_description"] = "VIP",
            ["stripe_delinquent"] = false, // only the deleted customer was delinquent
            ["stripe_currency"] = "usd",
            ["stripe_created"] = Day(-300), // first became a customer
            ["stripe_card_brand"] = "visa", // the default payment method, not the newest card
            ["stripe_card_last4"] = "1111",
            ["stripe_card_exp_month"] = 4L,
            ["stripe_card_exp_year"] = 2029L,
            ["stripe_subscription_id"] = "sub_active", // active beats the newer trial; newest active beats sub_eur
            ["stripe_subscription_status"] = "active",
            ["stripe_trial_start"] = null,
            ["stripe_trial_end"] = null,
            ["stripe_subscription_created"] = Day(-90),
            ["stripe_subscription_canceled_at"] = null,
            ["stripe_cancel_at_period_end"] = false,
            ["stripe_current_period_start"] = Day(-90),
            ["stripe_current_period_end"] = Day(-90).AddMonths(1),
            ["stripe_product_id"] = "prod_basic", // 2 × 3000 outweighs the 500 add-on
            ["stripe_product_name"] = "Basic",
            ["stripe_price_id"] = "price_basic",
            ["stripe_plan_nickname"] = null,
            ["stripe_plan_amount"] = 3000L,
            ["stripe_plan_currency"] = "usd",
            ["stripe_plan_interval"] = "month",
            ["stripe_plan_interval_count"] = 1L,
            ["stripe_last_amount_paid"] = 2500L, // the T-shirt
            ["stripe_last_payment_currency"] = "usd",
            ["stripe_last_payment_date"] = Day(-10),
            ["stripe_last_payment_description"] = "T-shirt",
            ["stripe_total_orders"] = 4, // in_old, in_1, in_2 and the one-off T-shirt; not the open invoice
            ["stripe_first_create_order_date"] = Day(-250),
            ["stripe_last_create_order_date"] = Day(-10),
            ["stripe_order_status"] = "paid",
            ["stripe_order_last_value"] = 2500L,
            ["stripe_subscription_active"] = 2,
            ["stripe_subscription_trial"] = 1,
            ["stripe_subscription_past_due"] = 0,
            ["stripe_subscription_paused"] = 0,
            ["stripe_subscription_cancelled"] = 1,
            ["last_activity"] = Day(-2),
            ["stripe_last_sync_at"] = Day(-1),
        };
        foreach (var (token, value) in expected)
        {
            Assert.True(Equals(value, fields[token]), $"{token}: expected {value ?? "null"}, got {fields[token] ?? "null"}");
        }

        // usd: 2 × 3000 + 500 (the trial doesn't count yet); eur: 24000 a year
        Assert.Equal(new Dictionary<string, long> { ["usd"] = 6500, ["eur"] = 2000 }, (IReadOnlyDictionary<string, long>)fields["stripe_mrr"]!);
        // 3000 + 6500 + (6500 − 1000 refunded) + 2500
        Assert.Equal(new Dictionary<string, long> { ["usd"] = 17_500 }, (IReadOnlyDictionary<string, long>)fields["stripe_total_sales"]!);
        Assert.Equal(["Basic", "Priority support", "T-shirt"], (IReadOnlyList<string>)fields["stripe_order_products"]!);
    }

    [Fact]
    public void Trialing_is_more_relevant_than_past_due_and_otherwise_the_newest_wins()
    {
        var pastDue = Subscription("sub_pd").Status("past_due").Created(Day(-1)).Item(Price(100)).Build();
        var trial = Subscription("sub_tr").Status("trialing").Created(Day(-20)).Item(Price(100)).Build();
        var oldCanceled = Subscription("sub_c1").Created(Day(-50)).Item(Price(100)).Canceled(Day(-40)).Build();
        var newCanceled = Subscription("sub_c2").Created(Day(-30)).Item(Price(100)).Canceled(Day(-25)).Build();

        Assert.Equal("sub_tr", PersonFields.MostRelevant([pastDue, trial, newCanceled])!.Id);
        Assert.Equal("sub_pd", PersonFields.MostRelevant([oldCanceled, pastDue])!.Id);
        Assert.Equal("sub_c2", PersonFields.MostRelevant([oldCanceled, newCanceled])!.Id);
        Assert.Null(PersonFields.MostRelevant([]));
    }

    [Fact]
    public void Fully_refunded_last_order_reads_refunded_and_an_invoice_paid_without_charge_is_a_payment()
    {
        var person = Empty with
        {
            Customers = [Customer()],
            Invoices = [Invoice("in_credit").SubscriptionLine(4000).Paid(Day(-1)).Build()],
            Charges = [Charge("ch_gift", 1500, created: Day(-3), description: "Gift card", amountRefunded: 1500)],
        };

        var fields = PersonFields.Compute(person, Catalog, false, null, null, Now);

        Assert.Equal(2, fields["stripe_total_orders"]);
        Assert.Equal(4000L, fields["stripe_last_amount_paid"]);
        Assert.Equal(Day(-1), fields["stripe_last_payment_date"]);
        Assert.Equal("Basic", fields["stripe_last_payment_description"]);
        Assert.Equal("paid", fields["stripe_order_status"]);
        Assert.Equal(new Dictionary<string, long> { ["usd"] = 4000 }, (IReadOnlyDictionary<string, long>)fields["stripe_total_sales"]!);

        var refundedLast = person with { Charges = [person.Charges[0] with { Created = Now }] };
        Assert.Equal("refunded", PersonFields.Compute(refundedLast, Catalog, false, null, null, Now)["stripe_order_status"]);
    }

    [Fact]
    public void Without_a_default_the_newest_card_is_used()
    {
        var person = Empty with
        {
            Customers = [Customer()],
            PaymentMethods = [Card("pm_a", "cus_1", Day(-9), "visa", "1111"), Card("pm_b", "cus_1", Day(-2), "amex", "0005")],
        };

        Assert.Equal("amex", PersonFields.Compute(person, Catalog, false, null, null, Now)["stripe_card_brand"]);
    }

    [Theory]
    [InlineData("Ada Lovelace", "Ada", "Lovelace")]
    [InlineData("  Ada   King  Lovelace ", "Ada", "King Lovelace")]
    [InlineData("Cher", "Cher", null)]
    [InlineData("   ", null, null)]
    [InlineData(null, null, null)]
    public void Name_splits_into_first_word_and_the_rest(string? name, string? first, string? last)
    {
        Assert.Equal((first, last), PersonFields.SplitName(name));
    }

    [Theory]
    [InlineData("  Ada@Example.TEST ", "ada@example.test")]
    [InlineData("ada+news@example.test", "ada+news@example.test")]
    [InlineData(null, null)]
    [InlineData("   ", null)]
    [InlineData("no-at-sign", null)]
    [InlineData("two@@example.test", null)]
    [InlineData("@example.test", null)]
    [InlineData("ada@", null)]
    [InlineData("ada lovelace@example.test", null)]
    [InlineData("ada@example..test", null)]
    public void Emails_are_normalised_or_rejected(string? raw, string? expected)
    {
        Assert.Equal(expected, Identity.NormaliseEmail(raw));
    }
}
