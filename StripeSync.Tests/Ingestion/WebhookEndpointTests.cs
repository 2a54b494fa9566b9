using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Stripe;
using StripeSync.Core.Persistence;
using StripeSync.Tests.Support;
using CoreConnections = StripeSync.Core.Connections.Connections;

namespace StripeSync.Tests.Ingestion;

public sealed class WebhookEndpointTests : IAsyncLifetime
{
    private const string Secret = "whsec_test_secret_for_webhooks";
    private AppHost app = default!;
    private Guid connectionId;

    public async Task InitializeAsync()
    {
        app = AppHost.Start();
        var connections = app.Services.GetRequiredService<CoreConnections>();
        var connection = await connections.AddAsync("rk_test_webhooktests123", default);
        await connections.SetWebhookAsync(connection.Id, "we_123", Secret, default);
        connectionId = connection.Id;
    }

    public async Task DisposeAsync() => await app.DisposeAsync();

    [Fact]
    public async Task A_signed_event_is_stored_once_however_often_it_arrives()
    {
        var payload = Event("evt_once", "customer.created");

        var first = await Post(payload, Sign(payload));
        var again = await Post(payload, Sign(payload));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(1, await InboxCount("evt_once"));
    }

    [Fact]
    public async Task Bad_missing_or_stale_signatures_are_refused_and_nothing_is_stored()
    {
        var payload = Event("evt_forged", "customer.created");
        var stale = DateTimeOffset.UtcNow.AddMinutes(-6).ToUnixTimeSeconds();

        var wrongSecret = await Post(payload, EventUtility.GenerateSignatureHeader(payload, "whsec_someone_else", null));
        var missing = await Post(payload, null);
        var old = await Post(payload, EventUtility.GenerateSignatureHeader(payload, Secret, stale));
        var tampered = await Post(payload.Replace("customer.created", "customer.deleted", StringComparison.Ordinal), Sign(payload));

        Assert.All([wrongSecret, missing, old, tampered], r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
        Assert.Equal(0, await InboxCount("evt_forged"));
    }

    [Fact]
    public async Task A_signed_body_that_is_not_a_stripe_event_is_refused()
    {
        foreach (var body in new[] { "{not json", "{}", "[1,2,3]", "{\"id\":\"evt_x\"}" })
        {
            var response = await Post(body, Sign(body));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.Equal(0, await db.Inbox.CountAsync());
    }

    [Fact]
    public async Task A_huge_body_is_refused_without_being_read_whole()
    {
        var body = "{\"id\":\"evt_big\",\"pad\":\"" + new string('x', 600 * 1024) + "\"}";

        var response = await Post(body, Sign(body));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task An_unknown_connection_is_a_404()
    {
        var payload = Event("evt_nowhere", "customer.created");
        using var client = app.Anonymous();
        var response = await client.PostAsync($"/stripe/webhooks/{Guid.NewGuid()}", Content(payload, Sign(payload)));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static string Sign(string payload) => EventUtility.GenerateSignatureHeader(payload, Secret, null);

    private async Task<HttpResponseMessage> Post(string payload, string? signature)
    {
        using var client = app.Anonymous();
        return await client.PostAsync($"/stripe/webhooks/{connectionId}", Content(payload, signature));
    }

    private static StringContent Content(string payload, string? signature)
    {
        var content = new StringContent(payload, Encoding.UTF8, "application/json");
        if (signature is not null)
        {
            content.Headers.Add("Stripe-Signature", signature);
        }

        return content;
    }

    private async Task<int> InboxCount(string eventId)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await db.Inbox.CountAsync(e => e.EventId == eventId);
    }

    private static string Event(string id, string type) =>
        "{\"id\":\"" + id + "\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"created\":" + DateTimeOffset.UtcNow.ToUnixTimeSeconds()
        + ",\"livemode\":false,\"pending_webhooks\":1,\"request\":{\"id\":null,\"idempotency_key\":null},\"type\":\"" + type + "\","
        + "\"data\":{\"object\":{\"id\":\"cus_webhook1\",\"object\":\"customer\",\"created\":1700000000,"
        + "\"email\":\"Webhook@Example.test\",\"livemode\":false,\"metadata\":{}}}}";
}
