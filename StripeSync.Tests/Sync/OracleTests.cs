using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using StripeSync.Simulator;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Sync;

/// <summary>
/// After one import of a generated account, through HTTP and Stripe.net, every metric's daily counts and amounts, every
/// person's field tokens and today's MRR equal what <see cref="StripeOracle"/> computes from the simulator's own objects.
/// </summary>
public sealed class OracleTests(ImportTests.Imported imported) : IClassFixture<ImportTests.Imported>
{
    private SimulatorServer sim => imported.Sim;
    private HttpClient api => imported.Api;

    /// <summary>SPEC §4's metrics that an import derives from Stripe's current state (it reads no events).</summary>
    public static TheoryData<string> StateMetrics =>
    [
        "Customer Created", "Issued Invoice", "Successfully Paid", "Failed Payment", "Refunded Payment",
        "Subscription Started", "Subscription Canceled", "Subscription Billed", "Trial Started", "Trial Ended",
        "Checkout Completed", "Checkout Abandoned",
    ];

    [Theory]
    [MemberData(nameof(StateMetrics))]
    public async Task Each_days_count_and_amounts_equal_the_oracles(string metric)
    {
        var oracle = new StripeOracle(sim.Account, DateTimeOffset.UtcNow);
        var expected = oracle.Events.Where(e => e.Metric == metric).GroupBy(e => DateOnly.FromDateTime(e.Time.UtcDateTime))
            .ToDictionary(g => g.Key, g => Day(g.Count(), g.Where(e => e.Currency is not null).GroupBy(e => e.Currency!).Select(c => (c.Key, c.Sum(e => e.Amount ?? 0)))));
        Assert.True(expected.Count > 0, $"The generated account has no {metric}: nothing would be checked.");

        var actual = await DailyAsync(oracle, metric);

        AssertSameDays(expected, actual);
    }

    /// <summary>
    /// Upgraded and Downgraded need the state before a change, which only an event shows (decision 0005); an import reads
    /// no events, so it must invent none. The event path is checked by LiveSyncTests and InboxProcessorTests.
    /// </summary>
    [Theory]
    [InlineData("Subscription Upgraded")]
    [InlineData("Subscription Downgraded")]
    public async Task An_import_invents_no_plan_change(string metric)
    {
        var oracle = new StripeOracle(sim.Account, DateTimeOffset.UtcNow);

        var actual = await DailyAsync(oracle, metric);

        Assert.Empty(actual);
    }

    [Fact]
    public async Task Every_persons_field_tokens_equal_the_oracles()
    {
        var oracle = new StripeOracle(sim.Account, DateTimeOffset.UtcNow);
        var people = await SyncWait.AllPeopleAsync(api);
        var byKey = oracle.People.ToDictionary(p => p.Key);
        Assert.Equal(byKey.Count, people.Count);

        var mismatches = new List<string>();
        foreach (var person in people)
        {
            var key = string.Join(",", person.GetProperty("stripeCustomerIds").EnumerateArray().Select(i => i.GetString()).Order(StringComparer.Ordinal));
            var expected = byKey[key];
            var fields = person.GetProperty("fields");
            Assert.Equal(expected.Email, person.GetProperty("email").GetString());

            // SPEC does not say which of a person's customers, or of several equally relevant subscriptions, the
            // single-valued tokens describe, nor which item of a subscription is "the plan": the app's choice must be
            // admissible, and then every token must describe that choice.
            var customerId = fields.GetProperty("stripe_customer_id").GetString();
            var customer = expected.Customers.SingleOrDefault(c => c.Id == customerId);
            if (customer is null)
            {
                mismatches.Add($"{key}: stripe_customer_id {customerId} is not one of the person's customers");
                continue;
            }

            var candidates = StripeOracle.MostRelevant(expected.Subscriptions);
            var subscriptionId = fields.GetProperty("stripe_subscription_id").GetString();
            var subscription = candidates.SingleOrDefault(s => s.Id == subscriptionId);
            if (candidates.Count > 0 && subscription is null)
            {
                mismatches.Add($"{key}: stripe_subscription_id {subscriptionId} is not the most relevant ({string.Join("/", candidates.Select(s => s.Id + " " + s.Status))})");
                continue;
            }

            var priceId = fields.GetProperty("stripe_price_id").GetString();
            var item = subscription?.Items.Data.FirstOrDefault(i => i.Price.Id == priceId && i.Price.Recurring?.UsageType == "licensed");
            if (subscription is not null && item is null)
            {
                mismatches.Add($"{key}: stripe_price_id {priceId} is not a licensed item of {subscription.Id}");
                continue;
            }

            foreach (var (token, value) in oracle.Fields(expected, customer, subscription, item))
            {
                var actual = fields.TryGetProperty(token, out var a) ? a : default;
                if (!Matches(value, actual))
                {
                    mismatches.Add($"{key}: {token} expected {Show(value)}, app {(actual.ValueKind == JsonValueKind.Undefined ? "(missing)" : actual.GetRawText())}");
                }
            }

            // When the app last synced this person: some moment of this import.
            var syncedAt = fields.GetProperty("stripe_last_sync_at");
            if (syncedAt.ValueKind != JsonValueKind.String || Time(syncedAt.GetString()!) is var t && (t < imported.StartedAt.AddSeconds(-1) || t > DateTimeOffset.UtcNow))
            {
                mismatches.Add($"{key}: stripe_last_sync_at {syncedAt.GetRawText()} is not within the import");
            }
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} token(s) differ:\n" + string.Join("\n", mismatches.Take(60)));
    }

