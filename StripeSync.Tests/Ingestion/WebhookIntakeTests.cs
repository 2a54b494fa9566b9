using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Stripe;
using StripeSync.Core.Persistence;
using StripeSync.Tests.Support;
using CoreConnections = StripeSync.Core.Connections.Connections;

namespace StripeSync.Tests.Ingestion;

/// <summary>
/// The group writer behind the webhook endpoint: concurrent deliveries are written together, each answered 200 only once
/// its event is committed, and a failed write answers an error to every delivery in it, so Stripe sends them again.
/// </summary>
public sealed class WebhookIntakeTests
{
    private const string Secret = "whsec_intake_secret_0123456789";

    [Fact]
    public Task Sqlite_concurrent_deliveries_are_each_stored_once_and_visible_when_answered() => ConcurrentAsync(DatabaseProvider.Sqlite);

    [PostgresFact]
    public Task Postgres_concurrent_deliveries_are_each_stored_once_and_visible_when_answered() => ConcurrentAsync(DatabaseProvider.Postgres);

    [Fact]
    public Task Sqlite_a_delivery_is_answered_only_after_its_event_is_committed() => AnsweredAfterCommitAsync(DatabaseProvider.Sqlite);

    [PostgresFact]
    public Task Postgres_a_delivery_is_answered_only_after_its_event_is_committed() => AnsweredAfterCommitAsync(DatabaseProvider.Postgres);

    [Fact]
    public Task Sqlite_a_failed_write_answers_503_to_its_whole_batch_and_loses_nothing() => FailedWriteAsync(DatabaseProvider.Sqlite);

    [PostgresFact]
    public Task Postgres_a_failed_write_answers_503_to_its_whole_batch_and_loses_nothing() => FailedWriteAsync(DatabaseProvider.Postgres);

    private static async Task ConcurrentAsync(DatabaseProvider provider)
    {
        await using var app = AppHost.Start(provider);
        var connectionId = await ConnectAsync(app);
        // 150 distinct events, each sent twice (Stripe retries, and may deliver one event twice at once), 32 at a time.
        var ids = Enumerable.Range(0, 150).Select(i => $"evt_many_{i:D3}").ToList();
        var sends = ids.Concat(ids).OrderBy(id => id, StringComparer.Ordinal).ToList();
        var notVisible = new ConcurrentBag<string>();
        var statuses = new ConcurrentBag<HttpStatusCode>();
        using var gate = new SemaphoreSlim(32);
        using var client = app.Anonymous();
        await Task.WhenAll(sends.Select(async id =>
        {
            await gate.WaitAsync();
            try
            {
                using var response = await PostAsync(client, connectionId, Event(id));
                statuses.Add(response.StatusCode);
                // A 200 tells Stripe it may forget the event: it must already be in the database, seen from any connection.
                if (response.StatusCode == HttpStatusCode.OK && await CountAsync(app, id) != 1)
                {
                    notVisible.Add(id);
                }
            }
            finally
            {
                gate.Release();
            }
        }));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Empty(notVisible);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var stored = await db.Inbox.Select(e => e.EventId).ToListAsync();
        Assert.Equal(ids, stored.Order(StringComparer.Ordinal));
        var connection = await db.Connections.SingleAsync(c => c.Id == connectionId);
        Assert.NotNull(connection.LastWebhookAt);
    }

    private static async Task AnsweredAfterCommitAsync(DatabaseProvider provider)
    {
        await using var app = AppHost.Start(provider);
        var connectionId = await ConnectAsync(app);
        using var client = app.Anonymous();

        // Another writer holds the inbox: the delivery can't be committed, so it must not be answered yet.
        await using (var holder = await HoldInboxAsync(app))
        {
            var pending = PostAsync(client, connectionId, Event("evt_held"));
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.False(pending.IsCompleted, "answered while its event could not have been committed");
            await holder.DisposeAsync();
            using var response = await pending.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, await CountAsync(app, "evt_held"));
    }

