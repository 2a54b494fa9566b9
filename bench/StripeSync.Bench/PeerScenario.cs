using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;
using static System.FormattableString;
using StripeSync.Core.Ingestion.Backfill;
using StripeSync.Simulator;
using StripeSync.Simulator.Api;

namespace StripeSync.Bench;

/// <summary>
/// Scenario 5, the peer side by side: the open-source @supabase/stripe-sync-engine (bench/peer, Node.js, its own
/// PostgreSQL schema) runs <c>syncBackfill({ object: 'all' })</c> against the same simulated account as StripeSync's
/// import (scenario 2's dataset: seed 1, live mode), each without limits and under Stripe's live limits with 50 ms
/// of latency. Every run gets a fresh simulator, and the peer a fresh database.
/// </summary>
public static class PeerScenario
{
    private const string Heading = "## 5. Peer, side by side (@supabase/stripe-sync-engine, live limits and none)";
    private const string Key = "rk_live_sim_full";

    /// <summary>The list endpoints the peer walks (read from its syncBackfill), with the query it sends, for the untimed warm-up.</summary>
    private static readonly string[] PeerLists =
    [
        "/v1/products", "/v1/prices", "/v1/plans", "/v1/customers", "/v1/subscriptions?status=all", "/v1/subscription_schedules",
        "/v1/invoices", "/v1/charges", "/v1/setup_intents", "/v1/payment_methods", "/v1/payment_intents", "/v1/tax_ids",
        "/v1/credit_notes", "/v1/disputes", "/v1/radar/early_fraud_warnings", "/v1/refunds", "/v1/checkout/sessions",
    ];

    public static async Task<string> RunAsync(BenchOptions options)
    {
        var customers = options.Customers?[0] ?? (options.Quick ? 200 : 2000);
        if (options.Postgres is not { } server)
        {
            return Skipped(options, "no PostgreSQL server was given (`--postgres \"Host=…;Username=…\"` or `STRIPESYNC_BENCH_POSTGRES`), and the peer stores only in PostgreSQL.");
        }

        var folder = PeerFolder();
        if (await InstallAsync(folder) is { } problem)
        {
            return Skipped(options, problem);
        }

        // StripeSync's code is compiled on its first import: a small untimed one first, so the timed ones pay none of it
        // (the peer's Node.js start-up and migrations are outside its timing too).
        await OursAsync(20, limits: false);
        var oursFree = await OursAsync(customers, limits: false);
        var peerFree = await PeerAsync(customers, server, folder, limits: false, retry429: false);
        var oursLive = await OursAsync(customers, limits: true);
        var peerLive = await PeerAsync(customers, server, folder, limits: true, retry429: false);

        // stripe-node never retries a 429, so the stock engine may stop at its first one: then it is run once more
        // with a client that waits and retries, to have a time to compare with.
        var peerLiveRetrying = peerLive.Error is null ? null : await PeerAsync(customers, server, folder, limits: true, retry429: true);
        return Render(options, customers, oursFree, peerFree, oursLive, peerLive, peerLiveRetrying);
    }

    private sealed record Ours(ImportResult Result, long Requests, long RateLimited);

    private sealed record Peer(
        TimeSpan Elapsed, IReadOnlyDictionary<string, int> Synced, IReadOnlyDictionary<string, int> Tables,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> RequestsByEndpoint, string? Error, long Requests, long RateLimited)
    {
        public int Stored => Tables.Values.Sum();

        public int RequestsTo(string endpoint) => RequestsByEndpoint.TryGetValue(endpoint, out var statuses) ? statuses.Values.Sum() : 0;
    }

    /// <summary>Stripe's live limits and 50 ms per answer, exactly as scenario 2 sets them.</summary>
    private static void LiveLimits(Faults faults)
    {
        faults.LiveRequestsPerSecond = 100;
        faults.TestRequestsPerSecond = 25;
        faults.EndpointRequestsPerSecond = 25;
        faults.Latency = TimeSpan.FromMilliseconds(50);
    }

