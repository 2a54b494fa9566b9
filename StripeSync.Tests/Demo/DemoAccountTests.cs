using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StripeSync.Core.Connections;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Ingestion.Inbox;
using StripeSync.Tests.Support;
using StripeSync.Web.Demo;

namespace StripeSync.Tests.Demo;

public sealed class DemoAccountTests
{
    [Fact]
    public async Task The_demo_account_survives_a_restart_and_disconnecting_stops_its_simulator()
    {
        var first = AppHost.Start();
        var demo = await first.Services.GetRequiredService<DemoAccounts>().ConnectAsync(CancellationToken.None);
        Assert.True(demo.IsDemo);
        Assert.Equal(ConnectionMode.Live, demo.Mode);
        await first.Services.GetRequiredService<SyncControl>().StartAsync(demo.Id, SyncChoice.Import, CancellationToken.None);
        var api = first.WithApiKey(AppHost.AdminApiKey);
        var before = await SyncWait.UntilAsync(api, "synced", TimeSpan.FromMinutes(3), settled: false);
        var connection = before.GetProperty("connections")[0];
        Assert.True(connection.GetProperty("demo").GetBoolean());
        Assert.True(Backfilled(connection, "customer") >= 150);

        // Live activity: the demo's simulator makes a plausible change every few seconds, and the events poll (every
        // minute in the app; called here so the test need not wait for the minute) brings it in. Every kind of change
        // it makes yields metric events, so their total grows. A bounded wait, no timing asserted.
        var poll = first.Services.GetRequiredService<EventsPoll>();
        var baseline = await MetricEventsAsync(api);
        var deadline = DateTime.UtcNow.AddSeconds(120);
        var latest = baseline;
        while (latest <= baseline && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            await poll.PollAsync(demo.Id, CancellationToken.None);
            latest = await MetricEventsAsync(api);
        }

        Assert.True(latest > baseline, $"no new activity arrived from the demo account: {baseline} metric events after the import, still {latest}");
        using var probe = new HttpClient();
        var accountBefore = await probe.GetFromJsonAsync<JsonElement>(new Uri(new Uri(demo.ApiBase!), "/_sim/"));
        api.Dispose();
        await first.StopKeepingDatabaseAsync();

        // The old simulator went with the process; the restarted app serves the same account on a new port.
        // (Probing the old port for a refusal was flaky in the full suite, where another server may take the freed port.)

        await using var second = AppHost.Start(database: first.Database);
        using var api2 = second.WithApiKey(AppHost.AdminApiKey);
        var restarted = await second.Services.GetRequiredService<StripeSync.Core.Connections.Connections>().FindAsync(demo.Id, CancellationToken.None);
        Assert.NotEqual(demo.ApiBase, restarted!.ApiBase);
        var account = await probe.GetFromJsonAsync<JsonElement>(new Uri(new Uri(restarted.ApiBase!), "/_sim/"));
        Assert.Equal(accountBefore.GetProperty("account").GetString(), account.GetProperty("account").GetString());
        Assert.Equal(accountBefore.GetProperty("now").GetString(), account.GetProperty("now").GetString());
        var status = await api2.GetFromJsonAsync<JsonElement>("/api/v1/status");
        Assert.Equal("synced", status.GetProperty("connections")[0].GetProperty("state").GetString());

        var deleted = await api2.DeleteAsync($"/api/v1/connections/{demo.Id}");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, deleted.StatusCode);
        await Assert.ThrowsAsync<HttpRequestException>(() => probe.GetAsync(new Uri(new Uri(restarted.ApiBase!), "/_sim/")));
        Assert.Equal("not_connected", (await api2.GetFromJsonAsync<JsonElement>("/api/v1/status")).GetProperty("state").GetString());
    }

    /// <summary>Metric events of every metric, in the default (live) mode.</summary>
    private static async Task<long> MetricEventsAsync(HttpClient api)
    {
        long total = 0;
        foreach (var metric in (await api.GetFromJsonAsync<JsonElement>("/api/v1/metrics")).EnumerateArray())
        {
            var name = Uri.EscapeDataString(metric.GetProperty("name").GetString()!);
            total += (await api.GetFromJsonAsync<JsonElement>($"/api/v1/metrics/{name}/events?pageSize=1")).GetProperty("total").GetInt64();
        }

        return total;
    }

    private static long Backfilled(JsonElement connection, string type) =>
        connection.GetProperty("backfill").EnumerateArray().Single(b => b.GetProperty("type").GetString() == type).GetProperty("done").GetInt64();
}
