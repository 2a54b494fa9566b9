using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Stripe;
using StripeSync.Core.Ingestion;
using StripeSync.Simulator;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Sync;

/// <summary>
/// Deleted Stripe customers keep their history (SPEC §3). Stripe's list of customers leaves them out, but their invoices,
/// charges and subscriptions stay and still name them; a customer deleted after the import arrives as <c>customer.deleted</c>.
/// </summary>
public sealed class DeletedCustomerTests
{
    [Fact]
    public async Task A_customer_deleted_before_the_import_keeps_every_payment_on_a_person()
    {
        // The deletion happens two hours before the import, out of the events poll's reach (it starts at the import):
        // only the objects that name the customer tell StripeSync about it.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-2));
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 40, Seed = 21, Clock = clock });
        var charges = sim.Account.All<Charge>(livemode: true);
        var deleted = sim.Account.All<Customer>(livemode: true).Where(c => c.Email is not null)
            .OrderByDescending(c => charges.Count(ch => ch.CustomerId == c.Id && ch.Status == "succeeded")).ThenBy(c => c.Id, StringComparer.Ordinal).First();
        var paidDays = PerDay(charges.Where(c => c.CustomerId == deleted.Id && c.Status == "succeeded").Select(c => new DateTimeOffset(c.Created)));
        Assert.True(paidDays.Values.Sum() >= 2, "the deleted customer must have paid");
        sim.Control.DeleteCustomer(deleted.Id);
        Assert.DoesNotContain(sim.Account.All<Customer>(livemode: true), c => c.Id == deleted.Id);

        await using var app = AppHost.Start(extra: Stripe(sim));
        var api = app.WithApiKey(AppHost.AdminApiKey);
        await SyncWait.ConnectAsync(api, "rk_live_sim_full", "import");
        await SyncWait.UntilAsync(api, "synced");

        // The deleted customer's payments are on a person (unidentified: Stripe no longer tells whose email it was), day by day.
        var person = Assert.Single(await SyncWait.AllPeopleAsync(api, $"&stripeCustomerId={deleted.Id}"));
        Assert.Equal([deleted.Id], person.GetProperty("stripeCustomerIds").EnumerateArray().Select(i => i.GetString()));
        var events = await PersonEventsAsync(api, person);
        var paid = events.Where(e => e.GetProperty("metric").GetString() == "Successfully Paid").ToList();
        Assert.Equal(paidDays, PerDay(paid.Select(e => e.GetProperty("time").GetDateTimeOffset())));
        Assert.Equal(deleted.Id, person.GetProperty("fields").GetProperty("stripe_customer_id").GetString());

        // So the account's payments agree with Stripe's: every paid invoice and every one-off charge, the deleted customer's included.
        var linked = sim.Account.All<InvoicePayment>(livemode: true).Select(p => p.Payment.ChargeId).ToHashSet();
        var expected = sim.Account.All<Invoice>(livemode: true).Count(i => i.Status == "paid" && i.AmountPaid > 0)
            + charges.Count(c => c.Status == "succeeded" && !linked.Contains(c.Id));
        var all = await api.GetFromJsonAsync<JsonElement>("/api/v1/metrics/Successfully Paid/events?pageSize=1");
        Assert.Equal(expected, all.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_customer_deleted_after_the_import_keeps_their_person_and_history()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 30, Seed = 23 });
        await using var app = AppHost.Start(kestrel: true, extra: Stripe(sim));
        var api = app.WithApiKey(AppHost.AdminApiKey);
        var id = await SyncWait.ConnectAsync(api, "rk_live_sim_full", "import");
        await SyncWait.UntilAsync(api, "synced");
        Assert.True(await app.Services.GetRequiredService<SyncControl>().RegisterWebhookAsync(id, app.ServerAddress, default));

        var active = sim.Account.All<Subscription>(livemode: true).Where(s => s.Status == "active").Select(s => s.CustomerId).ToHashSet();
        var customer = sim.Account.All<Customer>(livemode: true).First(c => c.Email is not null && active.Contains(c.Id));
        var before = Assert.Single(await SyncWait.AllPeopleAsync(api, $"&stripeCustomerId={customer.Id}"));
        var history = (await PersonEventsAsync(api, before)).Select(Fact).ToList();
        Assert.Contains(history, f => f.StartsWith("Successfully Paid ", StringComparison.Ordinal));

        sim.Control.DeleteCustomer(customer.Id);
        await sim.Webhooks.SettleAsync(TimeSpan.FromSeconds(30));
        await SyncWait.UntilAsync(api, "synced");

        var after = Assert.Single(await SyncWait.AllPeopleAsync(api, $"&stripeCustomerId={customer.Id}"));
        Assert.Equal(before.GetProperty("id").GetString(), after.GetProperty("id").GetString());
        Assert.Equal(before.GetProperty("email").GetString(), after.GetProperty("email").GetString());
        var now = (await PersonEventsAsync(api, after)).Select(Fact).ToList();
        Assert.Subset(now.ToHashSet(), history.ToHashSet());
        // Deleting a customer cancels its subscriptions: that is history too.
        Assert.Contains(now, f => f.StartsWith("Subscription Canceled ", StringComparison.Ordinal) && !history.Contains(f));
        Assert.True(sim.Webhooks.Delivered > 0);
    }

    private static string Fact(JsonElement e) => $"{e.GetProperty("metric").GetString()} {e.GetProperty("time")} {e.GetProperty("sourceId")}";

    private static Dictionary<string, int> PerDay(IEnumerable<DateTimeOffset> times) =>
        times.GroupBy(t => t.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).ToDictionary(g => g.Key, g => g.Count());

    private static async Task<List<JsonElement>> PersonEventsAsync(HttpClient api, JsonElement person)
    {
        var events = await api.GetFromJsonAsync<JsonElement>($"/api/v1/people/{person.GetProperty("id").GetString()}/events?pageSize=500");
        return [.. events.GetProperty("items").EnumerateArray()];
    }

    private static Dictionary<string, string?> Stripe(SimulatorServer sim) => new() { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() };
}
