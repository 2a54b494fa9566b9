using Bunit;
using StripeSync.Core.Connections;
using StripeSync.Tests.Support;
using M = StripeSync.Core.Processing.Metrics;

// Not StripeSync.Tests.Metrics: that namespace would hide Core.Processing.Metrics from every other test.
namespace StripeSync.Tests.MetricPages;

public sealed class MetricsPageTests : PageContext
{
    [Fact]
    public void Not_connected_says_what_to_do_next()
    {
        var page = Render<StripeSync.Web.Components.Pages.Metrics.Metrics>();

        page.WaitForAssertion(() => Assert.Contains("Not connected yet", page.Markup, StringComparison.Ordinal));
        Assert.Empty(page.FindAll(".metrics-list"));
    }

    [Fact]
    public async Task Synced_lists_every_metric_with_its_count_over_the_last_30_days_and_a_sparkline()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        var ada = await PersonAsync("ada@example.test");
        foreach (var daysAgo in new[] { 0, 0, 0, 1, 29, 30, 45 })
        {
            await EventAsync(live, M.FailedPayment, Now.AddDays(-daysAgo).AddHours(-1), ada);
        }

        await EventAsync(live, M.SuccessfullyPaid, Now.AddDays(-10), ada, 4900, "usd");
        await EventAsync(live, M.SuccessfullyPaid, Now.AddDays(-10), ada, 4900, "usd");

        var page = Render<StripeSync.Web.Components.Pages.Metrics.Metrics>();

        page.WaitForAssertion(() => Assert.Equal(M.All.Count, page.FindAll(".metrics-list tbody tr").Count));
        // Today, yesterday and 29 days back are inside the 30 days; 30 and 45 days back are not.
        Assert.Equal("5", page.Find("tr[data-metric='Failed Payment'] .metric-count").TextContent);
        Assert.Equal("2", page.Find("tr[data-metric='Successfully Paid'] .metric-count").TextContent);
        Assert.Equal("0", page.Find("tr[data-metric='Trial Started'] .metric-count").TextContent);
        Assert.Equal("1", page.Find("tr[data-metric='Failed Payment'] .metric-yesterday").TextContent);
        Assert.Equal(M.All.Count, page.FindAll(".sparkline polyline").Count);
        Assert.Equal("metrics/Failed%20Payment", page.Find("tr[data-metric='Failed Payment'] a").GetAttribute("href"));
        Assert.Empty(page.FindAll(".sync-notice"));
    }

    [Fact]
    public async Task Importing_says_the_numbers_still_grow()
    {
        await ConnectAsync(ConnectionState.Importing);

        var page = Render<StripeSync.Web.Components.Pages.Metrics.Metrics>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll(".sync-notice[data-state=importing]")));
        Assert.Contains("grow until the import finishes", page.Markup, StringComparison.Ordinal);
        Assert.Equal(M.All.Count, page.FindAll(".metrics-list tbody tr").Count);
    }

    [Fact]
    public async Task Error_shows_the_error_above_the_numbers()
    {
        await ConnectAsync(ConnectionState.Error, error: "Stripe answered 500 five times.");

        var page = Render<StripeSync.Web.Components.Pages.Metrics.Metrics>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll(".sync-notice[data-state=error]")));
        Assert.Contains("Stripe answered 500 five times.", page.Find(".sync-notice").TextContent, StringComparison.Ordinal);
        Assert.Equal(M.All.Count, page.FindAll(".metrics-list tbody tr").Count);
    }
}
