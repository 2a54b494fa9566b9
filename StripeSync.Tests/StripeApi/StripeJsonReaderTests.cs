using System.Text.Json;
using System.Text.Json.Nodes;
using StripeSync.Core.StripeApi;

namespace StripeSync.Tests.StripeApi;

/// <summary>
/// Stripe's own example object of every type StripeSync keeps (stripe-mock's fixtures3.json) reads into our records with
/// the fixture's values; the expectations navigate the fixture's JSON here, not through the reader. Expanded fields the
/// fixtures leave as ids or null are expanded from other fixtures, as Stripe does when asked.
/// </summary>
public sealed class StripeJsonReaderTests
{
    private static readonly Lazy<JsonObject> Fixtures = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Simulator", "Fixtures", "fixtures3.json")))!["resources"]!.AsObject());

    [Fact]
    public void Every_kept_type_has_a_fixture_and_reads_as_its_own_record()
    {
        var resources = new Dictionary<string, Type>
        {
            ["customer"] = typeof(CustomerRecord), ["product"] = typeof(ProductRecord), ["price"] = typeof(PriceRecord),
            ["coupon"] = typeof(CouponRecord), ["subscription"] = typeof(SubscriptionRecord), ["invoice"] = typeof(InvoiceRecord),
            ["invoice_payment"] = typeof(InvoicePaymentRecord), ["charge"] = typeof(ChargeRecord), ["refund"] = typeof(RefundRecord),
            ["checkout.session"] = typeof(CheckoutSessionRecord), ["payment_method"] = typeof(PaymentMethodRecord),
        };
        Assert.Equal(StripeJsonReader.KeptObjects.Order(), resources.Keys.Order());
        foreach (var (resource, type) in resources)
        {
            var record = Read(Fixture(resource));
            Assert.IsType(type, record);
            Assert.Equal((string)Fixture(resource)["id"]!, record!.Id);
        }
    }

    [Fact]
    public void Customer_reads_its_fields_and_the_card_of_its_expanded_default_payment_method()
    {
        var json = Fixture("customer");
        json["address"] = new JsonObject { ["line1"] = "1 Main St", ["line2"] = null, ["city"] = "Paris", ["state"] = null, ["postal_code"] = "75001", ["country"] = "FR" };
        json["metadata"] = new JsonObject { ["plan"] = "gold" };
        json["email"] = "ada@example.com";
        var paymentMethod = Fixture("payment_method");
        json["invoice_settings"]!["default_payment_method"] = paymentMethod.DeepClone();

        var c = Assert.IsType<CustomerRecord>(Read(json));

        Assert.Equal(("cus_QXg1o8vcGmoR32", false, Time(json["created"])), (c.Id, c.Livemode, (DateTimeOffset?)c.Created));
        Assert.Equal(("ada@example.com", (string?)null, (string?)null, (string?)null), (c.Email, c.Name, c.Phone, c.Description));
        Assert.Equal(new AddressRecord("1 Main St", null, "Paris", null, "75001", "FR"), c.Address);
        Assert.Equal((bool?)json["delinquent"], c.Delinquent);
        Assert.Equal((string?)json["currency"], c.Currency);
        Assert.False(c.Deleted);
        Assert.Equal("gold", Assert.Single(c.Metadata, m => m.Key == "plan").Value);
        Assert.Equal((string)paymentMethod["id"]!, c.DefaultPaymentMethodId);
        var card = paymentMethod["card"]!;
        Assert.Equal(new CardRecord((string?)card["brand"], (string?)card["last4"], (long)card["exp_month"]!, (long)card["exp_year"]!), c.DefaultCard);

        // Not expanded: the id alone, and no card.
        json["invoice_settings"]!["default_payment_method"] = "pm_plain";
        var plain = Assert.IsType<CustomerRecord>(Read(json));
        Assert.Equal(("pm_plain", (CardRecord?)null), (plain.DefaultPaymentMethodId, plain.DefaultCard));
    }

