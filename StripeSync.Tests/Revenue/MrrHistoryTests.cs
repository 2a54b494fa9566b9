using StripeSync.Core.Revenue;
using StripeSync.Tests.Processing;

namespace StripeSync.Tests.Revenue;

public sealed class MrrHistoryTests
{
    private static readonly DateTimeOffset Now = Build.Day(100);

    [Fact]
    public void A_subscription_counts_from_its_start_until_its_cancellation_as_new_then_churn()
    {
        var subscription = Build.Subscription("sub_a").For("cus_a").Created(Build.Day(10)).Item(Build.Price(3000))
            .Canceled(Build.Day(40), "cancellation_requested").Build();

        var days = MrrHistory.Daily([subscription], [], _ => null, Date(5), Date(50), Now);

        Assert.Equal(0, Day(days, 9).Mrr);
        Assert.Equal(3000, Day(days, 10).New);
        Assert.Equal(3000, Day(days, 25).Mrr);
        Assert.Equal(3000, Day(days, 40).Churn);
        Assert.Equal(0, Day(days, 41).Mrr);
    }

    [Fact]
    public void A_trial_starts_paying_at_its_end_and_a_current_trial_counts_nothing()
    {
        var converted = Build.Subscription("sub_t").For("cus_t").Created(Build.Day(10)).Trial(Build.Day(10), Build.Day(24)).Status("active")
            .Item(Build.Price(1200)).Build();
        var trialing = Build.Subscription("sub_u").For("cus_u").Created(Build.Day(95)).Trial(Build.Day(95), Build.Day(109)).Status("trialing")
            .Item(Build.Price(5000)).Build();

        var days = MrrHistory.Daily([converted, trialing], [], _ => null, Date(20), Date(99), Now);

        Assert.Equal(0, Day(days, 23).Mrr);
        Assert.Equal(1200, Day(days, 24).New);
        Assert.Equal(1200, Day(days, 99).Mrr);
    }

    [Fact]
    public void Plan_changes_seen_by_events_step_the_amount_as_expansion_and_contraction()
    {
        var subscription = Build.Subscription("sub_c").For("cus_c").Created(Build.Day(10)).Item(Build.Price(8000)).Build();
        MrrChange[] changes =
        [
            new("sub_c", Build.Day(30), "usd", 2000, 9000),
            new("sub_c", Build.Day(60), "usd", 9000, 8000),
        ];

        var days = MrrHistory.Daily([subscription], changes, _ => null, Date(1), Date(99), Now);

        Assert.Equal(2000, Day(days, 10).New);
        Assert.Equal(7000, Day(days, 30).Expansion);
        Assert.Equal(1000, Day(days, 60).Contraction);
        Assert.Equal(8000, Day(days, 99).Mrr);
    }

    [Fact]
    public void A_customer_who_comes_back_after_churning_is_a_reactivation_not_new()
    {
        var first = Build.Subscription("sub_1").For("cus_r").Created(Build.Day(5)).Item(Build.Price(1000)).Canceled(Build.Day(20)).Build();
        var second = Build.Subscription("sub_2").For("cus_r").Created(Build.Day(50)).Item(Build.Price(1500)).Build();

        var days = MrrHistory.Daily([first, second], [], _ => null, Date(1), Date(99), Now);

        Assert.Equal(1000, Day(days, 5).New);
        Assert.Equal(1000, Day(days, 20).Churn);
        Assert.Equal(1500, Day(days, 50).Reactivation);
        Assert.Equal(0, days.Sum(d => d.New) - 1000);
    }

    [Fact]
    public void Currencies_are_kept_apart()
    {
        var usd = Build.Subscription("sub_usd").For("cus_1").Created(Build.Day(1)).Item(Build.Price(1000)).Build();
        var eur = Build.Subscription("sub_eur").For("cus_2").Created(Build.Day(1)).Item(Build.Price(900, currency: "eur", id: "price_eur")).Build();

        var days = MrrHistory.Daily([usd, eur], [], _ => null, Date(10), Date(10), Now);

        Assert.Equal(1000, days.Single(d => d.Currency == "usd").Mrr);
        Assert.Equal(900, days.Single(d => d.Currency == "eur").Mrr);
    }

    private static DateOnly Date(int day) => DateOnly.FromDateTime(Build.Day(day).UtcDateTime);

    private static MrrDay Day(IReadOnlyList<MrrDay> days, int day) => days.Single(d => d.Date == Date(day) && d.Currency == "usd");
}
