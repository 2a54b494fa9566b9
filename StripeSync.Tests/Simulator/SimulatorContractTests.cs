using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Stripe;
using Stripe.Checkout;
using StripeSync.Simulator;
using StripeSync.Simulator.Api;
using StripeSync.Simulator.Data;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Simulator;

/// <summary>Stripe.net's own services walk the simulator without a parse error, every object exactly once.</summary>
[Collection(SimulatorTests.Name)]
public sealed class SimulatorContractTests(SimulatorFixture fixture)
{
    private static readonly string[] AllStatuses = ["trialing", "active", "past_due", "unpaid", "canceled", "incomplete_expired", "paused"];

    [Theory]
    [InlineData(3, 3)]
    [InlineData(25, 10)]
    [InlineData(90, 100)]
    public async Task Stripe_net_auto_paging_walks_every_object_of_every_endpoint_exactly_once(int customers, int limit)
    {
        await using var server = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = customers, Seed = customers, Now = SimulatorFixture.FixedNow });
        var client = SimulatorFixture.ClientFor(server, "rk_live_sim_full");
        var account = server.Account;

        AssertSameIds(account.All<Customer>(true).Select(c => c.Id),
            await WalkAsync(new CustomerService(client).ListAutoPagingAsync(new CustomerListOptions { Limit = limit })));
        AssertSameIds(account.All<Product>(true).Select(p => p.Id),
            await WalkAsync(new ProductService(client).ListAutoPagingAsync(new ProductListOptions { Limit = limit })));
        AssertSameIds(account.All<Price>(true).Select(p => p.Id),
            await WalkAsync(new PriceService(client).ListAutoPagingAsync(new PriceListOptions { Limit = limit })));
        AssertSameIds(account.All<Price>(true).Where(p => p.Type == "recurring").Select(p => p.Id),
            await WalkAsync(new PlanService(client).ListAutoPagingAsync(new PlanListOptions { Limit = limit })));
        AssertSameIds(account.All<Coupon>(true).Select(c => c.Id),
            await WalkAsync(new CouponService(client).ListAutoPagingAsync(new CouponListOptions { Limit = limit })));

        var subscriptions = await ListAsync(new SubscriptionService(client).ListAutoPagingAsync(new SubscriptionListOptions { Limit = limit, Status = "all" }));
        AssertSameIds(account.All<Subscription>(true).Select(s => s.Id), subscriptions.Select(s => s.Id));
        Assert.All(subscriptions, s => Assert.NotNull(s.CustomerId));
        Assert.All(subscriptions.SelectMany(s => s.Items.Data), i => Assert.True(i.CurrentPeriodEnd >= i.CurrentPeriodStart));
        Assert.All(subscriptions.SelectMany(s => s.Items.Data), i => Assert.NotNull(i.Price?.Recurring));

        var invoices = await ListAsync(new InvoiceService(client).ListAutoPagingAsync(new InvoiceListOptions { Limit = limit }));
        AssertSameIds(account.All<Invoice>(true).Select(i => i.Id), invoices.Select(i => i.Id));
        Assert.All(invoices.Where(i => i.BillingReason != "manual"), i => Assert.NotNull(i.Parent?.SubscriptionDetails?.SubscriptionId));
        Assert.All(invoices.SelectMany(i => i.Lines.Data), l => Assert.NotNull(l.Pricing?.PriceDetails?.PriceId));
        Assert.All(invoices.Where(i => i.Status == "paid"), i => Assert.NotNull(i.StatusTransitions?.PaidAt));

        var payments = await ListAsync(new InvoicePaymentService(client).ListAutoPagingAsync(new InvoicePaymentListOptions { Limit = limit }));
        AssertSameIds(account.All<InvoicePayment>(true).Select(p => p.Id), payments.Select(p => p.Id));
        Assert.All(payments, p => Assert.NotNull(p.Payment?.ChargeId ?? p.Payment?.PaymentIntentId));

        var charges = await ListAsync(new ChargeService(client).ListAutoPagingAsync(new ChargeListOptions { Limit = limit }));
        AssertSameIds(account.All<Charge>(true).Select(c => c.Id), charges.Select(c => c.Id));
        Assert.All(charges.Where(c => c.Status == "failed"), c => Assert.NotNull(c.FailureMessage));

        AssertSameIds(account.All<Refund>(true).Select(r => r.Id),
            await WalkAsync(new RefundService(client).ListAutoPagingAsync(new RefundListOptions { Limit = limit })));
        AssertSameIds(account.All<Session>(true).Select(s => s.Id),
            await WalkAsync(new SessionService(client).ListAutoPagingAsync(new SessionListOptions { Limit = limit })));
        AssertSameIds(account.All<PaymentMethod>(true).Select(p => p.Id),
            await WalkAsync(new PaymentMethodService(client).ListAutoPagingAsync(new PaymentMethodListOptions { Limit = limit })));

        var events = await ListAsync(new EventService(client).ListAutoPagingAsync(new EventListOptions { Limit = limit }));
        AssertSameIds(account.EventsJson(true).Select(e => JsonNode.Parse(e)!["id"]!.GetValue<string>()), events.Select(e => e.Id));
        Assert.All(events, e => Assert.NotNull(e.Data.Object));
        var windowStart = account.Now - SimulatorAccount.EventRetention;
        Assert.All(events, e => Assert.True(e.Created >= windowStart.UtcDateTime, $"{e.Id} is older than Stripe's 30-day window"));
    }

    [Fact]
    public async Task Ending_before_walks_back_to_the_newest_object()
    {
        var client = fixture.Client("sk_live_sim");
        var newestFirst = fixture.Server.Account.All<Customer>(true).Reverse().Select(c => c.Id).ToList();

        // From the oldest object, pages of ending_before come back newest first, each just newer than the cursor.
        var walked = new List<string>();
        var cursor = newestFirst[^1];
        StripeList<Customer> page;
        do
        {
            page = await new CustomerService(client).ListAsync(new CustomerListOptions { Limit = 7, EndingBefore = cursor });
            walked.InsertRange(0, page.Data.Select(c => c.Id));
            cursor = page.Data.Count > 0 ? page.Data[0].Id : cursor;
        }
        while (page.HasMore);

        Assert.Equal(newestFirst[..^1], walked);
    }

    [Fact]
    public async Task Created_filters_and_limits_are_applied()
    {
        var invoices = fixture.Server.Account.All<Invoice>(true);
        var middle = invoices[invoices.Count / 2].Created;
        var list = await new InvoiceService(fixture.Client("sk_live_sim")).ListAsync(new InvoiceListOptions
        {
            Limit = 100,
            Created = new DateRangeOptions { GreaterThanOrEqual = middle },
        });
        var expected = invoices.Where(i => i.Created >= middle).Reverse().Take(100).Select(i => i.Id);
        Assert.Equal(expected, list.Data.Select(i => i.Id));
    }

    [Fact]
    public void Generated_account_has_every_subscription_status_and_the_awkward_customers()
    {
        var account = fixture.Server.Account;
        var statuses = account.All<Subscription>(true).Select(s => s.Status).ToHashSet(StringComparer.Ordinal);
        Assert.All(AllStatuses, status => Assert.Contains(status, statuses));
        var customers = account.All<Customer>(true);
        Assert.Contains(customers, c => c.Email is null);
        Assert.Contains(customers.Where(c => c.Email is not null).GroupBy(c => c.Email!.ToUpperInvariant()), g => g.Select(c => c.Email).Distinct(StringComparer.Ordinal).Count() > 1);
        Assert.Contains(account.All<Charge>(true), c => c.Status == "failed" && c.FailureMessage is not null);
        Assert.Contains(account.All<Invoice>(true).SelectMany(i => i.Lines.Data), l => l.Parent.SubscriptionItemDetails?.Proration == true);
        Assert.Contains(account.All<Refund>(true), r => r.Amount < account.All<Charge>(true).First(c => c.Id == r.ChargeId).Amount);
        Assert.Contains(account.All<Session>(true), s => s.Status == "expired");
        Assert.NotEmpty(account.All<Customer>(false));
    }

    [Fact]
    public async Task Events_filter_by_types_newest_first()
    {
        var events = await new EventService(fixture.Client("sk_live_sim")).ListAsync(new EventListOptions { Types = ["invoice.paid", "charge.failed"], Limit = 100 });
        Assert.NotEmpty(events.Data);
        Assert.All(events.Data, e => Assert.True(e.Type is "invoice.paid" or "charge.failed", e.Type));
        Assert.Equal(events.Data.OrderByDescending(e => e.Created).Select(e => e.Id), events.Data.Select(e => e.Id));
        Assert.All(events.Data, e => Assert.NotNull(e.Data.Object));
    }

    [Fact]
    public async Task Test_keys_see_test_data_only_and_live_keys_live_data_only()
    {
        var live = await new CustomerService(fixture.Client("sk_live_sim")).ListAsync(new CustomerListOptions { Limit = 100 });
        Assert.All(live.Data, c => Assert.True(c.Livemode));
        Assert.Equal(fixture.Server.Account.All<Customer>(true).Count, live.Data.Count);
        var test = await new CustomerService(fixture.Client("rk_test_sim_full")).ListAsync(new CustomerListOptions { Limit = 100 });
        Assert.All(test.Data, c => Assert.False(c.Livemode));
        Assert.Equal(fixture.Server.Account.All<Customer>(false).Select(c => c.Id).Reverse(), test.Data.Select(c => c.Id));
    }

    [Fact]
    public async Task Webhooks_are_signed_so_that_construct_event_accepts_them_and_rejects_tampering()
    {
        var received = new ConcurrentQueue<(string Body, string Signature)>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var receiver = builder.Build();
        receiver.MapPost("/hook", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            received.Enqueue((await reader.ReadToEndAsync(), request.Headers["Stripe-Signature"].ToString()));
            return Results.Ok();
        });
        await receiver.StartAsync();
        var url = receiver.Urls.First() + "/hook";

        var endpoints = new WebhookEndpointService(fixture.Client("rk_test_sim_full"));
        var endpoint = await endpoints.CreateAsync(new WebhookEndpointCreateOptions { Url = url, EnabledEvents = ["customer.created"] });
        Assert.StartsWith("whsec_", endpoint.Secret, StringComparison.Ordinal);
        try
        {
            var customerId = fixture.Server.Control.NewCustomer(livemode: false, "webhook.person@example.com", "Webhook Person");
            for (var i = 0; i < 200 && received.IsEmpty; i++)
            {
                await Task.Delay(50);
            }

            Assert.True(received.TryDequeue(out var delivery), "no webhook arrived");
            var stripeEvent = EventUtility.ConstructEvent(delivery.Body, delivery.Signature, endpoint.Secret);
            Assert.Equal("customer.created", stripeEvent.Type);
            Assert.Equal(customerId, ((Customer)stripeEvent.Data.Object).Id);

            var tampered = delivery.Body.Replace("webhook.person@example.com", "someone.else@example.com", StringComparison.Ordinal);
            Assert.NotEqual(delivery.Body, tampered);
            Assert.Throws<StripeException>(() => EventUtility.ConstructEvent(tampered, delivery.Signature, endpoint.Secret));
            Assert.Throws<StripeException>(() => EventUtility.ConstructEvent(delivery.Body, delivery.Signature, "whsec_another_secret"));
        }
        finally
        {
            await endpoints.DeleteAsync(endpoint.Id);
        }
    }

    [Fact]
    public async Task Webhook_delivery_goes_on_after_a_receiver_resets_every_connection()
    {
        await using var server = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 5, Seed = 9, Now = SimulatorFixture.FixedNow });
        server.Webhooks.RetryDelays = [TimeSpan.FromMilliseconds(10)];
        // A receiver whose every connection is reset as soon as it is accepted (a load balancer with no backend).
        await using var receiver = new NetworkPartition(AppProcess.FreePort());
        receiver.Cut();
        var endpoints = new WebhookEndpointService(SimulatorFixture.ClientFor(server, "rk_test_sim_full"));
        await endpoints.CreateAsync(new WebhookEndpointCreateOptions { Url = receiver.Address + "hook", EnabledEvents = ["customer.created"] });

        for (var i = 0; i < 5; i++)
        {
            server.Control.NewCustomer(livemode: false, $"reset{i}@example.com", "Reset Person");
        }

        await server.Webhooks.SettleAsync(TimeSpan.FromSeconds(30));

        // Five events, each tried once and retried once: none left undelivered by a delivery loop that died.
        Assert.Equal(10, server.Webhooks.FailedAttempts);
        Assert.Equal(0, server.Webhooks.Delivered);
    }

    [Fact]
    public async Task A_deleted_customer_leaves_the_list_retrieves_as_stripes_stub_and_keeps_its_payments()
    {
        await using var server = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 20, Seed = 4, Now = SimulatorFixture.FixedNow });
        var client = SimulatorFixture.ClientFor(server, "rk_live_sim_full");
        var subscription = server.Account.All<Subscription>(true).First(s => s.Status == "active");
        var charges = server.Account.All<Charge>(true).Where(c => c.CustomerId == subscription.CustomerId).Select(c => c.Id).ToList();

        server.Control.DeleteCustomer(subscription.CustomerId);

        var listed = await WalkAsync(new CustomerService(client).ListAutoPagingAsync(new CustomerListOptions { Limit = 100 }));
        Assert.DoesNotContain(subscription.CustomerId, listed);
        Assert.Equal(server.Account.All<Customer>(true).Count, listed.Count);
        var stub = await new CustomerService(client).GetAsync(subscription.CustomerId);
        Assert.True(stub.Deleted);
        Assert.Null(stub.Email);
        var events = await new EventService(client).ListAsync(new EventListOptions { Types = ["customer.deleted", "customer.subscription.deleted"], Limit = 10 });
        Assert.Equal(subscription.CustomerId, ((Customer)events.Data.Single(e => e.Type == "customer.deleted").Data.Object).Id);
        Assert.Contains(events.Data, e => e.Type == "customer.subscription.deleted" && ((Subscription)e.Data.Object).Id == subscription.Id);
        Assert.Equal("canceled", (await new SubscriptionService(client).GetAsync(subscription.Id)).Status);
        Assert.Equal(charges, (await WalkAsync(new ChargeService(client).ListAutoPagingAsync(new ChargeListOptions { Customer = subscription.CustomerId, Limit = 100 }))).AsEnumerable().Reverse());
        Assert.Throws<ArgumentException>(() => server.Control.DeleteCustomer(subscription.CustomerId));
    }

    [Fact]
    public async Task Settling_waits_for_late_deliveries_and_each_event_keeps_the_mode_it_was_made_under()
    {
        await using var server = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 5, Seed = 9, Now = SimulatorFixture.FixedNow });
        var received = new ConcurrentQueue<string>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var receiver = builder.Build();
        receiver.MapPost("/hook", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            received.Enqueue((string)JsonNode.Parse(await reader.ReadToEndAsync())!["data"]!["object"]!["email"]!);
            return Results.Ok();
        });
        await receiver.StartAsync();
        await new WebhookEndpointService(SimulatorFixture.ClientFor(server, "rk_test_sim_full"))
            .CreateAsync(new WebhookEndpointCreateOptions { Url = receiver.Urls.First() + "/hook", EnabledEvents = ["customer.created"] });

        // Modes switched right after each change, before the delivery loop can have reached it.
        server.Webhooks.Mode = Misdelivery.Late;
        server.Control.NewCustomer(livemode: false, "late@example.com", "Late");
        server.Webhooks.Mode = Misdelivery.Duplicate;
        server.Control.NewCustomer(livemode: false, "twice@example.com", "Twice");
        server.Webhooks.Mode = Misdelivery.None;
        server.Control.NewCustomer(livemode: false, "once@example.com", "Once");
        await server.Webhooks.SettleAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["late@example.com", "once@example.com", "twice@example.com", "twice@example.com"], received.Order(StringComparer.Ordinal));
    }

    private static async Task<List<T>> ListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }

    private static async Task<List<string>> WalkAsync<T>(IAsyncEnumerable<T> items) where T : IHasId =>
        [.. (await ListAsync(items)).Select(i => i.Id)];

    private static void AssertSameIds(IEnumerable<string> expected, IEnumerable<string> walked)
    {
        var ids = walked.ToList();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(expected.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
    }
}