    private static async Task<Ours> OursAsync(int customers, bool limits)
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = customers, Seed = 1 });
        long requests = 0, limited = 0;
        var result = await ImportScenario.ImportAsync(sim.BaseUrl, null, o =>
        {
            if (!limits)
            {
                // As scenario 1: the client's own budget out of the way when the simulator sets none.
                o.LiveRequestsPerSecond = 10_000;
                o.EndpointRequestsPerSecond = 10_000;
            }
        }, warm: true, warmed: () =>
        {
            if (limits)
            {
                LiveLimits(sim.Faults);
            }

            requests = sim.Faults.Requests;
            limited = sim.Faults.RateLimited;
        });
        var ours = new Ours(result, sim.Faults.Requests - requests, sim.Faults.RateLimited - limited);
        Console.WriteLine($"StripeSync, {(limits ? "live limits" : "no limits")}: {result}; {ours.Requests:N0} requests, {ours.RateLimited:N0} answered 429");
        return ours;
    }

    private static async Task<Peer> PeerAsync(int customers, string server, string folder, bool limits, bool retry429)
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = customers, Seed = 1 });
        var admin = new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString;
        var database = $"stripesync_peer_{Guid.NewGuid():N}"[..32];
        await ExecuteAsync(admin, $"CREATE DATABASE \"{database}\"");
        try
        {
            await WarmAsync(sim);
            if (limits)
            {
                LiveLimits(sim.Faults);
            }

            var requests = sim.Faults.Requests;
            var limited = sim.Faults.RateLimited;
            var line = await NodeAsync(folder, sim.BaseUrl.ToString(), Key, PostgresUrl(server, database), retry429);
            var peer = Parse(line, sim.Faults.Requests - requests, sim.Faults.RateLimited - limited);
            Console.WriteLine($"peer{(retry429 ? " retrying 429s" : "")}, {(limits ? "live limits" : "no limits")}: {peer.Elapsed.TotalSeconds:N1} s, " +
                $"{peer.Stored:N0} rows, {peer.Requests:N0} requests, {peer.RateLimited:N0} answered 429{(peer.Error is null ? "" : $"; stopped: {peer.Error}")}");
            return peer;
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        }
    }

    /// <summary>
    /// Walks every list the peer walks, with its query and key, untimed and without limits, so the timed run is
    /// served from the simulator's JSON cache as StripeSync's is (the cache keeps one shape per object, so each side
    /// warms its own just before its run).
    /// </summary>
    private static async Task WarmAsync(SimulatorServer sim)
    {
        using var http = new HttpClient { BaseAddress = sim.BaseUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        foreach (var list in PeerLists)
        {
            string? after = null;
            do
            {
                var url = list + (list.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "limit=100" + (after is null ? "" : "&starting_after=" + after);
                using var page = JsonDocument.Parse(await http.GetStringAsync(new Uri(url, UriKind.Relative)));
                var data = page.RootElement.GetProperty("data");
                after = page.RootElement.GetProperty("has_more").GetBoolean() ? data[data.GetArrayLength() - 1].GetProperty("id").GetString() : null;
            }
            while (after is not null);
        }
    }

    private static async Task<string> NodeAsync(string folder, string baseUrl, string key, string databaseUrl, bool retry429)
    {
        var info = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "backfill.mjs", baseUrl, key, databaseUrl })
        {
            info.ArgumentList.Add(argument);
        }

        if (retry429)
        {
            info.ArgumentList.Add("--retry-429");
        }

        var (exit, output, errors) = await RunAsync(info);
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
        return exit == 0 && line is not null
            ? line
            : throw new InvalidOperationException($"The peer's script failed (exit {exit}): {errors.Trim()} {output.Trim()}");
    }

    private static Peer Parse(string line, long requests, long rateLimited)
    {
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Dictionary<string, int> Counts(JsonElement element) => element.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32(), StringComparer.Ordinal);
        var byEndpoint = root.GetProperty("requests").EnumerateObject()
            .ToDictionary(p => p.Name, p => (IReadOnlyDictionary<string, int>)Counts(p.Value), StringComparer.Ordinal);
        var error = root.GetProperty("error") is { ValueKind: JsonValueKind.Object } e
            ? $"{e.GetProperty("message").GetString()} (HTTP {e.GetProperty("status")}, during {e.GetProperty("during")})"
            : null;
        return new Peer(TimeSpan.FromMilliseconds(root.GetProperty("elapsedMs").GetDouble()), Counts(root.GetProperty("synced")),
            Counts(root.GetProperty("tables")), byEndpoint, error, requests, rateLimited);
    }

    /// <summary>Node.js present, and bench/peer's packages installed from its lock file when missing; the reason when not.</summary>
    private static async Task<string?> InstallAsync(string folder)
    {
        try
        {
            var (exit, version, _) = await RunAsync(new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true, RedirectStandardError = true });
            if (exit != 0 || !int.TryParse(version.Trim().TrimStart('v').Split('.')[0], CultureInfo.InvariantCulture, out var major) || major < 20)
            {
                return $"the peer needs Node.js 20 or later; `node --version` answered `{version.Trim()}`.";
            }
        }
        catch (Win32Exception)
        {
            return "the peer needs Node.js 20 or later, and `node` is not on this machine's PATH.";
        }

        if (Directory.Exists(Path.Combine(folder, "node_modules", "@supabase", "stripe-sync-engine")))
        {
            return null;
        }

        Console.WriteLine($"Installing the peer's packages (npm ci in {folder})");
        var (code, output, errors) = await RunAsync(new ProcessStartInfo("npm", "ci --no-audit --no-fund")
        {
            WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        });
        return code == 0 ? null : $"`npm ci` in bench/peer failed (exit {code}): {(errors + output).Trim()}";
    }

    private static async Task<(int Exit, string Output, string Errors)> RunAsync(ProcessStartInfo info)
    {
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await errors);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The peer takes a URL (node-postgres); the bench takes an Npgsql connection string.</summary>
    private static string PostgresUrl(string server, string database)
    {
        var b = new NpgsqlConnectionStringBuilder(server);
        var user = Uri.EscapeDataString(b.Username ?? "postgres") + (string.IsNullOrEmpty(b.Password) ? "" : ":" + Uri.EscapeDataString(b.Password));
        return $"postgresql://{user}@{b.Host ?? "127.0.0.1"}:{b.Port}/{database}";
    }

    private static string PeerFolder()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "StripeSync.sln")))
        {
            folder = folder.Parent;
        }

        return Path.Combine(folder?.FullName ?? ".", "bench", "peer");
    }

    private static string Skipped(BenchOptions options, string why) => new StringBuilder()
        .AppendLine(Heading)
        .AppendLine()
        .AppendLine(CultureInfo.InvariantCulture, $"{options.RunNote} Not measured: {why}")
        .ToString();

    private static string Render(BenchOptions options, int customers, Ours oursFree, Peer peerFree, Ours oursLive, Peer peerLive, Peer? peerLiveRetrying)
    {
        string S(TimeSpan t) => t.TotalSeconds.ToString("N1", CultureInfo.InvariantCulture) + " s";
        string Ratio(Peer peer, Ours ours) => (peer.Elapsed / ours.Result.Elapsed).ToString("N1", CultureInfo.InvariantCulture) + "×";
        var liveCompared = peerLiveRetrying ?? peerLive;
        var freeRatio = peerFree.Elapsed / oursFree.Result.Elapsed;
        var liveRatio = liveCompared.Elapsed / oursLive.Result.Elapsed;

        var section = new StringBuilder()
            .AppendLine(Heading)
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"{options.RunNote} {customers:N0} customers (seed 1, live mode, scenario 2's dataset), one run per cell.")
            .AppendLine()
            .AppendLine("The peer is `@supabase/stripe-sync-engine` 0.48.5 with `stripe` 23.1.0 and `pg` (pinned in bench/peer/package-lock.json), on Node.js. " +
                "bench/peer/backfill.mjs runs the engine's migrations into a fresh PostgreSQL database, builds the engine (`autoExpandLists: true` so its rows are as complete as ours, " +
                "`backfillRelatedEntities: false` because every type is walked anyway), replaces its `stripe` property with `new Stripe(key, { host: '127.0.0.1', port, protocol: 'http' })` " +
                "and times `syncBackfill({ object: 'all' })`. The peer stores into the PostgreSQL server given to the bench. StripeSync is timed by scenario 1's import (SQLite, 4 job workers, from start to the last person derived, after an untimed 20-customer import that compiles its code). " +
                "Each side gets its own fresh simulator, whose JSON cache it warms untimed with its own requests first; then the limits are switched on. " +
                "\"Live limits\" are scenario 2's: 100 requests/s per account, 25/s per endpoint, 50 ms per answer; StripeSync keeps its default budget (95/s, 24/s per endpoint).")
            .AppendLine()
            .AppendLine("| | no limits | live limits + 50 ms |")
            .AppendLine("| --- | --- | --- |")
            .AppendLine(CultureInfo.InvariantCulture, $"| StripeSync, whole import incl. derivation | {S(oursFree.Result.Elapsed)} | {S(oursLive.Result.Elapsed)} |")
            .AppendLine(CultureInfo.InvariantCulture, $"| peer, `syncBackfill({{ object: 'all' }})` | {S(peerFree.Elapsed)}{Stopped(peerFree)} | {S(peerLive.Elapsed)}{Stopped(peerLive)} |");
        if (peerLiveRetrying is not null)
        {
            section.AppendLine(CultureInfo.InvariantCulture, $"| peer with a client that waits out 429s (not the package) | — | {S(peerLiveRetrying.Elapsed)}{Stopped(peerLiveRetrying)} |");
        }

        section
            .AppendLine(CultureInfo.InvariantCulture, $"| peer ÷ StripeSync | {Ratio(peerFree, oursFree)} | {Ratio(liveCompared, oursLive)}{(peerLiveRetrying is null ? "" : " (the waiting peer)")} |")
            .AppendLine(CultureInfo.InvariantCulture, $"| requests / answered 429, StripeSync | {oursFree.Requests:N0} / {oursFree.RateLimited:N0} | {oursLive.Requests:N0} / {oursLive.RateLimited:N0} |")
            .AppendLine(Invariant($"| requests / answered 429, peer | {peerFree.Requests:N0} / {peerFree.RateLimited:N0} | {peerLive.Requests:N0} / {peerLive.RateLimited:N0}") +
                (peerLiveRetrying is null ? "" : Invariant($" (waiting: {peerLiveRetrying.Requests:N0} / {peerLiveRetrying.RateLimited:N0})")) + " |")
            .AppendLine(CultureInfo.InvariantCulture, $"| stored, StripeSync | {oursFree.Result.Objects:N0} Stripe objects, {oursFree.Result.People:N0} people with their fields, {oursFree.Result.MetricEvents:N0} metric events | same |")
            .AppendLine(CultureInfo.InvariantCulture, $"| stored, peer | {peerFree.Stored:N0} rows in {peerFree.Tables.Count} tables | {peerLive.Stored:N0} rows{(peerLiveRetrying is null ? "" : $" (waiting: {peerLiveRetrying.Stored:N0})")} |")
            .AppendLine();

        var stockLiveFinished = peerLive.Error is null;
        var met = liveRatio >= 3 && freeRatio > 1;
        section.AppendLine(Invariant(
            $"Goal (issue 7): StripeSync at least 3× faster under the live limits and faster without them, while doing more — {(met ? "met" : "not met")}: {liveRatio:N1}× under the live limits{(stockLiveFinished ? "" : " (against the peer that waits out 429s; the package itself did not finish)")}, {freeRatio:N1}× without."));

        section.AppendLine()
            .AppendLine("What each side fetched. StripeSync: " + string.Join(", ", BackfillJob.Types.Select(t => t.ToString())) + " — one list walk per type, the types side by side within the connection's budget. " +
                "The peer (its requests in the run without limits, per endpoint): " +
                string.Join(", ", peerFree.RequestsByEndpoint.OrderByDescending(e => e.Value.Values.Sum()).Select(e => Invariant($"`{e.Key}` {e.Value.Values.Sum():N0}"))) + ". " +
                "It walks the types one after another, one request at a time, except payment methods: those it lists per customer (10 customers at a time) from the customers it has stored, " +
                "and each checkout session's line items are one more request.")
            .AppendLine()
            .AppendLine("What each side stored. StripeSync: every object as Stripe sent it, then each customer's person with live Stripe fields and the metric events of their history. " +
                "The peer mirrors Stripe's objects into one table per type and derives nothing: " +
                string.Join(", ", peerFree.Tables.OrderByDescending(t => t.Value).Select(t => Invariant($"{t.Key} {t.Value:N0}"))) + ". " +
                "StripeSync walks coupons and invoice payments, which the peer's backfill does not; the peer walks plans (the recurring prices again), payment methods, payment intents and each checkout session's line items, which StripeSync does not need. " +
                "The simulated account has no disputes, setup intents, tax ids, credit notes, early fraud warnings or subscription schedules, so each of those lists costs the peer one request.");

        section.AppendLine()
            .Append("Why the times differ. ")
            .Append(CultureInfo.InvariantCulture, $"Per-object requests: {peerFree.RequestsTo("/v1/payment_methods"):N0} to `/v1/payment_methods` and {peerFree.RequestsTo("/v1/checkout/sessions/{id}/line_items"):N0} to `/v1/checkout/sessions/{{id}}/line_items` of the peer's {peerFree.Requests:N0}; ")
            .Append("everything else is one chain of pages per type, walked in turn, so the peer never uses more than one endpoint's budget at a time. ");
        var refundPages = Math.Max(1, (peerFree.Tables.GetValueOrDefault("refunds") + 99) / 100);
        var refundCalls = peerFree.RequestsTo("/v1/refunds");
        section.Append(refundCalls <= refundPages
            ? Invariant($"It made no refund request per charge ({refundCalls:N0} requests to `/v1/refunds`, the list's {refundPages:N0} page(s)): it only asks for a charge's refunds when the charge embeds a cut list of them, and charges no longer embed refunds in current API versions. ")
            : Invariant($"It asked for refunds per charge: {refundCalls:N0} requests to `/v1/refunds` where the list has {refundPages:N0} page(s). "));
        if (!stockLiveFinished)
        {
            section.Append(Invariant($"Under the live limits the package stopped after {S(peerLive.Elapsed)}: {peerLive.Error}. "));
            if (peerLive.Error!.Contains("/v1/payment_methods", StringComparison.Ordinal))
            {
                section.Append("Its payment-method step sends 10 requests at a time to one endpoint, faster than the 25/s Stripe allows per endpoint. ");
            }

            section.Append("stripe-node does not retry a 429 (it retries only 409, 5xx and answers marked `Stripe-Should-Retry: true`; Stripe's rate-limit answer is not), so `syncBackfill` throws and the rest of the types are never fetched. " +
                "The row \"a client that waits out 429s\" gives the engine's client an HTTP layer that waits (stripe-node's own retry delays: 0.5 s doubling to 5 s) and asks again, to show what the engine would need if it did. ");
        }

        section.AppendLine();
        if (!met)
        {
            section.AppendLine()
                .AppendLine(Invariant($"Where StripeSync's time goes: without limits {S(oursFree.Result.Fetch)} fetching and storing, {S(oursFree.Result.Elapsed - oursFree.Result.Fetch)} deriving people and metric events (the peer derives nothing); ") +
                    Invariant($"under the live limits {S(oursLive.Result.Fetch)} and {S(oursLive.Result.Elapsed - oursLive.Result.Fetch)}. ") +
                    "Scenarios 1 and 2 explain that per-page and per-customer cost and the plan to close it (created-time slices walked side by side, raw-JSON page writes, fewer queries per customer).");
        }

        return section.ToString();
    }

    private static string Stopped(Peer peer) => peer.Error is null ? "" : " (stopped by an error, unfinished)";
}
