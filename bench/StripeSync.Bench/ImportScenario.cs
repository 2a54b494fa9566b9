using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StripeSync.Core;
using StripeSync.Core.Connections;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;
using Npgsql;

namespace StripeSync.Bench;

public sealed record ImportResult(int Objects, TimeSpan Elapsed, long PeakMegabytes, TimeSpan Fetch = default, int People = 0, int MetricEvents = 0, TimeSpan FetchCpuAt = default)
{
    public double ObjectsPerSecond => Objects / Elapsed.TotalSeconds;

    public TimeSpan Derive => Elapsed - Fetch;

    public override string ToString() =>
        $"{Objects:N0} objects in {Elapsed.TotalSeconds:N1} s (fetch {Fetch.TotalSeconds:N1} s, derive {Derive.TotalSeconds:N1} s) = {ObjectsPerSecond:N0}/s, peak {PeakMegabytes:N0} MB";
}

/// <summary>
/// Scenario 1, import cost: the simulator (its own process) with no latency and no rate limit, StripeSync's Core
/// importing it end to end (pages, checkpoints, derivation of people and metric events) on SQLite and PostgreSQL,
/// at several scales, so the curve shows whether the cost per object holds as the account grows.
/// </summary>
public static class ImportScenario
{
    public static async Task<string> RunAsync(BenchOptions options)
    {
        var scales = options.Customers ?? (options.Quick ? [200] : [2_000, 20_000]);
        var runs = options.Runs ?? (options.Quick ? 1 : 2);
        var databases = options.Postgres is null ? [null] : new[] { null, options.Postgres };
        var rows = new List<(string Database, int Customers, List<ImportResult> Results, long SimulatorMegabytes)>();
        await using (var small = await SimulatorProcess.StartAsync(20, seed: 1))
        {
            // Untimed: compiles StripeSync's code paths on each database, so no run pays the JIT.
            foreach (var postgres in databases)
            {
                await ImportAsync(small.BaseUrl, postgres, _ => { }, warm: true);
            }
        }

        foreach (var customers in scales)
        {
            await using var sim = await SimulatorProcess.StartAsync(customers, seed: 1);
            var warm = true; // The simulator's JSON cache outlives a run: one walk fills it for every run at this scale.
            foreach (var postgres in databases)
            {
                var results = new List<ImportResult>();
                for (var run = 0; run < runs; run++)
                {
                    results.Add(await ImportAsync(sim.BaseUrl, postgres, o =>
                    {
                        o.LiveRequestsPerSecond = 10_000;
                        o.EndpointRequestsPerSecond = 10_000;
                    }, warm));
                    warm = false;
                    Console.WriteLine($"{Name(postgres)}, {customers} customers, run {run + 1}: {results[^1]}");
                }

                rows.Add((Name(postgres), customers, results, sim.PeakMegabytes));
            }
        }

        var section = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"## 1. Import cost ({string.Join(" and ", databases.Select(Name))}, simulator without latency or limits)")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"{options.RunNote} Scales {string.Join(", ", scales.Select(s => s.ToString("N0", CultureInfo.InvariantCulture)))} customers, {runs} run(s) each per database.")
            .AppendLine()
            .AppendLine("Each run: a fresh database, the full import of a simulated account (seed 1, live mode: every object type, pages of 100, a checkpoint per page) " +
                "and the derivation of every person, field and metric event, timed from the import's start to the last person derived. Jobs run in-process on 4 workers " +
                "(the app's Hangfire default): the import is one job run per connection that walks every type's created-time slices side by side (decision 0011), then people are derived. " +
                "An untimed import of 20 customers first compiles the code. The simulator runs in its own process; an untimed walk of every list first fills its JSON cache (decision 0010), so the timed import pays StripeSync's own cost, " +
                "not the simulator's serialisation. *Peak memory* is the benchmark process's peak resident set during the timed import (VmHWM, reset before each run), which holds StripeSync and nothing of the simulator's; " +
                "*vs smallest scale* is objects/s at this scale ÷ objects/s at the smallest scale on the same database: 1.00 is linear growth, each object costing the same however large the account.")
            .AppendLine()
            .AppendLine("| database | customers | Stripe objects | people / metric events | elapsed, median (min–max) | fetch / derive, median s | objects/s, median (min–max) | vs smallest scale | peak memory | simulator's memory |")
            .AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var row in rows)
        {
            var rates = row.Results.Select(r => r.ObjectsPerSecond).Order().ToList();
            var seconds = row.Results.Select(r => r.Elapsed.TotalSeconds).Order().ToList();
            var smallest = rows.First(r => r.Database == row.Database).Results.Select(r => r.ObjectsPerSecond).Order().ToList();
            var first = row.Results[0];
            section.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Database} | {row.Customers:N0} | {first.Objects:N0} | {first.People:N0} / {first.MetricEvents:N0} | {Stats.Median(seconds):N1} s ({seconds[0]:N1}–{seconds[^1]:N1}) | " +
                $"{Stats.Median(row.Results.Select(r => r.Fetch.TotalSeconds).Order().ToList()):N1} / {Stats.Median(row.Results.Select(r => r.Derive.TotalSeconds).Order().ToList()):N1} | " +
                $"{Stats.Median(rates):N0} ({rates[0]:N0}–{rates[^1]:N0}) | {Stats.Median(rates) / Stats.Median(smallest):N2} | {row.Results.Max(r => r.PeakMegabytes):N0} MB | {row.SimulatorMegabytes:N0} MB |");
        }

        var misses = rows.Where(r => Stats.Median(r.Results.Select(x => x.ObjectsPerSecond).Order().ToList()) < 20_000 || r.Results.Max(x => x.PeakMegabytes) >= 500).ToList();
        section.AppendLine()
            .AppendLine(CultureInfo.InvariantCulture,
                $"Goal (issue 7): at least 20,000 objects/s and under 500 MB, growing linearly — {(misses.Count == 0 ? "met" : "not met")}: " +
                $"{string.Join("; ", rows.Select(r => $"{r.Database} at {r.Customers:N0} customers {Stats.Median(r.Results.Select(x => x.ObjectsPerSecond).Order().ToList()):N0}/s, {r.Results.Max(x => x.PeakMegabytes):N0} MB"))}.");
        if (misses.Count > 0)
        {
            section.AppendLine().AppendLine(WhereTheTimeGoes(rows.Select(r => (r.Database, r.Customers, r.Results)).ToList()));
        }

        return section.ToString();
    }

    /// <summary>The gap's cause and plan, from this run's figures and the profiles behind decisions 0013 and 0014.</summary>
    private static string WhereTheTimeGoes(List<(string Database, int Customers, List<ImportResult> Results)> rows)
    {
        static double Median(IEnumerable<double> values) => Stats.Median(values.Order().ToList());
        var text = new StringBuilder("**Where the time goes.** ");
        var largest = rows.MaxBy(r => r.Customers);
        var fetch = Median(largest.Results.Select(r => r.Fetch.TotalSeconds));
        var derive = Median(largest.Results.Select(r => r.Derive.TotalSeconds));
        text.Append(CultureInfo.InvariantCulture, $"At {largest.Customers:N0} customers on {largest.Database}, fetching and storing took {fetch:N0} s and deriving {derive:N0} s. ")
            .Append("*Fetch*: the walkers read each page's JSON straight into records (decision 0014; that reading is about 15% of the fetch's CPU), " +
                "and one writer stores every page waiting in one transaction (decision 0013). The writer is busy most of the fetch, and its cost is per stored object, " +
                "not per commit: in a timed run the multi-row upserts were about 60% of its time and the commits 25%; upserts now go 30 objects a statement " +
                "(SQLite binds each parameter by looking its name up in the statement, so 100 rows of 8 parameters cost more than their share). " +
                "*Derive*: 200 customers per batch, each kind of object read and every event computed before the write transaction; the metric events' inserts reuse one command per batch " +
                "(EF Core's raw SQL re-parsed the 390-parameter statement for every 30 rows: derive of 2,000 customers 13.8 → 10.3 s on SQLite), then reading the batch's stored objects back. ");
        foreach (var database in rows.Select(r => r.Database).Distinct())
        {
            var scales = rows.Where(r => r.Database == database).OrderBy(r => r.Customers).ToList();
            if (scales.Count < 2)
            {
                continue;
            }

            var ratio = Median(scales[^1].Results.Select(r => r.ObjectsPerSecond)) / Median(scales[0].Results.Select(r => r.ObjectsPerSecond));
            var memory = (double)scales[^1].Results.Max(r => r.PeakMegabytes) / scales[0].Results.Max(r => r.PeakMegabytes);
            text.Append(CultureInfo.InvariantCulture, $"*Growth on {database}*: from {scales[0].Customers:N0} to {scales[^1].Customers:N0} customers the rate kept {ratio:P0} " +
                $"({(ratio >= 0.9 ? "linear within the noise" : "not linear: the larger account costs more per object; its profile is the next step")}) and peak memory grew {memory:N1}×. ");
        }

        return text.ToString().TrimEnd() + "\n\nPlan: the page upserts through one reused command as the metric events now are, the fields' computation out of derivation's write transaction, " +
                "a smaller stored form of each object, and a profile of the largest scale to find what grows faster than the account. Even then 20,000 objects/s on 2 cores, shared with the simulator serving every page, is a stretch; the ratio above is the figure to watch.";
    }

    private static string Name(string? postgres) => postgres is null ? "SQLite" : "PostgreSQL";

    /// <summary>
    /// Walks every list once, untimed, so the simulator serves the timed import from its JSON cache: what is
    /// measured is StripeSync's cost, not the simulator's serialisation (both share the same cores).
    /// </summary>
    public static async Task WarmAsync(StripeAccountClient client)
    {
        foreach (var type in Core.Ingestion.Backfill.BackfillJob.Types)
        {
            string? cursor = null;
            do
            {
                cursor = (await client.ListAsync(type, cursor, null, null, default)).NextCursor;
            }
            while (cursor is not null);
        }
    }

    /// <summary>One full import of the simulator at <paramref name="simulator"/> into a fresh database, timed from start to the last person derived.</summary>
    /// <param name="postgres">A PostgreSQL server to create a fresh database on; null for a fresh SQLite file.</param>
    /// <param name="warm">Walk every list first (untimed), then call <paramref name="warmed"/>.</param>
    public static async Task<ImportResult> ImportAsync(Uri simulator, string? postgres, Action<StripeOptions> stripe, bool warm, Action? warmed = null)
    {
        var folder = Directory.CreateTempSubdirectory("stripesync-bench-");
        var database = $"stripesync_import_{Guid.NewGuid():N}"[..32];
        if (postgres is not null)
        {
            await PostgresAsync(postgres, $"CREATE DATABASE {database}");
        }

        try
        {
            return await ImportAsync(simulator, postgres is null
                ? new DatabaseOptions { Provider = DatabaseProvider.Sqlite, ConnectionString = $"Data Source={Path.Combine(folder.FullName, "bench.db")}" }
                : new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = new NpgsqlConnectionStringBuilder(postgres) { Database = database }.ConnectionString },
                stripe, warm, warmed);
        }
        finally
        {
            folder.Delete(recursive: true);
            if (postgres is not null)
            {
                NpgsqlConnection.ClearAllPools();
                await PostgresAsync(postgres, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            }
        }
    }

    private static async Task<ImportResult> ImportAsync(Uri simulator, DatabaseOptions database, Action<StripeOptions> stripe, bool warm, Action? warmed)
    {
        using var jobs = new InlineJobs();
        var services = new ServiceCollection()
            .AddLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .AddSingleton(TimeProvider.System)
            .AddSingleton<ISyncJobs>(jobs)
            .AddStripeSyncDatabase(database)
            .AddStripeSyncCore();
        services.AddDataProtection();
        services.AddOptions<StripeOptions>().Configure(o =>
        {
            o.ApiBase = simulator;
            stripe(o);
        });
        services.AddOptions<SyncOptions>();
        await using var provider = services.BuildServiceProvider();
        jobs.Provider = provider;
        await DatabaseSetup.MigrateAsync(provider.GetRequiredService<IDbContextFactory<AppDbContext>>(), default);

        var connections = provider.GetRequiredService<Connections>();
        var connection = await connections.AddAsync("rk_live_sim_full", default);
        if (warm)
        {
            await WarmAsync(connections.ClientFor(connection));
            warmed?.Invoke();
        }

        // The peak is this run's: what earlier runs and the warm-up walk left behind is collected, and the
        // kernel's high-water mark is reset ("5" to clear_refs, Linux 4.0+).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        await File.WriteAllTextAsync("/proc/self/clear_refs", "5");
        var startedAt = DateTime.UtcNow;
        var started = Stopwatch.StartNew();
        await provider.GetRequiredService<SyncControl>().StartAsync(connection.Id, SyncChoice.Import, default);
        await jobs.DrainAsync();
        started.Stop();
        var fetch = jobs.FirstDerive!.Value - startedAt;

        await using var db = await provider.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var objects = await db.StripeObjects.CountAsync();
        var people = await db.People.CountAsync();
        if (people == 0 || await db.DirtyCustomers.AnyAsync())
        {
            throw new InvalidOperationException("The import did not finish: no people, or customers left to derive.");
        }

        var metricEvents = await db.MetricEvents.CountAsync();
        return new ImportResult(objects, started.Elapsed, ProcessMemory.PeakMegabytes(Environment.ProcessId), fetch, people, metricEvents, jobs.FirstDeriveCpu);
    }

    private static async Task PostgresAsync(string server, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
