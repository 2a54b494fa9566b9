using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Stripe;
using StripeSync.Simulator;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Health;

/// <summary>
/// Reconciliation against a real import: Stripe's succeeded charges per day (counted here from the simulator's own
/// objects) equal StripeSync's count after the import, and a payment withheld from StripeSync turns its day red.
/// </summary>
public sealed class ReconciliationTests
{
    [Fact]
    public async Task After_an_import_every_day_matches_and_a_withheld_payment_turns_its_day_red_by_one()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 60, Seed = 8 });
        await using var app = AppHost.Start(extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() });
        using var api = app.WithApiKey(AppHost.AdminApiKey);
        var connectionId = await SyncWait.ConnectAsync(api, "rk_live_sim_full");
        await SyncWait.UntilAsync(api, "synced");

        // The check that the end of the import enqueues, without anyone asking.
        var checkedAfterImport = await UntilCheckedAsync(api);
        var days = checkedAfterImport.GetProperty("days").EnumerateArray().ToList();
        Assert.Equal(30, days.Count);
        var expected = SucceededChargesPerDay(sim);
        foreach (var day in days)
        {
            var date = DateOnly.Parse(day.GetProperty("date").GetString()!, CultureInfo.InvariantCulture);
            Assert.Equal(expected.GetValueOrDefault(date), day.GetProperty("stripe").GetInt32());
            Assert.Equal(day.GetProperty("stripe").GetInt32(), day.GetProperty("stripeSync").GetInt32());
        }

        Assert.True(days.Sum(d => d.GetProperty("stripe").GetInt32()) > 0, "the last 30 days of the account have payments to compare");
        Assert.Equal(0, checkedAfterImport.GetProperty("daysDifferent").GetInt32());

        // A succeeded charge no event announces: only Stripe's own list has it.
        var customer = sim.Account.All<Customer>(livemode: true).First(c => c.Email is not null);
        sim.Control.UnannouncedPayment(customer.Id);
        var response = await api.PostAsync($"/api/v1/reconciliation/{connectionId}/check", null);
        response.EnsureSuccessStatusCode();
        var after = await response.Content.ReadFromJsonAsync<JsonElement>();

        var today = DateOnly.FromDateTime(DateTime.UtcNow).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var red = Assert.Single(after.GetProperty("days").EnumerateArray(), d => d.GetProperty("difference").GetInt32() != 0);
        Assert.Equal(today, red.GetProperty("date").GetString());
        Assert.Equal(1, red.GetProperty("difference").GetInt32());
        Assert.Equal(red.GetProperty("stripeSync").GetInt32() + 1, red.GetProperty("stripe").GetInt32());
        Assert.Equal(SucceededChargesPerDay(sim).GetValueOrDefault(DateOnly.Parse(today, CultureInfo.InvariantCulture)), red.GetProperty("stripe").GetInt32());
        var stored = (await api.GetFromJsonAsync<JsonElement>("/api/v1/reconciliation"))[0];
        Assert.Equal(1, stored.GetProperty("daysDifferent").GetInt32());
    }

    [Fact]
    public async Task Checking_an_unknown_connection_is_a_404_with_a_sentence()
    {
        await using var app = AppHost.Start();
        using var api = app.WithApiKey(AppHost.AdminApiKey);

        var response = await api.PostAsync($"/api/v1/reconciliation/{Guid.NewGuid()}/check", null);

        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("There is no connection", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static Dictionary<DateOnly, int> SucceededChargesPerDay(SimulatorServer sim) =>
        sim.Account.All<Charge>(livemode: true).Where(c => c.Status == "succeeded")
            .GroupBy(c => DateOnly.FromDateTime(c.Created)).ToDictionary(g => g.Key, g => g.Count());

    private static async Task<JsonElement> UntilCheckedAsync(HttpClient api)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var all = await api.GetFromJsonAsync<JsonElement>("/api/v1/reconciliation");
            if (all.GetArrayLength() == 1 && all[0].GetProperty("checkedAt").ValueKind == JsonValueKind.String)
            {
                return all[0];
            }

            Assert.True(DateTime.UtcNow < deadline, $"No reconciliation after the import: {all}");
            await Task.Delay(250);
        }
    }
}