    private static async Task FailedWriteAsync(DatabaseProvider provider)
    {
        await using var app = AppHost.Start(provider);
        var connectionId = await ConnectAsync(app);
        using var client = app.Anonymous();
        await PoisonAsync(app, provider, on: true);

        // Alone: the one event's write fails, it is answered with an error Stripe retries, and nothing is stored.
        using (var alone = await PostAsync(client, connectionId, Event("evt_poison_alone")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, alone.StatusCode);
        }

        Assert.Equal(0, await CountAsync(app, "evt_poison_alone"));

        // Among others sent at the same moment: whoever shared its batch is answered 503 too, and holds nothing stored.
        var ids = Enumerable.Range(0, 40).Select(i => $"evt_ok_{i:D2}").Append("evt_poison_among").ToList();
        var answers = new ConcurrentDictionary<string, HttpStatusCode>();
        await Task.WhenAll(ids.Select(async id =>
        {
            using var response = await PostAsync(client, connectionId, Event(id));
            answers[id] = response.StatusCode;
        }));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, answers["evt_poison_among"]);
        foreach (var (id, status) in answers)
        {
            Assert.True(status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{id}: {status}");
            Assert.Equal(status == HttpStatusCode.OK ? 1 : 0, await CountAsync(app, id));
        }

        // The fault clears; Stripe sends again what was refused: everything ends stored exactly once.
        await PoisonAsync(app, provider, on: false);
        foreach (var id in answers.Where(a => a.Value != HttpStatusCode.OK).Select(a => a.Key).Append("evt_poison_alone"))
        {
            using var retry = await PostAsync(client, connectionId, Event(id));
            Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        }

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var stored = await db.Inbox.Select(e => e.EventId).ToListAsync();
        Assert.Equal(ids.Append("evt_poison_alone").Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
    }

    /// <summary>A real database fault: a trigger that aborts any insert of an event whose id starts with evt_poison.</summary>
    private static async Task PoisonAsync(AppHost app, DatabaseProvider provider, bool on)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        string[] sql = (provider, on) switch
        {
            (DatabaseProvider.Sqlite, true) =>
            [
                "CREATE TRIGGER poison BEFORE INSERT ON inbox_events WHEN NEW.EventId LIKE 'evt_poison%' BEGIN SELECT RAISE(ABORT, 'poisoned event'); END;",
            ],
            (DatabaseProvider.Sqlite, false) => ["DROP TRIGGER poison;"],
            (_, true) =>
            [
                "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.\"EventId\" LIKE 'evt_poison%' THEN RAISE EXCEPTION 'poisoned event'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;",
                "CREATE TRIGGER poison BEFORE INSERT ON inbox_events FOR EACH ROW EXECUTE FUNCTION poison();",
            ],
            (_, false) => ["DROP TRIGGER poison ON inbox_events;", "DROP FUNCTION poison();"],
        };
        foreach (var statement in sql)
        {
            await db.Database.ExecuteSqlRawAsync(statement);
        }
    }

    /// <summary>Holds the inbox's write lock from another connection until disposed (SQLite: the file's; PostgreSQL: the table's).</summary>
    private static async Task<IAsyncDisposable> HoldInboxAsync(AppHost app)
    {
        if (app.Database.Provider == DatabaseProvider.Sqlite)
        {
            var sqlite = new SqliteConnection(app.Database.ConnectionString);
            await sqlite.OpenAsync();
            var transaction = sqlite.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: the database's one write lock
            return new Holder(async () =>
            {
                await transaction.RollbackAsync();
                await sqlite.DisposeAsync();
            });
        }

        var postgres = new NpgsqlConnection(app.Database.ConnectionString);
        await postgres.OpenAsync();
        var held = await postgres.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("LOCK TABLE inbox_events IN EXCLUSIVE MODE", postgres, held))
        {
            await command.ExecuteNonQueryAsync();
        }

        return new Holder(async () =>
        {
            await held.RollbackAsync();
            await postgres.DisposeAsync();
        });
    }

    private sealed class Holder(Func<Task> release) : IAsyncDisposable
    {
        private Func<Task>? release = release;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref release, null) is { } once)
            {
                await once();
            }
        }
    }

    private static async Task<Guid> ConnectAsync(AppHost app)
    {
        var connections = app.Services.GetRequiredService<CoreConnections>();
        var connection = await connections.AddAsync("rk_test_intaketests0123456789", default);
        await connections.SetWebhookAsync(connection.Id, "we_intake", Secret, default);
        return connection.Id;
    }

    private static async Task<int> CountAsync(AppHost app, string eventId)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await db.Inbox.CountAsync(e => e.EventId == eventId);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, Guid connectionId, string payload)
    {
        using var content = new StringContent(payload, Encoding.UTF8, "application/json");
        content.Headers.Add("Stripe-Signature", EventUtility.GenerateSignatureHeader(payload, Secret, null));
        return await client.PostAsync($"/stripe/webhooks/{connectionId}", content);
    }

    private static string Event(string id) =>
        "{\"id\":\"" + id + "\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"created\":" + DateTimeOffset.UtcNow.ToUnixTimeSeconds()
        + ",\"livemode\":false,\"pending_webhooks\":1,\"request\":{\"id\":null,\"idempotency_key\":null},\"type\":\"customer.updated\","
        + "\"data\":{\"object\":{\"id\":\"cus_intake1\",\"object\":\"customer\",\"created\":1700000000,"
        + "\"email\":\"intake@example.test\",\"livemode\":false,\"metadata\":{}}}}";
}
