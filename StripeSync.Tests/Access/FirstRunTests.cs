using System.Net;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Access;

public sealed class FirstRunTests : IAsyncLifetime
{
    private AppHost app = default!;

    public Task InitializeAsync()
    {
        app = AppHost.Start(bootstrap: false);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await app.DisposeAsync();

    [Fact]
    public async Task First_run_page_exists_only_until_the_admin_is_created()
    {
        var client = app.Anonymous();
        Assert.Equal("/setup", (await client.GetAsync("/")).Headers.Location?.OriginalString);
        Assert.Equal("/setup", (await client.GetAsync("/Account/Login")).Headers.Location?.OriginalString);
        var form = await client.GetStringAsync("/setup");
        Assert.Contains("Create admin account", form, StringComparison.Ordinal);

        var created = await client.PostAsync("/setup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = AppHost.AntiforgeryToken(form),
            ["_handler"] = "first-run",
            ["Input.Email"] = "owner@example.test",
            ["Input.Password"] = "Owner-Passw0rd",
            ["Input.ConfirmPassword"] = "Owner-Passw0rd",
        }));

        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var anonymous = app.Anonymous();
        Assert.StartsWith("/Account/Login", (await anonymous.GetAsync("/")).Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        var again = await anonymous.GetAsync("/setup");
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.Contains("Account/Login", again.Headers.Location!.OriginalString, StringComparison.Ordinal);
        await app.SignedInAsync("owner@example.test", "Owner-Passw0rd");
    }

    [Fact]
    public async Task First_run_refuses_mismatched_or_weak_passwords_and_creates_nobody()
    {
        var client = app.Anonymous();
        var form = await client.GetStringAsync("/setup");

        var mismatch = await client.PostAsync("/setup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = AppHost.AntiforgeryToken(form),
            ["_handler"] = "first-run",
            ["Input.Email"] = "owner@example.test",
            ["Input.Password"] = "Owner-Passw0rd",
            ["Input.ConfirmPassword"] = "Other-Passw0rd",
        }));
        var weak = await client.PostAsync("/setup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = AppHost.AntiforgeryToken(form),
            ["_handler"] = "first-run",
            ["Input.Email"] = "owner@example.test",
            ["Input.Password"] = "alllowercaseletters",
            ["Input.ConfirmPassword"] = "alllowercaseletters",
        }));

        Assert.Contains("The two passwords differ.", await mismatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("Passwords must have at least one", await weak.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("/setup", (await client.GetAsync("/")).Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task A_form_post_without_antiforgery_token_is_refused()
    {
        var response = await app.Anonymous().PostAsync("/setup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "first-run",
            ["Input.Email"] = "intruder@example.test",
            ["Input.Password"] = "Intruder-Passw0rd",
            ["Input.ConfirmPassword"] = "Intruder-Passw0rd",
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("/setup", (await app.Anonymous().GetAsync("/")).Headers.Location?.OriginalString);
    }
}
