using StripeSync.Core.Processing;
using StripeSync.Core.StripeApi;
using static StripeSync.Tests.Processing.Build;

namespace StripeSync.Tests.Processing;

public sealed class MrrTests
{
    private static readonly DateTimeOffset Now = Day(40);
    private static readonly Func<string, CouponRecord?> NoCoupons = _ => null;

    private static long Usd(SubscriptionRecord s, Func<string, CouponRecord?>? coupons = null, DateTimeOffset? now = null) =>
        Mrr.ForSubscription(s, coupons ?? NoCoupons, now ?? Now).GetValueOrDefault("usd");

    [Fact]
    public void Quantity_multiplies_the_unit_amount()
    {
        var s = Subscription().Item(Price(1500), quantity: 3).Build();

        Assert.Equal(1500 * 3, Usd(s));
    }

    [Fact]
    public void Every_item_of_every_subscription_counts_for_the_customer()
    {
        // KISSmetrics tracked only the first subscription; here both, with all their items.
        var first = Subscription("sub_1").Item(Price(1000, id: "price_a")).Item(Price(250, id: "price_b"), quantity: 2).Build();
        var second = Subscription("sub_2").Item(Price(120_000, "year", id: "price_c")).Build();

        var mrr = Mrr.ForCustomer([first, second], NoCoupons, Now);

        Assert.Equal(1000 + 250 * 2 + 120_000 / 12, mrr["usd"]);
        Assert.Single(mrr);
    }

    [Theory]
    [InlineData("month", 1, 2500, 2500)]
    [InlineData("month", 3, 3000, 1000)] // quarterly: 3000 / 3
    [InlineData("year", 1, 12_000, 1000)] // 12000 / 12
    [InlineData("year", 2, 24_000, 1000)] // 24000 / 24
    [InlineData("week", 1, 700, 3033)] // 700 × 52 / 12 = 3033.33
    [InlineData("week", 2, 1400, 3033)] // 1400 × 52 / 24 = 3033.33
    [InlineData("day", 1, 100, 3042)] // 100 × 365 / 12 = 3041.67
    [InlineData("day", 1, 6, 183)] // 6 × 365 / 12 = 182.5, half away from zero
    [InlineData("day", 30, 3000, 3042)] // 3000 × 365 / 360 = 3041.67
    public void Every_interval_is_normalised_to_a_month(string interval, long count, long amount, long expected)
    {
        var s = Subscription().Item(Price(amount, interval, count)).Build();

        Assert.Equal(expected, Usd(s));
    }

    [Fact]
    public void Rounding_happens_once_per_subscription_not_per_item()
    {
        // Three weekly items of 700: 3 × 3033.33 = 9100 exactly, where rounding each item would give 9099.
        var s = Subscription()
            .Item(Price(700, "week", id: "price_a")).Item(Price(700, "week", id: "price_b")).Item(Price(700, "week", id: "price_c"))
            .Build();

        Assert.Equal(9100, Usd(s));
    }

    [Theory]
    [InlineData("active", 5000)]
    [InlineData("past_due", 5000)]
    [InlineData("trialing", 0)]
    [InlineData("canceled", 0)]
    [InlineData("unpaid", 0)]
    [InlineData("incomplete", 0)]
    [InlineData("incomplete_expired", 0)]
    [InlineData("paused", 0)]
    public void Only_active_and_past_due_subscriptions_count(string status, long expected)
    {
        var s = Subscription().Status(status).Item(Price(5000)).Build();

        Assert.Equal(expected, Usd(s));
    }

    [Fact]
    public void Metered_and_one_off_prices_are_left_out()
    {
        var s = Subscription()
            .Item(Price(4000))
            .Item(MeteredPrice(10), quantity: 0)
            .Item(OneOffPrice(9900))
            .Build();

        Assert.Equal(4000, Usd(s));
    }

    [Fact]
    public void Graduated_tiers_bill_each_unit_in_its_own_tier()
    {
        var price = TieredPrice("graduated", Tier(5, 1000, flatAmount: 2000), Tier(10, 800), Tier(null, 500));
        var s = Subscription().Item(price, quantity: 12).Build();

        // units 1–5 at 1000 plus the first tier's flat 2000, 6–10 at 800, 11–12 at 500
        Assert.Equal(2000 + 5 * 1000 + 5 * 800 + 2 * 500, Usd(s));
    }