    [Fact]
    public async Task Todays_mrr_in_revenue_equals_the_oracles_sum_over_subscriptions()
    {
        var oracle = new StripeOracle(sim.Account, DateTimeOffset.UtcNow);
        var expected = oracle.Mrr(oracle.Subscriptions).Where(kv => kv.Value != 0).OrderBy(kv => kv.Key).ToList();
        Assert.NotEmpty(expected);
        var from = DateOnly.FromDateTime(sim.Account.Now.UtcDateTime).AddYears(-2).AddDays(-30);

        var days = await api.GetFromJsonAsync<JsonElement>($"/api/v1/revenue/mrr?from={from:yyyy-MM-dd}");
        var today = days.EnumerateArray().GroupBy(d => d.GetProperty("currency").GetString()!)
            .ToDictionary(g => g.Key, g => g.Last().GetProperty("mrr").GetInt64());

        Assert.Equal(expected, today.Where(kv => kv.Value != 0).OrderBy(kv => kv.Key));
        // Every movement adds up: the level today is the sum of the movements since before the first customer.
        foreach (var currency in today.Keys)
        {
            var ofCurrency = days.EnumerateArray().Where(d => d.GetProperty("currency").GetString() == currency).ToList();
            var moved = ofCurrency.Sum(d => d.GetProperty("new").GetInt64() + d.GetProperty("reactivation").GetInt64()
                + d.GetProperty("expansion").GetInt64() - d.GetProperty("contraction").GetInt64() - d.GetProperty("churn").GetInt64());
            Assert.Equal(today[currency], moved);
        }
    }

    [Fact]
    public async Task Mrr_history_each_day_equals_the_oracles_paying_subscriptions_of_that_day()
    {
        var oracle = new StripeOracle(sim.Account, DateTimeOffset.UtcNow);
        var from = DateOnly.FromDateTime(sim.Account.Now.UtcDateTime).AddYears(-2).AddDays(-30);
        var to = DateOnly.FromDateTime(oracle.Now.UtcDateTime);
        var expected = new Dictionary<(DateOnly, string), long>();
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            var endOfDay = day == to ? oracle.Now : new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddTicks(-1);
            foreach (var (currency, amount) in oracle.MrrAt(endOfDay))
            {
                expected[(day, currency)] = amount;
            }
        }

        var days = await api.GetFromJsonAsync<JsonElement>($"/api/v1/revenue/mrr?from={from:yyyy-MM-dd}&to={to:yyyy-MM-dd}");
        var actual = days.EnumerateArray().ToDictionary(
            d => (DateOnly.Parse(d.GetProperty("date").GetString()!, CultureInfo.InvariantCulture), d.GetProperty("currency").GetString()!),
            d => d.GetProperty("mrr").GetInt64());

