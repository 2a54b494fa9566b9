using System.Net.Http.Json;
using System.Text.Json;
using Stripe;
using StripeSync.Simulator;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Sync;

/// <summary>
/// The whole import through HTTP: the simulator serves a generated account, StripeSync imports it with
/// Stripe.net, and every number is compared with a count computed here from the simulator's own objects.
/// </summary>
public sealed class ImportTests(ImportTests.Imported imported) : IClassFixture<ImportTests.Imported>
{
    private SimulatorServer sim => imported.Sim;
    private HttpClient api => imported.Api;

    /// <summary>One import of a 60-customer account, shared by the tests of this class (they only read).</summary>
    public sealed class Imported : IAsyncLifetime
    {
        public SimulatorServer Sim { get; private set; } = default!;
        public AppHost App { get; private set; } = default!;
        public HttpClient Api { get; private set; } = default!;

        /// <summary>When the import was started: every person's last sync lies after it.</summary>
        public DateTimeOffset StartedAt { get; private set; }

        public async Task InitializeAsync()
        {
            Sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 60, Seed = 3 });
            App = AppHost.Start(extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = Sim.BaseUrl.ToString() });
            Api = App.WithApiKey(AppHost.AdminApiKey);
            StartedAt = DateTimeOffset.UtcNow;
            await SyncWait.ConnectAsync(Api, "rk_live_sim_full");
            await SyncWait.UntilAsync(Api, "synced");
        }

        public async Task DisposeAsync()
        {
            Api.Dispose();
            await App.DisposeAsync();
            await Sim.DisposeAsync();
        }
    }

    [Fact]
    public async Task Every_customer_becomes_a_person_by_normalised_email_or_stays_unidentified()
    {
        var customers = sim.Account.All<Customer>(livemode: true);
        var emails = customers.Where(c => c.Email is not null).Select(c => c.Email!.Trim().ToLowerInvariant()).Distinct().Count();
        var withoutEmail = customers.Count(c => c.Email is null);

        var people = await SyncWait.AllPeopleAsync(api);
        var status = await api.GetFromJsonAsync<JsonElement>("/api/v1/status");

        Assert.Equal(emails + withoutEmail, people.Count);
        Assert.Equal(withoutEmail, people.Count(p => !p.GetProperty("identified").GetBoolean()));
        Assert.Equal(withoutEmail, status.GetProperty("connections")[0].GetProperty("unidentifiedCustomers").GetInt32());
        Assert.Equal(customers.Count, people.Sum(p => p.GetProperty("stripeCustomerIds").GetArrayLength()));
    }

    [Fact]
    public async Task Successfully_paid_per_day_equals_paid_invoices_and_one_off_charges_in_stripe()
    {
        var invoices = sim.Account.All<Invoice>(livemode: true);
        var payments = sim.Account.All<InvoicePayment>(livemode: true);
        var linked = payments.Select(p => p.Payment.ChargeId).ToHashSet();
        var expected = invoices.Where(i => i.Status == "paid" && i.AmountPaid > 0).Select(i => DateOnly.FromDateTime(i.StatusTransitions.PaidAt!.Value))
            .Concat(sim.Account.All<Charge>(livemode: true).Where(c => c.Status == "succeeded" && !linked.Contains(c.Id)).Select(c => DateOnly.FromDateTime(c.Created)))
            .GroupBy(d => d).ToDictionary(g => g.Key, g => g.Count());

        var from = DateOnly.FromDateTime(sim.Account.Now.UtcDateTime).AddYears(-2).AddDays(-40);
        var to = DateOnly.FromDateTime(sim.Account.Now.UtcDateTime).AddDays(1);
        var days = await api.GetFromJsonAsync<JsonElement>($"/api/v1/metrics/Successfully Paid/daily?from={from:yyyy-MM-dd}&to={to:yyyy-MM-dd}");

        var actual = days.EnumerateArray().Where(d => d.GetProperty("count").GetInt32() > 0)
            .ToDictionary(d => DateOnly.Parse(d.GetProperty("date").GetString()!, System.Globalization.CultureInfo.InvariantCulture), d => d.GetProperty("count").GetInt32());
        Assert.Equal(expected.OrderBy(kv => kv.Key), actual.OrderBy(kv => kv.Key));
        Assert.Equal(to.DayNumber - from.DayNumber + 1, days.GetArrayLength());
    }

    [Fact]
    public async Task Customer_created_is_dated_at_each_customers_stripe_creation()
    {
        var expected = sim.Account.All<Customer>(livemode: true).GroupBy(c => DateOnly.FromDateTime(c.Created)).ToDictionary(g => g.Key, g => g.Count());
        var from = expected.Keys.Min();
        var to = expected.Keys.Max();

        var days = await api.GetFromJsonAsync<JsonElement>($"/api/v1/metrics/Customer Created/daily?from={from:yyyy-MM-dd}&to={to:yyyy-MM-dd}");

        var actual = days.EnumerateArray().Where(d => d.GetProperty("count").GetInt32() > 0)
            .ToDictionary(d => DateOnly.Parse(d.GetProperty("date").GetString()!, System.Globalization.CultureInfo.InvariantCulture), d => d.GetProperty("count").GetInt32());
        Assert.Equal(expected.OrderBy(kv => kv.Key), actual.OrderBy(kv => kv.Key));
    }

    [Fact]
    public async Task Failed_payments_carry_stripes_decline_message()
    {
        var failedCharges = sim.Account.All<Charge>(livemode: true).Where(c => c.Status == "failed").ToList();
        var feed = await api.GetFromJsonAsync<JsonElement>("/api/v1/metrics/Failed Payment/events?pageSize=500");

        Assert.Equal(failedCharges.Count, feed.GetProperty("total").GetInt32());
        var reasons = feed.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("properties").GetProperty("Reason").GetString() ?? "").ToHashSet();
        Assert.Subset(failedCharges.Select(c => c.FailureMessage ?? "").ToHashSet(), reasons);
    }
}
