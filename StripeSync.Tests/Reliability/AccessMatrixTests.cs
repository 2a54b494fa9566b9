using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using StripeSync.Core.Access;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Reliability;

/// <summary>
/// Every route the app serves, read from its own endpoint data source (so a route added tomorrow is
/// checked tomorrow): what an anonymous caller, a Marketer and a revoked API key get from each.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class AccessMatrixTests : IAsyncLifetime
{
    /// <summary>The only routes open without signing in. A new anonymous route fails this test until it is added here on purpose.</summary>
    private static readonly HashSet<string> OpenOnPurpose = new(StringComparer.OrdinalIgnoreCase)
    {
        "/healthz", "/stripe/webhooks/{connectionId:guid}", "/Account/Login", "/Account/Lockout", "/Account/AccessDenied",
        "/setup", "/not-found", "/Error",
    };

    private AppHost app = default!;

    public Task InitializeAsync()
    {
        app = AppHost.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await app.DisposeAsync();

    [Fact]
    public async Task Anonymous_callers_reach_only_the_routes_open_on_purpose()
    {
        var routes = Routes();
        Assert.True(routes.Count > 30, $"only {routes.Count} routes found: the endpoint data source was not read");

        var open = routes.Where(r => r.Anonymous && !IsAsset(r.Pattern)).Select(r => r.Pattern).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.Empty(open.Except(OpenOnPurpose));

        using var anonymous = app.Anonymous();
        var checkedRoutes = 0;
        foreach (var route in routes.Where(r => !r.Anonymous))
        {
            foreach (var method in route.Methods)
            {
                using var response = await anonymous.SendAsync(Request(method, route.Pattern));
                var why = $"{method} {route.Pattern} answered {(int)response.StatusCode} to an anonymous caller";
                if (route.Pattern.StartsWith("/api/", StringComparison.Ordinal) || route.Pattern.StartsWith("/openapi", StringComparison.Ordinal)
                    || route.Pattern.StartsWith("/hangfire", StringComparison.Ordinal))
                {
                    Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, why);
                }
                else
                {
                    Assert.True(response.StatusCode is HttpStatusCode.Unauthorized
                        || (response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location!.ToString().Contains("/Account/Login", StringComparison.Ordinal)), why);
                }

                checkedRoutes++;
            }
        }

        Assert.True(checkedRoutes > 20);
        ReliabilityReport.Write("Access: anonymous callers",
            $"{routes.Count} routes read from the app's endpoint data source; {open.Count} open on purpose ({string.Join(", ", open.Order(StringComparer.Ordinal))}) plus static assets",
            $"{checkedRoutes} method/route pairs called anonymously: every one answered 401 (API, OpenAPI, Hangfire) or redirected to sign-in (pages)");
    }

    [Fact]
    public async Task A_revoked_api_key_gets_401_everywhere_in_the_api()
    {
        var keys = app.Services.GetRequiredService<ApiKeys>();
        var adminId = (await keys.AuthenticateAsync(AppHost.AdminApiKey, default))!.UserId;
        var (created, secret) = await keys.CreateAsync(adminId, "to revoke", default);
        await keys.RevokeAsync(created.Id, null, default);
        using var revoked = app.WithApiKey(secret);

        foreach (var route in Routes().Where(r => r.Pattern.StartsWith("/api/", StringComparison.Ordinal)))
        {
            foreach (var method in route.Methods)
            {
                using var response = await revoked.SendAsync(Request(method, route.Pattern));
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {route.Pattern} answered {(int)response.StatusCode} to a revoked key");
            }
        }
    }

    [Fact]
    public async Task A_marketer_gets_403_from_every_admin_operation_and_no_change_happens()
    {
        using var admin = app.WithApiKey(AppHost.AdminApiKey);
        var user = await admin.PostAsJsonAsync("/api/v1/users", new { email = "m@example.test", password = "Marketer-Passw0rd", role = Roles.Marketer });
        var marketerId = (await user.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var (_, marketerKey) = await app.Services.GetRequiredService<ApiKeys>().CreateAsync(marketerId, "marketer", default);
        using var marketer = app.WithApiKey(marketerKey);
        using var browser = await app.SignedInAsync("m@example.test", "Marketer-Passw0rd");

        var adminOnly = Routes().Where(r => r.AdminOnly).ToList();
        Assert.Contains(adminOnly, r => r.Pattern.StartsWith("/api/v1/users", StringComparison.Ordinal));
        Assert.Contains(adminOnly, r => r.Pattern.StartsWith("/api/v1/connections", StringComparison.Ordinal));
        Assert.Contains(adminOnly, r => r.Pattern.StartsWith("/hangfire", StringComparison.Ordinal));
        foreach (var route in adminOnly)
        {
            foreach (var method in route.Methods)
            {
                var client = route.Pattern.StartsWith("/api/", StringComparison.Ordinal) ? marketer : browser;
                using var response = await client.SendAsync(Request(method, route.Pattern));
                var why = $"{method} {route.Pattern} answered {(int)response.StatusCode} to a Marketer";
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden
                    || (response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location!.ToString().Contains("AccessDenied", StringComparison.Ordinal)), why);
            }
        }

        var users = await admin.GetFromJsonAsync<JsonElement>("/api/v1/users");
        Assert.Equal(2, users.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Every_response_of_every_route_carries_the_security_headers()
    {
        using var anonymous = app.Anonymous();
        using var admin = app.WithApiKey(AppHost.AdminApiKey);
        foreach (var route in Routes().Where(r => !IsAsset(r.Pattern)))
        {
            var client = route.Pattern.StartsWith("/api/", StringComparison.Ordinal) ? admin : anonymous;
            using var response = await client.SendAsync(Request(route.Methods[0], route.Pattern));
            var why = $"{route.Methods[0]} {route.Pattern} ({(int)response.StatusCode})";
            Assert.True(response.Headers.Contains("X-Content-Type-Options"), why + " lacks X-Content-Type-Options");
            Assert.True(response.Headers.Contains("X-Frame-Options") || response.Headers.Contains("Content-Security-Policy"), why + " may be framed");
            Assert.True(response.Headers.Contains("Referrer-Policy"), why + " lacks Referrer-Policy");
        }
    }

    [Fact]
    public async Task Sign_in_attempts_are_limited_per_address_before_any_account_locks()
    {
        using var client = app.Anonymous();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            // A different account each time: per-account lockout can't see this guesser, the per-address limit can.
            using var response = await AppHost.PostLoginAsync(client, $"guess{i}@example.test", "Wrong-Passw0rd");
            statuses.Add(response.StatusCode);
        }

        Assert.All(statuses.Take(10), s => Assert.NotEqual(HttpStatusCode.TooManyRequests, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        using var limited = await AppHost.PostLoginAsync(client, AppHost.AdminEmail, AppHost.AdminPassword);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Contains("Too many sign-in attempts", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(limited.Headers.Contains("Retry-After"));

        // The API and the pages are not slowed by it.
        using var api = app.WithApiKey(AppHost.AdminApiKey);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/status")).StatusCode);
    }

    private sealed record Route(string Pattern, string[] Methods, bool Anonymous, bool AdminOnly);

    private List<Route> Routes()
    {
        var source = app.Services.GetRequiredService<EndpointDataSource>();
        return [.. source.Endpoints.OfType<RouteEndpoint>()
            .Select(e => new Route(
                "/" + (e.RoutePattern.RawText ?? "").TrimStart('/'),
                [.. (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Where(m => m != "OPTIONS").DefaultIfEmpty("GET")],
                e.Metadata.GetMetadata<IAllowAnonymous>() is not null,
                e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy is "Admin" or "ApiAdmin" || a.Roles == Roles.Admin)))
            .Where(r => !r.Pattern.StartsWith("/_", StringComparison.Ordinal))
            .GroupBy(r => r.Pattern + string.Join(",", r.Methods)).Select(g => g.First())];
    }

    private static bool IsAsset(string pattern) => Path.HasExtension(pattern.Split('/')[^1]) && !pattern.Contains('{', StringComparison.Ordinal);

    private static HttpRequestMessage Request(string method, string pattern)
    {
        var path = System.Text.RegularExpressions.Regex.Replace(pattern, @"\{\*{0,2}(\w+)(:[^}]*)?\}", m =>
            m.Groups[2].Value.Contains("guid", StringComparison.Ordinal) ? Guid.NewGuid().ToString()
            : m.Groups[2].Value.Contains("int", StringComparison.Ordinal) || m.Groups[2].Value.Contains("long", StringComparison.Ordinal) ? "1"
            : "x");
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }

        return request;
    }
}
