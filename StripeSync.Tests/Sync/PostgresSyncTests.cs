using System.Net.Http.Json;
using System.Text.Json;
using Stripe;
using StripeSync.Core.Persistence;
using StripeSync.Simulator;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Sync;

/// <summary>The PostgreSQL tier: the same import on PostgreSQL, by two app processes sharing one job queue.</summary>
public sealed class PostgresSyncTests
{
    [PostgresFact]
    public async Task Two_workers_on_postgres_drain_one_import_without_duplicates()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 50, Seed = 21 });
        var settings = new Dictionary<string, string?> { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() };
        await using var first = AppHost.Start(DatabaseProvider.Postgres, extra: settings);
        await using var second = AppHost.Start(extra: settings, database: first.Database, bootstrap: false);
        var api = first.WithApiKey(AppHost.AdminApiKey);

        await SyncWait.ConnectAsync(api, "rk_live_sim_full");
        var status = await SyncWait.UntilAsync(api, "synced", TimeSpan.FromMinutes(3));

        var customers = sim.Account.All<Customer>(livemode: true);
        var people = await SyncWait.AllPeopleAsync(second.WithApiKey(AppHost.AdminApiKey));
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
    }
}
