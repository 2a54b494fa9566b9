using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Processing;

/// <summary>
/// Monthly recurring revenue by SPEC §3, per currency, in minor units.
/// <list type="bullet">
/// <item>Counts subscriptions with status active or past_due; every licensed recurring item, times its quantity.
/// One-off prices, metered prices, tax (prices are taken before tax) and prorations (never on a subscription) are out.</item>
/// <item>An item's amount for one billing period: unit amount × quantity; tiered prices from their tiers
/// (graduated: each tier bills the units that fall in it plus its flat fee once reached; volume: the tier the
/// whole quantity falls in prices every unit, plus its flat fee). Quantity 0 is worth 0.</item>
/// <item>A period is turned into a month exactly, as a fraction: month ÷ n, year ÷ 12n, week × 52 ÷ 12n,
/// day × 365 ÷ 12n (n = interval count).</item>
/// <item>Discounts: an item's own discounts first, then the subscription's discounts on the sum of its items,
/// each in the order listed, each on what is left after the previous one, never below zero (Stripe applies
/// item discounts before subscription discounts). percent_off takes its share; amount_off is a sum off each
/// invoice, so it is taken off once per billing period, turned into a month like a price (an item's
/// amount_off with the item's interval; a subscription's with the interval of its first counted item); it
/// applies only to the coupon's currency.</item>
/// <item>A discount applies at <c>now</c> if it has started, has not ended (<c>discount.End</c>) and its coupon
/// still runs: forever always; repeating for DurationInMonths months from discount.Start; once for one billing
/// period from discount.Start (the single invoice it discounts). A discount without Start counts from the
/// subscription's start. A coupon the lookup doesn't know is ignored.</item>
/// <item>Rounding happens once: everything is exact decimal arithmetic, rounded half away from zero per
/// subscription and currency at the end; a customer's MRR is the sum of their subscriptions' rounded MRR.</item>
/// </list>
/// </summary>
public static class Mrr
{
    private static readonly IReadOnlyDictionary<string, long> None = new Dictionary<string, long>(StringComparer.Ordinal);

    /// <summary>Whether a subscription in this status counts toward MRR.</summary>
    public static bool Counts(string status) => status is "active" or "past_due";

    /// <summary>The subscription's MRR: empty unless it is active or past due.</summary>
    public static IReadOnlyDictionary<string, long> ForSubscription(
        SubscriptionRecord subscription, Func<string, CouponRecord?> coupon, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        return Counts(subscription.Status) ? RunRate(subscription, coupon, now) : None;
    }

    /// <summary>The sum of the MRR of a customer's (or person's) subscriptions, per currency.</summary>
    public static IReadOnlyDictionary<string, long> ForCustomer(
        IEnumerable<SubscriptionRecord> subscriptions, Func<string, CouponRecord?> coupon, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(subscriptions);
        var total = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var subscription in subscriptions)
        {
            foreach (var (currency, amount) in ForSubscription(subscription, coupon, now))
            {
                total[currency] = total.GetValueOrDefault(currency) + amount;
            }
        }

