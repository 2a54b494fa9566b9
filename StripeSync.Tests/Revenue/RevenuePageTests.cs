using Bunit;
using StripeSync.Core.Connections;
using StripeSync.Tests.Support;
using B = StripeSync.Tests.Processing.Build;

namespace StripeSync.Tests.Revenue;

public sealed class RevenuePageTests : PageContext
{
    [Fact]
    public void Not_connected_says_what_to_do_next()
    {
        var page = Render<StripeSync.Web.Components.Pages.Revenue.Revenue>();

        page.WaitForAssertion(() => Assert.Contains("Not connected yet", page.Markup, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Synced_without_subscriptions_says_where_mrr_comes_from()
    {
        await ConnectAsync(ConnectionState.Synced);

        var page = Render<StripeSync.Web.Components.Pages.Revenue.Revenue>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll(".revenue-empty")));
        Assert.Contains("No recurring revenue yet", page.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Synced_shows_todays_mrr_per_currency_and_the_months_movements()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        // 2 seats × $49 a month = $98.00; €120 a year = €10.00 a month; a canceled one counts no more.
        await StoreAsync(live, B.Subscription("sub_usd").For("cus_a").Created(new DateTimeOffset(2026, 1, 10, 9, 0, 0, TimeSpan.Zero))
            .Item(B.Price(4900, id: "price_seat"), quantity: 2).Build());
        await StoreAsync(live, B.Subscription("sub_eur").For("cus_b").Created(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero))
            .Item(B.Price(12000, interval: "year", currency: "eur", id: "price_year")).Build());
        await StoreAsync(live, B.Subscription("sub_gone").For("cus_c").Created(new DateTimeOffset(2026, 2, 1, 9, 0, 0, TimeSpan.Zero))
            .Item(B.Price(2000, id: "price_small")).Canceled(new DateTimeOffset(2026, 2, 20, 9, 0, 0, TimeSpan.Zero)).Build());

        var page = Render<StripeSync.Web.Components.Pages.Revenue.Revenue>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(".revenue-current").Count));
        Assert.Equal("$98.00", page.Find(".revenue-current[data-currency=usd] .revenue-mrr").TextContent);
        Assert.Equal("€10.00", page.Find(".revenue-current[data-currency=eur] .revenue-mrr").TextContent);
        // The currency with the most MRR is shown first; twelve whole months, newest first.
        var months = page.FindAll(".revenue-movements tbody tr");
        Assert.Equal(12, months.Count);
        Assert.Equal("2026-03", months[0].GetAttribute("data-month"));
        var january = page.Find(".revenue-movements tr[data-month='2026-01']").Children.Select(c => c.TextContent.Trim()).ToList();
        Assert.Equal(["January 2026", "$98.00", "$0.00", "$0.00", "$0.00", "$0.00", "+$98.00", "$98.00"], january);
        var february = page.Find(".revenue-movements tr[data-month='2026-02']").Children.Select(c => c.TextContent.Trim()).ToList();
        Assert.Equal(["February 2026", "$20.00", "$0.00", "$0.00", "$0.00", "$20.00", "$0.00", "$98.00"], february);
        Assert.Equal(2, page.FindAll(".revenue-currency .mud-toggle-item").Count);

        page.FindAll(".revenue-currency .mud-toggle-item").Single(b => b.TextContent.Contains("EUR", StringComparison.Ordinal)).Click();

        page.WaitForAssertion(() => Assert.Contains("+€10.00", page.Find(".revenue-movements tr[data-month='2026-03']").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Importing_says_the_numbers_still_grow()
    {
        await ConnectAsync(ConnectionState.Importing);

        var page = Render<StripeSync.Web.Components.Pages.Revenue.Revenue>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll(".sync-notice[data-state=importing]")));
    }

    [Fact]
    public async Task Error_shows_the_error_above_the_numbers()
    {
        await ConnectAsync(ConnectionState.Error, error: "Stripe answered 500 five times.");

        var page = Render<StripeSync.Web.Components.Pages.Revenue.Revenue>();

        page.WaitForAssertion(() => Assert.Contains("Stripe answered 500 five times.", page.Find(".sync-notice").TextContent, StringComparison.Ordinal));
    }
}