        var differing = expected.Keys.Union(actual.Keys).Where(k => expected.GetValueOrDefault(k) != actual.GetValueOrDefault(k)).Order()
            .Select(k => $"{k.Item1:yyyy-MM-dd} {k.Item2}: oracle {expected.GetValueOrDefault(k)}, app {actual.GetValueOrDefault(k)}").ToList();
        Assert.True(differing.Count == 0, $"{differing.Count} days differ:\n" + string.Join("\n", differing.Take(40)));
    }

    private async Task<Dictionary<DateOnly, string>> DailyAsync(StripeOracle oracle, string metric)
    {
        // The whole history: from the oldest fact to the newest (an abandoned checkout expires up to a day after now).
        var dates = oracle.Events.Select(e => DateOnly.FromDateTime(e.Time.UtcDateTime)).ToList();
        var from = dates.Min().AddDays(-1);
        var to = dates.Max().AddDays(1);
        var days = await api.GetFromJsonAsync<JsonElement>($"/api/v1/metrics/{metric}/daily?from={from:yyyy-MM-dd}&to={to:yyyy-MM-dd}");
        Assert.Equal(to.DayNumber - from.DayNumber + 1, days.GetArrayLength());
        return days.EnumerateArray().Where(d => d.GetProperty("count").GetInt32() > 0).ToDictionary(
            d => DateOnly.Parse(d.GetProperty("date").GetString()!, CultureInfo.InvariantCulture),
            d => Day(d.GetProperty("count").GetInt32(), d.GetProperty("amounts").EnumerateArray()
                .Select(a => (a.GetProperty("currency").GetString()!, a.GetProperty("amount").GetInt64()))));
    }

    // A day as one comparable line: its count and its non-zero amounts per currency.
    private static string Day(int count, IEnumerable<(string Currency, long Amount)> amounts) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + string.Join(" ", amounts.Where(a => a.Amount != 0).OrderBy(a => a.Currency, StringComparer.Ordinal)
            .Select(a => a.Currency + "=" + a.Amount.ToString(CultureInfo.InvariantCulture)));

    private static void AssertSameDays(Dictionary<DateOnly, string> expected, Dictionary<DateOnly, string> actual)
    {
        var differing = expected.Keys.Union(actual.Keys).Order()
            .Where(d => expected.GetValueOrDefault(d) != actual.GetValueOrDefault(d))
            .Select(d => $"{d:yyyy-MM-dd}: oracle [{expected.GetValueOrDefault(d) ?? "none"}], app [{actual.GetValueOrDefault(d) ?? "none"}]")
            .ToList();
        Assert.True(differing.Count == 0, $"{differing.Count} of {expected.Count} days differ:\n" + string.Join("\n", differing.Take(40)));
    }

    /// <summary>
    /// The oracle's value against the app's JSON: times as instants (to the second: Stripe's precision), money objects
    /// as currency → amount without zero entries, product lists as sets (SPEC names no order), the rest as text.
    /// </summary>
    private static bool Matches(object? expected, JsonElement actual) => expected switch
    {
        AnyOf any => any.Values.Any(v => Matches(v, actual)),
        null => actual.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined,
        DateTimeOffset time => actual.ValueKind == JsonValueKind.String && Time(actual.GetString()!) == ToSecond(time),
        Dictionary<string, long> money => actual.ValueKind == JsonValueKind.Object
            && Show(money) == Show(actual.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64())),
        List<string> set => actual.ValueKind == JsonValueKind.Array
            && set.Order(StringComparer.Ordinal).SequenceEqual(actual.EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal)),
        bool b => actual.ValueKind == (b ? JsonValueKind.True : JsonValueKind.False),
        string text => actual.ValueKind == JsonValueKind.String && actual.GetString() == text,
        _ => actual.ValueKind == JsonValueKind.Number && actual.GetRawText() == Convert.ToString(expected, CultureInfo.InvariantCulture),
    };

    private static DateTimeOffset Time(string text) => ToSecond(DateTimeOffset.Parse(text, CultureInfo.InvariantCulture));

    // The simulator's objects keep fractions of a second that Stripe's unix-second timestamps drop on the wire.
    private static DateTimeOffset ToSecond(DateTimeOffset t) => t.ToUniversalTime().AddTicks(-(t.UtcTicks % TimeSpan.TicksPerSecond));

    private static string Show(object? value) => value switch
    {
        null => "null",
        AnyOf any => "any of (" + string.Join(" | ", any.Values.Select(Show)) + ")",
        DateTimeOffset t => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        Dictionary<string, long> money => "{" + string.Join(", ", money.Where(kv => kv.Value != 0).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}: {kv.Value}")) + "}",
        List<string> list => "[" + string.Join(", ", list) + "]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null",
    };
}
