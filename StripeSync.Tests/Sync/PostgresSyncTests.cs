using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Stripe;
using StripeSync.Core.Persistence;
using StripeSync.Simulator;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Sync;

/// <summary>
/// The PostgreSQL tier: one import drained by two worker processes (real OS processes, `--role worker`) beside a web
/// process, all sharing one database and one Hangfire queue; the result is counted against the simulator's own objects
/// and compared line by line with an in-process twin that imported the same account alone.
/// </summary>
public sealed class PostgresSyncTests
{
    [PostgresFact]
    public async Task Two_worker_processes_on_postgres_drain_one_import_as_one_app_alone_would()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 50, Seed = 21 });
        await using var twin = AppHost.Start(DatabaseProvider.Postgres, extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() });
        using var twinApi = twin.WithApiKey(AppHost.AdminApiKey);
        await using var database = TestDatabase.Create(DatabaseProvider.Postgres);
        var environment = new Dictionary<string, string>
        {
            ["Database__Provider"] = nameof(DatabaseProvider.Postgres),
            ["Database__ConnectionString"] = database.ConnectionString,
            ["Bootstrap__AdminEmail"] = AppHost.AdminEmail,
            ["Bootstrap__AdminPassword"] = AppHost.AdminPassword,
            ["Bootstrap__ApiKey"] = AppHost.AdminApiKey,
            ["Stripe__ApiBase"] = sim.BaseUrl.ToString(),
        };
        await using var web = new AppProcess("postgres-tier-web", environment, "web");
        await using var first = new AppProcess("postgres-tier-worker1", environment, "worker");
        await using var second = new AppProcess("postgres-tier-worker2", environment, "worker");
        foreach (var process in new[] { web, first, second })
        {
            process.Start();
        }

        foreach (var process in new[] { web, first, second })
        {
            await process.WaitReadyAsync();
        }

        using var api = new HttpClient { BaseAddress = web.Address };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AppHost.AdminApiKey);
        await SyncWait.ConnectAsync(twinApi, "rk_live_sim_full");
        await SyncWait.ConnectAsync(api, "rk_live_sim_full");
        var status = await SyncWait.UntilAsync(api, "synced", TimeSpan.FromMinutes(3));
        await SyncWait.UntilAsync(twinApi, "synced", TimeSpan.FromMinutes(3));

        var customers = sim.Account.All<Customer>(livemode: true);
        var people = await SyncWait.AllPeopleAsync(api);
        var expectedPeople = customers.Where(c => c.Email is not null).Select(c => c.Email!.ToLowerInvariant()).Distinct().Count()
            + customers.Count(c => c.Email is null);
        Assert.Equal(expectedPeople, people.Count);
        Assert.Equal(customers.Count, people.Sum(p => p.GetProperty("stripeCustomerIds").GetArrayLength()));

        var linked = sim.Account.All<InvoicePayment>(livemode: true).Select(p => p.Payment.ChargeId).ToHashSet();
        var expectedPaid = sim.Account.All<Invoice>(livemode: true).Count(i => i.Status == "paid" && i.AmountPaid > 0)
            + sim.Account.All<Charge>(livemode: true).Count(c => c.Status == "succeeded" && !linked.Contains(c.Id));
        var paid = await api.GetFromJsonAsync<JsonElement>("/api/v1/metrics/Successfully Paid/events?pageSize=1");
        Assert.Equal(expectedPaid, paid.GetProperty("total").GetInt32());
        var backfill = status.GetProperty("connections")[0].GetProperty("backfill").EnumerateArray()
            .ToDictionary(b => b.GetProperty("type").GetString()!, b => b.GetProperty("done").GetInt64());
        Assert.Equal(sim.Account.All<Invoice>(livemode: true).Count, backfill["invoice"]);

        // People, fields, metric events and MRR line by line: the same as one app importing alone, nothing twice.
        var (expected, actual) = await Fingerprint.UntilEqualAsync(twinApi, api, TimeSpan.FromMinutes(1));
        Assert.True(expected == actual, $"{Fingerprint.DifferingLines(expected, actual)} lines differ from the twin");
    }
}
