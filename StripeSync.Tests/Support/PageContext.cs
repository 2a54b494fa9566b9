using System.Text.Json;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MudBlazor.Services;
using StripeSync.Core;
using StripeSync.Core.Access;
using StripeSync.Core.Connections;
using StripeSync.Core.Ingestion;
using StripeSync.Core.People;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;
using StripeSync.Web.Components.Layout;

namespace StripeSync.Tests.Support;

/// <summary>
/// bUnit for a data page: the real Core queries over a real (temporary, migrated) SQLite database that the test
/// seeds, a fixed clock, and a signed-in user. Nothing of ours is mocked.
/// </summary>
public abstract class PageContext : BunitContext, IAsyncLifetime
{
    /// <summary>"Now" of every page test: mid-afternoon, so today's events sit before it.</summary>
    public static readonly DateTimeOffset Now = new(2026, 3, 15, 15, 0, 0, TimeSpan.Zero);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly TestDatabase database = TestDatabase.Create(DatabaseProvider.Sqlite);

    protected PageContext(string role = Roles.Marketer)
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
        AddAuthorization().SetAuthorized("someone@example.test").SetRoles(role);
        Services.AddSingleton<TimeProvider>(Clock);
        Services.AddLogging();
        Services.AddDataProtection();
        Services.AddOptions<StripeOptions>();
        Services.AddStripeSyncDatabase(new DatabaseOptions { Provider = DatabaseProvider.Sqlite, ConnectionString = database.ConnectionString });
        Services.AddStripeSyncCore();
        Services.AddScoped<ViewMode>();
        // Last: the renderer resolves services, after which none can be added.
        Renderer.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    protected FakeTimeProvider Clock { get; } = new(Now);

    protected static DateOnly Today => DateOnly.FromDateTime(Now.UtcDateTime);

    protected IDbContextFactory<AppDbContext> Db => Services.GetRequiredService<IDbContextFactory<AppDbContext>>();

    public async Task InitializeAsync() => await DatabaseSetup.MigrateAsync(Db, CancellationToken.None);

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await database.DisposeAsync();
    }

    /// <summary>A live connection in the given state, as the sync would have left it.</summary>
    protected async Task<Connection> ConnectAsync(ConnectionState state, SyncChoice sync = SyncChoice.Import, string? error = null)
    {
        var connections = Services.GetRequiredService<Core.Connections.Connections>();
        var connection = await connections.AddAsync("rk_live_pagetest0123456789", CancellationToken.None);
        await connections.UpdateAsync(connection.Id, c =>
        {
            c.State = state;
            c.Sync = sync;
            c.SyncStartedAt = Now.AddDays(-1);
            c.LastError = error;
            c.LastErrorAt = error is null ? null : Now.AddMinutes(-5);
        }, CancellationToken.None);
        return (await connections.FindAsync(connection.Id, CancellationToken.None))!;
    }

    protected async Task<Person> PersonAsync(string email)
    {
        await using var db = await Db.CreateDbContextAsync();
        var person = new Person { Id = Guid.NewGuid(), Mode = ConnectionMode.Live, Key = email, Email = email, Identified = true, SearchText = email };
        db.People.Add(person);
        await db.SaveChangesAsync();
        return person;
    }

    protected async Task EventAsync(Connection connection, string metric, DateTimeOffset time, Person? person = null, long? amount = null,
        string? currency = null, params (string Name, string Value)[] properties)
    {
        await using var db = await Db.CreateDbContextAsync();
        var ms = time.ToUnixTimeMilliseconds();
        db.MetricEvents.Add(new StoredMetricEvent
        {
            Mode = connection.Mode,
            ConnectionId = connection.Id,
            Metric = metric,
            NaturalKey = Guid.NewGuid().ToString("N"),
            Time = ms,
            Day = (int)Math.Floor(ms / 86_400_000d),
            PersonId = person?.Id,
            CustomerId = "cus_" + (person?.Email ?? "none"),
            Amount = amount,
            Currency = currency,
            PropertiesJson = JsonSerializer.Serialize(properties.ToDictionary(p => p.Name, p => p.Value), Json),
        });
        await db.SaveChangesAsync();
    }

    /// <summary>
    /// Stores Stripe records as the sync would (marking their customers) and derives the people, as the sync does
    /// after them. The connection should be synced: deriving for one that imports would finish its import.
    /// </summary>
    protected async Task DeriveAsync(Connection connection, params StripeRecord[] records)
    {
        await using (var db = await Db.CreateDbContextAsync())
        {
            var version = Now.ToUnixTimeMilliseconds();
            await StateStore.UpsertAsync(db, connection.Id, [.. records.Select(r => new StateStore.PageRow(r, version))], version, CancellationToken.None);
        }

        var jobs = new QueuedJobs();
        await new DeriveJob(Db, jobs, Clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<DeriveJob>.Instance).RunAsync(connection.Id, CancellationToken.None);
        Assert.Empty(jobs.Queued);
    }

    protected async Task StoreAsync(Connection connection, StripeRecord record)
    {
        await using var db = await Db.CreateDbContextAsync();
        db.StripeObjects.Add(new StoredObject
        {
            ConnectionId = connection.Id,
            StripeId = record.Id,
            Type = record.Type,
            Livemode = true,
            CustomerId = StateStore.CustomerOf(record),
            Created = record.Created.ToUnixTimeSeconds(),
            Version = record.Created.ToUnixTimeSeconds(),
            Json = StateStore.Serialize(record),
        });
        await db.SaveChangesAsync();
    }

    /// <summary>Keeps the jobs asked for instead of running them: page tests run what they need themselves.</summary>
    private sealed class QueuedJobs : ISyncJobs
    {
        public List<string> Queued { get; } = [];

        public void Backfill(Guid connectionId) => Queued.Add(nameof(Backfill));

        public void DrainInbox(Guid connectionId) => Queued.Add(nameof(DrainInbox));

        public void Derive(Guid connectionId) => Queued.Add(nameof(Derive));

        public void Reconcile(Guid connectionId) => Queued.Add(nameof(Reconcile));
    }
}