        return total;
    }

    /// <summary>
    /// What the subscription's items and discounts are worth per month whatever its status: the MRR it has
    /// (or would have) when active. Upgrades and downgrades compare this, so a change during a trial counts too.
    /// </summary>
    public static IReadOnlyDictionary<string, long> RunRate(
        SubscriptionRecord subscription, Func<string, CouponRecord?> coupon, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(coupon);
        var subscriptionStart = subscription.StartDate ?? subscription.Created;
        var monthly = new SortedDictionary<string, decimal>(StringComparer.Ordinal);
        PriceRecord? cycle = null;

        foreach (var item in subscription.Items)
        {
            var price = item.Price;
            if (!IsRecurringLicensed(price))
            {
                continue;
            }

            cycle ??= price;
            var perMonth = ToMonth(PeriodAmount(price, item.Quantity), price);
            perMonth = Discount(perMonth, item.Discounts, price, price.Currency, subscriptionStart, coupon, now);
            monthly[price.Currency] = monthly.GetValueOrDefault(price.Currency) + perMonth;
        }

        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (currency, amount) in monthly)
        {
            var afterSubscriptionDiscounts = Discount(amount, subscription.Discounts, cycle!, currency, subscriptionStart, coupon, now);
            result[currency] = (long)Math.Round(afterSubscriptionDiscounts, MidpointRounding.AwayFromZero);
        }

        return result;
    }

    /// <summary>Licensed recurring prices are the only ones that recur at a known amount.</summary>
    public static bool IsRecurringLicensed(PriceRecord price) =>
        price is not null
        && string.Equals(price.Kind, "recurring", StringComparison.Ordinal)
        && !string.Equals(price.UsageType, "metered", StringComparison.Ordinal)
        && price.Interval is not null;

    /// <summary>What <paramref name="quantity"/> units of the price cost for one billing period, in minor units.</summary>
    public static decimal PeriodAmount(PriceRecord price, long quantity)
    {
        ArgumentNullException.ThrowIfNull(price);
        if (quantity <= 0)
        {
            return 0m;
        }

        if (!string.Equals(price.BillingScheme, "tiered", StringComparison.Ordinal))
        {
            return (decimal)(price.UnitAmount ?? 0) * quantity;
        }

        var tiers = price.Tiers.OrderBy(t => t.UpTo ?? long.MaxValue).ToList();
        if (string.Equals(price.TiersMode, "volume", StringComparison.Ordinal))
        {
            var tier = tiers.FirstOrDefault(t => t.UpTo is null || quantity <= t.UpTo) ?? tiers.LastOrDefault();
            return tier is null ? 0m : (decimal)(tier.UnitAmount ?? 0) * quantity + (tier.FlatAmount ?? 0);
        }

        var amount = 0m;
        var below = 0L;
        foreach (var tier in tiers)
        {
            var upTo = tier.UpTo ?? long.MaxValue;
            var units = Math.Min(quantity, upTo) - below;
            if (units <= 0)
            {
                break;
            }

            amount += (decimal)(tier.UnitAmount ?? 0) * units + (tier.FlatAmount ?? 0);
            below = upTo;
        }

        return amount;
    }

    /// <summary>How many months one billing period of the price lasts (year 12, week 12/52, day 12/365, × interval count).</summary>
    public static decimal MonthsPerPeriod(string? interval, long intervalCount)
    {
        var (perMonthNumerator, perMonthDenominator) = MonthFraction(interval, intervalCount);
        return perMonthNumerator == 0 ? 0m : perMonthDenominator / (decimal)perMonthNumerator;
    }

    // An amount per period × numerator ÷ denominator is the amount per month; kept as a fraction so that
    // day-based prices (× 365 ÷ 12) land on exact halves where they should and round the same way every time.
    private static (long Numerator, long Denominator) MonthFraction(string? interval, long intervalCount)
    {
        var count = Math.Max(intervalCount, 1);
        return interval switch
        {
            "month" => (1, count),
            "year" => (1, 12 * count),
            "week" => (52, 12 * count),
            "day" => (365, 12 * count),
            _ => (0, 1),
        };
    }

    private static decimal ToMonth(decimal perPeriod, PriceRecord price)
    {
        var (numerator, denominator) = MonthFraction(price.Interval, price.IntervalCount);
        return perPeriod * numerator / denominator;
    }

    private static decimal Discount(
        decimal perMonth, IReadOnlyList<DiscountRecord> discounts, PriceRecord cycle, string currency,
        DateTimeOffset subscriptionStart, Func<string, CouponRecord?> couponOf, DateTimeOffset now)
    {
        foreach (var discount in discounts)
        {
            var coupon = discount.CouponId is null ? null : couponOf(discount.CouponId);
            if (coupon is null || !Applies(discount, coupon, cycle, subscriptionStart, now))
            {
                continue;
            }

            if (coupon.PercentOff is { } percent)
            {
                perMonth -= perMonth * percent / 100m;
            }
            else if (coupon.AmountOff is { } amountOff
                     && string.Equals(coupon.Currency, currency, StringComparison.OrdinalIgnoreCase))
            {
                perMonth -= ToMonth(amountOff, cycle);
            }

            perMonth = Math.Max(perMonth, 0m);
        }

        return perMonth;
    }

    /// <summary>Whether a discount with this coupon still reduces what the subscription bills at <paramref name="now"/>.</summary>
    public static bool Applies(
        DiscountRecord discount, CouponRecord coupon, PriceRecord cycle, DateTimeOffset subscriptionStart, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(discount);
        ArgumentNullException.ThrowIfNull(coupon);
        ArgumentNullException.ThrowIfNull(cycle);
        var start = discount.Start ?? subscriptionStart;
        if (start > now || discount.End is { } end && end <= now)
        {
            return false;
        }

        return coupon.Duration switch
        {
            "repeating" when coupon.DurationInMonths is { } months => now < start.AddMonths((int)months),
            "once" => now < AddPeriod(start, cycle.Interval, cycle.IntervalCount),
            _ => true,
        };
    }

    /// <summary>
    /// The moments a discount of the subscription may start or stop applying (see <see cref="Applies"/>): the only
    /// moments its MRR can change without a change of plan. Some may change nothing.
    /// </summary>
    public static IReadOnlyList<DateTimeOffset> DiscountBoundaries(SubscriptionRecord subscription, Func<string, CouponRecord?> coupon)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(coupon);
        var subscriptionStart = subscription.StartDate ?? subscription.Created;
        var prices = subscription.Items.Select(i => i.Price).Where(IsRecurringLicensed).ToList();
        var times = new List<DateTimeOffset>();
        foreach (var discount in subscription.Discounts.Concat(subscription.Items.SelectMany(i => i.Discounts)))
        {
            var start = discount.Start ?? subscriptionStart;
            times.Add(start);
            if (discount.End is { } end)
            {
                times.Add(end);
            }

            if (discount.CouponId is not null && coupon(discount.CouponId)?.DurationInMonths is { } months)
            {
                times.Add(start.AddMonths((int)months));
            }

            times.AddRange(prices.Select(p => AddPeriod(start, p.Interval, p.IntervalCount)));
        }

        return times;
    }

    private static DateTimeOffset AddPeriod(DateTimeOffset start, string? interval, long intervalCount)
    {
        var count = (int)Math.Max(intervalCount, 1);
        return interval switch
        {
            "year" => start.AddYears(count),
            "week" => start.AddDays(7 * count),
            "day" => start.AddDays(count),
            _ => start.AddMonths(count),
        };
    }
}
