using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using StripeSync.Simulator;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Connections;

/// <summary>The key checks of SPEC §1 through the API, and that a key never leaves the app once pasted.</summary>
public sealed class ConnectApiTests
{
    [Fact]
    public async Task Every_kind_of_key_gets_its_answer_and_malformed_ones_never_reach_stripe()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 20, Seed = 3 });
        await using var app = AppHost.Start(extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() });
        using var api = app.WithApiKey(AppHost.AdminApiKey);

        // The table: input → status and a phrase of its message.
        var malformed = new (string Key, string Reason)[]
        {
            ("", "Paste a Stripe API key"),
            ("   ", "Paste a Stripe API key"),
            ("pk_live_51Habc123", "publishable key"),
            ("pk_test_51Habc123", "publishable key"),
            ("definitely not a key", "does not look like a Stripe API key"),
            ("rk_live_" + new string('x', 5000), "too long"),
        };
        foreach (var (key, reason) in malformed)
        {
            var before = sim.Faults.Requests;
            var response = await api.PostAsJsonAsync("/api/v1/connections", new { apiKey = key });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains(reason, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains("Create restricted key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(before, sim.Faults.Requests);
        }

        var secret = await CreatedAsync(api, "sk_test_sim");
        Assert.Equal("test", secret.GetProperty("mode").GetString());
        Assert.Contains("restricted key with read permissions is safer", secret.GetProperty("warning").GetString(), StringComparison.Ordinal);

        var test = await CreatedAsync(api, "rk_test_sim_full");
        Assert.Equal("test", test.GetProperty("mode").GetString());
        Assert.Equal(JsonValueKind.Null, test.GetProperty("warning").ValueKind);
        Assert.All(test.GetProperty("permissions").EnumerateArray(), p => Assert.True(p.GetProperty("granted").GetBoolean()));

        var live = await CreatedAsync(api, "  rk_live_sim_full  ");
        Assert.Equal("live", live.GetProperty("mode").GetString());
        Assert.Equal("rk_live_…full", live.GetProperty("keyHint").GetString());

        // Well-formed but unknown to Stripe: a 422 naming the cause.
        var unknown = await api.PostAsJsonAsync("/api/v1/connections", new { apiKey = "rk_live_unknown1234" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknown.StatusCode);
        Assert.Contains("Invalid API Key provided", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_never_appears_in_logs_pages_or_api_responses()
    {
        const string Key = "rk_live_sim_full";
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 20, Seed = 3 });
        await using var app = AppHost.Start(extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() });
        using var api = app.WithApiKey(AppHost.AdminApiKey);
        var seen = new List<string>();

        var created = await api.PostAsJsonAsync("/api/v1/connections", new { apiKey = Key });
        seen.Add(await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var started = await api.PostAsJsonAsync($"/api/v1/connections/{id}/sync", new { mode = "import" });
        seen.Add(await started.Content.ReadAsStringAsync());
        await SyncWait.UntilAsync(api, "synced");
        foreach (var path in new[] { "/api/v1/status", "/api/v1/people?pageSize=500", "/api/v1/metrics", "/openapi/v1.json" })
        {
            seen.Add(await api.GetStringAsync(path));
        }

        using var browser = await app.SignedInAsync(AppHost.AdminEmail, AppHost.AdminPassword);
        foreach (var path in new[] { "/", "/settings", "/connect", "/people" })
        {
            seen.Add(await browser.GetStringAsync(path));
        }

        Assert.Contains(seen, s => s.Contains("rk_live_…full", StringComparison.Ordinal));
        Assert.DoesNotContain(seen, s => s.Contains(Key, StringComparison.Ordinal));
        lock (app.Logs)
        {
            Assert.NotEmpty(app.Logs);
            Assert.DoesNotContain(app.Logs, line => line.Contains(Key, StringComparison.Ordinal));
        }
    }

    private static async Task<JsonElement> CreatedAsync(HttpClient api, string key)
    {
        var response = await api.PostAsJsonAsync("/api/v1/connections", new { apiKey = key });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
