using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StripeSync.Core.Access;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Access;

public sealed class SignInAndAccessTests : IAsyncLifetime
{
    private AppHost app = default!;

    public Task InitializeAsync()
    {
        app = AppHost.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await app.DisposeAsync();

    [Theory]
    [InlineData("/")]
    [InlineData("/metrics")]
    [InlineData("/people")]
    [InlineData("/segments")]
    [InlineData("/revenue")]
    [InlineData("/settings")]
    public async Task Anonymous_page_request_redirects_to_sign_in(string page)
    {
        var response = await app.Anonymous().GetAsync(page);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/Login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/v1/status")]
    [InlineData("/api/v1/users")]
    [InlineData("/api/v1/anything-else")]
    public async Task Anonymous_api_request_gets_401_problem_details(string path)
    {
        var response = await app.Anonymous().GetAsync(path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("Authorization: Bearer", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bootstrap_settings_create_an_admin_and_a_working_api_key()
    {
        var client = app.WithApiKey(AppHost.AdminApiKey);

        var status = await client.GetFromJsonAsync<JsonElement>("/api/v1/status");
        var users = await client.GetFromJsonAsync<JsonElement>("/api/v1/users");

        Assert.Equal("not_connected", status.GetProperty("state").GetString());
        var admin = Assert.Single(users.GetProperty("items").EnumerateArray());
        Assert.Equal(AppHost.AdminEmail, admin.GetProperty("email").GetString());
        Assert.Equal(Roles.Admin, admin.GetProperty("role").GetString());
        Assert.Equal(1, users.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Wrong_or_revoked_api_key_gets_401()
    {
        var keys = app.Services.GetRequiredService<ApiKeys>();
        var adminId = (await keys.AuthenticateAsync(AppHost.AdminApiKey, default))!.UserId;
        var (created, secret) = await keys.CreateAsync(adminId, "to revoke", default);
        Assert.Equal(HttpStatusCode.OK, (await app.WithApiKey(secret).GetAsync("/api/v1/status")).StatusCode);

        await keys.RevokeAsync(created.Id, null, default);

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.WithApiKey(secret).GetAsync("/api/v1/status")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.WithApiKey("ssk_not_a_key_that_exists_at_all").GetAsync("/api/v1/status")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.WithApiKey("").GetAsync("/api/v1/status")).StatusCode);
    }

    [Fact]
    public async Task Marketer_gets_403_on_hangfire_and_on_admin_only_api_calls()
    {
        var admin = app.WithApiKey(AppHost.AdminApiKey);
        var created = await admin.PostAsJsonAsync("/api/v1/users",
            new { email = "marketer@example.test", password = "Marketer-Passw0rd", role = Roles.Marketer });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var marketerId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var (_, marketerKey) = await app.Services.GetRequiredService<ApiKeys>().CreateAsync(marketerId, "marketer key", default);
        var marketerBrowser = await app.SignedInAsync("marketer@example.test", "Marketer-Passw0rd");
        var adminBrowser = await app.SignedInAsync(AppHost.AdminEmail, AppHost.AdminPassword);

        Assert.Equal(HttpStatusCode.OK, (await app.WithApiKey(marketerKey).GetAsync("/api/v1/status")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.WithApiKey(marketerKey).GetAsync("/api/v1/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.WithApiKey(marketerKey).PostAsJsonAsync("/api/v1/users",
            new { email = "x@example.test", password = "Whatever-Passw0rd", role = Roles.Admin })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await marketerBrowser.GetAsync("/hangfire")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await adminBrowser.GetAsync("/hangfire")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Anonymous().GetAsync("/hangfire")).StatusCode);
    }

    [Fact]
    public async Task Demoting_the_creator_demotes_their_api_keys()
    {
        var admin = app.WithApiKey(AppHost.AdminApiKey);
        var created = await admin.PostAsJsonAsync("/api/v1/users",
            new { email = "second-admin@example.test", password = "Second-Passw0rd", role = Roles.Admin });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var (_, key) = await app.Services.GetRequiredService<ApiKeys>().CreateAsync(id, "automation", default);
        Assert.Equal(HttpStatusCode.OK, (await app.WithApiKey(key).GetAsync("/api/v1/users")).StatusCode);

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var adminId = (await app.Services.GetRequiredService<ApiKeys>().AuthenticateAsync(AppHost.AdminApiKey, default))!.UserId;
            await scope.ServiceProvider.GetRequiredService<Users>().SetRoleAsync(id, Roles.Marketer, adminId);
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await app.WithApiKey(key).GetAsync("/api/v1/users")).StatusCode);
    }

    [Fact]
    public async Task Creating_a_user_with_bad_input_is_a_400_with_the_reason_and_creates_nobody()
    {
        var admin = app.WithApiKey(AppHost.AdminApiKey);

        var weak = await admin.PostAsJsonAsync("/api/v1/users", new { email = "weak@example.test", password = "short", role = Roles.Marketer });
        var badRole = await admin.PostAsJsonAsync("/api/v1/users", new { email = "role@example.test", password = "Good-Passw0rd", role = "Root" });
        var missing = await admin.PostAsJsonAsync("/api/v1/users", new { email = "", password = "" });

        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.Contains("at least 10 characters", (await weak.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badRole.StatusCode);
        Assert.Contains("Unknown role", (await badRole.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var users = await admin.GetFromJsonAsync<JsonElement>("/api/v1/users");
        Assert.Equal(1, users.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_even_against_the_right_one()
    {
        var client = app.Anonymous();
        for (var i = 0; i < 4; i++)
        {
            var wrong = await AppHost.PostLoginAsync(client, AppHost.AdminEmail, "not-the-password");
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
            Assert.Contains("the email or password is wrong", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var fifth = await AppHost.PostLoginAsync(client, AppHost.AdminEmail, "not-the-password");
        var right = await AppHost.PostLoginAsync(client, AppHost.AdminEmail, AppHost.AdminPassword);

        Assert.EndsWith("/Account/Lockout", fifth.Headers.Location!.AbsolutePath, StringComparison.Ordinal);
        Assert.EndsWith("/Account/Lockout", right.Headers.Location!.AbsolutePath, StringComparison.Ordinal);
        var page = await client.GetStringAsync("/Account/Lockout");
        Assert.Contains("locked after too many failed sign-in attempts", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_is_public_and_reports_database_and_job_server()
    {
        var body = await app.WaitHealthyAsync();

        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("jobs").GetProperty("status").GetString());
    }

    [Fact]
    public async Task OpenApi_document_lists_the_api_for_key_holders_only()
    {
        var document = await app.WithApiKey(AppHost.AdminApiKey).GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        Assert.True(document.GetProperty("paths").TryGetProperty("/api/v1/status", out _));
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Anonymous().GetAsync("/openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task Every_response_carries_security_headers()
    {
        foreach (var path in new[] { "/healthz", "/Account/Login", "/api/v1/status" })
        {
            var response = await app.Anonymous().GetAsync(path);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        }
    }

    [Fact]
    public async Task Secrets_never_reach_the_logs()
    {
        await AppHost.PostLoginAsync(app.Anonymous(), AppHost.AdminEmail, AppHost.AdminPassword);
        await app.WithApiKey(AppHost.AdminApiKey).GetAsync("/api/v1/status");

        string all;
        lock (app.Logs)
        {
            all = string.Join('\n', app.Logs);
        }

        Assert.NotEmpty(app.Logs);
        Assert.DoesNotContain(AppHost.AdminPassword, all, StringComparison.Ordinal);
        Assert.DoesNotContain(AppHost.AdminApiKey, all, StringComparison.Ordinal);
    }
}
