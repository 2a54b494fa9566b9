using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Ingestion.Inbox;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;
using StripeSync.Simulator;
using StripeSync.Tests.Support;
using CoreConnections = StripeSync.Core.Connections.Connections;

namespace StripeSync.Tests.Ingestion;

public sealed class InboxProcessorTests
{
    [Fact]
    public async Task An_event_that_fails_does_not_keep_the_rest_of_its_batch_from_being_marked_processed()
    {
        // Stripe unreachable (a closed port, no retries): the one event that needs Stripe fails, the others need not.
        await using var app = AppHost.Start(extra: new Dictionary<string, string?>
        {
            ["Stripe:ApiBase"] = "http://127.0.0.1:9/",
            ["Stripe:MaxRetries"] = "0",
        });
        var connections = app.Services.GetRequiredService<CoreConnections>();
        var connection = await connections.AddAsync("rk_test_inboxtests0123456789", default);
        var inbox = app.Services.GetRequiredService<Inbox>();
        var processor = app.Services.GetRequiredService<InboxProcessor>();
        var at = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60;

        await inbox.AcceptAsync(connection.Id, [Parse("evt_first", "cus_tie", at)], EventSource.Poll, default);
        await processor.DrainAsync(connection.Id, default);
        // A second event of the same object in the same second can only be ordered by asking Stripe, which fails here.
        await inbox.AcceptAsync(connection.Id, [Parse("evt_tie", "cus_tie", at), Parse("evt_other", "cus_other", at + 1)], EventSource.Poll, default);
        await processor.DrainAsync(connection.Id, default);

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var events = await db.Inbox.AsNoTracking().ToDictionaryAsync(e => e.EventId);
        Assert.NotNull(events["evt_first"].ProcessedAt);
        Assert.Null(events["evt_tie"].ProcessedAt);
        Assert.True(events["evt_tie"].Attempts >= 1);
        Assert.NotNull(events["evt_tie"].Error);
        Assert.NotNull(events["evt_other"].ProcessedAt);
        Assert.Equal(0, events["evt_other"].Attempts);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_invoice_finalized_and_paid_in_the_same_second_ends_paid_in_either_order_without_asking_stripe(bool paidFirst)
    {
        // Stripe unreachable: a same-second tie that needed Stripe would fail its event.
        await using var app = AppHost.Start(extra: new Dictionary<string, string?>
        {
            ["Stripe:ApiBase"] = "http://127.0.0.1:9/",
            ["Stripe:MaxRetries"] = "0",
        });
        var connection = await app.Services.GetRequiredService<CoreConnections>().AddAsync("rk_test_inboxtests0123456789", default);
        var inbox = app.Services.GetRequiredService<Inbox>();
        var processor = app.Services.GetRequiredService<InboxProcessor>();
        var at = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60;
        var finalized = Invoice("evt_finalized", "invoice.finalized", "open", 0, at);
        var paid = Invoice("evt_paid", "invoice.paid", "paid", 1, at);

        // Separate drains, so the second event ties with the stored state, and one drain, so it ties within the batch.
        await inbox.AcceptAsync(connection.Id, [paidFirst ? paid : finalized], EventSource.Poll, default);
        await processor.DrainAsync(connection.Id, default);
        var (twinOpen, twinPaid) = (Invoice("evt_twin_open", "invoice.finalized", "open", 0, at, "in_twin"), Invoice("evt_twin_paid", "invoice.paid", "paid", 1, at, "in_twin"));
        await inbox.AcceptAsync(connection.Id, [paidFirst ? finalized : paid, paidFirst ? twinPaid : twinOpen, paidFirst ? twinOpen : twinPaid], EventSource.Poll, default);
        await processor.DrainAsync(connection.Id, default);

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.All(await db.Inbox.AsNoTracking().ToListAsync(), e => Assert.True(e.ProcessedAt is not null && e.Error is null, $"{e.EventId}: {e.Error}"));
        foreach (var id in new[] { "in_same_second", "in_twin" })
        {
            var stored = StateStore.Deserialize<InvoiceRecord>(await db.StripeObjects.AsNoTracking().SingleAsync(o => o.StripeId == id));
            Assert.Equal("paid", stored.Status);
        }
    }

    [Fact]
    public async Task A_stored_event_whose_object_cannot_be_read_is_kept_as_failed_and_the_rest_of_its_batch_is_applied()
    {
        // Intake reads only the envelope, so a signed event whose object has a field of the wrong kind reaches the inbox.
        await using var app = AppHost.Start();
        var connection = await app.Services.GetRequiredService<CoreConnections>().AddAsync("rk_test_inboxtests0123456789", default);
        var inbox = app.Services.GetRequiredService<Inbox>();
        var processor = app.Services.GetRequiredService<InboxProcessor>();
        var factory = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        var at = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60;
        await using (var db = await factory.CreateDbContextAsync())
        {
            db.Inbox.Add(new InboxEvent
            {
                ConnectionId = connection.Id,
                EventId = "evt_unreadable",
                Type = "customer.updated",
                Created = at,
                ReceivedAt = at * 1000,
                Source = EventSource.Webhook,
                Json = "{\"id\":\"evt_unreadable\",\"object\":\"event\",\"created\":" + at + ",\"livemode\":false,\"type\":\"customer.updated\","
                    + "\"data\":{\"object\":{\"id\":\"cus_unreadable\",\"object\":\"customer\",\"created\":1700000000,\"delinquent\":\"lots\"}}}",
            });
            await db.SaveChangesAsync();
        }

        await inbox.AcceptAsync(connection.Id, [Parse("evt_readable", "cus_readable", at + 1)], EventSource.Poll, default);
        await processor.DrainAsync(connection.Id, default);

        await using var check = await factory.CreateDbContextAsync();
        var events = await check.Inbox.AsNoTracking().ToDictionaryAsync(e => e.EventId);
        Assert.Null(events["evt_unreadable"].ProcessedAt);
        Assert.Equal(InboxEvent.MaxAttempts, events["evt_unreadable"].Attempts);
        Assert.Contains("could not read", events["evt_unreadable"].Error, StringComparison.Ordinal);
        Assert.NotNull(events["evt_readable"].ProcessedAt);
        Assert.True(await check.StripeObjects.AnyAsync(o => o.StripeId == "cus_readable"));
        Assert.False(await check.StripeObjects.AnyAsync(o => o.StripeId == "cus_unreadable"));
    }

    [Fact]
    public async Task A_late_event_whose_object_is_already_newer_still_moves_its_persons_last_activity()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero));
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 5, Seed = 12, Clock = clock });
        await using var app = AppHost.Start(extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() });
        var connection = await app.Services.GetRequiredService<CoreConnections>().AddAsync("rk_live_sim_full", default);
        var inbox = app.Services.GetRequiredService<Inbox>();
        var processor = app.Services.GetRequiredService<InboxProcessor>();

        var price = sim.Account.All<Stripe.Price>(livemode: true)
            .First(p => p.Recurring is { Interval: "month", IntervalCount: 1, UsageType: "licensed" } && p.BillingScheme == "per_unit");
        var customer = sim.Control.NewCustomer(true, "late.fact@example.com", "Late Fact", price.Id);
        var signedUp = clock.GetUtcNow().ToUnixTimeSeconds();
        clock.Advance(TimeSpan.FromMinutes(10));
        sim.Control.Upgrade(sim.Account.All<Stripe.Subscription>(livemode: true).Single(s => s.CustomerId == customer).Id);
        var events = await EventsOfAsync(sim, customer);
        var upgrade = events.Last(e => e["type"]!.GetValue<string>() == "customer.subscription.updated");

        // A later event of the same subscription that shows nothing new: its newer state is stored first, so the
        // upgrade's own state is skipped when it arrives; only its fact (the plan change) is news.
        var later = upgrade.DeepClone().AsObject();
        later["id"] = "evt_later_nothing_new";
        later["created"] = upgrade["created"]!.GetValue<long>() + 600;
        later["data"]!.AsObject().Remove("previous_attributes");
        await DrainAsync(app, inbox, processor, connection.Id, [.. events.Where(e => e["created"]!.GetValue<long>() == signedUp), later]);
        await DrainAsync(app, inbox, processor, connection.Id, [upgrade]);

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var person = await db.People.AsNoTracking().SingleAsync(p => p.Email == "late.fact@example.com");
        var upgraded = await db.MetricEvents.AsNoTracking().SingleAsync(m => m.PersonId == person.Id && m.Metric == "Subscription Upgraded");
        Assert.Equal(upgrade["created"]!.GetValue<long>() * 1000, upgraded.Time);
        Assert.Equal(upgraded.Time, person.LastActivity);
    }

    [Fact]
    public async Task Of_one_object_the_newest_state_wins_when_older_events_arrive_later_in_its_batch_and_in_a_later_batch()
    {
        await using var app = AppHost.Start();
        var connection = await app.Services.GetRequiredService<CoreConnections>().AddAsync("rk_test_inboxtests0123456789", default);
        var inbox = app.Services.GetRequiredService<Inbox>();
        var processor = app.Services.GetRequiredService<InboxProcessor>();
        var at = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600;

        // The newest state is sent first, an older one after it in the same drain, and a still older one in a later drain.
        await inbox.AcceptAsync(connection.Id, [Parse("evt_newest", "cus_order", at + 20, "newest"), Parse("evt_older", "cus_order", at + 10, "older")], EventSource.Poll, default);
        await processor.DrainAsync(connection.Id, default);
        await inbox.AcceptAsync(connection.Id, [Parse("evt_oldest", "cus_order", at, "oldest")], EventSource.Poll, default);
        await processor.DrainAsync(connection.Id, default);

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.All(await db.Inbox.AsNoTracking().ToListAsync(), e => Assert.True(e.ProcessedAt is not null && e.Error is null, $"{e.EventId}: {e.Error}"));
        var stored = await db.StripeObjects.AsNoTracking().SingleAsync(o => o.StripeId == "cus_order");
        Assert.Equal("newest@example.test", StateStore.Deserialize<CustomerRecord>(stored).Email);
        Assert.Equal((at + 20) * 1000, stored.Version);
    }

    [Fact]
    public async Task A_change_stripe_makes_in_the_second_a_tie_was_asked_of_it_is_applied_not_skipped_as_late()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 1, Seed = 13 });
        await using var app = AppHost.Start(extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = sim.BaseUrl.ToString() });
        var connection = await app.Services.GetRequiredService<CoreConnections>().AddAsync("rk_test_sim_full", default);
        var inbox = app.Services.GetRequiredService<Inbox>();
        var processor = app.Services.GetRequiredService<InboxProcessor>();
        var factory = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        var customer = sim.Control.NewCustomer(false, "asked@example.test", "Asked");
        var at = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60;

        // Two edits of one customer in one second tell nothing of their order: the processor asks Stripe.
        await inbox.AcceptAsync(connection.Id, [Parse("evt_first", customer, at, "first")], EventSource.Poll, default);
        await processor.DrainAsync(connection.Id, default);
        await inbox.AcceptAsync(connection.Id, [Parse("evt_second", customer, at, "second")], EventSource.Poll, default);
        await processor.DrainAsync(connection.Id, default);
        long askedSecond;
        await using (var db = await factory.CreateDbContextAsync())
        {
            var asked = await db.StripeObjects.AsNoTracking().SingleAsync(o => o.StripeId == customer);
            Assert.Equal("asked@example.test", StateStore.Deserialize<CustomerRecord>(asked).Email);
            askedSecond = asked.Version / 1000;
        }

        // Stripe changes the customer again, later in the second it was asked: the change's event carries that second.
        sim.Control.SetEmail(customer, "changed@example.test");
        await inbox.AcceptAsync(connection.Id, [Parse("evt_changed", customer, askedSecond, "changed")], EventSource.Poll, default);
        await processor.DrainAsync(connection.Id, default);

        await using var check = await factory.CreateDbContextAsync();
        Assert.All(await check.Inbox.AsNoTracking().ToListAsync(), e => Assert.True(e.ProcessedAt is not null && e.Error is null, $"{e.EventId}: {e.Error}"));
        var stored = await check.StripeObjects.AsNoTracking().SingleAsync(o => o.StripeId == customer);
        Assert.Equal("changed@example.test", StateStore.Deserialize<CustomerRecord>(stored).Email);
    }

    [Fact]
    public async Task An_event_whose_state_the_store_refuses_fails_alone_and_the_rest_of_its_batch_is_applied()
    {
        await using var app = AppHost.Start();
        var connection = await app.Services.GetRequiredService<CoreConnections>().AddAsync("rk_test_inboxtests0123456789", default);
        var inbox = app.Services.GetRequiredService<Inbox>();
        var processor = app.Services.GetRequiredService<InboxProcessor>();
        var factory = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        var at = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600;
        // A real database fault on one object's row: the batch's one upsert statement fails as a whole.
        await using (var db = await factory.CreateDbContextAsync())
        {
            string[] poison = app.Database.Provider == DatabaseProvider.Sqlite
                ? ["CREATE TRIGGER poison BEFORE INSERT ON stripe_objects WHEN NEW.StripeId = 'cus_poison' BEGIN SELECT RAISE(ABORT, 'poisoned object'); END;"]
                :
                [
                    "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.\"StripeId\" = 'cus_poison' THEN RAISE EXCEPTION 'poisoned object'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;",
                    "CREATE TRIGGER poison BEFORE INSERT ON stripe_objects FOR EACH ROW EXECUTE FUNCTION poison();",
                ];
            foreach (var statement in poison)
            {
                await db.Database.ExecuteSqlRawAsync(statement);
            }
        }

        await inbox.AcceptAsync(connection.Id,
            [Parse("evt_before", "cus_before", at, "before"), Parse("evt_poison", "cus_poison", at + 1, "poison"), Parse("evt_after", "cus_after", at + 2, "after")],
            EventSource.Poll, default);
        await processor.DrainAsync(connection.Id, default);

        await using var check = await factory.CreateDbContextAsync();
        var events = await check.Inbox.AsNoTracking().ToDictionaryAsync(e => e.EventId);
        Assert.Null(events["evt_poison"].ProcessedAt);
        Assert.Equal(1, events["evt_poison"].Attempts);
        Assert.Contains("poisoned object", events["evt_poison"].Error, StringComparison.Ordinal);
        foreach (var id in new[] { "before", "after" })
        {
            Assert.NotNull(events["evt_" + id].ProcessedAt);
            Assert.Equal(0, events["evt_" + id].Attempts);
            Assert.True(await check.StripeObjects.AnyAsync(o => o.StripeId == "cus_" + id));
        }

        // Each applied customer was marked for derivation: the derive job the drain queued makes its person (the mark
        // itself may already be gone by now, taken by that job).
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await check.PersonCustomers.AnyAsync(l => l.CustomerId == "cus_before") && await check.PersonCustomers.AnyAsync(l => l.CustomerId == "cus_after")))
        {
            Assert.True(DateTime.UtcNow < deadline, "the applied customers were not derived into people");
            await Task.Delay(100);
        }

        Assert.False(await check.StripeObjects.AnyAsync(o => o.StripeId == "cus_poison"));
    }

    private static async Task<List<JsonObject>> EventsOfAsync(SimulatorServer sim, string customer)
    {
        using var http = new HttpClient { BaseAddress = sim.BaseUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "rk_live_sim_full");
        var page = JsonNode.Parse(await http.GetStringAsync("v1/events?limit=100"))!;
        return [.. page["data"]!.AsArray().Select(e => e!.AsObject())
            .Where(e => e["data"]!["object"]!["customer"]?.GetValue<string>() == customer || e["data"]!["object"]!["id"]!.GetValue<string>() == customer)
            .OrderBy(e => e["created"]!.GetValue<long>())];
    }

    private static async Task DrainAsync(AppHost app, Inbox inbox, InboxProcessor processor, Guid connectionId, IEnumerable<JsonObject> events)
    {
        await inbox.AcceptAsync(connectionId, [.. events.Select(e => StripeEvents.Parse(e.ToJsonString(), livemode: true)!)], EventSource.Poll, default);
        await processor.DrainAsync(connectionId, default);
        // Derivation runs as a background job, queued by the drain.
        var factory = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var db = await factory.CreateDbContextAsync();
            if (!await db.DirtyCustomers.AnyAsync(d => d.ConnectionId == connectionId))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "derivation did not finish");
            await Task.Delay(100);
        }
    }

    private static EventRecord Invoice(string id, string type, string status, int attempts, long created, string invoice = "in_same_second") =>
        StripeEvents.Parse(
            "{\"id\":\"" + id + "\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"created\":" + created
            + ",\"livemode\":false,\"pending_webhooks\":1,\"request\":{\"id\":null,\"idempotency_key\":null},\"type\":\"" + type + "\","
            + "\"data\":{\"object\":{\"id\":\"" + invoice + "\",\"object\":\"invoice\",\"created\":" + (created - 3600) + ",\"customer\":\"cus_same_second\","
            + "\"status\":\"" + status + "\",\"currency\":\"usd\",\"total\":1000,\"subtotal\":1000,\"amount_due\":1000,"
            + "\"amount_paid\":" + (status == "paid" ? 1000 : 0) + ",\"amount_remaining\":" + (status == "paid" ? 0 : 1000) + ",\"attempt_count\":" + attempts + ","
            + "\"livemode\":false,\"lines\":{\"object\":\"list\",\"data\":[],\"has_more\":false}}}}", livemode: false)!;

    private static EventRecord Parse(string id, string customer, long created, string? email = null) =>
        StripeEvents.Parse(
            "{\"id\":\"" + id + "\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"created\":" + created
            + ",\"livemode\":false,\"pending_webhooks\":1,\"request\":{\"id\":null,\"idempotency_key\":null},\"type\":\"customer.updated\","
            + "\"data\":{\"object\":{\"id\":\"" + customer + "\",\"object\":\"customer\",\"created\":1700000000,"
            + "\"email\":\"" + (email ?? customer) + "@example.test\",\"livemode\":false,\"metadata\":{}}}}", livemode: false)!;
}