    [Fact]
    public void Deleted_customer_and_product_read_as_deleted_stubs()
    {
        var customer = Assert.IsType<CustomerRecord>(Read(Fixture("deleted_customer")));
        Assert.Equal(((string)Fixture("deleted_customer")["id"]!, true, DateTimeOffset.UnixEpoch), (customer.Id, customer.Deleted, customer.Created));
        Assert.Empty(customer.Metadata);
        Assert.Null(customer.Address);

        var product = Assert.IsType<ProductRecord>(Read(Fixture("deleted_product")));
        Assert.Equal(((string)Fixture("deleted_product")["id"]!, true), (product.Id, product.Deleted));

        var live = Assert.IsType<ProductRecord>(Read(Fixture("product")));
        Assert.Equal(((string?)Fixture("product")["name"], (bool)Fixture("product")["active"]!, false, Time(Fixture("product")["created"])),
            (live.Name, live.Active, live.Deleted, (DateTimeOffset?)live.Created));
    }

    [Fact]
    public void Price_reads_recurring_and_tiers_and_its_product_expanded_or_not()
    {
        var json = Fixture("price");
        var p = Assert.IsType<PriceRecord>(Read(json));
        Assert.Equal(((string)json["product"]!, (string)json["currency"]!, (long?)json["unit_amount"], (string)json["type"]!),
            (p.ProductId, p.Currency, p.UnitAmount, p.Kind));
        var recurring = json["recurring"]!;
        Assert.Equal(((string?)recurring["interval"], (long)recurring["interval_count"]!, (string?)recurring["usage_type"]), (p.Interval, p.IntervalCount, p.UsageType));
        Assert.Equal(((string)json["billing_scheme"]!, (string?)json["tiers_mode"], (string?)json["nickname"], (bool)json["active"]!),
            (p.BillingScheme, p.TiersMode, p.Nickname, p.Active));
        Assert.Empty(p.Tiers);

        json["product"] = Fixture("product");
        json["recurring"] = null;
        json["billing_scheme"] = "tiered";
        json["tiers_mode"] = "graduated";
        json["tiers"] = new JsonArray(
            new JsonObject { ["up_to"] = 10, ["unit_amount"] = 500, ["flat_amount"] = null },
            new JsonObject { ["up_to"] = null, ["unit_amount"] = 400, ["flat_amount"] = 100 });
        var tiered = Assert.IsType<PriceRecord>(Read(json));
        Assert.Equal(((string)Fixture("product")["id"]!, (string?)null, 1L, "graduated"), (tiered.ProductId, tiered.Interval, tiered.IntervalCount, tiered.TiersMode));
        Assert.Equal([new PriceTier(10, 500, null), new PriceTier(null, 400, 100)], tiered.Tiers);
    }

    [Fact]
    public void Coupon_reads_its_discount_and_duration()
    {
        var json = Fixture("coupon");
        var c = Assert.IsType<CouponRecord>(Read(json));
        Assert.Equal(((decimal?)json["percent_off"], (long?)json["amount_off"], (string?)json["currency"], (string)json["duration"]!, (long?)json["duration_in_months"], (string?)json["name"]),
            (c.PercentOff, c.AmountOff, c.Currency, c.Duration, c.DurationInMonths, c.Name));
        Assert.Equal(25.5m, c.PercentOff);
    }

