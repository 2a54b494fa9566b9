using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Stripe;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Ingestion.Inbox;
using StripeSync.Simulator;
using StripeSync.Simulator.Api;
using StripeSync.Simulator.Data;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Sync;

/// <summary>What happens after the import: webhooks (misdelivered on purpose), the events poll, skip mode, restarts.</summary>
public sealed class LiveSyncTests
{
    [Fact]
    public async Task Skip_mode_takes_no_history_only_what_happens_after()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 30, Seed = 5 });
        await using var app = AppHost.Start(extra: Stripe(sim));
        var api = app.WithApiKey(AppHost.AdminApiKey);
        var id = await SyncWait.ConnectAsync(api, "rk_live_sim_full", "skip");
        await SyncWait.UntilAsync(api, "synced");
        Assert.Equal(0, (await api.GetFromJsonAsync<JsonElement>("/api/v1/people")).GetProperty("total").GetInt32());

        var price = sim.Account.All<Price>(livemode: true)
            .First(p => p.Recurring is { Interval: "month", IntervalCount: 1, UsageType: "licensed" } && p.Currency == "usd" && p.BillingScheme == "per_unit");
        var customer = sim.Control.NewCustomer(true, "New.Person@Example.com", "New Person", price.Id);
        await app.Services.GetRequiredService<EventsPoll>().PollAsync(id, default);
        await SyncWait.UntilAsync(api, "synced");

        var people = await SyncWait.AllPeopleAsync(api);
        var person = Assert.Single(people);
        Assert.Equal("new.person@example.com", person.GetProperty("email").GetString());
        Assert.Equal(customer, person.GetProperty("fields").GetProperty("stripe_customer_id").GetString());
        Assert.Equal(price.UnitAmount, person.GetProperty("fields").GetProperty("stripe_mrr").GetProperty("usd").GetInt64());
        var events = await api.GetFromJsonAsync<JsonElement>($"/api/v1/people/{person.GetProperty("id").GetString()}/events");
        var metrics = events.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("metric").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "Customer Created", "Subscription Started", "Successfully Paid", "Issued Invoice" }, metrics);
        // Skip mode still reads the catalog (products, prices, coupons), so plan fields have names.
        Assert.False(string.IsNullOrEmpty(person.GetProperty("fields").GetProperty("stripe_product_name").GetString()));
    }

    [Fact]
    public async Task Webhooks_duplicated_and_out_of_order_give_the_in_order_result_and_bad_ones_are_refused()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 40, Seed = 9 });
        await using var app = AppHost.Start(kestrel: true, extra: Stripe(sim));
        var api = app.WithApiKey(AppHost.AdminApiKey);
        var id = await SyncWait.ConnectAsync(api, "rk_live_sim_full", "import");
        await SyncWait.UntilAsync(api, "synced");
        Assert.True(await app.Services.GetRequiredService<SyncControl>().RegisterWebhookAsync(id, app.ServerAddress, default));

        var active = sim.Account.All<Subscription>(livemode: true).Where(s => s.Status == "active" && s.Discounts.Count == 0).Take(3).ToList();
        sim.Webhooks.RetryDelays = [TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(40)];
        sim.Webhooks.Mode = Misdelivery.Duplicate;
        sim.Control.Upgrade(active[0].Id);
        sim.Webhooks.Mode = Misdelivery.OutOfOrder;
        sim.Control.Downgrade(active[1].Id);
        sim.Control.Cancel(active[2].Id, "too_expensive", "cancellation_requested");
        var failing = sim.Control.FailThenPay(active[0].Id);
        await WaitForWebhooksAsync(sim);
        await SyncWait.UntilAsync(api, "synced");

        var upgraded = await Feed(api, "Subscription Upgraded");
        var downgraded = await Feed(api, "Subscription Downgraded");
        var canceled = await Feed(api, "Subscription Canceled");
        Assert.Single(upgraded, e => e.GetProperty("sourceId").GetString() == active[0].Id);
        Assert.Single(downgraded, e => e.GetProperty("sourceId").GetString() == active[1].Id);
        var cancel = Assert.Single(canceled, e => e.GetProperty("sourceId").GetString() == active[2].Id);
        Assert.Equal("too_expensive", cancel.GetProperty("properties").GetProperty("Cancellation feedback").GetString());
        Assert.Equal("cancellation_requested", cancel.GetProperty("properties").GetProperty("Cancellation reason").GetString());
        // The invoice that failed and was then paid yields both facts (no "process once").
        Assert.Contains(await Feed(api, "Failed Payment"), e => InvoiceOf(e) == failing);
        Assert.Contains(await Feed(api, "Successfully Paid"), e => InvoiceOf(e) == failing);

        // Stale timestamps and forged signatures are refused: the events wait in Stripe, and the poll brings them.
        sim.Webhooks.Mode = Misdelivery.BadSignature;
        var late = sim.Control.NewCustomer(true, "late.arrival@example.com", "Late Arrival");
        sim.Webhooks.Mode = Misdelivery.StaleTimestamp;
        sim.Control.SetEmail(late, "late.arrival+renamed@example.com");
        await WaitForWebhooksAsync(sim);
        Assert.Empty(await SyncWait.AllPeopleAsync(api, "&q=late.arrival"));
        Assert.True(sim.Webhooks.FailedAttempts > 0);
        var refused = (await api.GetFromJsonAsync<JsonElement>("/api/v1/status")).GetProperty("connections")[0].GetProperty("rejectedWebhooks").GetInt64();
        Assert.Equal(sim.Webhooks.FailedAttempts, refused);

        await app.Services.GetRequiredService<EventsPoll>().PollAsync(id, default);
        await SyncWait.UntilAsync(api, "synced");
        var caughtUp = Assert.Single(await SyncWait.AllPeopleAsync(api, "&q=late.arrival"));
        Assert.Equal("late.arrival+renamed@example.com", caughtUp.GetProperty("email").GetString());
    }

    [Fact]
    public async Task A_restart_in_the_middle_of_an_import_with_faults_and_tight_limits_ends_as_an_uninterrupted_import()
    {
        var options = new SimulatorOptions { Customers = 120, Seed = 11, Now = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero) };
        await using var sim = await SimulatorServer.StartAsync(options with { FailureRate = 0.1, LiveRequestsPerSecond = 40, EndpointRequestsPerSecond = 10 });
        var settings = Stripe(sim);
        settings["Stripe:InitialBackoff"] = "00:00:00.050";
        settings["Stripe:LiveRequestsPerSecond"] = "60";
        settings["Stripe:EndpointRequestsPerSecond"] = "15";
        var first = AppHost.Start(extra: settings);
        var api = first.WithApiKey(AppHost.AdminApiKey);
        await SyncWait.ConnectAsync(api, "rk_live_sim_full", "import");
        JsonElement midway = default;
        await WaitUntilAsync(async () =>
        {
            var status = await api.GetFromJsonAsync<JsonElement>("/api/v1/status");
            midway = status.GetProperty("connections")[0].GetProperty("backfill").Clone();
            return midway.EnumerateArray().Sum(b => b.GetProperty("done").GetInt64()) > 300
                && midway.EnumerateArray().Any(b => !b.GetProperty("finished").GetBoolean() && b.GetProperty("etaSeconds").ValueKind == JsonValueKind.Number);
        });
        // Midway, an unfinished type says how far it has come and how long it has left.
        var walking = midway.EnumerateArray().First(b => !b.GetProperty("finished").GetBoolean() && b.GetProperty("etaSeconds").ValueKind == JsonValueKind.Number);
        Assert.InRange(walking.GetProperty("percent").GetDouble(), 0.1, 99.9);
        Assert.True(walking.GetProperty("etaSeconds").GetDouble() >= 0);
        api.Dispose();
        await first.StopKeepingDatabaseAsync();

        await using var second = AppHost.Start(extra: settings, database: first.Database);
        var api2 = second.WithApiKey(AppHost.AdminApiKey);
        var status = await SyncWait.UntilAsync(api2, "synced", TimeSpan.FromMinutes(3));

        var customers = sim.Account.All<Customer>(livemode: true);
        var invoices = sim.Account.All<Invoice>(livemode: true);
        var backfill = status.GetProperty("connections")[0].GetProperty("backfill").EnumerateArray()
            .ToDictionary(b => b.GetProperty("type").GetString()!, b => b.GetProperty("done").GetInt64());
        Assert.Equal(customers.Count, backfill["customer"]);
        Assert.Equal(invoices.Count, backfill["invoice"]);
        Assert.Equal(sim.Account.All<Charge>(livemode: true).Count, backfill["charge"]);
        var people = await SyncWait.AllPeopleAsync(api2);
        Assert.Equal(customers.Sum(c => 1), people.Sum(p => p.GetProperty("stripeCustomerIds").GetArrayLength()));
        var paid = await api2.GetFromJsonAsync<JsonElement>("/api/v1/metrics/Successfully Paid/events?pageSize=1");
        var linked = sim.Account.All<InvoicePayment>(livemode: true).Select(p => p.Payment.ChargeId).ToHashSet();
        var expectedPaid = invoices.Count(i => i.Status == "paid" && i.AmountPaid > 0)
            + sim.Account.All<Charge>(livemode: true).Count(c => c.Status == "succeeded" && !linked.Contains(c.Id));
        Assert.Equal(expectedPaid, paid.GetProperty("total").GetInt32());
        Assert.True(sim.Faults.Failed > 0, "the run was meant to see injected 500s");

        // Beyond the counts, every person's fields and every metric event: as a twin that imported the same account
        // in one go, without faults or tight limits, has them.
        await using var cleanSim = await SimulatorServer.StartAsync(options);
        await using var twin = AppHost.Start(extra: Stripe(cleanSim));
        var twinApi = twin.WithApiKey(AppHost.AdminApiKey);
        await SyncWait.ConnectAsync(twinApi, "rk_live_sim_full", "import");
        await SyncWait.UntilAsync(twinApi, "synced", TimeSpan.FromMinutes(3));
        Assert.Equal(await Fingerprint.ReadAsync(twinApi), await Fingerprint.ReadAsync(api2));
    }

    [Fact]
    public async Task A_customer_without_email_who_paid_joins_the_person_whose_email_they_are_given()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 30, Seed = 27 });
        await using var app = AppHost.Start(kestrel: true, extra: Stripe(sim));
        var api = app.WithApiKey(AppHost.AdminApiKey);
        var id = await SyncWait.ConnectAsync(api, "rk_live_sim_full", "import");
        await SyncWait.UntilAsync(api, "synced");
        Assert.True(await app.Services.GetRequiredService<SyncControl>().RegisterWebhookAsync(id, app.ServerAddress, default));
        var customers = sim.Account.All<Customer>(livemode: true);
        var known = customers.First(c => c.Email is not null && customers.Count(o => string.Equals(o.Email, c.Email, StringComparison.OrdinalIgnoreCase)) == 1);
        var person = Assert.Single(await SyncWait.AllPeopleAsync(api, $"&stripeCustomerId={known.Id}"));

        var price = sim.Account.All<Price>(livemode: true)
            .First(p => p.Recurring is { Interval: "month", IntervalCount: 1, UsageType: "licensed" } && p.Currency == "usd" && p.BillingScheme == "per_unit");
        var anonymous = sim.Control.NewCustomer(true, email: null, name: null, price.Id);
        await WaitForWebhooksAsync(sim);
        await SyncWait.UntilAsync(api, "synced");
        var unidentified = Assert.Single(await SyncWait.AllPeopleAsync(api, $"&stripeCustomerId={anonymous}"));
        Assert.False(unidentified.GetProperty("identified").GetBoolean());
        var earlier = (await PersonEventsAsync(api, unidentified)).Select(e => $"{e.GetProperty("metric")} {e.GetProperty("time")} {e.GetProperty("sourceId")}").ToHashSet();
        Assert.Contains(earlier, f => f.StartsWith("Successfully Paid ", StringComparison.Ordinal));
        var peopleBefore = (await SyncWait.AllPeopleAsync(api)).Count;

        // The email it gets is the known person's, written differently: the same person once normalised.
        sim.Control.SetEmail(anonymous, known.Email!.ToUpperInvariant());
        await WaitForWebhooksAsync(sim);
        await SyncWait.UntilAsync(api, "synced");

        var merged = Assert.Single(await SyncWait.AllPeopleAsync(api, $"&stripeCustomerId={anonymous}"));
        Assert.Equal(person.GetProperty("id").GetString(), merged.GetProperty("id").GetString());
        Assert.Equal(new[] { known.Id, anonymous }.Order(StringComparer.Ordinal),
            merged.GetProperty("stripeCustomerIds").EnumerateArray().Select(i => i.GetString()!).Order(StringComparer.Ordinal));
        var now = (await PersonEventsAsync(api, merged)).Select(e => $"{e.GetProperty("metric")} {e.GetProperty("time")} {e.GetProperty("sourceId")}").ToHashSet();
        Assert.Subset(now, earlier);
        Assert.Equal(peopleBefore - 1, (await SyncWait.AllPeopleAsync(api)).Count);
    }

    [Fact]
    public async Task Late_duplicated_and_reordered_webhooks_end_as_an_in_order_twin()
    {
        // Two copies of one account, changed identically at the same (fake) times; only how the webhooks arrive differs.
        var options = new SimulatorOptions { Customers = 30, Seed = 19, Now = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero) };
        var twinClock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var victimClock = new FakeTimeProvider(twinClock.GetUtcNow());
        await using var twinSim = await SimulatorServer.StartAsync(options with { Clock = twinClock });
        await using var victimSim = await SimulatorServer.StartAsync(options with { Clock = victimClock });
        await using var twin = AppHost.Start(kestrel: true, extra: Stripe(twinSim));
        await using var victim = AppHost.Start(kestrel: true, extra: Stripe(victimSim));
        var twinApi = twin.WithApiKey(AppHost.AdminApiKey);
        var victimApi = victim.WithApiKey(AppHost.AdminApiKey);
        foreach (var (app, api) in new[] { (twin, twinApi), (victim, victimApi) })
        {
            var id = await SyncWait.ConnectAsync(api, "rk_live_sim_full", "import");
            await SyncWait.UntilAsync(api, "synced");
            Assert.True(await app.Services.GetRequiredService<SyncControl>().RegisterWebhookAsync(id, app.ServerAddress, default));
        }

        var before = await Fingerprint.ReadAsync(twinApi);
        Assert.Equal(before, await Fingerprint.ReadAsync(victimApi));

        // Stamped after the imports' fetches (a change older than the imported state would rightly change nothing), two
        // seconds apart, so a late event is older than what arrived before it.
        var start = DateTimeOffset.UtcNow;
        twinClock.SetUtcNow(start);
        victimClock.SetUtcNow(start);
        var active = twinSim.Account.All<Subscription>(livemode: true).Where(s => s.Status == "active" && s.Discounts.Count == 0).Take(4).Select(s => s.Id).ToList();
        foreach (var (sim, clock, misdelivered) in new[] { (twinSim, twinClock, false), (victimSim, victimClock, true) })
        {
            sim.Webhooks.RetryDelays = [TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(40)];
            // Each change's events keep the mode set before it (the sender reads it when an event is made).
            void Step(Misdelivery mode, Action<SimulatorControl> change)
            {
                sim.Webhooks.Mode = misdelivered ? mode : Misdelivery.None;
                change(sim.Control);
                clock.Advance(TimeSpan.FromSeconds(2));
            }

            Step(Misdelivery.Late, c => c.Upgrade(active[0]));
            Step(Misdelivery.None, c => c.Downgrade(active[0])); // Its newer state arrives before the late upgrade.
            Step(Misdelivery.Duplicate, c => c.Downgrade(active[1]));
            Step(Misdelivery.OutOfOrder, c => c.Cancel(active[2], "too_expensive", "cancellation_requested"));
            Step(Misdelivery.Late, c => c.FailThenPay(active[3]));
            Step(Misdelivery.Duplicate, c => c.FailThenPay(active[1]));
            Step(Misdelivery.OutOfOrder, c => c.Upgrade(active[3]));
            Step(Misdelivery.Late, c => c.Cancel(active[0], "switched_service", "cancellation_requested"));
        }

        await Task.WhenAll(WaitForWebhooksAsync(twinSim), WaitForWebhooksAsync(victimSim));
        await SyncWait.UntilAsync(twinApi, "synced");
        await SyncWait.UntilAsync(victimApi, "synced");
        var expected = await Fingerprint.ReadAsync(twinApi);
        var actual = await Fingerprint.ReadAsync(victimApi);

        Assert.NotEqual(before, expected);
        Assert.True(victimSim.Webhooks.Delivered > twinSim.Webhooks.Delivered, "the victim's duplicates must have been delivered");
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task A_key_revoked_mid_import_stops_the_sync_as_key_revoked_without_a_retry_storm()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 80, Seed = 13, EndpointRequestsPerSecond = 8 });
        var settings = Stripe(sim);
        settings["Stripe:EndpointRequestsPerSecond"] = "6";
        await using var app = AppHost.Start(extra: settings);
        var api = app.WithApiKey(AppHost.AdminApiKey);
        await SyncWait.ConnectAsync(api, "rk_live_sim_full");
        await WaitUntilAsync(async () =>
            (await api.GetFromJsonAsync<JsonElement>("/api/v1/status")).GetProperty("connections")[0].GetProperty("backfill")
                .EnumerateArray().Sum(b => b.GetProperty("done").GetInt64()) > 200);

        sim.Faults.Revoke("rk_live_sim_full");
        var status = await SyncWait.UntilAsync(api, "key_revoked", TimeSpan.FromSeconds(60), settled: false);
        var requestsWhenStopped = sim.Faults.Requests;
        await Task.Delay(TimeSpan.FromSeconds(3));
        await app.Services.GetRequiredService<EventsPoll>().PollAllAsync(default);

        var connection = status.GetProperty("connections")[0];
        Assert.Contains("revoked", connection.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.True(connection.GetProperty("traffic").GetProperty("keyRevoked").GetBoolean());
        // At most the requests already in flight when the key went: one per object type's chain, never a retry loop.
        Assert.InRange(sim.Faults.Unauthorized, 1, 10);
        Assert.Equal(requestsWhenStopped, sim.Faults.Requests);
    }

    [Fact]
    public async Task Without_the_optional_checkout_permission_the_import_completes_and_says_what_is_missing()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 20, Seed = 17 });
        await using var app = AppHost.Start(extra: Stripe(sim));
        var api = app.WithApiKey(AppHost.AdminApiKey);

        await SyncWait.ConnectAsync(api, "rk_live_sim_without_checkout_sessions_read");
        var status = await SyncWait.UntilAsync(api, "synced");

        var connection = status.GetProperty("connections")[0];
        Assert.Contains("Checkout Completed and Checkout Abandoned events are not available", connection.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Equal(sim.Account.All<Customer>(livemode: true).Count, connection.GetProperty("backfill").EnumerateArray()
            .Single(b => b.GetProperty("type").GetString() == "customer").GetProperty("done").GetInt64());
    }

    [Fact]
    public async Task A_key_missing_a_required_permission_is_explained_and_cannot_start_a_sync()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 5, Seed = 2 });
        await using var app = AppHost.Start(extra: Stripe(sim));
        var api = app.WithApiKey(AppHost.AdminApiKey);

        var created = await api.PostAsJsonAsync("/api/v1/connections", new { apiKey = "rk_test_sim_without_invoices_read" });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var invoices = body.GetProperty("permissions").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "Invoices");
        var sync = await api.PostAsJsonAsync($"/api/v1/connections/{body.GetProperty("id").GetString()}/sync", new { mode = "import" });
        var revoked = await api.PostAsJsonAsync("/api/v1/connections", new { apiKey = "rk_live_unknown_key_12345" });
        var publishable = await api.PostAsJsonAsync("/api/v1/connections", new { apiKey = "pk_live_abc123" });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.False(invoices.GetProperty("granted").GetBoolean());
        Assert.True(invoices.GetProperty("required").GetBoolean());
        Assert.Contains("rak_invoice_read", invoices.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("tick Invoices → Read", invoices.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.All(body.GetProperty("permissions").EnumerateArray().Where(p => p.GetProperty("name").GetString() != "Invoices"),
            p => Assert.True(p.GetProperty("granted").GetBoolean()));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, sync.StatusCode);
        Assert.Contains("Invoices (read)", (await sync.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, publishable.StatusCode);
    }

    [Fact]
    public async Task Without_the_webhook_permission_the_import_completes_and_says_it_polls()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 20, Seed = 19 });
        var settings = Stripe(sim);
        settings["App:PublicUrl"] = "https://stripesync.example.test/";
        await using var app = AppHost.Start(extra: settings);
        var api = app.WithApiKey(AppHost.AdminApiKey);

        await SyncWait.ConnectAsync(api, "rk_live_sim_without_webhook_endpoints_write");
        var status = await SyncWait.UntilAsync(api, "synced");

        var connection = status.GetProperty("connections")[0];
        Assert.Empty(sim.Account.Live.WebhookEndpoints);
        var lastError = connection.GetProperty("lastError").GetString();
        Assert.Contains("No webhook endpoint", lastError, StringComparison.Ordinal);
        Assert.Contains("rak_webhook_write", lastError, StringComparison.Ordinal);
        Assert.Contains("polls Stripe's Events API every minute instead", lastError, StringComparison.Ordinal);
        Assert.Equal(sim.Account.All<Customer>(livemode: true).Count, connection.GetProperty("backfill").EnumerateArray()
            .Single(b => b.GetProperty("type").GetString() == "customer").GetProperty("done").GetInt64());
    }

    [Fact]
    public async Task During_a_stripe_outage_status_says_unreachable_since_the_first_failed_poll_and_synced_once_stripe_answers()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 10, Seed = 29 });
        var settings = Stripe(sim);
        settings["Stripe:MaxRetries"] = "1";
        settings["Stripe:InitialBackoff"] = "00:00:00.010";
        await using var app = AppHost.Start(extra: settings);
        var api = app.WithApiKey(AppHost.AdminApiKey);
        var id = await SyncWait.ConnectAsync(api, "rk_live_sim_full", "skip");
        await SyncWait.UntilAsync(api, "synced");
        var poll = app.Services.GetRequiredService<EventsPoll>();

        // Stripe answers every request 500, the retry included: two polls fail a few moments apart.
        sim.Faults.FailureRate = 1;
        await poll.PollAsync(id, default);
        var first = await api.GetFromJsonAsync<JsonElement>("/api/v1/status");
        await Task.Delay(1_100);
        await poll.PollAsync(id, default);
        var second = await api.GetFromJsonAsync<JsonElement>("/api/v1/status");

        Assert.True(sim.Faults.Failed >= 4, "both polls were meant to meet Stripe's 500s");
        foreach (var status in new[] { first, second })
        {
            Assert.Equal("stripe_unreachable", status.GetProperty("state").GetString());
            Assert.Equal("warning", status.GetProperty("severity").GetString());
            Assert.Equal("warning", status.GetProperty("connections")[0].GetProperty("severity").GetString());
        }

        // The outage is dated from its first failed poll, not the latest.
        var since = first.GetProperty("connections")[0].GetProperty("lastErrorAt").GetDateTimeOffset();
        var connection = second.GetProperty("connections")[0];
        Assert.Equal(since, connection.GetProperty("lastErrorAt").GetDateTimeOffset());
        Assert.Contains($"Stripe unreachable since {since.UtcDateTime:HH:mm} UTC", connection.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Stripe answers again: the next poll walks the events and the connection is synced, with nothing left to say.
        sim.Faults.FailureRate = 0;
        await poll.PollAsync(id, default);
        var back = await api.GetFromJsonAsync<JsonElement>("/api/v1/status");
        Assert.Equal("synced", back.GetProperty("state").GetString());
        Assert.Equal("ok", back.GetProperty("severity").GetString());
        Assert.Equal(JsonValueKind.Null, back.GetProperty("connections")[0].GetProperty("detail").ValueKind);
        Assert.Equal(JsonValueKind.Null, back.GetProperty("connections")[0].GetProperty("lastError").ValueKind);
    }

    [Fact]
    public async Task A_webhook_registration_that_fails_with_500_after_the_retries_still_imports_and_polls()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 20, Seed = 23 });
        var settings = Stripe(sim);
        settings["App:PublicUrl"] = "https://stripesync.example.test/";
        settings["Stripe:MaxRetries"] = "2";
        settings["Stripe:InitialBackoff"] = "00:00:00.010";
        await using var app = AppHost.Start(extra: settings);
        var api = app.WithApiKey(AppHost.AdminApiKey);
        var created = await api.PostAsJsonAsync("/api/v1/connections", new { apiKey = "rk_live_sim_full" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        // Start the sync as the wizard's Start button and POST …/sync do (after their permission probe, which would
        // take the injected failures itself): registering the webhook is its first call to Stripe, and it meets a
        // 500 on the first attempt and on both retries.
        sim.Faults.FailNext(3);
        await app.Services.GetRequiredService<SyncControl>().StartAsync(id, StripeSync.Core.Connections.SyncChoice.Import, default);
        Assert.Equal(3, sim.Faults.Failed);

        var status = await SyncWait.UntilAsync(api, "synced");
        var connection = status.GetProperty("connections")[0];
        Assert.Empty(sim.Account.Live.WebhookEndpoints);
        var lastError = connection.GetProperty("lastError").GetString();
        Assert.Contains("No webhook endpoint (registering it failed: Stripe answered 500", lastError, StringComparison.Ordinal);
        Assert.Contains("polls Stripe's Events API every minute instead", lastError, StringComparison.Ordinal);
        Assert.Equal(sim.Account.All<Customer>(livemode: true).Count, connection.GetProperty("backfill").EnumerateArray()
            .Single(b => b.GetProperty("type").GetString() == "customer").GetProperty("done").GetInt64());

        // And the poll does follow the account: a change made now arrives without any webhook.
        sim.Control.NewCustomer(true, "after.the.failure@example.com", "After TheFailure");
        await app.Services.GetRequiredService<EventsPoll>().PollAsync(id, default);
        await SyncWait.UntilAsync(api, "synced");
        Assert.Single(await SyncWait.AllPeopleAsync(api, "&q=after.the.failure"));

        // Within the retry interval (an hour) the poll leaves registration alone; after it, Stripe answers again and
        // the endpoint is registered, so changes arrive by webhook from then on.
        await app.Services.GetRequiredService<EventsPoll>().PollAllAsync(default);
        Assert.Empty(sim.Account.Live.WebhookEndpoints);
        app.Services.GetRequiredService<IOptions<SyncOptions>>().Value.WebhookRetryInterval = TimeSpan.Zero;
        await app.Services.GetRequiredService<EventsPoll>().PollAllAsync(default);
        var endpoint = Assert.Single(sim.Account.Live.WebhookEndpoints);
        Assert.Equal($"https://stripesync.example.test/stripe/webhooks/{id}", endpoint.Value.Url);
        var after = (await api.GetFromJsonAsync<JsonElement>("/api/v1/status")).GetProperty("connections")[0];
        Assert.Equal(JsonValueKind.Null, after.GetProperty("lastError").ValueKind);
    }

    private static async Task<List<JsonElement>> PersonEventsAsync(HttpClient api, JsonElement person)
    {
        var events = await api.GetFromJsonAsync<JsonElement>($"/api/v1/people/{person.GetProperty("id").GetString()}/events?pageSize=500");
        return [.. events.GetProperty("items").EnumerateArray()];
    }

    private static string? InvoiceOf(JsonElement e) =>
        e.GetProperty("properties").TryGetProperty("Invoice", out var invoice) ? invoice.GetString() : null;

    private static Dictionary<string, string?> Stripe(SimulatorServer sim) => new() { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() };

    private static async Task<List<JsonElement>> Feed(HttpClient api, string metric)
    {
        var feed = await api.GetFromJsonAsync<JsonElement>($"/api/v1/metrics/{metric}/events?pageSize=500");
        return [.. feed.GetProperty("items").EnumerateArray()];
    }

    private static Task WaitForWebhooksAsync(SimulatorServer sim) => sim.Webhooks.SettleAsync(TimeSpan.FromSeconds(30));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition did not come true in time.");
            }

            await Task.Delay(100);
        }
    }
}
