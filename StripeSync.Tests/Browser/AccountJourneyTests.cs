using Microsoft.Playwright;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Browser;

[Collection(BrowserTier.Name)]
[Trait("Tier", "Browser")]
public sealed class AccountJourneyTests(BrowserFixture browser)
{
    private const string Email = "owner@example.test";
    private const string Password = "Owner-Passw0rd";

    [BrowserFact]
    public async Task First_run_sign_out_sign_in_and_lockout_in_a_real_browser()
    {
        await using var app = AppHost.Start(bootstrap: false, kestrel: true);
        var page = await browser.NewPageAsync(app.ServerAddress);

        await page.GotoAsync("/");
        Assert.EndsWith("/setup", page.Url, StringComparison.Ordinal);
        await BrowserFixture.ScreenshotAsync(page, "01-first-run");
        await page.FillAsync("#email", Email);
        await page.FillAsync("#password", Password);
        await page.FillAsync("#confirm", Password);
        await page.ClickAsync("button[type=submit]");

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sync health" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("Not connected yet")).ToBeVisibleAsync();
        foreach (var feature in new[] { "Metrics", "People", "Segments", "Revenue", "Settings" })
        {
            await Assertions.Expect(page.Locator(".mud-nav-link", new() { HasText = feature })).ToBeVisibleAsync();
        }

        await BrowserFixture.ScreenshotAsync(page, "02-shell-sync-health");

        await page.Locator(".mud-nav-link", new() { HasText = "Settings" }).ClickAsync();
        await page.WaitForSelectorAsync("[data-interactive=true]");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Users" }).ClickAsync();
        await Assertions.Expect(page.Locator("td[data-label=Email]", new() { HasText = Email })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("td[data-label=State]", new() { HasText = "Active" })).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "03-settings-users");
        await page.GetByRole(AriaRole.Tab, new() { Name = "API keys" }).ClickAsync();
        await page.GetByLabel("Key name").FillAsync("CRM export");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var secret = await page.Locator(".api-key-secret").TextContentAsync();
        Assert.StartsWith("ssk_", secret, StringComparison.Ordinal);
        using (var api = app.WithApiKey(secret!))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await api.GetAsync("/api/v1/status")).StatusCode);
        }

        await BrowserFixture.ScreenshotAsync(page, "04-settings-api-key-created");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/Account/Login**");

        await SignInAsync(page, Password);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sync health" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/Account/Login**");

        for (var i = 0; i < 4; i++)
        {
            await SignInAsync(page, "wrong-password");
            await Assertions.Expect(page.GetByText("the email or password is wrong")).ToBeVisibleAsync();
        }

        await BrowserFixture.ScreenshotAsync(page, "05-wrong-password");
        await SignInAsync(page, "wrong-password");
        await Assertions.Expect(page.GetByText("locked after too many failed sign-in attempts")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "06-lockout");
    }

    private static async Task SignInAsync(IPage page, string password)
    {
        await page.GotoAsync("/Account/Login");
        await page.FillAsync("#email", Email);
        await page.FillAsync("#password", password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }
}
