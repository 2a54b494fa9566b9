using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using StripeSync.Simulator;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Browser;

/// <summary>
/// What the marketer asks, answered in a real browser after a real import: how many payments failed and why, what
/// MRR did this month, and does StripeSync match Stripe (until a payment is withheld from it on purpose).
/// </summary>
[Collection(BrowserTier.Name)]
[Trait("Tier", "Browser")]
public sealed class MetricsPagesTests(BrowserFixture browser)
{
    [BrowserFact]
    public async Task Metrics_metric_revenue_and_reconciliation_pages_after_an_import()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 80, Seed = 6 });
        await using var app = AppHost.Start(kestrel: true, extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() });
        using var api = app.WithApiKey(AppHost.AdminApiKey);
        await SyncWait.ConnectAsync(api, "rk_live_sim_full");
        await SyncWait.UntilAsync(api, "synced");

        var page = await browser.NewPageAsync(app.ServerAddress);
        try
        {
            await WalkAsync(sim, api, page);
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        // From the top: a full-page shot of a scrolled page paints the app bar halfway down.
        await page.EvaluateAsync("window.scrollTo(0, 0)");
        await BrowserFixture.ScreenshotAsync(page, name);
    }

    private static async Task WalkAsync(SimulatorServer sim, HttpClient api, IPage page)
    {
        await page.GotoAsync("/Account/Login");
        await page.FillAsync("#email", AppHost.AdminEmail);
        await page.FillAsync("#password", AppHost.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("[data-interactive=true]");

        // Metrics: every metric with its 30-day count, as the API counts it.
        var metrics = await api.GetFromJsonAsync<JsonElement>("/api/v1/metrics");
        await page.Locator(".mud-nav-link", new() { HasText = "Metrics" }).ClickAsync();
        await Assertions.Expect(page.Locator(".metrics-list tbody tr")).ToHaveCountAsync(metrics.GetArrayLength());
        var failed = metrics.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "Failed Payment").GetProperty("last30Days").GetInt32();
        await Assertions.Expect(page.Locator("tr[data-metric='Failed Payment'] .metric-count")).ToHaveTextAsync(failed.ToString("N0", CultureInfo.InvariantCulture));
        await Assertions.Expect(page.Locator(".metrics-list .sparkline polyline")).ToHaveCountAsync(metrics.GetArrayLength());
        await ScreenshotAsync(page, "20-metrics");

        // A metric page: 30 days by default, then 90.
        await page.Locator("tr[data-metric='Failed Payment'] a").ClickAsync();
        await page.WaitForURLAsync("**/metrics/Failed%20Payment");
        await Assertions.Expect(page.Locator(".metric-days tbody tr")).ToHaveCountAsync(30);
        await Assertions.Expect(page.Locator(".metric-chart svg")).ToBeVisibleAsync();
        await page.Locator(".metric-range").GetByText("90 days").ClickAsync();
        await Assertions.Expect(page.Locator(".metric-days tbody tr")).ToHaveCountAsync(90);
        await page.Locator(".metric-chart").ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.Artifacts, "21-metric-chart.png") });
        await ScreenshotAsync(page, "21-metric-failed-payment-90-days");

        // Filter the feed by a word of a decline reason present in the data; every row left carries it.
        var feed = await api.GetFromJsonAsync<JsonElement>("/api/v1/metrics/Failed Payment/events?pageSize=50");
        var reason = feed.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("properties"))
            .Where(p => p.TryGetProperty("Reason", out var r) && r.GetString()!.Length > 0).Select(p => p.GetProperty("Reason").GetString()!).First();
        var word = reason.Split(' ', StringSplitOptions.RemoveEmptyEntries).OrderByDescending(w => w.Length).First().Trim('.', ',');
        var expected = await api.GetFromJsonAsync<JsonElement>($"/api/v1/metrics/Failed Payment/events?pageSize=1&property.Reason[contains]={Uri.EscapeDataString(word)}");
        await page.Locator(".filter-name").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "Reason" }).ClickAsync();
        await page.Locator(".filter-operator").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "contains" }).ClickAsync();
        await page.Locator(".filter-value input").FillAsync(word.ToUpperInvariant());
        await page.Locator(".filter-add").ClickAsync();
        await Assertions.Expect(page.Locator(".feed-filters")).ToContainTextAsync($"Reason contains \"{word.ToUpperInvariant()}\"");
        await Assertions.Expect(page.Locator(".metric-feed .mud-table-pagination-caption").Last).ToContainTextAsync(
            $"of {expected.GetProperty("total").GetInt32()}");
        foreach (var row in await page.Locator(".metric-feed tbody tr").AllAsync())
        {
            Assert.Contains(word, await row.TextContentAsync() ?? "", StringComparison.OrdinalIgnoreCase);
        }

        await Assertions.Expect(page.Locator(".metric-feed tbody tr a").First).ToBeVisibleAsync();
        await ScreenshotAsync(page, "22-metric-feed-filtered");

        // Revenue: today's MRR per currency equals the sum of everyone's MRR field.
        await page.Locator(".mud-nav-link", new() { HasText = "Revenue" }).ClickAsync();
        var people = await SyncWait.AllPeopleAsync(api);
        var usd = people.Select(p => p.GetProperty("fields").GetProperty("stripe_mrr"))
            .Where(m => m.ValueKind == JsonValueKind.Object && m.TryGetProperty("usd", out _)).Sum(m => m.GetProperty("usd").GetInt64());
        await Assertions.Expect(page.Locator(".revenue-current[data-currency=usd] .revenue-mrr"))
            .ToHaveTextAsync("$" + (usd / 100m).ToString("N2", CultureInfo.InvariantCulture));
        await Assertions.Expect(page.Locator(".revenue-movements tbody tr")).ToHaveCountAsync(12);
        await Assertions.Expect(page.Locator(".revenue-chart svg")).ToBeVisibleAsync();
        await ScreenshotAsync(page, "23-revenue");
        await page.Locator(".revenue-chart").ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.Artifacts, "23-revenue-chart.png") });
        await page.Locator(".revenue-movements-chart").ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.Artifacts, "23-revenue-movements-chart.png") });

        // Sync health: the check that ran when the import finished found every day equal.
        await page.Locator(".mud-nav-link", new() { HasText = "Sync health" }).ClickAsync();
        var days = page.Locator(".reconciliation-day");
        await Assertions.Expect(days).ToHaveCountAsync(30, new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator(".reconciliation-day.different")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator(".reconciliation-summary")).ToHaveTextAsync("All 30 days match");
        await ScreenshotAsync(page, "24-sync-health-reconciled");

        // A payment StripeSync never hears of: Check now turns today red with a difference of one.
        var customer = sim.Account.All<Stripe.Customer>(livemode: true).First(c => c.Email is not null);
        sim.Control.UnannouncedPayment(customer.Id);
        await page.Locator(".reconciliation-check").ClickAsync();
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        await Assertions.Expect(page.Locator(".reconciliation-day.different")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator($".reconciliation-day[data-date='{today}']")).ToHaveAttributeAsync("data-difference", "1");
        await Assertions.Expect(page.Locator(".reconciliation-summary")).ToHaveTextAsync("1 of 30 days differ");
        await ScreenshotAsync(page, "25-sync-health-withheld-payment");
    }
}
