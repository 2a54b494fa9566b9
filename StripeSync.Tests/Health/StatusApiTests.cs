using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Persistence;
using StripeSync.Tests.Support;
using CoreConnections = StripeSync.Core.Connections.Connections;

namespace StripeSync.Tests.Health;

/// <summary>GET /api/v1/status on a fresh app with a connection stored without asking Stripe.</summary>
public sealed class StatusApiTests : IAsyncLifetime
{
    private AppHost app = default!;
    private HttpClient api = default!;

    public Task InitializeAsync()
    {
        app = AppHost.Start();
        api = app.WithApiKey(AppHost.AdminApiKey);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        api.Dispose();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task Status_lists_the_newest_failed_events_with_their_reasons()
    {
        var connectionId = (await app.Services.GetRequiredService<CoreConnections>().AddAsync("rk_live_statusapi0123456789", default)).Id;
        var created = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            // Twelve given up on, a minute apart; one applied after a failed attempt (its error cleared) is not a failure.
            for (var i = 0; i < 12; i++)
            {
                db.Inbox.Add(Event(connectionId, $"evt_failed_{i:D2}", created.AddMinutes(i), InboxEvent.MaxAttempts, $"reason {i:D2}", processed: false));
            }

            db.Inbox.Add(Event(connectionId, "evt_applied", created.AddHours(1), 2, null, processed: true));
            await db.SaveChangesAsync();
        }

        var status = await api.GetFromJsonAsync<JsonElement>("/api/v1/status");

        var connection = status.GetProperty("connections")[0];
        Assert.Equal(12, connection.GetProperty("failedEvents").GetInt32());
        var failures = connection.GetProperty("recentFailures").EnumerateArray().ToList();
        Assert.Equal(10, failures.Count);
        Assert.Equal([.. Enumerable.Range(2, 10).Reverse().Select(i => $"evt_failed_{i:D2}")], failures.Select(f => f.GetProperty("eventId").GetString()));
        var newest = failures[0];
        Assert.Equal("invoice.paid", newest.GetProperty("type").GetString());
        Assert.Equal("reason 11", newest.GetProperty("error").GetString());
        Assert.Equal(InboxEvent.MaxAttempts, newest.GetProperty("attempts").GetInt32());
        Assert.True(newest.GetProperty("gaveUp").GetBoolean());
        Assert.Equal(created.AddMinutes(11), newest.GetProperty("created").GetDateTimeOffset());
    }

    private static InboxEvent Event(Guid connectionId, string eventId, DateTimeOffset created, int attempts, string? error, bool processed) => new()
    {
        ConnectionId = connectionId,
        EventId = eventId,
        Type = "invoice.paid",
        Created = created.ToUnixTimeSeconds(),
        ReceivedAt = created.ToUnixTimeMilliseconds(),
        Json = "{}",
        Attempts = attempts,
        Error = error,
        ProcessedAt = processed ? created.ToUnixTimeMilliseconds() : null,
    };
}
