using Bunit;
using StripeSync.Core.Connections;
using StripeSync.Tests.Support;
using StripeSync.Web.Components.Pages.Metrics;
using M = StripeSync.Core.Processing.Metrics;

// Not StripeSync.Tests.Metrics: that namespace would hide Core.Processing.Metrics from every other test.
namespace StripeSync.Tests.MetricPages;

public sealed class MetricPageTests : PageContext
{
    [Fact]
    public void Not_connected_says_what_to_do_next()
    {
        var page = Render<Metric>(p => p.Add(m => m.Name, M.FailedPayment));

        page.WaitForAssertion(() => Assert.Contains("Not connected yet", page.Markup, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_metric_names_the_metrics_there_are()
    {
        await ConnectAsync(ConnectionState.Synced);

        var page = Render<Metric>(p => p.Add(m => m.Name, "Failed Payments"));

        page.WaitForAssertion(() => Assert.Contains("There is no metric \"Failed Payments\"", page.Markup, StringComparison.Ordinal));
        Assert.Contains(M.FailedPayment, page.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Synced_shows_30_days_with_counts_and_amounts_and_the_feed_newest_first_with_people()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        var ada = await PersonAsync("ada@example.test");
        var bob = await PersonAsync("bob@example.test");
        await EventAsync(live, M.FailedPayment, Now.AddHours(-3), ada, 1200, "usd", ("Reason", "Your card has expired."), ("Currency", "usd"));
        await EventAsync(live, M.FailedPayment, Now.AddHours(-2), bob, 500, "eur", ("Reason", "Your card was declined."), ("Currency", "eur"));
        await EventAsync(live, M.FailedPayment, Now.AddDays(-1), bob, 700, "usd", ("Reason", "Your card was declined."), ("Currency", "usd"));

        var page = Render<Metric>(p => p.Add(m => m.Name, M.FailedPayment));

        page.WaitForAssertion(() => Assert.Equal(30, page.FindAll(".metric-days tbody tr").Count));
        var rows = page.FindAll(".metric-days tbody tr");
        // Newest day first: today has two failures in two currencies, yesterday one.
        Assert.Contains(Today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("2", rows[0].Children[1].TextContent, StringComparison.Ordinal);
        Assert.Equal("€5.00 · $12.00", rows[0].Children[2].TextContent.Trim());
        Assert.Equal("$7.00", rows[1].Children[2].TextContent.Trim());
        Assert.Contains("3", page.Find(".metric-total").TextContent, StringComparison.Ordinal);

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll(".metric-feed tbody tr").Count));
        var feed = page.FindAll(".metric-feed tbody tr");
        Assert.Contains("bob@example.test", feed[0].TextContent, StringComparison.Ordinal);
        Assert.Equal($"people/{bob.Id}", feed[0].QuerySelector("a")!.GetAttribute("href"));
        Assert.Contains("Your card was declined.", feed[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("ada@example.test", feed[1].TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clicking_yesterday_shows_yesterdays_failures_and_their_reasons()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        var ada = await PersonAsync("ada@example.test");
        await EventAsync(live, M.FailedPayment, Now.AddHours(-1), ada, 100, "usd", ("Reason", "Your card was declined."));
        await EventAsync(live, M.FailedPayment, Now.AddDays(-1), ada, 100, "usd", ("Reason", "Your card has expired."));
        await EventAsync(live, M.FailedPayment, Now.AddDays(-1).AddHours(-2), ada, 100, "usd", ("Reason", "Your card has insufficient funds."));

        var page = Render<Metric>(p => p.Add(m => m.Name, M.FailedPayment));
        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll(".metric-feed tbody tr").Count));

        page.FindAll(".metric-days tbody tr")[1].Click();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(".metric-feed tbody tr").Count));
        Assert.Contains(Today.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), page.Find(".feed-day").TextContent,
            StringComparison.Ordinal);
        var reasons = page.FindAll(".metric-feed tbody tr").Select(r => r.TextContent).ToList();
        Assert.Contains("Your card has expired.", reasons[0], StringComparison.Ordinal);
        Assert.Contains("Your card has insufficient funds.", reasons[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Choosing_7_days_shows_7_days()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        await EventAsync(live, M.FailedPayment, Now.AddDays(-8), null, 100, "usd");

        var page = Render<Metric>(p => p.Add(m => m.Name, M.FailedPayment));
        page.WaitForAssertion(() => Assert.Equal(30, page.FindAll(".metric-days tbody tr").Count));
        Assert.Contains("1", page.Find(".metric-total b").TextContent, StringComparison.Ordinal);

        page.FindAll(".metric-range .mud-toggle-item").Single(b => b.TextContent.Contains("7 days", StringComparison.Ordinal)).Click();

        page.WaitForAssertion(() => Assert.Equal(7, page.FindAll(".metric-days tbody tr").Count));
        Assert.Equal("0", page.Find(".metric-total b").TextContent);
    }

    [Fact]
    public async Task Importing_says_the_numbers_still_grow()
    {
        await ConnectAsync(ConnectionState.Importing);

        var page = Render<Metric>(p => p.Add(m => m.Name, M.SuccessfullyPaid));

        page.WaitForAssertion(() => Assert.Single(page.FindAll(".sync-notice[data-state=importing]")));
        page.WaitForAssertion(() => Assert.Contains("No Successfully Paid events yet.", page.Find(".metric-feed").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Key_revoked_says_the_numbers_stopped()
    {
        await ConnectAsync(ConnectionState.KeyRevoked, error: "Invalid API Key provided.");

        var page = Render<Metric>(p => p.Add(m => m.Name, M.SuccessfullyPaid));

        page.WaitForAssertion(() => Assert.Single(page.FindAll(".sync-notice[data-state=keyrevoked]")));
        Assert.Contains("Invalid API Key provided.", page.Find(".sync-notice").TextContent, StringComparison.Ordinal);
    }
}
