using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using StripeSync.Core.Persistence;
using StripeSync.Simulator;
using StripeSync.Tests.Support;
using Xunit.Abstractions;

namespace StripeSync.Tests.Reliability;

/// <summary>
/// Stripe misbehaving, against the real app process: 500s and dropped connections, a 429 storm, a key revoked
/// mid-import, Stripe unreachable for a minute and more. Each run is compared with a twin that imported the same
/// account from a simulator that behaved: faults may slow the sync down, never change what it ends up with.
/// Last, the database files, logs, pages and API answers of a full run are searched for every secret.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class StripeFaultTests(StripeFaultTests.CleanTwin clean, ITestOutputHelper output) : IClassFixture<StripeFaultTests.CleanTwin>
{
    private const string Key = "rk_live_sim_full";

    [Fact]
    public async Task An_import_through_20_percent_500s_and_dropped_connections_ends_as_the_clean_twin()
    {
        var watch = Stopwatch.StartNew();
        await using var sim = await SimulatorServer.StartAsync(clean.Options with { FailureRate = 0.2, DropRate = 0.05 });
        await using var victim = await Victim.StartAsync("faults-500s-and-drops", sim.BaseUrl);

        await SyncWait.ConnectAsync(victim.Api, Key);
        var status = await SyncWait.UntilAsync(victim.Api, "synced", TimeSpan.FromMinutes(3));
        var actual = await Fingerprint.ReadAsync(victim.Api);

        var traffic = status.GetProperty("connections")[0].GetProperty("traffic");
        await Fingerprint.SaveAsync("faults-500s-and-drops", clean.Baseline, actual);
        ReliabilityReport.Write("Stripe faults: 20% 500s and 5% dropped connections during the import",
            $"{sim.Faults.Requests:N0} requests to the simulator: {sim.Faults.Failed:N0} answered 500, {sim.Faults.Dropped:N0} connections dropped without an answer",
            $"the app retried {traffic.GetProperty("retries").GetInt64():N0} times ({traffic.GetProperty("serverErrors").GetInt64():N0} after a 500, " +
            $"{traffic.GetProperty("networkErrors").GetInt64():N0} after a dropped connection); from app start to synced in {watch.Elapsed.TotalSeconds:N0} s",
            $"compared with a twin that imported the same account without faults ({clean.People} people, every field, every metric event, MRR): " +
            $"{Fingerprint.DifferingLines(clean.Baseline, actual)} lines differ");
        output.WriteLine($"{sim.Faults.Requests} requests, {sim.Faults.Failed} 500s, {sim.Faults.Dropped} drops, {watch.Elapsed}");

        Assert.True(sim.Faults.Failed > 0 && sim.Faults.Dropped > 0, "the faults must actually have struck");
        Assert.Equal(clean.Baseline, actual);
    }

    [Fact]
    public async Task An_import_through_a_429_storm_ends_as_the_clean_twin()
    {
        var watch = Stopwatch.StartNew();
        // Far below what the app budgets for (95/s for the account, 24/s per endpoint): most attempts meet a 429.
        await using var sim = await SimulatorServer.StartAsync(clean.Options with { LiveRequestsPerSecond = 5, EndpointRequestsPerSecond = 2 });
        await using var victim = await Victim.StartAsync("faults-429-storm", sim.BaseUrl);

        await SyncWait.ConnectAsync(victim.Api, Key);
        var status = await SyncWait.UntilAsync(victim.Api, "synced", TimeSpan.FromMinutes(3));
        var actual = await Fingerprint.ReadAsync(victim.Api);

        var traffic = status.GetProperty("connections")[0].GetProperty("traffic");
        await Fingerprint.SaveAsync("faults-429-storm", clean.Baseline, actual);
        ReliabilityReport.Write("Stripe faults: a 429 storm (5 requests/s for the account, 2/s per endpoint) during the whole import",
            $"{sim.Faults.Requests:N0} requests to the simulator, {sim.Faults.RateLimited:N0} of them answered 429 ({100.0 * sim.Faults.RateLimited / sim.Faults.Requests:N0}%)",
            $"the app counted {traffic.GetProperty("rateLimited").GetInt64():N0} × 429 and retried {traffic.GetProperty("retries").GetInt64():N0} times; " +
            $"from app start to synced in {watch.Elapsed.TotalSeconds:N0} s (the clean twin: {clean.ImportSeconds:N0} s)",
            $"compared with the clean twin: {Fingerprint.DifferingLines(clean.Baseline, actual)} lines differ");
        output.WriteLine($"{sim.Faults.Requests} requests, {sim.Faults.RateLimited} 429s, {watch.Elapsed}");

        Assert.True(sim.Faults.RateLimited > sim.Faults.Requests / 4, $"a storm: {sim.Faults.RateLimited} of {sim.Faults.Requests} answered 429");
        Assert.Equal(clean.Baseline, actual);
    }

    [Fact]
    public async Task A_key_revoked_mid_import_stops_every_request_and_says_so_on_sync_health()
    {
        // A slow import (2 requests/s) so the revocation lands in the middle of it.
        await using var sim = await SimulatorServer.StartAsync(clean.Options);
        await using var victim = await Victim.StartAsync("faults-key-revoked", sim.BaseUrl,
            extra: new() { ["Stripe__LiveRequestsPerSecond"] = "2", ["Stripe__EndpointRequestsPerSecond"] = "2" });
        var id = await SyncWait.ConnectAsync(victim.Api, Key);
        await WaitUntilAsync(async () => Fetched(await StatusAsync(victim.Api)) > 0, TimeSpan.FromSeconds(60));

        sim.Faults.Revoke(Key);
        var revokedAt = Stopwatch.StartNew();
        await SyncWait.UntilAsync(victim.Api, "key_revoked", TimeSpan.FromSeconds(60), settled: false);
        var stoppedAfter = revokedAt.Elapsed;
        var (requestsAtStop, unauthorizedAtStop) = (sim.Faults.Requests, sim.Faults.Unauthorized);

        // Long enough for Hangfire's first retries of anything that failed on the 401 (5 s, 10 s) to have their go.
        var observe = TimeSpan.FromSeconds(30);
        await Task.Delay(observe);
        var status = await StatusAsync(victim.Api);
        using var browser = await victim.SignedInAsync();
        var health = await browser.GetStringAsync("/");

        // Stripe takes the key back (or the user fixes it in Stripe): StripeSync does not start calling again on its own.
        sim.Faults.Restore(Key);
        await Task.Delay(TimeSpan.FromSeconds(5));
        var afterRestore = await StatusAsync(victim.Api);

        var (requestsBeforeReplace, unauthorizedBeforeReplace) = (sim.Faults.Requests, sim.Faults.Unauthorized);

        // The key replaced through the API (here by the same key, now good again): the import resumes where it stopped.
        var resumed = Stopwatch.StartNew();
        using var replaced = await victim.Api.PutAsJsonAsync($"/api/v1/connections/{id}/key", new { apiKey = Key });
        await SyncWait.UntilAsync(victim.Api, "synced", TimeSpan.FromMinutes(3));
        var (expected, actual) = await Fingerprint.UntilEqualAsync(clean.TwinApi, victim.Api, TimeSpan.FromSeconds(30));
        await Fingerprint.SaveAsync("faults-key-revoked", expected, actual);

        var connection = status.GetProperty("connections")[0];
        var unfinished = connection.GetProperty("backfill").EnumerateArray().Count(b => !b.GetProperty("finished").GetBoolean());
        ReliabilityReport.Write("Stripe faults: the key revoked in the middle of the import",
            $"revoked after {Fetched(status):N0} of {clean.Objects:N0} objects were imported ({unfinished} of {connection.GetProperty("backfill").GetArrayLength()} object types unfinished); " +
            $"/api/v1/status said key_revoked {stoppedAfter.TotalSeconds:N1} s later, Sync health showed \"Key revoked\" and the reason",
            $"401s the simulator answered: {unauthorizedBeforeReplace} (the requests already in flight); requests of any kind in the {observe.TotalSeconds:N0} s after the app stopped: " +
            $"{requestsBeforeReplace - requestsAtStop}",
            $"after the key was restored in Stripe: state {afterRestore.GetProperty("state").GetString()}, requests {requestsBeforeReplace - requestsAtStop} — " +
            "the sync waits for the key to be replaced",
            $"key replaced with PUT /api/v1/connections/{{id}}/key: {(int)replaced.StatusCode}; the import resumed and was synced {resumed.Elapsed.TotalSeconds:N0} s later; " +
            $"compared with an import never interrupted: {Fingerprint.DifferingLines(expected, actual)} lines differ");
        output.WriteLine($"{unauthorizedBeforeReplace} 401s, {requestsBeforeReplace - requestsAtStop} requests after stop, {unfinished} types unfinished");

        Assert.True(unfinished > 0, "the key must be revoked mid-import");
        Assert.Equal("key_revoked", status.GetProperty("state").GetString());
        Assert.Contains("revoked", connection.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.True(connection.GetProperty("traffic").GetProperty("keyRevoked").GetBoolean());
        Assert.Contains("Key revoked", health, StringComparison.Ordinal);
        // No retry storm: at most one 401 per object type's chain (10) and the poll, then silence.
        Assert.InRange(unauthorizedBeforeReplace, 1, 11);
        Assert.Equal(unauthorizedAtStop, unauthorizedBeforeReplace);
        Assert.Equal(requestsAtStop, requestsBeforeReplace);
        Assert.Equal("key_revoked", afterRestore.GetProperty("state").GetString());
        Assert.Equal(System.Net.HttpStatusCode.NoContent, replaced.StatusCode);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task Stripe_unreachable_for_75_seconds_is_caught_up_by_the_events_poll()
    {
        // The victim reaches the simulator, and the simulator its webhook endpoint, only through relays that the test
        // cuts: a partition of this one app. The twin keeps reading the same simulator throughout.
        var port = AppProcess.FreePort();
        await using var toStripe = new NetworkPartition(clean.Sim.BaseUrl.Port);
        await using var toApp = new NetworkPartition(port);
        await using var victim = await Victim.StartAsync("faults-stripe-down", toStripe.Address, publicUrl: toApp.Address, port: port);
        await SyncWait.ConnectAsync(victim.Api, Key);
        await SyncWait.UntilAsync(victim.Api, "synced", TimeSpan.FromMinutes(3));
        var (before, victimBefore) = await Fingerprint.UntilEqualAsync(clean.TwinApi, victim.Api, TimeSpan.FromSeconds(30));
        Assert.Equal(before, victimBefore);
        var networkErrorsBefore = Traffic(await StatusAsync(victim.Api), "networkErrors");

        var outage = TimeSpan.FromSeconds(75);
        var watch = Stopwatch.StartNew();
        var failedDeliveries = clean.Sim.Webhooks.FailedAttempts;
        toStripe.Cut();
        toApp.Cut();
        var changes = 0;
        var seen = new List<string>();
        long networkErrors = networkErrorsBefore;
        while (watch.Elapsed < outage)
        {
            // A change every 6 s in the first half: the simulator delivers one event at a time, each failing three times
            // 0.2 s and 0.5 s apart, so its queue empties well inside the outage.
            if (watch.Elapsed < outage / 2 && seen.Count % 2 == 0)
            {
                clean.Sim.Control.RandomActivity();
                changes++;
            }

            var status = await StatusAsync(victim.Api);
            var connection = status.GetProperty("connections")[0];
            seen.Add($"{status.GetProperty("state").GetString()}: {connection.GetProperty("lastError").GetString() ?? "no error"}");
            networkErrors = Math.Max(networkErrors, Traffic(status, "networkErrors"));
            await Task.Delay(3_000);
        }

        // Nothing may be left to deliver once Stripe is back: what the victim gets from then on, it gets from the poll.
        await clean.Sim.Webhooks.SettleAsync(TimeSpan.FromSeconds(60));
        failedDeliveries = clean.Sim.Webhooks.FailedAttempts - failedDeliveries;
        var reset = toStripe.Refused + toApp.Refused;
        toStripe.Heal();
        toApp.Heal();
        var healedAt = watch.Elapsed;

        // Caught up: both apps have walked the events up to the last change, processed them, and agree.
        var lastEvent = clean.Sim.Account.EventsJson(livemode: true).Max(e => JsonDocument.Parse(e).RootElement.GetProperty("created").GetInt64());
        await CaughtUpAsync(clean.TwinApi, lastEvent, TimeSpan.FromMinutes(2));
        await CaughtUpAsync(victim.Api, lastEvent, TimeSpan.FromMinutes(2));
        var caughtUpAfter = watch.Elapsed - healedAt;
        var (expected, actual) = await Fingerprint.UntilEqualAsync(clean.TwinApi, victim.Api, TimeSpan.FromSeconds(30));

        await Fingerprint.SaveAsync("faults-stripe-down", expected, actual);
        var states = seen.Distinct().ToList();
        ReliabilityReport.Write("Stripe faults: Stripe unreachable for 75 s (both ways) after the import",
            $"a network partition of the app alone (every connection to and from the simulator reset, {reset:N0} resets) for {healedAt.TotalSeconds:N0} s — " +
            "scaled down from \"minutes\" to keep CI short; the events poll runs every minute, so one or two polls fail inside it",
            $"{changes} Stripe changes made while cut; {failedDeliveries} webhook delivery attempts failed, and none was left to retry once healed; " +
            $"the app counted {networkErrors - networkErrorsBefore} network errors",
            $"Sync health during the outage ({seen.Count} looks): {string.Join("; ", states)}" +
            (states.Any(s => s.Contains("could not be reached", StringComparison.Ordinal)) ? "" : " — **it never said Stripe was unreachable**"),
            $"back: caught up by the events poll {caughtUpAfter.TotalSeconds:N0} s after Stripe came back; " +
            $"compared with a twin that never lost Stripe: {Fingerprint.DifferingLines(expected, actual)} lines differ");
        output.WriteLine($"{changes} changes, {failedDeliveries} failed deliveries, states: {string.Join(" | ", states)}, caught up in {caughtUpAfter}");

        Assert.True(changes > 0 && failedDeliveries >= changes, $"every change's webhook must have failed ({failedDeliveries} failed attempts for {changes} changes)");
        Assert.True(networkErrors > networkErrorsBefore, "the app must have tried Stripe during the outage and counted the failures");
        Assert.NotEqual(before, expected);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task After_a_full_run_no_secret_is_stored_logged_or_shown_in_plain_text()
    {
        // A small account of its own with webhooks registered and delivered, so the signing secret has been used.
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 10, Seed = 5, Now = clean.Options.Now });
        var port = AppProcess.FreePort();
        await using var victim = await Victim.StartAsync("faults-secrets", sim.BaseUrl, publicUrl: new Uri($"http://127.0.0.1:{port}/"), port: port);
        await SyncWait.ConnectAsync(victim.Api, Key);
        await SyncWait.UntilAsync(victim.Api, "synced", TimeSpan.FromMinutes(2));
        for (var i = 0; i < 5; i++)
        {
            sim.Control.RandomActivity();
        }

        await sim.Webhooks.SettleAsync(TimeSpan.FromSeconds(30));
        await SyncWait.UntilAsync(victim.Api, "synced", TimeSpan.FromMinutes(1));
        var webhookSecret = sim.Account.Live.WebhookEndpoints.Values.Single(e => e.Url.Contains($":{port}/", StringComparison.Ordinal)).Secret;

        // What a user or a script sees: every page (signed in) and every API answer with data in it.
        var answers = new Dictionary<string, string>();
        using (var browser = await victim.SignedInAsync())
        {
            var person = (await SyncWait.AllPeopleAsync(victim.Api))[0].GetProperty("id").GetString();
            foreach (var page in (string[])["/", "/connect", "/people", $"/people/{person}", "/metrics", "/revenue", "/segments", "/settings", "/openapi/v1.json"])
            {
                answers[page] = await browser.GetStringAsync(page);
            }
        }

        foreach (var call in (string[])["/api/v1/status", "/api/v1/people?pageSize=500", "/api/v1/metrics", "/api/v1/segments", "/api/v1/reconciliation", "/api/v1/users"])
        {
            answers[call] = await victim.Api.GetStringAsync(call);
        }

        // The database files on disk: while the app writes (webhooks arriving, so the write-ahead log is likely there),
        // then as a crash leaves them; and the process log.
        var folder = Path.GetDirectoryName(new SqliteConnectionStringBuilder(victim.Database.ConnectionString).DataSource)!;
        sim.Control.RandomActivity();
        var files = ReadFiles(folder, "running");
        await sim.Webhooks.SettleAsync(TimeSpan.FromSeconds(30));
        await victim.Process.KillHardAsync();
        files.AddRange(ReadFiles(folder, "killed"));
        files.Add(($"{Path.GetFileName(victim.Process.LogPath)}", File.ReadAllBytes(victim.Process.LogPath)));
        var sources = files.Concat(answers.Select(a => (Name: a.Key, Bytes: Encoding.UTF8.GetBytes(a.Value)))).ToList();

        var secrets = new Dictionary<string, string>
        {
            ["Stripe key"] = Key,
            ["webhook signing secret"] = webhookSecret,
            ["admin API key"] = AppHost.AdminApiKey,
            ["admin password"] = AppHost.AdminPassword,
        };
        var found = (from s in secrets from source in sources where Contains(source.Bytes, s.Value) select $"{s.Key} in {source.Name}").ToList();
        // The scan itself works: a customer's email, stored in plain text on purpose, is found on disk.
        var email = sim.Account.All<Stripe.Customer>(livemode: true).First(c => c.Email is not null).Email;
        var control = files.Where(f => Contains(f.Bytes, email!)).Select(f => f.Name).Distinct().ToList();

        ReliabilityReport.Write("Secrets after a full run",
            $"searched for the Stripe key, the webhook signing secret (registered in the simulator, {sim.Webhooks.Delivered} webhooks delivered with it), " +
            "the admin API key and the admin password, as UTF-8, UTF-16 and Base64",
            $"in {files.Count} files ({string.Join(", ", files.Select(f => $"{f.Name} {f.Bytes.Length:N0} bytes"))}) " +
            $"and {answers.Count} pages and API answers ({answers.Values.Sum(a => a.Length):N0} characters)" +
            (files.Any(f => f.Name.Contains("-wal", StringComparison.Ordinal)) ? "" : "; no -wal file was on disk at either moment"),
            $"found: {(found.Count == 0 ? "none" : string.Join(", ", found))} (control: a customer's email was found in {string.Join(", ", control)})",
            "the Stripe key and webhook secret are stored encrypted with ASP.NET Data Protection, whose key ring lives in the same database, itself unencrypted (the app logs \"No XML encryptor configured\"): " +
            "a copy of the database alone is enough to decrypt them");
        output.WriteLine(string.Join("\n", files.Select(f => $"{f.Name} {f.Bytes.Length}")));

        Assert.True(sim.Webhooks.Delivered > 0, "webhooks must have been delivered with the secret");
        Assert.NotEmpty(control);
        Assert.Empty(found);
    }

    /// <summary>Every file of the folder as it is now, read beside the app that may be writing it.</summary>
    private static List<(string Name, byte[] Bytes)> ReadFiles(string folder, string moment)
    {
        var files = new List<(string, byte[])>();
        foreach (var path in Directory.GetFiles(folder))
        {
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                files.Add(($"{Path.GetFileName(path)} ({moment})", copy.ToArray()));
            }
            catch (FileNotFoundException)
            {
                // A -wal or -shm file folded in and deleted between listing and reading.
            }
        }

        return files;
    }

    private static bool Contains(byte[] haystack, string secret) =>
        haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) >= 0
        || haystack.AsSpan().IndexOf(Encoding.Unicode.GetBytes(secret)) >= 0
        || haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)))) >= 0;

    private static Task<JsonElement> StatusAsync(HttpClient api) => api.GetFromJsonAsync<JsonElement>("/api/v1/status");

    private static long Fetched(JsonElement status) =>
        status.GetProperty("connections")[0].GetProperty("backfill").EnumerateArray().Sum(b => b.GetProperty("done").GetInt64());

    private static long Traffic(JsonElement status, string counter) =>
        status.GetProperty("connections")[0].GetProperty("traffic") is { ValueKind: JsonValueKind.Object } t ? t.GetProperty(counter).GetInt64() : 0;

    /// <summary>Waits (bounded) until the events walk has passed <paramref name="created"/> and nothing waits to be processed.</summary>
    private static async Task CaughtUpAsync(HttpClient api, long created, TimeSpan timeout)
    {
        await WaitUntilAsync(async () =>
        {
            var status = await StatusAsync(api);
            var c = status.GetProperty("connections")[0];
            return status.GetProperty("state").GetString() == "synced"
                && c.GetProperty("lastEventAt").ValueKind == JsonValueKind.String
                && c.GetProperty("lastEventAt").GetDateTimeOffset().ToUnixTimeSeconds() >= created
                && c.GetProperty("pendingEvents").GetInt32() == 0 && c.GetProperty("pendingPeople").GetInt32() == 0;
        }, timeout);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition did not hold in time.");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>The real app as a process on its own SQLite database, signed in through its API key.</summary>
    private sealed class Victim : IAsyncDisposable
    {
        private Victim(AppProcess process, TestDatabase database)
        {
            Process = process;
            Database = database;
            Api = new HttpClient { BaseAddress = process.Address };
            Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AppHost.AdminApiKey);
        }

        public AppProcess Process { get; }
        public TestDatabase Database { get; }
        public HttpClient Api { get; }

        /// <param name="publicUrl">Where Stripe sends webhooks (registered at sync start); none: the events poll alone.</param>
        public static async Task<Victim> StartAsync(string name, Uri apiBase, Uri? publicUrl = null, int? port = null, Dictionary<string, string>? extra = null)
        {
            var database = TestDatabase.Create(DatabaseProvider.Sqlite);
            var environment = new Dictionary<string, string>
            {
                ["Database__Provider"] = nameof(DatabaseProvider.Sqlite),
                ["Database__ConnectionString"] = database.ConnectionString,
                ["Bootstrap__AdminEmail"] = AppHost.AdminEmail,
                ["Bootstrap__AdminPassword"] = AppHost.AdminPassword,
                ["Bootstrap__ApiKey"] = AppHost.AdminApiKey,
                ["Stripe__ApiBase"] = apiBase.ToString(),
                ["Stripe__InitialBackoff"] = "00:00:00.050",
                ["Stripe__MaxBackoff"] = "00:00:01",
            };
            if (publicUrl is not null)
            {
                environment["App__PublicUrl"] = publicUrl.ToString();
            }

            foreach (var (key, value) in extra ?? [])
            {
                environment[key] = value;
            }

            var victim = new Victim(new AppProcess(name, environment, port: port), database);
            victim.Process.Start();
            await victim.Process.WaitReadyAsync();
            return victim;
        }

        /// <summary>A cookie client signed in through the login form, for pages.</summary>
        public async Task<HttpClient> SignedInAsync()
        {
            var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() })
            {
                BaseAddress = Process.Address,
            };
            var response = await AppHost.PostLoginAsync(client, AppHost.AdminEmail, AppHost.AdminPassword);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            return client;
        }

        public async ValueTask DisposeAsync()
        {
            Api.Dispose();
            await Process.DisposeAsync();
            await Database.DisposeAsync();
        }
    }

    /// <summary>
    /// One simulator that behaves, and an in-process twin that imported it: the result every faulty run must end
    /// with. Every simulator of this class serves the same account (same seed, scale and "now").
    /// </summary>
    public sealed class CleanTwin : IAsyncLifetime
    {
        public SimulatorOptions Options { get; } = new() { Customers = 40, Seed = 61, Now = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero) };

        public SimulatorServer Sim { get; private set; } = default!;
        public AppHost Twin { get; private set; } = default!;
        public HttpClient TwinApi { get; private set; } = default!;

        /// <summary>The twin's fingerprint right after its import, before any test changed the account.</summary>
        public string Baseline { get; private set; } = "";

        public int People { get; private set; }
        public long Objects { get; private set; }
        public double ImportSeconds { get; private set; }

        public async Task InitializeAsync()
        {
            var watch = Stopwatch.StartNew();
            Sim = await SimulatorServer.StartAsync(Options);
            Sim.Webhooks.RetryDelays = [TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(500)];
            Twin = AppHost.Start(extra: new Dictionary<string, string?>
            {
                ["Stripe:ApiBase"] = Sim.BaseUrl.ToString(),
                ["Stripe:InitialBackoff"] = "00:00:00.050",
                ["Stripe:MaxBackoff"] = "00:00:01",
            });
            TwinApi = Twin.WithApiKey(AppHost.AdminApiKey);
            await SyncWait.ConnectAsync(TwinApi, Key);
            var status = await SyncWait.UntilAsync(TwinApi, "synced", TimeSpan.FromMinutes(3));
            ImportSeconds = watch.Elapsed.TotalSeconds;
            Objects = Fetched(status);
            Baseline = await Fingerprint.ReadAsync(TwinApi);
            People = (await SyncWait.AllPeopleAsync(TwinApi)).Count;
        }

        public async Task DisposeAsync()
        {
            TwinApi?.Dispose();
            await Twin.DisposeAsync();
            await Sim.DisposeAsync();
        }
    }
}
