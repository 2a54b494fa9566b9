using System.Net.Http.Json;
using Microsoft.Playwright;
using StripeSync.Simulator;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Browser;

[Collection(BrowserTier.Name)]
[Trait("Tier", "Browser")]
public sealed class SyncHealthPageTests(BrowserFixture browser)
{
    [BrowserFact]
    public async Task Sync_health_shows_the_imported_account_with_its_coloured_state_and_import_progress()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 40, Seed = 4 });
        // One quick retry, so the outage below fails a poll in moments rather than after Stripe's full back-off.
        await using var app = AppHost.Start(kestrel: true, extra: new Dictionary<string, string?>
        {
            ["Stripe:ApiBase"] = sim.BaseUrl.ToString(), ["Stripe:MaxRetries"] = "1", ["Stripe:InitialBackoff"] = "00:00:00.010",
        });
        using var api = app.WithApiKey(AppHost.AdminApiKey);
        await SyncWait.ConnectAsync(api, "rk_live_sim_full");
        var status = await SyncWait.UntilAsync(api, "synced");
        var people = status.GetProperty("connections")[0].GetProperty("people").GetInt32();
        await GaveUpOnAnEventAsync(app, status.GetProperty("connections")[0].GetProperty("id").GetGuid());

        var page = await browser.NewPageAsync(app.ServerAddress);
        try
        {
            await WalkAsync(app, sim, api, page, people);
        }
        finally
        {
            // Close the live circuit first, or stopping the app waits out Kestrel's grace period for it.
            await page.Context.CloseAsync();
        }
    }

    private static async Task WalkAsync(AppHost app, SimulatorServer sim, HttpClient api, IPage page, int people)
    {
        await page.GotoAsync("/Account/Login");
        await page.FillAsync("#email", AppHost.AdminEmail);
        await page.FillAsync("#password", AppHost.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("[data-interactive=true]");

        var frame = page.Locator(".health-frame[data-state=synced]");
        await Assertions.Expect(frame).ToBeVisibleAsync();
        await Assertions.Expect(frame.Locator(".health-state")).ToHaveTextAsync("Synced");
        await Assertions.Expect(frame.GetByText("People in sync")).ToBeVisibleAsync();
        await Assertions.Expect(frame.Locator(".stat-value").First).ToHaveTextAsync(people.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(frame.Locator(".health-backfill tr")).ToHaveCountAsync(10);
        await Assertions.Expect(frame.GetByText("rk_live_…full")).ToBeVisibleAsync();
        // An event given up on is listed under the count with its reason.
        await Assertions.Expect(frame.Locator(".health-failures tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(frame.Locator(".health-failures .failure-reason")).ToHaveTextAsync(FailureReason);
        await BrowserFixture.ScreenshotAsync(page, "10-sync-health-synced");

        // Stripe down (every request 500, the retries too): the events poll fails and the open page turns amber on its
        // own, saying since when; once Stripe answers, the next poll turns it green again.
        var connectionId = (await api.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/status")).GetProperty("connections")[0].GetProperty("id").GetGuid();
        var poll = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Core.Ingestion.Inbox.EventsPoll>(app.Services);
        sim.Faults.FailureRate = 1;
        await poll.PollAsync(connectionId, default);
        var outage = page.Locator(".health-frame[data-state=stripe_unreachable]");
        await Assertions.Expect(outage.Locator(".health-state")).ToHaveTextAsync("Stripe unreachable");
        await Assertions.Expect(outage.Locator(".health-detail")).ToContainTextAsync("Stripe unreachable since");
        await BrowserFixture.ScreenshotAsync(page, "10b-sync-health-stripe-unreachable");
        sim.Faults.FailureRate = 0;
        await poll.PollAsync(connectionId, default);
        await Assertions.Expect(frame.Locator(".health-state")).ToHaveTextAsync("Synced");

        // People: search finds a customer by email; the person page shows their subscriptions, the tokens with their
        // values and the activity. The customer with the most subscriptions, so the table has rows to show.
        var subscriptions = sim.Account.All<Stripe.Subscription>(livemode: true).ToLookup(s => s.CustomerId);
        var customer = sim.Account.All<Stripe.Customer>(livemode: true).Where(c => c.Email is not null && c.Name is not null)
            .OrderByDescending(c => subscriptions[c.Id].Count()).First();
        Assert.NotEmpty(subscriptions[customer.Id]);
        await page.Locator(".mud-nav-link", new() { HasText = "People" }).ClickAsync();
        await page.Locator(".people-search input").FillAsync(customer.Email!.ToUpperInvariant());
        await Assertions.Expect(page.Locator(".mud-table-body tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator(".mud-table-body tr")).ToContainTextAsync(customer.Email!.ToLowerInvariant());
        await BrowserFixture.ScreenshotAsync(page, "12-people-search");
        await page.Locator(".mud-table-body tr a").First.ClickAsync();
        await page.WaitForURLAsync("**/people/*");
        await Assertions.Expect(page.Locator(".person-fields tr", new() { HasText = "{{profile.stripe_customer_id}}" })).ToContainTextAsync(customer.Id);
        var person = (await api.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/people?stripeCustomerId={customer.Id}")).GetProperty("items")[0];
        var owned = person.GetProperty("stripeCustomerIds").EnumerateArray().Select(c => c.GetString()!).ToList();
        await Assertions.Expect(page.Locator(".person-subscriptions tbody tr")).ToHaveCountAsync(owned.Sum(c => subscriptions[c].Count()));
        foreach (var subscription in owned.SelectMany(c => subscriptions[c]))
        {
            await Assertions.Expect(page.Locator(".person-subscriptions tbody tr", new() { HasText = subscription.Id })
                .Locator(".subscription-status")).ToHaveTextAsync(subscription.Status);
        }

        await BrowserFixture.ScreenshotAsync(page, "13-person");
        await Assertions.Expect(page.Locator("td[data-label=Metric]").First).ToBeVisibleAsync();

        await page.Locator(".mud-nav-link", new() { HasText = "Settings" }).ClickAsync();
        await Assertions.Expect(page.Locator("td[data-label=Key]", new() { HasText = "rk_live_…full" })).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "11-settings-connections");
        await page.GetByRole(AriaRole.Button, new() { Name = "Disconnect and purge" }).ClickAsync();
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Disconnect and purge" }).ClickAsync();
        await Assertions.Expect(page.GetByText("No Stripe account is connected yet.")).ToBeVisibleAsync();
        var after = await api.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/status");
        Assert.Equal("not_connected", after.GetProperty("state").GetString());
        Assert.Equal(0, (await api.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/people?mode=live")).GetProperty("total").GetInt32());
    }

    private const string FailureReason = "No such price: 'price_deleted_meanwhile'";

    /// <summary>An event that failed every attempt, as the inbox processor leaves it.</summary>
    private static async Task GaveUpOnAnEventAsync(AppHost app, Guid connectionId)
    {
        var factory = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Core.Persistence.AppDbContext>>(app.Services);
        await using var db = await factory.CreateDbContextAsync();
        var now = DateTimeOffset.UtcNow;
        db.Inbox.Add(new Core.Ingestion.InboxEvent
        {
            ConnectionId = connectionId, EventId = "evt_browser_failed", Type = "invoice.paid", Created = now.ToUnixTimeSeconds(),
            ReceivedAt = now.ToUnixTimeMilliseconds(), Json = "{}", Attempts = Core.Ingestion.InboxEvent.MaxAttempts, Error = FailureReason,
        });
        await db.SaveChangesAsync();
    }
}
