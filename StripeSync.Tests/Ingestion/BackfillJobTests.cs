using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stripe;
using StripeSync.Core;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Ingestion.Backfill;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;
using StripeSync.Simulator;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Ingestion;

/// <summary>
/// The import's writer stores every page waiting in one transaction (group commit). Its runs are driven by hand here,
/// without Hangfire, so a test can stop one in the middle and look at what it committed.
/// </summary>
public sealed class BackfillJobTests
{
    [Fact]
    public async Task Pages_of_several_slices_share_a_commit_and_a_stopped_run_resumes_at_the_committed_cursors()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 300, Seed = 17 });
        await using var import = await ImportHost.StartAsync(sim);
        await import.Job.StartAsync(import.ConnectionId, default);

        // Stopped once a few dozen pages are committed, with more on their way.
        using var stop = new CancellationTokenSource();
        var run = import.Job.RunAsync(import.ConnectionId, stop.Token);
        while (!run.IsCompleted && await import.PagesAsync() < 30)
        {
            await Task.Delay(20);
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(await import.OpenSlicesAsync() > 0, "the run was meant to stop before the import's end");

        // Every stored object was committed with its slice's cursor: the slices count exactly what is stored.
        await import.AssertSlicesCountWhatIsStoredAsync();

        // Later runs go on from the committed cursors: no page is stored twice (the counts would exceed Stripe's).
        for (var i = 0; i < 10 && await import.OpenSlicesAsync() > 0; i++)
        {
            await import.Job.RunAsync(import.ConnectionId, default);
        }

        Assert.Equal(0, await import.OpenSlicesAsync());
        await import.AssertSlicesCountWhatIsStoredAsync();
        var fetched = await import.FetchedPerTypeAsync();
        Assert.Equal(sim.Account.All<Customer>(livemode: true).Count, fetched[StripeObjectType.Customer]);
        Assert.Equal(sim.Account.All<Invoice>(livemode: true).Count, fetched[StripeObjectType.Invoice]);
        Assert.Equal(sim.Account.All<Charge>(livemode: true).Count, fetched[StripeObjectType.Charge]);
        Assert.Equal(sim.Account.All<Refund>(livemode: true).Count, fetched[StripeObjectType.Refund]);
        Assert.Equal(1, import.Jobs.Derives);

        // The writer took more than one page at a time, pages of different slices in one transaction.
        Assert.Contains(import.Commits, c => c.Pages > 1);
    }

    [Fact]
    public async Task A_page_whose_slice_another_run_walked_on_is_dropped_while_its_batch_commits()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 1000, Seed = 18 });
        var steal = new StealSlice(StripeObjectType.Customer);
        await using var import = await ImportHost.StartAsync(sim, steal);
        await import.Job.StartAsync(import.ConnectionId, default);

        // The other run takes the customers' first slice once this run has stored its first page; this run's next page of
        // it finds the check failing and is dropped, while the pages stored with it commit.
        using var stop = new CancellationTokenSource();
        var run = import.Job.RunAsync(import.ConnectionId, stop.Token);
        while (!run.IsCompleted && !import.Commits.Any(c => c.Dropped > 0))
        {
            await Task.Delay(20);
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        var dropping = import.Commits.First(c => c.Dropped > 0);
        Assert.Equal(1, dropping.Dropped);
        Assert.True(steal.Stolen);

        // Nothing of the dropped page was stored, and a later run (reading the slice as the other run left it) ends the import.
        await import.AssertSlicesCountWhatIsStoredAsync();
        for (var i = 0; i < 10 && await import.OpenSlicesAsync() > 0; i++)
        {
            await import.Job.RunAsync(import.ConnectionId, default);
        }

        Assert.Equal(0, await import.OpenSlicesAsync());
        var fetched = await import.FetchedPerTypeAsync();
        Assert.Equal(sim.Account.All<Customer>(livemode: true).Count, fetched[StripeObjectType.Customer]);
        Assert.Equal(sim.Account.All<Invoice>(livemode: true).Count, fetched[StripeObjectType.Invoice]);
    }

    [Fact]
    public async Task A_run_that_loses_a_slice_to_another_run_leaves_it_to_that_run_instead_of_fetching_pages_it_must_drop()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 1000, Seed = 18 });
        var steal = new StealSlice(StripeObjectType.Customer);
        await using var import = await ImportHost.StartAsync(sim, steal);
        await import.Job.StartAsync(import.ConnectionId, default);

        // The whole run, to its end: every page of the lost slice it fetched after the loss would be dropped too.
        await import.Job.RunAsync(import.ConnectionId, default);

        Assert.True(steal.Stolen);
        // The page on its way when the slice was lost is the only one: the slice was not restarted at its old page count.
        Assert.Equal(1, import.Commits.Sum(c => c.Dropped));
        await import.AssertSlicesCountWhatIsStoredAsync();

        // The other run is played by the interceptor, so nobody walks the slice on: a later run reads it as left and ends the import.
        for (var i = 0; i < 10 && await import.OpenSlicesAsync() > 0; i++)
        {
            await import.Job.RunAsync(import.ConnectionId, default);
        }

        Assert.Equal(0, await import.OpenSlicesAsync());
        Assert.Equal(1, import.Commits.Sum(c => c.Dropped));
        var fetched = await import.FetchedPerTypeAsync();
        Assert.Equal(sim.Account.All<Customer>(livemode: true).Count, fetched[StripeObjectType.Customer]);
        Assert.Equal(1, import.Jobs.Derives);
    }

    /// <summary>
    /// Plays another run of the job: once the type's first slice has one page stored, it walks that slice on by a page
    /// (the same cursor, one more page counted) inside whichever transaction next writes a slice.
    /// </summary>
    private sealed class StealSlice(StripeObjectType type) : DbCommandInterceptor
    {
        public bool Stolen { get; private set; }

        public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            if (!Stolen && command.CommandText.Contains("UPDATE \"backfill_slices\"", StringComparison.Ordinal))
            {
                await using var other = command.Connection!.CreateCommand();
                other.Transaction = command.Transaction;
                other.CommandText = $"UPDATE backfill_slices SET \"Pages\" = \"Pages\" + 1 WHERE \"Type\" = {(int)type} AND \"Slice\" = 0 AND \"Pages\" = 1 AND NOT \"Done\"";
                Stolen = await other.ExecuteNonQueryAsync(cancellationToken) == 1;
            }

            return result;
        }
    }

    /// <summary>Core's services on a fresh SQLite database, with jobs that are only counted, and the writer's commits logged.</summary>
    private sealed class ImportHost : IAsyncDisposable
    {
        private readonly ServiceProvider provider;
        private readonly TestDatabase database;
        private readonly IDbContextFactory<AppDbContext> dbFactory;

        private readonly List<(int Pages, int Dropped)> commits;

        private ImportHost(ServiceProvider provider, TestDatabase database, List<(int Pages, int Dropped)> commits, Guid connectionId)
        {
            this.provider = provider;
            this.commits = commits;
            this.database = database;
            ConnectionId = connectionId;
            dbFactory = provider.GetRequiredService<IDbContextFactory<AppDbContext>>();
        }

        public Guid ConnectionId { get; }

        public BackfillJob Job => provider.GetRequiredService<BackfillJob>();

        public CountedJobs Jobs => (CountedJobs)provider.GetRequiredService<ISyncJobs>();

        /// <summary>Pages stored and dropped per commit so far, from the writer's Debug log.</summary>
        public List<(int Pages, int Dropped)> Commits
        {
            get
            {
                lock (commits)
                {
                    return [.. commits];
                }
            }
        }

        public static async Task<ImportHost> StartAsync(SimulatorServer sim, IInterceptor? interceptor = null)
        {
            var database = TestDatabase.Create(DatabaseProvider.Sqlite);
            var commits = new List<(int Pages, int Dropped)>();
            var services = new ServiceCollection()
                .AddLogging(l => l.SetMinimumLevel(LogLevel.Debug).AddProvider(new CommitLog(commits)))
                .AddSingleton(TimeProvider.System)
                .AddSingleton<ISyncJobs, CountedJobs>()
                .AddStripeSyncDatabase(new DatabaseOptions { Provider = DatabaseProvider.Sqlite, ConnectionString = database.ConnectionString })
                .AddStripeSyncCore();
            if (interceptor is not null)
            {
                services.ConfigureDbContext<SqliteAppDbContext>(o => o.AddInterceptors(interceptor));
            }

            services.AddDataProtection();
            services.AddOptions<StripeOptions>().Configure(o => o.ApiBase = sim.BaseUrl);
            services.AddOptions<SyncOptions>();
            var provider = services.BuildServiceProvider();
            await DatabaseSetup.MigrateAsync(provider.GetRequiredService<IDbContextFactory<AppDbContext>>(), default);
            var connection = await provider.GetRequiredService<Core.Connections.Connections>().AddAsync("rk_live_sim_full", default);
            return new ImportHost(provider, database, commits, connection.Id);
        }

        public async Task<int> PagesAsync()
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            return await db.BackfillSlices.SumAsync(s => s.Pages);
        }

        public async Task<int> OpenSlicesAsync()
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            return await db.BackfillSlices.CountAsync(s => !s.Done);
        }

        public async Task<Dictionary<StripeObjectType, long>> FetchedPerTypeAsync()
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            return await db.BackfillCursors.ToDictionaryAsync(c => c.Type, c => (long)c.Fetched);
        }

        /// <summary>Per type: the objects stored, the objects its slices counted, and its cursor's count agree.</summary>
        public async Task AssertSlicesCountWhatIsStoredAsync()
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            var stored = await db.StripeObjects.GroupBy(o => o.Type).Select(g => new { g.Key, Count = (long)g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count);
            var slices = (await db.BackfillSlices.ToListAsync()).GroupBy(s => s.Type).ToDictionary(g => g.Key, g => g.Sum(s => (long)s.Fetched));
            var cursors = await FetchedPerTypeAsync();
            foreach (var type in BackfillJob.Types)
            {
                Assert.Equal((type, stored.GetValueOrDefault(type)), (type, slices.GetValueOrDefault(type)));
                Assert.Equal((type, stored.GetValueOrDefault(type)), (type, cursors.GetValueOrDefault(type)));
            }
        }

        public async ValueTask DisposeAsync()
        {
            await provider.DisposeAsync();
            await database.DisposeAsync();
        }
    }

    /// <summary>Jobs the runs would queue: only counted, the test runs the backfill itself.</summary>
    private sealed class CountedJobs : ISyncJobs
    {
        public int Derives { get; private set; }

        public void Backfill(Guid connectionId)
        {
        }

        public void DrainInbox(Guid connectionId)
        {
        }

        public void Derive(Guid connectionId) => Derives++;

        public void Reconcile(Guid connectionId)
        {
        }
    }

    /// <summary>Reads the writer's Debug line per commit: how many pages it stored and how many it dropped.</summary>
    private sealed class CommitLog(List<(int Pages, int Dropped)> commits) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(commits, categoryName == typeof(BackfillJob).FullName);

        public void Dispose()
        {
        }

        private sealed class Logger(List<(int Pages, int Dropped)> commits, bool writer) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => writer;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (state is IReadOnlyList<KeyValuePair<string, object?>> values && values.FirstOrDefault(v => v.Key == "Dropped").Value is int dropped)
                {
                    lock (commits)
                    {
                        commits.Add(((int)values.First(v => v.Key == "Pages").Value!, dropped));
                    }
                }
            }
        }
    }
}
