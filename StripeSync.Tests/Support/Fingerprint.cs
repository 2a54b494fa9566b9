using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StripeSync.Tests.Support;

/// <summary>
/// Everything a user sees that must not differ between two apps that read the same Stripe account: every person's
/// fields, each metric's events, MRR. Reliability tests compare an app that suffered (kills, faults, outages) with
/// a twin that did not.
/// </summary>
public static class Fingerprint
{
    public static async Task<string> ReadAsync(HttpClient api)
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

    /// <summary>Lines that differ (data lost or counted twice), for the report.</summary>
    public static int DifferingLines(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        return a.Zip(b).Count(l => l.First != l.Second) + Math.Abs(a.Length - b.Length);
    }

    /// <summary>
    /// Waits (bounded) until <paramref name="actual"/> shows what <paramref name="expected"/> shows — the events poll runs
    /// once a minute, so a gap closes up to a minute late — and returns both fingerprints of the last look.
    /// </summary>
    public static async Task<(string Expected, string Actual)> UntilEqualAsync(HttpClient expected, HttpClient actual, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var e = await ReadAsync(expected);
            var a = await ReadAsync(actual);
            if (e == a || DateTime.UtcNow > deadline)
            {
                return (e, a);
            }

            await Task.Delay(2_000);
        }
    }

    /// <summary>Keeps both fingerprints in artifacts/reliability/ for whoever reads a failure.</summary>
    public static async Task SaveAsync(string name, string expected, string actual)
    {
        var folder = Path.Combine(AppProcess.RepositoryRoot, "artifacts", "reliability");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, $"{name}-expected.txt"), expected);
        await File.WriteAllTextAsync(Path.Combine(folder, $"{name}-actual.txt"), actual);
    }
}
