using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using StripeSync.Simulator;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Browser;

[Collection(BrowserTier.Name)]
[Trait("Tier", "Browser")]
public sealed class ConnectWizardTests(BrowserFixture browser)
{
    [BrowserFact]
    public async Task A_key_missing_invoices_read_is_explained_then_a_good_key_imports_and_lands_on_sync_health()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 40, Seed = 5 });
        await using var app = AppHost.Start(kestrel: true, extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() });
        using var api = app.WithApiKey(AppHost.AdminApiKey);
        var page = await browser.NewPageAsync(app.ServerAddress);
        try
        {
            await SignInAsync(page);
            await page.GetByRole(AriaRole.Link, new() { Name = "Connect Stripe" }).ClickAsync();
            await page.WaitForURLAsync("**/connect");
            await Assertions.Expect(page.Locator(".connect-stepper[data-step=key]")).ToBeVisibleAsync();
            await BrowserFixture.ScreenshotAsync(page, "wizard-1-key");

            // Refused before any network call: a publishable key says why and where to create a restricted one.
            var requestsBefore = sim.Faults.Requests;
            await page.Locator(".key-input input").FillAsync("pk_live_51Habc123");
            await page.Locator(".key-next").ClickAsync();
            await Assertions.Expect(page.Locator(".key-error")).ToContainTextAsync("publishable key");
            await Assertions.Expect(page.Locator(".key-error")).ToContainTextAsync("Create restricted key");
            Assert.Equal(requestsBefore, sim.Faults.Requests);
            await BrowserFixture.ScreenshotAsync(page, "wizard-1-key-refused");

            // A far too long paste: the field keeps one character more than a key can have, so the check says "too long"
            // instead of passing on a cut-down key that looks valid, and Stripe is not asked.
            await page.Locator(".key-input input").FillAsync("rk_live_" + new string('a', 5000));
            await page.Locator(".key-next").ClickAsync();
            await Assertions.Expect(page.Locator(".key-error")).ToContainTextAsync("too long to be a Stripe API key");
            Assert.Equal(StripeSync.Core.Connections.StripeKeys.MaxLength + 1, (await page.Locator(".key-input input").InputValueAsync()).Length);
            Assert.Equal(requestsBefore, sim.Faults.Requests);
            await BrowserFixture.ScreenshotAsync(page, "wizard-1-key-too-long");

            await page.Locator(".key-input input").FillAsync("sk_test_sim");
            await Assertions.Expect(page.Locator(".key-warning")).ToContainTextAsync("restricted key with read permissions is safer");
            await BrowserFixture.ScreenshotAsync(page, "wizard-1-key-secret-warning");

            // A key missing Invoices read: the line says so in Stripe's words and what to tick; Next stays disabled.
            await page.Locator(".key-input input").FillAsync("rk_test_sim_without_invoices_read");
            await page.Locator(".key-next").ClickAsync();
            var invoices = page.Locator(".permission[data-name=Invoices]");
            await Assertions.Expect(invoices).ToHaveAttributeAsync("data-granted", "false");
            await Assertions.Expect(invoices.Locator(".permission-message")).ToContainTextAsync("rak_invoice_read");
            await Assertions.Expect(invoices.Locator(".permission-message")).ToContainTextAsync("tick Invoices → Read");
            await Assertions.Expect(page.Locator(".permission[data-granted=false]")).ToHaveCountAsync(1);
            await Assertions.Expect(page.Locator(".permissions-summary")).ToContainTextAsync("lacks 1 required permission");
            await Assertions.Expect(page.Locator(".permissions-next")).ToBeDisabledAsync();
            await BrowserFixture.ScreenshotAsync(page, "wizard-2-permissions-missing");

            // Closing the tab loses nothing: the wizard reopens at the permission check of the stored key.
            await page.ReloadAsync();
            await page.WaitForSelectorAsync("[data-interactive=true]");
            await Assertions.Expect(page.Locator(".connect-stepper[data-step=permissions]")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator(".connect-key")).ToContainTextAsync("rk_test_…read");

            await page.GetByRole(AriaRole.Button, new() { Name = "Use another key" }).ClickAsync();
            await page.Locator(".key-input input").FillAsync("rk_test_sim_full");
            await page.Locator(".key-next").ClickAsync();
            await Assertions.Expect(page.Locator(".permission[data-granted=true]")).ToHaveCountAsync(9);
            await BrowserFixture.ScreenshotAsync(page, "wizard-2-permissions-granted");
            await page.Locator(".permissions-next").ClickAsync();

            // Field mapping: examples from the account; rename one field and switch another off.
            var customer = sim.Account.All<Stripe.Customer>(livemode: false).Last(c => c.Email is not null);
            var emails = sim.Account.All<Stripe.Customer>(livemode: false).Where(c => c.Email is not null).Select(c => c.Email!.ToLowerInvariant()).ToList();
            var emailSample = page.Locator(".field[data-token=email] .field-sample");
            await Assertions.Expect(emailSample).ToContainTextAsync("@");
            Assert.Contains((await emailSample.TextContentAsync())!.Trim(), emails);
            Assert.NotNull(customer);
            await BrowserFixture.ScreenshotAsync(page, "wizard-3-fields");
            await page.Locator(".field[data-token=first_name] .field-target input").FillAsync("firstname");
            await page.Locator(".field[data-token=phone] .field-enabled input").ClickAsync();
            await page.Locator(".mapping-next").ClickAsync();

            await Assertions.Expect(page.Locator(".connect-stepper[data-step=sync]")).ToBeVisibleAsync();
            await BrowserFixture.ScreenshotAsync(page, "wizard-4-sync");
            await page.Locator(".sync-start").ClickAsync();

            await page.WaitForURLAsync(app.ServerAddress.ToString());
            await SyncWait.UntilAsync(api, "synced");
            await Assertions.Expect(page.Locator(".health-frame[data-state=synced]")).ToBeVisibleAsync();
            await BrowserFixture.ScreenshotAsync(page, "wizard-5-sync-health");

            // The mapping is where fields leave the app: the API speaks the chosen names.
            var people = await api.GetFromJsonAsync<JsonElement>("/api/v1/people?mode=test&pageSize=500");
            var fields = people.GetProperty("items")[0].GetProperty("fields");
            Assert.True(fields.TryGetProperty("firstname", out _));
            Assert.False(fields.TryGetProperty("first_name", out _));
            Assert.False(fields.TryGetProperty("phone", out _));
            Assert.True(fields.TryGetProperty("email", out _));
        }
        finally
        {
            await page.Context.CloseAsync();
        }

        AssertNoKeyIn(app.Logs, "rk_test_sim_full", "rk_test_sim_without_invoices_read");
    }

    [BrowserFact]
    public async Task The_demo_account_connects_without_a_key_is_labelled_demo_and_disconnects()
    {
        await using var app = AppHost.Start(kestrel: true);
        using var api = app.WithApiKey(AppHost.AdminApiKey);
        var page = await browser.NewPageAsync(app.ServerAddress);
        try
        {
            await SignInAsync(page);
            await page.GotoAsync("/connect");
            await page.WaitForSelectorAsync("[data-interactive=true]");
            await page.Locator(".demo-button").ClickAsync();
            await Assertions.Expect(page.Locator(".permission[data-granted=true]")).ToHaveCountAsync(9);
            await Assertions.Expect(page.Locator(".demo-chip")).ToBeVisibleAsync();
            await BrowserFixture.ScreenshotAsync(page, "wizard-demo-permissions");
            await page.Locator(".permissions-next").ClickAsync();
            await Assertions.Expect(page.Locator(".field[data-token=stripe_product_name] .field-sample")).Not.ToHaveTextAsync("—");
            await page.Locator(".mapping-next").ClickAsync();
            await page.Locator(".sync-start").ClickAsync();
            await page.WaitForURLAsync(app.ServerAddress.ToString());
            await Assertions.Expect(page.Locator(".health-frame .demo-chip")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator(".app-demo")).ToBeVisibleAsync();
            await SyncWait.UntilAsync(api, "synced", settled: false);
            await Assertions.Expect(page.Locator(".health-frame[data-state=synced]")).ToBeVisibleAsync();
            await BrowserFixture.ScreenshotAsync(page, "wizard-demo-sync-health");

            await page.Locator(".mud-nav-link", new() { HasText = "Settings" }).ClickAsync();
            await Assertions.Expect(page.Locator(".connections .demo-chip")).ToBeVisibleAsync();
            await BrowserFixture.ScreenshotAsync(page, "wizard-demo-settings");
            await page.GetByRole(AriaRole.Button, new() { Name = "Disconnect and purge" }).ClickAsync();
            await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Disconnect and purge" }).ClickAsync();
            await Assertions.Expect(page.GetByText("No Stripe account is connected yet.")).ToBeVisibleAsync();
            var status = await api.GetFromJsonAsync<JsonElement>("/api/v1/status");
            Assert.Equal("not_connected", status.GetProperty("state").GetString());
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task Live_and_test_data_switch_in_the_app_bar_and_a_key_is_replaced_in_settings()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 30, Seed = 6 });
        await using var app = AppHost.Start(kestrel: true, extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() });
        using var api = app.WithApiKey(AppHost.AdminApiKey);
        await SyncWait.ConnectAsync(api, "rk_live_sim_full");
        await SyncWait.ConnectAsync(api, "rk_test_sim_full");
        await SyncWait.UntilAsync(api, "synced");
        var testEmails = sim.Account.All<Stripe.Customer>(livemode: false).Where(c => c.Email is not null).Select(c => c.Email!.ToLowerInvariant()).ToHashSet();
        var page = await browser.NewPageAsync(app.ServerAddress);
        try
        {
            await SignInAsync(page);
            await page.Locator(".mud-nav-link", new() { HasText = "People" }).ClickAsync();
            var modeSwitch = page.Locator(".mode-switch");
            await Assertions.Expect(modeSwitch).ToBeVisibleAsync();
            await modeSwitch.GetByText("Test").ClickAsync();
            await Assertions.Expect(page.Locator(".mud-table-body tr")).ToHaveCountAsync(testEmails.Count + sim.Account.All<Stripe.Customer>(livemode: false).Count(c => c.Email is null));
            var emails = await page.Locator(".mud-table-body tr").AllTextContentsAsync();
            Assert.Contains(emails, row => testEmails.Any(e => row.Contains(e, StringComparison.Ordinal)));
            await BrowserFixture.ScreenshotAsync(page, "wizard-6-test-data");

            // Replace the live key: one lacking a permission is refused with what to tick; a good one rotates in place.
            await page.Locator(".mud-nav-link", new() { HasText = "Settings" }).ClickAsync();
            await page.Locator(".replace-key").First.ClickAsync();
            await page.Locator(".replace-input input").FillAsync("rk_live_sim_without_invoices_read");
            await page.Locator(".replace-confirm").ClickAsync();
            await Assertions.Expect(page.Locator(".replace-error")).ToContainTextAsync("Invoices → Read");
            await BrowserFixture.ScreenshotAsync(page, "wizard-7-replace-key");
            await page.Locator(".replace-input input").FillAsync("rk_test_sim_full");
            await page.Locator(".replace-confirm").ClickAsync();
            await Assertions.Expect(page.Locator(".replace-error")).ToContainTextAsync("only be replaced by another live key");
            await page.Locator(".replace-input input").FillAsync("sk_live_sim");
            await page.Locator(".replace-confirm").ClickAsync();
            await Assertions.Expect(page.Locator("td[data-label=Key]", new() { HasText = "sk_live_…_sim" })).ToBeVisibleAsync();
            var status = await api.GetFromJsonAsync<JsonElement>("/api/v1/status");
            var live = status.GetProperty("connections").EnumerateArray().Single(c => c.GetProperty("mode").GetString() == "live");
            Assert.Equal("sk_live_…_sim", live.GetProperty("keyHint").GetString());
            Assert.True(live.GetProperty("people").GetInt32() > 0, "rotating the key kept the synced people");
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task A_live_key_for_a_test_connection_adds_a_live_connection_and_test_data_is_added_beside_live()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 30, Seed = 8 });
        await using var app = AppHost.Start(kestrel: true, extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() });
        using var api = app.WithApiKey(AppHost.AdminApiKey);
        var testId = await SyncWait.ConnectAsync(api, "rk_test_sim_full");
        var synced = await SyncWait.UntilAsync(api, "synced");
        var testPeople = synced.GetProperty("connections")[0].GetProperty("people").GetInt32();
        Assert.True(testPeople > 0);
        var page = await browser.NewPageAsync(app.ServerAddress);
        try
        {
            await SignInAsync(page);
            await page.Locator(".mud-nav-link", new() { HasText = "Settings" }).ClickAsync();
            await Assertions.Expect(page.Locator(".add-test")).ToHaveCountAsync(0);
            await page.Locator(".replace-key").ClickAsync();
            await Assertions.Expect(page.Locator(".replace-panel")).ToContainTextAsync("A live key starts a new live connection instead");

            // The replace field refuses an over-long paste as too long too, without asking Stripe. (The synced test
            // connection's minutely events poll may call the simulator meanwhile; the cut-down key would be an unknown
            // key there, answered 401, so the 401 count is what shows Stripe was not asked.)
            var refusedBefore = sim.Faults.Unauthorized;
            await page.Locator(".replace-input input").FillAsync("rk_live_" + new string('a', 5000));
            await page.Locator(".replace-confirm").ClickAsync();
            await Assertions.Expect(page.Locator(".replace-error")).ToContainTextAsync("too long to be a Stripe API key");
            Assert.Equal(refusedBefore, sim.Faults.Unauthorized);

            // A live key for the test connection: checked with Stripe, then a new live connection, continued in the wizard
            // at its permission check; the test connection keeps its key and its data.
            await page.Locator(".replace-input input").FillAsync("rk_live_sim_full");
            await page.Locator(".replace-confirm").ClickAsync();
            await page.WaitForURLAsync("**/connect");
            await Assertions.Expect(page.Locator(".connect-stepper[data-step=permissions]")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator(".connect-key")).ToContainTextAsync("Live-mode key rk_live_…full");
            await Assertions.Expect(page.Locator(".permission[data-granted=true]")).ToHaveCountAsync(9);
            await Assertions.Expect(page.Locator(".permissions-next")).ToBeEnabledAsync();
            await BrowserFixture.ScreenshotAsync(page, "wizard-8-live-key-for-test-connection");

            var status = await api.GetFromJsonAsync<JsonElement>("/api/v1/status");
            var connections = status.GetProperty("connections").EnumerateArray().ToList();
            Assert.Equal(2, connections.Count);
            var test = connections.Single(c => c.GetProperty("mode").GetString() == "test");
            Assert.Equal(testId, test.GetProperty("id").GetGuid());
            Assert.Equal("rk_test_…full", test.GetProperty("keyHint").GetString());
            Assert.Equal("synced", test.GetProperty("state").GetString());
            Assert.Equal(testPeople, test.GetProperty("people").GetInt32());
            var live = connections.Single(c => c.GetProperty("mode").GetString() == "live");
            Assert.Equal("rk_live_…full", live.GetProperty("keyHint").GetString());
            Assert.Equal("not_chosen", live.GetProperty("sync").GetString());

            await page.Locator(".mud-nav-link", new() { HasText = "Settings" }).ClickAsync();
            var keys = page.Locator("td[data-label=Key]");
            await Assertions.Expect(keys).ToHaveCountAsync(2);
            await Assertions.Expect(keys.Filter(new() { HasText = "rk_test_…full" })).ToHaveCountAsync(1);
            await Assertions.Expect(keys.Filter(new() { HasText = "rk_live_…full" })).ToHaveCountAsync(1);
            await Assertions.Expect(page.Locator(".connections")).ToContainTextAsync("Setup not finished");
            await BrowserFixture.ScreenshotAsync(page, "wizard-9-settings-test-and-pending-live");

            // Only live connected (its sync started, the test connection disconnected): Settings offers "Also sync test
            // data", whose wizard asks for a test-mode key and refuses a live one before calling Stripe.
            Assert.Equal(System.Net.HttpStatusCode.Accepted,
                (await api.PostAsJsonAsync($"/api/v1/connections/{live.GetProperty("id").GetGuid()}/sync", new { mode = "import" })).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/v1/connections/{testId}")).StatusCode);
            await SyncWait.UntilAsync(api, "synced");
            await page.ReloadAsync();
            await page.WaitForSelectorAsync("[data-interactive=true]");
            await Assertions.Expect(page.Locator("td[data-label=Key]")).ToHaveCountAsync(1);
            await BrowserFixture.ScreenshotAsync(page, "wizard-10-settings-live-only");
            await page.Locator(".add-test").ClickAsync();
            await page.WaitForURLAsync("**/connect?mode=test");
            await page.WaitForSelectorAsync("[data-interactive=true]");
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Also sync test data" })).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator(".connect-stepper[data-step=key]")).ToBeVisibleAsync();
            // Refused by the mode check, which comes before the probe: nothing is stored and the wizard stays on the key.
            await page.Locator(".key-input input").FillAsync("rk_live_sim_full");
            await page.Locator(".key-next").ClickAsync();
            await Assertions.Expect(page.Locator(".key-error")).ToContainTextAsync("That is a live-mode key; this step adds a test-mode key");
            await Assertions.Expect(page.Locator(".key-error")).ToContainTextAsync("switch to test mode");
            await Assertions.Expect(page.Locator(".connect-stepper[data-step=key]")).ToBeVisibleAsync();
            Assert.Single((await api.GetFromJsonAsync<JsonElement>("/api/v1/status")).GetProperty("connections").EnumerateArray());
            await BrowserFixture.ScreenshotAsync(page, "wizard-11-also-sync-test-data-live-key-refused");
        }
        finally
        {
            await page.Context.CloseAsync();
        }

        AssertNoKeyIn(app.Logs, "rk_test_sim_full", "rk_live_sim_full");
    }

    private static async Task SignInAsync(IPage page)
    {
        await page.GotoAsync("/Account/Login");
        await page.FillAsync("#email", AppHost.AdminEmail);
        await page.FillAsync("#password", AppHost.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("[data-interactive=true]");
    }

    internal static void AssertNoKeyIn(IEnumerable<string> lines, params string[] keys)
    {
        foreach (var line in lines)
        {
            foreach (var key in keys)
            {
                Assert.DoesNotContain(key, line, StringComparison.Ordinal);
            }
        }
    }
}
