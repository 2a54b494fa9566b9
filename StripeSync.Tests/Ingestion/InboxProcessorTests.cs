using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Ingestion.Inbox;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;
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

    private static EventRecord Parse(string id, string customer, long created) =>
        StripeEvents.Parse(
            "{\"id\":\"" + id + "\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"created\":" + created
            + ",\"livemode\":false,\"pending_webhooks\":1,\"request\":{\"id\":null,\"idempotency_key\":null},\"type\":\"customer.updated\","
            + "\"data\":{\"object\":{\"id\":\"" + customer + "\",\"object\":\"customer\",\"created\":1700000000,"
            + "\"email\":\"" + customer + "@example.test\",\"livemode\":false,\"metadata\":{}}}}", livemode: false)!;
}