    [Fact]
    public void Subscription_reads_its_times_items_with_their_prices_and_expanded_discounts()
    {
        var json = Fixture("subscription");
        var discount = Fixture("discount");
        discount["source"]!["coupon"] = Fixture("coupon"); // expanded: the coupon's id is read from it
        var itemDiscount = Fixture("discount");
        itemDiscount["id"] = "di_item";
        itemDiscount["end"] = null;
        itemDiscount["source"]!["coupon"] = "co_plain";
        json["discounts"] = new JsonArray(discount, "di_not_expanded");
        json["items"]!["data"]![0]!["discounts"] = new JsonArray(itemDiscount);
        json["cancellation_details"] = new JsonObject { ["reason"] = "cancellation_requested", ["feedback"] = null, ["comment"] = "too dear" };
        json["latest_invoice"] = Fixture("invoice");

        var s = Assert.IsType<SubscriptionRecord>(Read(json));

        Assert.Equal(((string)json["customer"]!, (string)json["status"]!, (string)json["currency"]!, (bool)json["cancel_at_period_end"]!),
            (s.CustomerId, s.Status, s.Currency, s.CancelAtPeriodEnd));
        Assert.Equal([Time(json["start_date"]), Time(json["trial_start"]), Time(json["trial_end"]), Time(json["canceled_at"]), Time(json["ended_at"]), Time(json["cancel_at"])],
            [s.StartDate, s.TrialStart, s.TrialEnd, s.CanceledAt, s.EndedAt, s.CancelAt]);
        Assert.Equal(new CancellationRecord("cancellation_requested", null, "too dear"), s.Cancellation);
        Assert.Equal((string)Fixture("invoice")["id"]!, s.LatestInvoiceId);
        var d = Assert.Single(s.Discounts); // the bare id is not a discount we can read
        Assert.Equal(new DiscountRecord((string)discount["id"]!, (string)Fixture("coupon")["id"]!, Time(discount["start"]), Time(discount["end"])), d);

        var itemJson = json["items"]!["data"]![0]!;
        var item = Assert.Single(s.Items);
        Assert.Equal(((string)itemJson["id"]!, (long)itemJson["quantity"]!, Time(itemJson["current_period_start"]), Time(itemJson["current_period_end"])),
            (item.Id, item.Quantity, item.CurrentPeriodStart, item.CurrentPeriodEnd));
        Assert.Equal(((string)itemJson["price"]!["id"]!, (string)itemJson["price"]!["product"]!, (long?)itemJson["price"]!["unit_amount"]),
            (item.Price.Id, item.Price.ProductId, item.Price.UnitAmount));
        Assert.Equal(new DiscountRecord("di_item", "co_plain", Time(itemDiscount["start"]), null), Assert.Single(item.Discounts));

        // No cancellation details worth keeping when all three are null.
        json["cancellation_details"] = Fixture("subscription")["cancellation_details"]!.DeepClone();
        Assert.Null(Assert.IsType<SubscriptionRecord>(Read(json)).Cancellation);
    }

    [Fact]
    public void Invoice_reads_totals_parent_transitions_and_its_lines()
    {
        var json = Fixture("invoice");
        json["total_taxes"] = new JsonArray(new JsonObject { ["amount"] = 30 }, new JsonObject { ["amount"] = 12 });
        json["status_transitions"]!["paid_at"] = 1_700_000_000;

        var i = Assert.IsType<InvoiceRecord>(Read(json));

        Assert.Equal(((string?)json["customer"], (string?)json["number"], (string)json["status"]!, (string)json["currency"]!, (string?)json["billing_reason"]),
            (i.CustomerId, i.Number, i.Status, i.Currency, i.BillingReason));
        Assert.Equal([(long)json["total"]!, (long)json["subtotal"]!, (long)json["amount_due"]!, (long)json["amount_paid"]!, (long)json["amount_remaining"]!, 42, (long)json["attempt_count"]!],
            [i.Total, i.Subtotal, i.AmountDue, i.AmountPaid, i.AmountRemaining, i.Tax, i.AttemptCount]);
        Assert.Equal((string?)json["parent"]!["subscription_details"]!["subscription"], i.SubscriptionId);
        Assert.Equal([Time(json["due_date"]), null, DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), null, Time(json["period_start"]), Time(json["period_end"])],
            [i.DueDate, i.FinalizedAt, i.PaidAt, i.VoidedAt, i.PeriodStart, i.PeriodEnd]);
        Assert.True(i.LinesComplete);
        var lineJson = json["lines"]!["data"]![0]!;
        var line = Assert.Single(i.Lines);
        Assert.Equal(((string)lineJson["id"]!, (long)lineJson["amount"]!, (string)lineJson["currency"]!, (string?)lineJson["description"], (long)lineJson["quantity"]!),
            (line.Id, line.Amount, line.Currency, line.Description, line.Quantity));