    [Theory]
    [InlineData(12, 12 * 500)]
    [InlineData(7, 7 * 800 + 300)]
    [InlineData(5, 5 * 1000)]
    public void Volume_tiers_price_every_unit_at_the_tier_the_quantity_falls_in(long quantity, long expected)
    {
        var price = TieredPrice("volume", Tier(null, 500), Tier(5, 1000), Tier(10, 800, flatAmount: 300));
        var s = Subscription().Item(price, quantity).Build();

        Assert.Equal(expected, Usd(s));
    }

    [Fact]
    public void Each_currency_is_kept_apart()
    {
        var dollars = Subscription("sub_usd").Item(Price(1000)).Build();
        var euros = Subscription("sub_eur").Item(Price(24_000, "year", currency: "eur", id: "price_eur")).Build();

        var mrr = Mrr.ForCustomer([dollars, euros], NoCoupons, Now);

        Assert.Equal(new Dictionary<string, long> { ["eur"] = 2000, ["usd"] = 1000 }, mrr);
    }

    [Fact]
    public void Percent_off_forever_reduces_mrr()
    {
        var s = Subscription().Item(Price(5000)).Discount(Discount("co_percent")).Build();

        Assert.Equal(5000 - 5000 * 20 / 100, Usd(s, Coupons(PercentOff(20))));
    }

    [Fact]
    public void Amount_off_is_taken_once_per_billing_period()
    {
        var monthly = Subscription("sub_m").Item(Price(5000)).Discount(Discount("co_amount")).Build();
        var yearly = Subscription("sub_y").Item(Price(60_000, "year")).Discount(Discount("co_amount")).Build();
        var coupons = Coupons(AmountOff(1200));

        Assert.Equal(5000 - 1200, Usd(monthly, coupons));
        Assert.Equal((60_000 - 1200) / 12, Usd(yearly, coupons));
    }

    [Fact]
    public void Amount_off_in_another_currency_does_not_apply()
    {
        var s = Subscription().Item(Price(5000)).Discount(Discount("co_amount")).Build();

        Assert.Equal(5000, Usd(s, Coupons(AmountOff(1000, currency: "eur"))));
    }

    [Fact]
    public void A_discount_never_takes_mrr_below_zero()
    {
        var s = Subscription().Item(Price(500)).Discount(Discount("co_amount")).Build();

        Assert.Equal(0, Usd(s, Coupons(AmountOff(2000))));
    }

    [Fact]
    public void Repeating_coupon_applies_for_its_months_from_the_discount_start()
    {
        var s = Subscription().Item(Price(10_000)).Discount(Discount("co_percent", start: T0)).Build();
        var coupons = Coupons(PercentOff(50, "repeating", months: 3));

        Assert.Equal(5000, Usd(s, coupons, now: T0.AddMonths(3).AddSeconds(-1)));
        Assert.Equal(10_000, Usd(s, coupons, now: T0.AddMonths(3)));
    }

    [Fact]
    public void Once_coupon_applies_only_during_the_one_billing_period_it_discounts()
    {
        var s = Subscription().Item(Price(10_000)).Discount(Discount("co_amount", start: T0)).Build();
        var coupons = Coupons(AmountOff(3000, duration: "once"));

        Assert.Equal(7000, Usd(s, coupons, now: Day(10)));
        Assert.Equal(10_000, Usd(s, coupons, now: T0.AddMonths(1)));
    }

    [Fact]
    public void An_ended_discount_no_longer_applies()
    {
        var s = Subscription().Item(Price(10_000)).Discount(Discount("co_percent", end: Day(30))).Build();

        Assert.Equal(10_000, Usd(s, Coupons(PercentOff(25)), now: Day(31)));
    }

    [Fact]
    public void Item_discounts_apply_before_subscription_discounts()
    {
        var s = Subscription()
            .Item(Price(10_000, id: "price_a"), 1, Discount("co_percent"))
            .Item(Price(2000, id: "price_b"))
            .Discount(Discount("co_amount"))
            .Build();

        // item a: 10000 − 50% = 5000; plus item b 2000 = 7000; then 1000 off the subscription = 6000
        Assert.Equal(6000, Usd(s, Coupons(PercentOff(50), AmountOff(1000))));
    }

    [Fact]
    public void Unknown_coupon_is_ignored()
    {
        var s = Subscription().Item(Price(3000)).Discount(Discount("co_missing")).Build();

        Assert.Equal(3000, Usd(s));
    }
}
