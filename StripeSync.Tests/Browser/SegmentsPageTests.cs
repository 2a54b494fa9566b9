using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using StripeSync.Simulator;
using StripeSync.Tests.Segments;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Browser;

[Collection(BrowserTier.Name)]
[Trait("Tier", "Browser")]
public sealed class SegmentsPageTests(BrowserFixture browser)
{
    [BrowserFact]
    public async Task A_marketer_opens_a_predefined_segment_builds_a_custom_one_and_exports_it()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 40, Seed = 4 });
        await using var app = AppHost.Start(kestrel: true, extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() });
        using var api = app.WithApiKey(AppHost.AdminApiKey);
        await SyncWait.ConnectAsync(api, "rk_live_sim_full");
        await SyncWait.UntilAsync(api, "synced");

        var page = await browser.NewPageAsync(app.ServerAddress);
        try
        {
            await WalkAsync(api, page);
        }
        finally
        {
            // Close the live circuit first, or stopping the app waits out Kestrel's grace period for it.
            await page.Context.CloseAsync();
        }
    }

    private static async Task WalkAsync(HttpClient api, IPage page)
    {
        await page.GotoAsync("/Account/Login");
        await page.FillAsync("#email", AppHost.AdminEmail);
        await page.FillAsync("#password", AppHost.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("[data-interactive=true]");

        // The list: every predefined segment with the count the API gives.
        var segments = (await api.GetFromJsonAsync<JsonElement>("/api/v1/segments")).GetProperty("items").EnumerateArray()
            .ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("count").GetInt32());
        await page.Locator(".mud-nav-link", new() { HasText = "Segments" }).ClickAsync();
        await Assertions.Expect(page.Locator(".predefined-segments tbody tr")).ToHaveCountAsync(10);
        var customersRow = page.Locator(".predefined-segments tbody tr", new() { HasText = "Customers" }).Filter(new() { HasNotText = "Churned" }).Filter(new() { HasNotText = "Slipping" });
        await Assertions.Expect(customersRow.Locator(".segment-count")).ToHaveTextAsync(segments["Customers"].ToString("N0", CultureInfo.InvariantCulture));
        await Assertions.Expect(page.Locator(".no-custom-segments")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "30-segments");

        // A predefined segment: its members, as many as counted.
        await customersRow.Locator("a").ClickAsync();
        await page.WaitForURLAsync("**/segments/customers");
        await Assertions.Expect(page.Locator(".segment-total")).ToHaveTextAsync($"{segments["Customers"]:N0} people");
        await Assertions.Expect(page.Locator(".segment-members tbody tr")).ToHaveCountAsync(Math.Min(25, segments["Customers"]));
        await BrowserFixture.ScreenshotAsync(page, "31-segment-customers");

        // The builder: active subscription AND paid at least twice in the last year.
        await page.Locator(".mud-nav-link", new() { HasText = "Segments" }).ClickAsync();
        await page.Locator(".new-segment").ClickAsync();
        await Assertions.Expect(page.Locator(".no-conditions")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "32-segment-builder-empty");
        await page.Locator(".add-field-condition").ClickAsync();
        await page.Locator(".field-value input").FillAsync("active");
        await Assertions.Expect(page.Locator(".match-count")).ToContainTextAsync("match");
        await page.Locator(".add-metric-condition").ClickAsync();
        await page.Locator(".metric-name").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "Successfully Paid" }).ClickAsync();
        await page.Locator(".metric-at-least input").FillAsync("2");
        await page.Locator(".metric-days input").FillAsync("365");
        await page.Locator(".segment-name-input input").FillAsync("Active repeat payers");

        var expected = await CountAsync(api, new
        {
            match = "all",
            conditions = new object[]
            {
                new { field = "stripe_subscription_status", @operator = "equals", value = "active" },
                new { metric = "Successfully Paid", did = "did", atLeast = 2, days = 365 },
            },
        });
        var matches = expected == 1 ? "1 person matches" : $"{expected:N0} people match";
        await Assertions.Expect(page.Locator(".match-count")).ToHaveTextAsync(matches);
        await BrowserFixture.ScreenshotAsync(page, "33-segment-builder");
        await page.Locator(".save-segment").ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/segments/[0-9a-f-]{36}$"));
        await Assertions.Expect(page.Locator(".segment-name")).ToHaveTextAsync("Active repeat payers");
        await Assertions.Expect(page.Locator(".segment-total")).ToHaveTextAsync(expected == 1 ? "1 person" : $"{expected:N0} people");
        await BrowserFixture.ScreenshotAsync(page, "34-custom-segment");

        // Export CSV: the download has a header and one line per member.
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator(".export-csv").ClickAsync());
        Assert.EndsWith(".csv", download.SuggestedFilename, StringComparison.Ordinal);
        var rows = Csv.Parse(await File.ReadAllTextAsync(await download.PathAsync()));
        Assert.Equal("id", rows[0][0]);
        Assert.Equal(expected, rows.Count - 1);
        var id = page.Url.Split('/')[^1];
        var members = await api.GetFromJsonAsync<JsonElement>($"/api/v1/segments/{id}/members?pageSize=500");
        Assert.Equal(members.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("id").GetString()).Order(), rows.Skip(1).Select(r => r[0]).Order());

        await page.Locator(".mud-nav-link", new() { HasText = "Segments" }).ClickAsync();
        await Assertions.Expect(page.Locator(".custom-segments tbody tr", new() { HasText = "Active repeat payers" })).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "35-segments-with-custom");
    }

    /// <summary>The count of a definition through the API (a segment created for the purpose, then deleted).</summary>
    private static async Task<int> CountAsync(HttpClient api, object definition)
    {
        var created = await (await api.PostAsJsonAsync("/api/v1/segments", new { name = "probe", definition })).Content.ReadFromJsonAsync<JsonElement>();
        await api.DeleteAsync($"/api/v1/segments/{created.GetProperty("id").GetString()}");
        return created.GetProperty("count").GetInt32();
    }
}
