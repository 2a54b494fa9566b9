using System.Globalization;
using StripeSync.Simulator;
using StripeSync.Simulator.Api;
using StripeSync.Tests.Support;
using Xunit.Abstractions;

namespace StripeSync.Tests.Sync;

/// <summary>The import's request budget against a simulator that enforces Stripe's own limits.</summary>
public sealed class RateLimitTests(ITestOutputHelper output)
{
    /// <summary>
    /// Test mode (its account limit, 25/s, is the one an import comes near), once at Stripe's own limits and once at
    /// limits low enough that the import, unchecked, crosses them: at Stripe's limits this account's import stays under
    /// them even unbudgeted (CPU, not the budget, paces it), while at 8/s and 4/s per endpoint an app budgeted at 1,000/s
    /// met 250 × 429 in 445 requests. The app is given the simulator's limits each time. Stripe-like latency (200 ms)
    /// makes requests last long enough to see which are in flight together.
    /// </summary>
    [Theory]
    [InlineData(0, 0)]
    [InlineData(8, 4)]
    public async Task Budgeted_at_the_simulators_limits_the_import_meets_no_429_and_walks_object_types_side_by_side(double accountLimit, double endpointLimit)
    {
        var options = new SimulatorOptions { Customers = 3000, Seed = 29, Latency = TimeSpan.FromMilliseconds(200) }.WithStripeLimits();
        if (accountLimit > 0)
        {
            options = options with { TestRequestsPerSecond = accountLimit, EndpointRequestsPerSecond = endpointLimit };
        }

        await using var sim = await SimulatorServer.StartAsync(options);
        sim.Faults.KeepLog = true;
        var settings = new Dictionary<string, string?>
        {
            ["Stripe:ApiBase"] = sim.BaseUrl.ToString(),
            ["Stripe:TestRequestsPerSecond"] = sim.Faults.TestRequestsPerSecond.ToString(CultureInfo.InvariantCulture),
            ["Stripe:EndpointRequestsPerSecond"] = sim.Faults.EndpointRequestsPerSecond.ToString(CultureInfo.InvariantCulture),
        };
        await using var app = AppHost.Start(extra: settings);
        var api = app.WithApiKey(AppHost.AdminApiKey);
        await SyncWait.ConnectAsync(api, "rk_test_sim_full", "import");
        await SyncWait.UntilAsync(api, "synced", TimeSpan.FromMinutes(3));

        var log = sim.Faults.Log;
        var lists = log.Where(r => r.Method == "GET" && r.Status == 200 && !r.Endpoint.Contains("{id}", StringComparison.Ordinal)).ToList();
        var together = MostEndpointsAtOnce(lists);
        var busiest = BusiestSecond(log, r => r.Endpoint);
        var account = BusiestSecond(log, _ => "the account");
        output.WriteLine($"{log.Count} requests, {sim.Faults.RateLimited} answered 429; at most {together.Count} list endpoints at once " +
            $"({string.Join(", ", together)}); busiest second: {account.Count} requests to the account, {busiest.Count} to {busiest.Key}");

        Assert.Equal(0, sim.Faults.RateLimited);
        if (accountLimit == 0)
        {
            // At 8/s the budget itself lines the requests up one after another; at Stripe's limits nothing but the walk does.
            Assert.True(together.Count >= 3, $"object types are meant to be fetched side by side; at most {together.Count} list endpoints were at once");
        }
    }

    /// <summary>The largest set of distinct endpoints whose requests were all being answered at one moment.</summary>
    private static List<string> MostEndpointsAtOnce(IReadOnlyList<ServedRequest> requests) =>
        requests.Select(r => requests.Where(o => o.Started <= r.Started && r.Started < o.Ended).Select(o => o.Endpoint).Distinct().Order(StringComparer.Ordinal).ToList())
            .MaxBy(set => set.Count) ?? [];

    /// <summary>The most requests of one group (an endpoint, the account) that arrived within one second.</summary>
    private static (int Count, string Key) BusiestSecond(IReadOnlyList<ServedRequest> requests, Func<ServedRequest, string> group) =>
        requests.GroupBy(group)
            .Select(g =>
            {
                var starts = g.Select(r => r.Started).Order().ToList();
                var most = starts.Select((s, i) => starts.Skip(i).TakeWhile(t => t - s < TimeProvider.System.TimestampFrequency).Count()).DefaultIfEmpty(0).Max();
                return (most, g.Key);
            })
            .MaxBy(x => x.most);
}
