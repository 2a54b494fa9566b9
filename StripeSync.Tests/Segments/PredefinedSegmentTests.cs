using System.Net.Http.Json;
using System.Text.Json;
using Stripe;
using StripeSync.Simulator;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Segments;

/// <summary>
/// Each predefined segment after a real import, against membership computed here from the simulator's own
/// objects (subscriptions, invoices, charges). Last activity is the one thing taken from StripeSync: the newest event
/// in each person's activity feed, which is what "last activity" means (SPEC §5).
/// </summary>
public sealed class PredefinedSegmentTests(PredefinedSegmentTests.Imported imported) : IClassFixture<PredefinedSegmentTests.Imported>
{
    /// <summary>One import of a 60-customer account for the whole class (the tests only read).</summary>
    public sealed class Imported : IAsyncLifetime
    {
        public SimulatorServer Sim { get; private set; } = default!;
        public AppHost App { get; private set; } = default!;
        public HttpClient Api { get; private set; } = default!;
        public List<Expected> People { get; } = [];

        public async Task InitializeAsync()
        {
            Sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 60, Seed = 3 });
            App = AppHost.Start(extra: new Dictionary<string, string?> { ["Stripe:ApiBase"] = Sim.BaseUrl.ToString() });
            Api = App.WithApiKey(AppHost.AdminApiKey);
            await SyncWait.ConnectAsync(Api, "rk_live_sim_full");
            await SyncWait.UntilAsync(Api, "synced");
            People.AddRange(await Expected.FromSimulatorAsync(Sim, Api));
        }

        public async Task DisposeAsync()
        {
            Api.Dispose();
            await App.DisposeAsync();
            await Sim.DisposeAsync();
        }
    }

    /// <summary>One person as the simulator's objects describe them.</summary>
    public sealed record Expected(
        string Key, int Active, int Trialing, int PastDue, string? Status, DateTime? TrialEnd, DateTimeOffset? LastActivity,
        DateTime? LastOrder, IReadOnlyDictionary<string, long> Sales)
    {
        public static async Task<List<Expected>> FromSimulatorAsync(SimulatorServer sim, HttpClient api)
        {
            var customers = sim.Account.All<Customer>(livemode: true);
            var subscriptions = sim.Account.All<Subscription>(livemode: true);
            var invoices = sim.Account.All<Invoice>(livemode: true).Where(i => i.Status == "paid" && i.AmountPaid > 0 && i.CustomerId is not null).ToList();
            var payments = sim.Account.All<InvoicePayment>(livemode: true);
            var charges = sim.Account.All<Charge>(livemode: true).Where(c => c.Status == "succeeded" && c.Paid && c.CustomerId is not null).ToList();
            var invoiceOfCharge = payments.Where(p => p.Payment.ChargeId is not null).ToDictionary(p => p.Payment.ChargeId, p => p.InvoiceId);
            var refundedByInvoice = charges.Where(c => invoiceOfCharge.ContainsKey(c.Id)).GroupBy(c => invoiceOfCharge[c.Id])
                .ToDictionary(g => g.Key, g => g.Sum(c => c.AmountRefunded));

            // Orders: paid invoices (net of their charges' refunds) and one-off charges (net of refunds).
            var orders = invoices.Select(i => (i.CustomerId, Time: i.StatusTransitions.PaidAt!.Value, i.Currency,
                    Net: i.AmountPaid - Math.Min(refundedByInvoice.GetValueOrDefault(i.Id), i.AmountPaid)))
                .Concat(charges.Where(c => !invoiceOfCharge.ContainsKey(c.Id)).Select(c => (c.CustomerId, Time: c.Created, c.Currency, Net: c.Amount - c.AmountRefunded)))
                .ToList();

            var people = await SyncWait.AllPeopleAsync(api);
            var result = new List<Expected>();
            foreach (var group in customers.GroupBy(c => c.Email is null ? "stripe:" + c.Id : c.Email.Trim().ToLowerInvariant()))
            {
                var ids = group.Select(c => c.Id).ToHashSet();
                var theirs = subscriptions.Where(s => ids.Contains(s.CustomerId)).ToList();
                var relevant = theirs.OrderBy(s => s.Status switch { "active" => 0, "trialing" => 1, "past_due" => 2, _ => 3 })
                    .ThenByDescending(s => s.Created).ThenBy(s => s.Id, StringComparer.Ordinal).FirstOrDefault();
                var theirOrders = orders.Where(o => ids.Contains(o.CustomerId)).ToList();
                var person = people.Single(p => p.GetProperty("stripeCustomerIds").EnumerateArray().Any(i => ids.Contains(i.GetString()!)));
                var feed = await api.GetFromJsonAsync<JsonElement>($"/api/v1/people/{person.GetProperty("id").GetGuid()}/events?pageSize=1");
                var newest = feed.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("time").GetDateTimeOffset()).FirstOrDefault();
                result.Add(new Expected(
                    group.Key,
                    theirs.Count(s => s.Status == "active"), theirs.Count(s => s.Status == "trialing"), theirs.Count(s => s.Status == "past_due"),
                    relevant?.Status, relevant?.TrialEnd, newest == default ? null : newest,
                    theirOrders.Count == 0 ? null : theirOrders.Max(o => o.Time),
                    theirOrders.GroupBy(o => o.Currency).ToDictionary(g => g.Key, g => g.Sum(o => o.Net))));
            }

            return result;
        }
    }

    private static DateTimeOffset Now => DateTimeOffset.UtcNow;

    private static bool IsCustomer(Expected p) => p.Active > 0 || p.PastDue > 0;

    public static TheoryData<string> Segments() =>
    [
        "syncing-with-stripe", "current-trials", "slipping-trials", "slipping-customers", "expired-trials", "customers",
        "churned-customers", "past-due-subscriptions", "no-order-in-6-months", "high-value",
    ];

    /// <summary>Who belongs in each predefined segment (SPEC §5), read from the simulator's objects.</summary>
    private Func<Expected, bool> Rule(string id) => id switch
    {
        "syncing-with-stripe" => _ => true,
        "current-trials" => p => p.Trialing > 0,
        "slipping-trials" => p => p.Trialing > 0 && p.LastActivity < Now.AddDays(-2),
        "slipping-customers" => p => IsCustomer(p) && p.LastActivity < Now.AddDays(-15),
        "expired-trials" => p => p.TrialEnd < Now.UtcDateTime && p.Status is not ("active" or "trialing" or "past_due"),
        "customers" => IsCustomer,
        "churned-customers" => p => p.Status is "canceled" or "incomplete_expired" or "unpaid",
        "past-due-subscriptions" => p => p.PastDue > 0,
        "no-order-in-6-months" => p => p.LastOrder < Now.UtcDateTime.AddDays(-183),
        "high-value" => p => p.Sales.GetValueOrDefault(MainCurrency()) > 100_000,
        _ => throw new ArgumentOutOfRangeException(nameof(id)),
    };

    [Theory]
    [MemberData(nameof(Segments))]
    public async Task Predefined_segment_has_exactly_the_people_the_simulators_objects_say(string id)
    {
        var expected = imported.People.Where(Rule(id)).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();

        var members = await MembersAsync(id);
        var listed = (await imported.Api.GetFromJsonAsync<JsonElement>("/api/v1/segments")).GetProperty("items").EnumerateArray()
            .Single(s => s.GetProperty("id").GetString() == id);

        Assert.Equal(expected, members);
        Assert.Equal(expected.Count, listed.GetProperty("count").GetInt32());
        Assert.True(listed.GetProperty("predefined").GetBoolean());
    }

    [Theory]
    [MemberData(nameof(Segments))]
    public void The_generated_account_gives_every_predefined_segment_members_and_non_members(string id)
    {
        var people = imported.People;
        // Without members, the theory above could pass by comparing empty sets; without non-members, by listing everyone.
        Assert.Contains(people, p => Rule(id)(p));
        if (id != "syncing-with-stripe")
        {
            Assert.Contains(people, p => !Rule(id)(p));
        }
    }

    [Fact]
    public void High_value_has_buyers_on_both_sides_of_its_threshold()
    {
        Assert.Contains(imported.People, p => p.Sales.GetValueOrDefault(MainCurrency()) is > 0 and <= 100_000);
    }

    [Fact]
    public async Task Csv_export_parses_back_to_the_same_members_and_fields()
    {
        var response = await imported.Api.GetAsync("/api/v1/segments/customers/members.csv");
        var text = await response.Content.ReadAsStringAsync();
        var rows = Csv.Parse(text);
        var members = await AllMembersAsync("customers");

        Assert.Equal("text/csv; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(["id", .. Core.Processing.PersonFields.Tokens], rows[0]);
        Assert.Equal(members.Count, rows.Count - 1);
        foreach (var (row, person) in rows.Skip(1).Zip(members))
        {
            Assert.Equal(person.GetProperty("id").GetString(), row[0]);
            var fields = person.GetProperty("fields");
            Assert.Equal(Str(fields, "email"), row[1]);
            Assert.Equal(Str(fields, "last_name"), row[3]);
            Assert.Equal(Str(fields, "address"), row[5]);
            Assert.Equal(Str(fields, "stripe_subscription_status"), row[1 + Core.Processing.PersonFields.Tokens.IndexOf("stripe_subscription_status")]);
            var sales = fields.GetProperty("stripe_total_sales").EnumerateObject().Select(p => $"{p.Name}={p.Value.GetInt64()}");
            Assert.Equal(string.Join(";", sales), row[1 + Core.Processing.PersonFields.Tokens.IndexOf("stripe_total_sales")]);
        }
    }

    [Fact]
    public async Task Csv_export_follows_the_field_mapping_of_the_connect_wizard()
    {
        var mappings = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Core.Connections.FieldMappings>(imported.App.Services);
        await mappings.SaveAsync(
        [
            new Core.Connections.FieldMapping { Token = "email", Target = "email_address" },
            new Core.Connections.FieldMapping { Token = "phone", Enabled = false },
            new Core.Connections.FieldMapping { Token = "stripe_subscription_status", Target = "plan_status", Custom = true },
        ], default);
        try
        {
            var rows = Csv.Parse(await imported.Api.GetStringAsync("/api/v1/segments/customers/members.csv"));
            var members = await AllMembersAsync("customers");

            Assert.Equal("email_address", rows[0][1]);
            Assert.DoesNotContain("phone", rows[0]);
            Assert.DoesNotContain("email", rows[0]);
            Assert.Equal(Core.Processing.PersonFields.Tokens.Count, rows[0].Length); // id, and every token but phone
            var status = Array.IndexOf(rows[0], "custom.plan_status");
            Assert.True(status > 0);
            Assert.Equal(Str(members[0].GetProperty("fields"), "email"), rows[1][1]);
            Assert.Equal(Str(members[0].GetProperty("fields"), "stripe_subscription_status"), rows[1][status]);
        }
        finally
        {
            await mappings.SaveAsync([], default);
        }
    }

    private static string Str(JsonElement fields, string token) =>
        fields.GetProperty(token).ValueKind == JsonValueKind.String ? fields.GetProperty(token).GetString()! : "";

    /// <summary>The currency most of the latest 1,000 successful payments use, from the simulator's invoices and charges.</summary>
    private string MainCurrency()
    {
        var sim = imported.Sim;
        var payments = sim.Account.All<InvoicePayment>(livemode: true).Select(p => p.Payment.ChargeId).Where(id => id is not null).ToHashSet();
        return sim.Account.All<Invoice>(livemode: true).Where(i => i.Status == "paid" && i.AmountPaid > 0 && i.CustomerId is not null)
            .Select(i => (Time: i.StatusTransitions.PaidAt!.Value, i.Currency))
            .Concat(sim.Account.All<Charge>(livemode: true).Where(c => c.Status == "succeeded" && c.Paid && c.CustomerId is not null && !payments.Contains(c.Id))
                .Select(c => (Time: c.Created, c.Currency)))
            .OrderByDescending(p => p.Time).Take(1000)
            .GroupBy(p => p.Currency).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
    }

    private async Task<List<string>> MembersAsync(string id) =>
        [.. (await AllMembersAsync(id)).Select(p => p.GetProperty("email").GetString()
            ?? "stripe:" + p.GetProperty("stripeCustomerIds")[0].GetString()).Order(StringComparer.Ordinal)];

    private async Task<List<JsonElement>> AllMembersAsync(string id)
    {
        var members = new List<JsonElement>();
        for (var page = 1; ; page++)
        {
            var result = await imported.Api.GetFromJsonAsync<JsonElement>($"/api/v1/segments/{id}/members?pageSize=20&page={page}");
            members.AddRange(result.GetProperty("items").EnumerateArray());
            if (members.Count >= result.GetProperty("total").GetInt32())
            {
                return members;
            }
        }
    }
}

/// <summary>An RFC 4180 reader, written here so the export is checked by code that did not write it.</summary>
public static class Csv
{
    public static List<string[]> Parse(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(cell.ToString());
                cell.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(cell.ToString());
                cell.Clear();
                rows.Add([.. row]);
                row.Clear();
                i++;
            }
            else
            {
                cell.Append(c);
            }
        }

        Assert.True(row.Count == 0 && cell.Length == 0, "the CSV ends with a line break");
        return rows;
    }

    public static int IndexOf(this IReadOnlyList<string> list, string value) => list.ToList().IndexOf(value);
}
