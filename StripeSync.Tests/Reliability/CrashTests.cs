using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using StripeSync.Core.Persistence;
using StripeSync.Simulator;
using StripeSync.Tests.Support;
using Xunit.Abstractions;

namespace StripeSync.Tests.Reliability;

/// <summary>
/// The app killed with SIGKILL five times — during the import and during a storm of Stripe activity — and
/// restarted each time on the same database, beside a twin that is never interrupted and reads the same
/// simulated Stripe account. At the end both must hold the same people, fields, metric events and MRR:
/// nothing lost, nothing counted twice.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class CrashTests(ITestOutputHelper output)
{
    private const int Kills = 5;

    [Fact]
    public Task Five_kills_during_import_and_webhook_storms_on_SQLite_lose_nothing() => RunAsync(DatabaseProvider.Sqlite, workers: 0);

    // A killed worker's job and lock come back within a minute (docs/decisions/0009), so the run now settles; but one
    // run in two ended with one cancellation missing on the killed side (RELIABILITY.md), so it stays out of CI until found.
    [PostgresFact(KnownFailure = "Settles since decision 0009, but lost one subscription cancellation in one of two runs (RELIABILITY.md).")]
    public Task Five_kills_of_web_and_two_workers_on_PostgreSQL_lose_nothing() => RunAsync(DatabaseProvider.Postgres, workers: 2);

    private async Task RunAsync(DatabaseProvider provider, int workers)
    {
        var random = new Random(provider == DatabaseProvider.Sqlite ? 51 : 52);
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 150, Seed = 41 });
        sim.Webhooks.RetryDelays = [TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(500)];
        var stripe = new Dictionary<string, string?>
        {
            ["Stripe:ApiBase"] = sim.BaseUrl.ToString(),
            ["Stripe:InitialBackoff"] = "00:00:00.050",
            ["Stripe:MaxBackoff"] = "00:00:01",
        };

        // The twin: in-process, never interrupted, polls the Events API (no public URL).
        await using var twin = AppHost.Start(provider, extra: stripe);
        using var twinApi = twin.WithApiKey(AppHost.AdminApiKey);

        // The victim: real processes on their own database, webhooks registered at their public URL.
        await using var database = TestDatabase.Create(provider);
        var environment = new Dictionary<string, string>
        {
            ["Database__Provider"] = provider.ToString(),
            ["Database__ConnectionString"] = database.ConnectionString,
            ["Bootstrap__AdminEmail"] = AppHost.AdminEmail,
            ["Bootstrap__AdminPassword"] = AppHost.AdminPassword,
            ["Bootstrap__ApiKey"] = AppHost.AdminApiKey,
            ["Stripe__ApiBase"] = sim.BaseUrl.ToString(),
            ["Stripe__InitialBackoff"] = "00:00:00.050",
            ["Stripe__MaxBackoff"] = "00:00:01",
        };
        var processes = new List<AppProcess> { new($"crash-{provider}-web", environment, workers == 0 ? "all" : "web") };
        environment["App__PublicUrl"] = processes[0].Address.ToString();
        processes[0] = new AppProcess($"crash-{provider}-web", environment, workers == 0 ? "all" : "web", processes[0].Port);
        for (var i = 0; i < workers; i++)
        {
            processes.Add(new AppProcess($"crash-{provider}-worker{i + 1}", environment, "worker"));
        }

        try
        {
            foreach (var p in processes)
            {
                p.Start();
            }

            foreach (var p in processes)
            {
                await p.WaitReadyAsync();
            }

            using var victimApi = new HttpClient { BaseAddress = processes[0].Address };
            victimApi.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AppHost.AdminApiKey);
            await SyncWait.ConnectAsync(twinApi, "rk_live_sim_full");
            await SyncWait.ConnectAsync(victimApi, "rk_live_sim_full");

            var changes = 0;
            for (var round = 1; round <= Kills; round++)
            {
                // Rounds 1–2 strike during the import; from round 3 on, Stripe activity (and its webhooks) is in flight.
                // The storm waits for both imports to finish, so both start it from the same history (an import
                // that meets a change can only see the subscription as it is now, not the plan it started on).
                Task storm = Task.CompletedTask;
                if (round == 3)
                {
                    await SyncWait.UntilAsync(twinApi, "synced", TimeSpan.FromMinutes(4));
                    await SyncWait.UntilAsync(victimApi, "synced", TimeSpan.FromMinutes(4));
                }

                if (round >= 3)
                {
                    storm = Task.Run(async () =>
                    {
                        for (var i = 0; i < 25; i++)
                        {
                            sim.Control.RandomActivity();
                            Interlocked.Increment(ref changes);
                            await Task.Delay(30);
                        }
                    });
                }

                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(300, 2_500)));
                var victim = processes[random.Next(processes.Count)];
                await victim.KillHardAsync();
                await storm;
                output.WriteLine($"round {round}: killed {(victim == processes[0] ? "web" : "a worker")}, {changes} Stripe changes so far");
                victim.Start();
                await victim.WaitReadyAsync();
            }

            await SyncWait.UntilAsync(twinApi, "synced", TimeSpan.FromMinutes(4));
            await SyncWait.UntilAsync(victimApi, "synced", TimeSpan.FromMinutes(4));

            // Webhooks sent while the victim was down are caught up by the Events API poll (every minute).
            var deadline = DateTime.UtcNow.AddMinutes(2.5);
            string expected, actual;
            do
            {
                await Task.Delay(2_000);
                expected = await FingerprintAsync(twinApi);
                actual = await FingerprintAsync(victimApi);
            }
            while (expected != actual && DateTime.UtcNow < deadline);

            output.WriteLine($"{processes.Sum(p => p.Kills)} kills, {changes} Stripe changes, fingerprint {expected.Length} chars");
            var folder = Path.Combine(AppProcess.RepositoryRoot, "artifacts", "reliability");
            await File.WriteAllTextAsync(Path.Combine(folder, $"crash-{provider}-uninterrupted.txt"), expected);
            await File.WriteAllTextAsync(Path.Combine(folder, $"crash-{provider}-killed.txt"), actual);
            var differing = expected.Split('\n').Zip(actual.Split('\n')).Count(l => l.First != l.Second)
                + Math.Abs(expected.Split('\n').Length - actual.Split('\n').Length);
            var people = await SyncWait.AllPeopleAsync(victimApi);
            ReliabilityReport.Write($"Crash: SIGKILL during import and webhook storms, {provider}" + (workers > 0 ? $", web + {workers} worker processes" : ", one process"),
                $"{processes.Sum(p => p.Kills)} SIGKILLs at random moments (2 during the import, 3 during storms of Stripe activity), {processes.Sum(p => p.Kills)} restarts on the same database",
                $"{changes} Stripe changes made during the storms, delivered by webhook to the killed app and by the Events API poll to its uninterrupted twin",
                $"compared with the twin: {people.Count} people with every field, every metric event of every metric, MRR per currency",
                $"lines that differ (data lost or counted twice): {differing}");
            Assert.Equal(expected, actual);
            Assert.Equal(Kills, processes.Sum(p => p.Kills));

            // And both match the simulator's own books on the plain counts.
            Assert.Equal(sim.Account.All<Stripe.Customer>(true).Count, people.Sum(p => p.GetProperty("stripeCustomerIds").GetArrayLength()));
        }
        finally
        {
            foreach (var p in processes)
            {
                await p.DisposeAsync();
            }
        }
    }

    /// <summary>Everything a user sees that must not differ: every person's fields, each metric's events, MRR.</summary>
    private static async Task<string> FingerprintAsync(HttpClient api)
    {
        var people = (await SyncWait.AllPeopleAsync(api))
            .Select(p =>
            {
                var fields = JsonNode.Parse(p.GetProperty("fields").GetRawText())!.AsObject();
                fields.Remove("stripe_last_sync_at");
                return $"{p.GetProperty("email")}|{p.GetProperty("identified")}|{string.Join(",", p.GetProperty("stripeCustomerIds").EnumerateArray().Select(i => i.GetString()).Order(StringComparer.Ordinal))}|{fields.ToJsonString()}";
            })
            .Order(StringComparer.Ordinal);
        var metrics = new List<string>();
        foreach (var metric in (await api.GetFromJsonAsync<JsonElement>("/api/v1/metrics")).EnumerateArray())
        {
            var name = metric.GetProperty("name").GetString()!;
            var events = await api.GetFromJsonAsync<JsonElement>($"/api/v1/metrics/{Uri.EscapeDataString(name)}/events?pageSize=500");
            var facts = events.GetProperty("items").EnumerateArray()
                .Select(e => $"{e.GetProperty("time")} {e.GetProperty("amount")} {e.GetProperty("currency")} {e.GetProperty("sourceId")} {e.GetProperty("properties").GetRawText()}")
                .Order(StringComparer.Ordinal);
            metrics.Add($"{name}={events.GetProperty("total").GetInt32()}: {string.Join(" | ", facts)}");
        }

        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var mrr = await api.GetStringAsync($"/api/v1/revenue/mrr?from={today}&to={today}");
        return string.Join("\n", people) + "\n" + string.Join("\n", metrics) + "\n" + mrr;
    }
}
