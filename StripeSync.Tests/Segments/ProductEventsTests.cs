using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using StripeSync.Core.Ingestion;
using StripeSync.Core.People;
using StripeSync.Core.Persistence;
using StripeSync.Simulator;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Segments;

/// <summary>Product activity for people who came from Stripe: found by customer id or email, and kept when Stripe state is derived again.</summary>
public sealed class ProductEventsTests : IAsyncLifetime
{
    private SimulatorServer sim = default!;
    private AppHost app = default!;
    private HttpClient api = default!;
    private Guid connectionId;

    public async Task InitializeAsync()
    {
        sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 8, Seed = 5 });
        app = AppHost.Start(extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() });
        api = app.WithApiKey(AppHost.AdminApiKey);
        connectionId = await SyncWait.ConnectAsync(api, "rk_live_sim_full");
        await SyncWait.UntilAsync(api, "synced");
    }

    public async Task DisposeAsync()
    {
        api.Dispose();
        await app.DisposeAsync();
        await sim.DisposeAsync();
    }

    [Fact]
    public async Task Activity_posted_for_a_stripe_customer_survives_the_person_being_derived_again_from_stripe()
    {
        var person = (await SyncWait.AllPeopleAsync(api)).First(p => p.GetProperty("identified").GetBoolean());
        var customerId = person.GetProperty("stripeCustomerIds")[0].GetString()!;
        var id = person.GetProperty("id").GetGuid();
        var before = (await api.GetFromJsonAsync<JsonElement>($"/api/v1/people/{id}/events")).GetProperty("total").GetInt32();
        var time = DateTimeOffset.UtcNow.AddMinutes(-1);
        time = DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());

        var byCustomer = await api.PostAsJsonAsync("/api/v1/events", new { stripeCustomerId = customerId, metric = "Logged In", time, id = "login-1" });
        var byEmail = await api.PostAsJsonAsync("/api/v1/events", new { email = person.GetProperty("email").GetString(), metric = "Opened App", time = time.AddSeconds(-30) });

        Assert.Equal(HttpStatusCode.Accepted, byCustomer.StatusCode);
        Assert.Equal(id, (await byCustomer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("personId").GetGuid());
        Assert.False((await byEmail.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("leadCreated").GetBoolean());

        // Stripe says the customer changed: derivation rebuilds the person and their state-derived events.
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            db.DirtyCustomers.Add(new DirtyCustomer { ConnectionId = connectionId, CustomerId = customerId, MarkedAt = 1, Stamp = Guid.NewGuid() });
            await db.SaveChangesAsync();
        }

        await app.Services.GetRequiredService<DeriveJob>().RunAsync(connectionId, CancellationToken.None);

        var after = await api.GetFromJsonAsync<JsonElement>($"/api/v1/people/{id}");
        var events = await api.GetFromJsonAsync<JsonElement>($"/api/v1/people/{id}/events?pageSize=500");
        Assert.Equal(before + 2, events.GetProperty("total").GetInt32());
        Assert.Equal(["Logged In", "Opened App"], events.GetProperty("items").EnumerateArray().Take(2).Select(e => e.GetProperty("metric").GetString()));
        Assert.Equal(time, after.GetProperty("fields").GetProperty("last_activity").GetDateTimeOffset());

        var slipping = await api.GetFromJsonAsync<JsonElement>("/api/v1/segments/slipping-customers/members?pageSize=500");
        Assert.DoesNotContain(slipping.GetProperty("items").EnumerateArray(), p => p.GetProperty("id").GetGuid() == id);
    }
}