        json["lines"]!["has_more"] = true;
        Assert.False(Assert.IsType<InvoiceRecord>(Read(json)).LinesComplete);
        json.Remove("lines");
        var none = Assert.IsType<InvoiceRecord>(Read(json));
        Assert.Equal((0, false), (none.Lines.Count, none.LinesComplete));
    }

    [Fact]
    public void Invoice_line_reads_its_price_details_parent_period_and_discounts()
    {
        var json = Fixture("line_item");
        json["pricing"]!["price_details"] = new JsonObject { ["price"] = Fixture("price"), ["product"] = "prod_line" };
        json["parent"]!["type"] = "subscription_item_details";
        json["discount_amounts"] = new JsonArray(new JsonObject { ["amount"] = 100, ["discount"] = "di_1" }, new JsonObject { ["amount"] = 50, ["discount"] = "di_2" });

        var l = StripeJsonReader.InvoiceLine(Element(json));

        var details = json["parent"]!["subscription_item_details"]!;
        Assert.Equal(((string)Fixture("price")["id"]!, "prod_line", "subscription_item_details", (bool)details["proration"]!, (string?)details["subscription"], (string?)details["subscription_item"]),
            (l.PriceId, l.ProductId, l.Kind, l.Proration, l.SubscriptionId, l.SubscriptionItemId));
        Assert.Equal((Time(json["period"]!["start"]), Time(json["period"]!["end"]), 150L), (l.PeriodStart, l.PeriodEnd, l.DiscountAmount));

        json["pricing"]!["price_details"]!["price"] = "price_plain";
        json["parent"] = null;
        json["quantity"] = null;
        json["period"] = null;
        var bare = StripeJsonReader.InvoiceLine(Element(json));
        Assert.Equal(("price_plain", "invoice_item_details", false, (string?)null, 1L, (DateTimeOffset?)null), (bare.PriceId, bare.Kind, bare.Proration, bare.SubscriptionId, bare.Quantity, bare.PeriodStart));
    }

    [Fact]
    public void Invoice_payment_reads_its_invoice_and_payment_expanded_or_not()
    {
        var json = Fixture("invoice_payment");
        json["payment"] = new JsonObject { ["type"] = "charge", ["charge"] = Fixture("charge"), ["payment_intent"] = "pi_1" };
        var p = Assert.IsType<InvoicePaymentRecord>(Read(json));
        Assert.Equal(((string)json["invoice"]!, (string)Fixture("charge")["id"]!, "pi_1", (string)json["status"]!, (long?)json["amount_paid"], (long)json["amount_requested"]!, (string)json["currency"]!, (bool)json["is_default"]!, true, Time(json["created"])),
            (p.InvoiceId, p.ChargeId, p.PaymentIntentId, p.Status, p.AmountPaid, p.AmountRequested, p.Currency, p.IsDefault, p.Livemode, (DateTimeOffset?)p.Created));
    }

    [Fact]
    public void Charge_reads_amounts_outcome_and_card()
    {
        var json = Fixture("charge");
        json["customer"] = Fixture("customer");
        json["payment_intent"] = "pi_1";
        var c = Assert.IsType<ChargeRecord>(Read(json));
        var card = json["payment_method_details"]!["card"]!;
        Assert.Equal(((string)Fixture("customer")["id"]!, (long)json["amount"]!, (long)json["amount_refunded"]!, (string)json["currency"]!, (string)json["status"]!, (bool)json["paid"]!, (bool)json["refunded"]!),
            (c.CustomerId, c.Amount, c.AmountRefunded, c.Currency, c.Status, c.Paid, c.Refunded));
        Assert.Equal(((string?)json["failure_code"], (string?)json["failure_message"], (string?)json["description"], "pi_1"), (c.FailureCode, c.FailureMessage, c.Description, c.PaymentIntentId));
        Assert.Equal(new CardRecord((string?)card["brand"], (string?)card["last4"], (long)card["exp_month"]!, (long)card["exp_year"]!), c.Card);
    }

    [Fact]
    public void Refund_reads_its_charge_and_takes_the_connection_s_mode()
    {
        var json = Fixture("refund");
        var r = Assert.IsType<RefundRecord>(StripeJsonReader.Read(Element(json), livemode: true));
        Assert.Equal(((string?)json["charge"], (string?)json["payment_intent"], (long)json["amount"]!, (string)json["currency"]!, (string?)json["status"], (string?)json["reason"], true),
            (r.ChargeId, r.PaymentIntentId, r.Amount, r.Currency, r.Status, r.Reason, r.Livemode));
    }

    [Fact]
    public void Checkout_session_reads_its_email_links_and_line_items()
    {
        var json = Fixture("checkout.session");
        var item = Fixture("item");
        json["line_items"] = new JsonObject { ["object"] = "list", ["data"] = new JsonArray(item), ["has_more"] = false };
        json["subscription"] = "sub_1";
        json["invoice"] = Fixture("invoice");
        json["customer_email"] = "typed@example.com";

        var s = Assert.IsType<CheckoutSessionRecord>(Read(json));

        // The details Stripe collected win over what was typed in.
        Assert.Equal(((string?)json["customer_details"]!["email"], (string?)json["status"], (string?)json["payment_status"], (string?)json["mode"], (long?)json["amount_total"], (string?)json["currency"]),
            (s.CustomerEmail, s.Status, s.PaymentStatus, s.Mode, s.AmountTotal, s.Currency));
        Assert.Equal(((string?)null, "sub_1", (string)Fixture("invoice")["id"]!, Time(json["expires_at"])), (s.CustomerId, s.SubscriptionId, s.InvoiceId, s.ExpiresAt));
        Assert.Equal(new CheckoutLineRecord((string?)item["price"]!["id"], (string?)item["price"]!["product"], (string?)item["description"], (long)item["quantity"]!, (long)item["amount_total"]!, (string)item["currency"]!),
            Assert.Single(s.Lines));

        json["customer_details"] = null;
        Assert.Equal("typed@example.com", Assert.IsType<CheckoutSessionRecord>(Read(json)).CustomerEmail);
    }

    [Fact]
    public void Payment_method_reads_its_card()
    {
        var json = Fixture("payment_method");
        json["customer"] = Fixture("customer");
        var p = Assert.IsType<PaymentMethodRecord>(Read(json));
        var card = json["card"]!;
        Assert.Equal(((string)Fixture("customer")["id"]!, (string)json["type"]!, Time(json["created"])), (p.CustomerId, p.Kind, (DateTimeOffset?)p.Created));
        Assert.Equal(new CardRecord((string?)card["brand"], (string?)card["last4"], (long)card["exp_month"]!, (long)card["exp_year"]!), p.Card);
    }

    [Theory]
    [InlineData("{\"id\":\"cus_1\",\"object\":\"customer\",\"created\":\"yesterday\"}")]
    [InlineData("{\"id\":\"cus_1\",\"object\":\"customer\",\"email\":{}}")]
    [InlineData("{\"id\":\"cus_1\",\"object\":\"customer\",\"delinquent\":\"lots\"}")]
    [InlineData("{\"id\":\"sub_1\",\"object\":\"subscription\",\"items\":{\"data\":[{\"id\":\"si_1\",\"price\":\"price_1\"}]}}")]
    public void A_field_of_the_wrong_kind_is_malformed(string json) =>
        Assert.Throws<JsonException>(() => StripeJsonReader.Read(JsonDocument.Parse(json).RootElement, livemode: false));

    private static JsonObject Fixture(string resource) => Fixtures.Value[resource]!.DeepClone().AsObject();

    private static JsonElement Element(JsonNode json) => JsonDocument.Parse(json.ToJsonString()).RootElement;

    private static StripeRecord? Read(JsonNode json) => StripeJsonReader.Read(Element(json), livemode: false);

    private static DateTimeOffset? Time(JsonNode? seconds) => seconds is null ? null : DateTimeOffset.FromUnixTimeSeconds((long)seconds);
}
