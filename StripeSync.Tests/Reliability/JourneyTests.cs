using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using StripeSync.Core.Access;
using StripeSync.Simulator;
using StripeSync.Tests.Segments;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Reliability;

/// <summary>
/// The whole product in one sitting, in a real browser, from an empty database: first run, sign-in, the connect wizard
/// (a key missing a permission, then a good one), the import, every page the navigation offers, a custom segment and its
/// CSV, Settings, and finally disconnect with purge. Each page is checked against what the API says and photographed.
/// </summary>
[Collection(BrowserTier.Name)]
[Trait("Tier", "Browser")]
[Trait("Category", "Reliability")]
public sealed partial class JourneyTests(BrowserFixture browser)
{
    private const string Email = "owner@example.test";
    private const string Password = "Owner-Passw0rd";

    private readonly List<string> screenshots = [];
    private readonly List<string> visited = [];
    private readonly List<string> pageErrors = [];
    private readonly List<string> consoleErrors = [];
    private int dialogs;
    private int checks;

    [BrowserFact]
    public async Task A_new_admin_goes_from_first_run_through_every_page_to_disconnect_and_purge()
    {
        var clock = Stopwatch.StartNew();
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 60, Seed = 6 });
        await using var app = AppHost.Start(bootstrap: false, kestrel: true,
            extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() });
        var page = await browser.NewPageAsync(app.ServerAddress);
        page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };
        page.PageError += (_, error) => pageErrors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };
        List<(string Text, string Href)> nav;
        try
        {
            nav = await WalkAsync(app, page);
        }
        finally
        {
            // Close the live circuit first, or stopping the app waits out Kestrel's grace period for it.
            await page.Context.CloseAsync();
        }

        Assert.Empty(pageErrors);
        Assert.Equal(0, dialogs);
        ReliabilityReport.Write("Browser journey: first run to disconnect and purge, chromium",
            $"from an empty database with a simulated account of 60 customers, in {clock.Elapsed.TotalSeconds:N0} s: first run (/setup), sign-out and sign-in, "
                + "the connect wizard (rk_live_sim_without_invoices_read refused with Invoices → Read named, then rk_live_sim_full), field mapping, import, Sync health until synced",
            $"every page of the navigation, read from the app's own menu ({string.Join(", ", nav.Select(n => n.Text))}), and the pages under them: "
                + string.Join(", ", visited.Distinct()),
            $"{screenshots.Count} screenshots in artifacts/screenshots: {string.Join(", ", screenshots)}",
            $"{checks} checks of what a page shows against the API (counts, emails, fields, activity, today's USD MRR, drawn charts, CSV header and member ids, permission lines), "
                + "then disconnect and purge through the confirmation dialog: 0 people left, People shows its not-connected state",
            $"uncaught script errors: {pageErrors.Count}; alert/confirm dialogs opened by the page: {dialogs}; console errors: {consoleErrors.Count}");
    }

    private async Task<List<(string Text, string Href)>> WalkAsync(AppHost app, IPage page)
    {
        // First run: the empty app asks for the admin account.
        await page.GotoAsync("/");
        Assert.EndsWith("/setup", page.Url, StringComparison.Ordinal);
        await ShotAsync(page, "setup");
        await page.FillAsync("#email", Email);
        await page.FillAsync("#password", Password);
        await page.FillAsync("#confirm", Password);
        await page.ClickAsync("button[type=submit]");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sync health" })).ToBeVisibleAsync();

        // Out and in again through the sign-in form.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/Account/Login**");
        await page.FillAsync("#email", Email);
        await page.FillAsync("#password", Password);
        await ShotAsync(page, "sign-in");
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("[data-interactive=true]");
        await Expect(page.GetByText("Not connected yet")).ToBeVisibleAsync();
        await ShotAsync(page, "sync-health-not-connected");

        // The test's own view of the truth: an API key of the new admin, made behind the browser's back.
        using var api = app.WithApiKey(await ApiKeyAsync(app));

        // The menu as the app draws it: every entry must be visited below.
        var nav = new List<(string Text, string Href)>();
        foreach (var link in await page.Locator(".mud-nav-link").AllAsync())
        {
            nav.Add(((await link.InnerTextAsync()).Trim(), new Uri(await link.EvaluateAsync<string>("a => a.href")).AbsolutePath));
        }

        Assert.True(nav.Count >= 6, $"the menu has {nav.Count} entries");

        await ConnectAsync(page, api, app.ServerAddress);
        await PeopleAsync(page, api);
        await MetricsAsync(page, api);
        await RevenueAsync(page, api);
        await SegmentsAsync(page, api);
        await SettingsAsync(page, app);
        await PurgeAsync(page, api);

        var missed = nav.Where(n => !visited.Contains(n.Href)).Select(n => n.Text).ToList();
        Assert.True(missed.Count == 0, "menu entries not visited: " + string.Join(", ", missed));
        return nav;
    }

    private async Task ConnectAsync(IPage page, HttpClient api, Uri home)
    {
        await page.GetByRole(AriaRole.Link, new() { Name = "Connect Stripe" }).First.ClickAsync();
        await page.WaitForURLAsync("**/connect");
        Visit("/connect");
        await Expect(page.Locator(".connect-stepper[data-step=key]")).ToBeVisibleAsync();
        await ShotAsync(page, "wizard-key");

        await page.Locator(".key-input input").FillAsync("rk_live_sim_without_invoices_read");
        await page.Locator(".key-next").ClickAsync();
        var invoices = page.Locator(".permission[data-name=Invoices]");
        await Expect(invoices).ToHaveAttributeAsync("data-granted", "false");
        await Expect(invoices.Locator(".permission-message")).ToContainTextAsync("tick Invoices → Read");
        await Expect(page.Locator(".permission[data-granted=false]")).ToHaveCountAsync(1);
        await Expect(page.Locator(".permissions-next")).ToBeDisabledAsync();
        await ShotAsync(page, "wizard-permission-missing");

        await page.GetByRole(AriaRole.Button, new() { Name = "Use another key" }).ClickAsync();
        await page.Locator(".key-input input").FillAsync("rk_live_sim_full");
        await page.Locator(".key-next").ClickAsync();
        await Expect(page.Locator(".permission[data-granted=true]")).ToHaveCountAsync(9);
        await ShotAsync(page, "wizard-permissions-granted");
        await page.Locator(".permissions-next").ClickAsync();

        await Expect(page.Locator(".field[data-token=email] .field-sample")).ToContainTextAsync("@");
        await ShotAsync(page, "wizard-fields");
        await page.Locator(".mapping-next").ClickAsync();
        await Expect(page.Locator(".connect-stepper[data-step=sync]")).ToBeVisibleAsync();
        await ShotAsync(page, "wizard-import");
        await page.Locator(".sync-start").ClickAsync();

        await page.WaitForURLAsync(home.ToString());
        await SyncWait.UntilAsync(api, "synced");
        await Expect(page.Locator(".health-frame[data-state=synced]")).ToBeVisibleAsync();
        Visit("/");
        await ShotAsync(page, "sync-health-synced");
    }

    private async Task PeopleAsync(IPage page, HttpClient api)
    {
        var people = await api.GetFromJsonAsync<JsonElement>("/api/v1/people?pageSize=25");
        var total = people.GetProperty("total").GetInt32();
        Assert.True(total > 25, $"only {total} people were imported");
        await NavAsync(page, "People", "/people");
        await Expect(page.Locator(".mud-table-body tr")).ToHaveCountAsync(25);
        await Expect(page.Locator(".mud-table-pagination-caption").Last).ToContainTextAsync($"of {total}");
        await ShotAsync(page, "people");

        // A person: the page shows the email and every field the API lists.
        var first = page.Locator(".mud-table-body tr a").First;
        await first.ClickAsync();
        await page.WaitForURLAsync(PersonUrl());
        Visit("/people/{id}");
        var id = page.Url.Split('/')[^1];
        var person = await api.GetFromJsonAsync<JsonElement>($"/api/v1/people/{id}");
        if (person.GetProperty("email").GetString() is { } email)
        {
            await Expect(page.GetByText(email).First).ToBeVisibleAsync();
        }

        await Expect(page.Locator(".person-fields .token")).ToHaveCountAsync(Core.Processing.PersonFields.Tokens.Count);
        var customerId = person.GetProperty("stripeCustomerIds")[0].GetString()!;
        await Expect(page.Locator(".person-fields tr", new() { HasText = "{{profile.stripe_customer_id}}" })).ToContainTextAsync(customerId);
        // The activity table loads after the page: wait for as many events as the API lists, or the photo shows it empty.
        var events = (await api.GetFromJsonAsync<JsonElement>($"/api/v1/people/{id}/events?pageSize=25")).GetProperty("total").GetInt32();
        Assert.True(events > 0, "the person has no activity");
        await Expect(page.Locator(".person-activity .mud-table-body tr")).ToHaveCountAsync(Math.Min(25, events));
        await ShotAsync(page, "person");
    }

    private async Task MetricsAsync(IPage page, HttpClient api)
    {
        var metrics = await api.GetFromJsonAsync<JsonElement>("/api/v1/metrics");
        await NavAsync(page, "Metrics", "/metrics");
        await Expect(page.Locator(".metrics-list tbody tr")).ToHaveCountAsync(metrics.GetArrayLength());
        var paid = metrics.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "Successfully Paid").GetProperty("last30Days").GetInt32();
        await Expect(page.Locator("tr[data-metric='Successfully Paid'] .metric-count")).ToHaveTextAsync(paid.ToString("N0", CultureInfo.InvariantCulture));
        await ShotAsync(page, "metrics");

        await page.Locator("tr[data-metric='Successfully Paid'] a").ClickAsync();
        await page.WaitForURLAsync("**/metrics/Successfully%20Paid");
        Visit("/metrics/{name}");
        await Expect(page.Locator(".metric-days tbody tr")).ToHaveCountAsync(30);
        await ChartDrawnAsync(page, ".metric-chart");
        await ShotAsync(page, "metric-successfully-paid");
    }

    private async Task RevenueAsync(IPage page, HttpClient api)
    {
        await NavAsync(page, "Revenue", "/revenue");
        // Today's MRR per currency is the sum of everyone's MRR field.
        var mrr = (await SyncWait.AllPeopleAsync(api)).Select(p => p.GetProperty("fields").GetProperty("stripe_mrr"))
            .Where(m => m.ValueKind == JsonValueKind.Object).SelectMany(m => m.EnumerateObject())
            .GroupBy(c => c.Name).ToDictionary(g => g.Key, g => g.Sum(c => c.Value.GetInt64()));
        Assert.True(mrr.GetValueOrDefault("usd") > 0, "the simulated account has no USD MRR");
        await Expect(page.Locator(".revenue-current[data-currency=usd] .revenue-mrr"))
            .ToHaveTextAsync("$" + (mrr["usd"] / 100m).ToString("N2", CultureInfo.InvariantCulture));
        await Expect(page.Locator(".revenue-movements tbody tr")).ToHaveCountAsync(12);
        await ChartDrawnAsync(page, ".revenue-chart");
        await ChartDrawnAsync(page, ".revenue-movements-chart");
        await ShotAsync(page, "revenue");
    }

    private async Task SegmentsAsync(IPage page, HttpClient api)
    {
        var segments = (await api.GetFromJsonAsync<JsonElement>("/api/v1/segments")).GetProperty("items").EnumerateArray()
            .ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("count").GetInt32());
        await NavAsync(page, "Segments", "/segments");
        await Expect(page.Locator(".predefined-segments tbody tr")).ToHaveCountAsync(segments.Count);
        await ShotAsync(page, "segments");

        // A predefined segment: as many members as the API counts.
        var customers = page.Locator(".predefined-segments tbody tr", new() { HasText = "Customers" })
            .Filter(new() { HasNotText = "Churned" }).Filter(new() { HasNotText = "Slipping" });
        await customers.Locator("a").ClickAsync();
        await page.WaitForURLAsync("**/segments/customers");
        Visit("/segments/{id}");
        await Expect(page.Locator(".segment-total")).ToHaveTextAsync($"{segments["Customers"]:N0} people");
        await Expect(page.Locator(".segment-members tbody tr")).ToHaveCountAsync(Math.Min(25, segments["Customers"]));
        await ShotAsync(page, "segment-customers");

        // A custom segment: active subscriptions.
        await NavAsync(page, "Segments", "/segments");
        await page.Locator(".new-segment").ClickAsync();
        await page.WaitForURLAsync("**/segments/new");
        Visit("/segments/new");
        await page.Locator(".add-field-condition").ClickAsync();
        await page.Locator(".field-value input").FillAsync("active");
        await page.Locator(".segment-name-input input").FillAsync("Journey actives");
        var expected = await CountAsync(api, new
        {
            match = "all",
            conditions = new object[] { new { field = "stripe_subscription_status", @operator = "equals", value = "active" } },
        });
        Assert.True(expected > 0, "nobody has an active subscription in the simulated account");
        await Expect(page.Locator(".match-count")).ToHaveTextAsync(expected == 1 ? "1 person matches" : $"{expected:N0} people match");
        await ShotAsync(page, "segment-builder");
        await page.Locator(".save-segment").ClickAsync();
        await page.WaitForURLAsync(SegmentUrl());
        await Expect(page.Locator(".segment-name")).ToHaveTextAsync("Journey actives");
        await Expect(page.Locator(".segment-total")).ToHaveTextAsync(expected == 1 ? "1 person" : $"{expected:N0} people");
        await ShotAsync(page, "segment-custom");

        // Export CSV: a header, then exactly the members the API lists.
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator(".export-csv").ClickAsync());
        Assert.Equal("journey-actives-live.csv", download.SuggestedFilename);
        var rows = Csv.Parse(await File.ReadAllTextAsync(await download.PathAsync()));
        Assert.Equal("id", rows[0][0]);
        Assert.Contains("email", rows[0]);
        Assert.Equal(expected, rows.Count - 1);
        var members = await api.GetFromJsonAsync<JsonElement>($"/api/v1/segments/{page.Url.Split('/')[^1]}/members?pageSize=500");
        Assert.Equal(members.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("id").GetString()).Order(), rows.Skip(1).Select(r => r[0]).Order());
        checks += 4;
    }

    private async Task SettingsAsync(IPage page, AppHost app)
    {
        await NavAsync(page, "Settings", "/settings");
        await Expect(page.Locator(".connections td[data-label=Key]", new() { HasText = "rk_live_…full" })).ToBeVisibleAsync();
        await ShotAsync(page, "settings-connections");

        await page.GetByRole(AriaRole.Tab, new() { Name = "Users" }).ClickAsync();
        await Expect(page.Locator("td[data-label=Email]", new() { HasText = Email })).ToBeVisibleAsync();
        await Expect(page.Locator("td[data-label=State]", new() { HasText = "Active" })).ToBeVisibleAsync();
        await ShotAsync(page, "settings-users");

        await page.GetByRole(AriaRole.Tab, new() { Name = "API keys" }).ClickAsync();
        await page.GetByLabel("Key name").FillAsync("Journey CRM export");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var secret = (await page.Locator(".api-key-secret").TextContentAsync())!.Trim();
        Assert.StartsWith("ssk_", secret, StringComparison.Ordinal);
        await Expect(page.Locator("td[data-label=Name]", new() { HasText = "Journey CRM export" })).ToBeVisibleAsync();
        using (var created = app.WithApiKey(secret))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await created.GetAsync("/api/v1/status")).StatusCode);
        }

        checks += 2;
        await ShotAsync(page, "settings-api-keys");
    }

    private async Task PurgeAsync(IPage page, HttpClient api)
    {
        await page.GetByRole(AriaRole.Tab, new() { Name = "Connections" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Disconnect and purge" }).ClickAsync();
        var dialog = page.Locator(".mud-dialog");
        await Expect(dialog).ToContainTextAsync("Disconnect and purge?");
        await Expect(dialog).ToContainTextAsync("rk_live_…full");
        await ShotAsync(page, "settings-purge-dialog");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Disconnect and purge" }).ClickAsync();
        await Expect(page.GetByText("No Stripe account is connected yet.")).ToBeVisibleAsync();
        await ShotAsync(page, "settings-purged");

        var status = await api.GetFromJsonAsync<JsonElement>("/api/v1/status");
        Assert.Equal("not_connected", status.GetProperty("state").GetString());
        Assert.Equal(0, (await api.GetFromJsonAsync<JsonElement>("/api/v1/people?mode=live")).GetProperty("total").GetInt32());
        checks += 2;

        await NavAsync(page, "People", "/people");
        await Expect(page.Locator(".not-connected")).ToBeVisibleAsync();
        await Expect(page.Locator(".mud-table-body tr")).ToHaveCountAsync(0);
        await ShotAsync(page, "people-after-purge");
    }

    /// <summary>A chart sized to its box is drawn once the browser has measured the box; until then its svg is empty.</summary>
    private async Task ChartDrawnAsync(IPage page, string chart)
    {
        await Expect(page.Locator($"{chart} svg text").First).ToBeVisibleAsync();
    }

    private async Task NavAsync(IPage page, string text, string path)
    {
        await page.Locator(".mud-nav-link", new() { HasText = text }).ClickAsync();
        await page.WaitForURLAsync("**" + path);
        Visit(path);
    }

    private void Visit(string path) => visited.Add(path);

    /// <summary>journey-NN-name.png, numbered in walking order; from the top, since a full-page shot of a scrolled page paints the app bar mid-page.</summary>
    private async Task ShotAsync(IPage page, string name)
    {
        var file = $"journey-{screenshots.Count + 1:00}-{name}";
        screenshots.Add(file + ".png");
        await page.EvaluateAsync("window.scrollTo(0, 0)");
        await BrowserFixture.ScreenshotAsync(page, file);
    }

    private ILocatorAssertions Expect(ILocator locator)
    {
        checks++;
        return Assertions.Expect(locator);
    }

    private static async Task<string> ApiKeyAsync(AppHost app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var owner = (await scope.ServiceProvider.GetRequiredService<Users>().ListAsync(default)).Single(u => u.Email == Email);
        return (await scope.ServiceProvider.GetRequiredService<ApiKeys>().CreateAsync(owner.Id, "journey checks", default)).Secret;
    }

    /// <summary>The count of a definition through the API (a segment created for the purpose, then deleted).</summary>
    private static async Task<int> CountAsync(HttpClient api, object definition)
    {
        var created = await (await api.PostAsJsonAsync("/api/v1/segments", new { name = "probe", definition })).Content.ReadFromJsonAsync<JsonElement>();
        await api.DeleteAsync($"/api/v1/segments/{created.GetProperty("id").GetString()}");
        return created.GetProperty("count").GetInt32();
    }

    [GeneratedRegex("/people/[0-9a-f-]{36}$")]
    private static partial Regex PersonUrl();

    [GeneratedRegex("/segments/[0-9a-f-]{36}$")]
    private static partial Regex SegmentUrl();
}
