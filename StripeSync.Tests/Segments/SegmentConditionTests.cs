using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StripeSync.Core.Connections;
using StripeSync.Core.People;
using StripeSync.Core.Persistence;
using StripeSync.Core.Segments;
using StripeSync.Tests.Support;
using static StripeSync.Core.Segments.SegmentCondition;

namespace StripeSync.Tests.Segments;

/// <summary>
/// Every operator of every field kind, and metric conditions, on a handful of hand-built people whose expected
/// membership is written out by hand. The same cases run on SQLite and on PostgreSQL.
/// </summary>
public sealed class SegmentConditionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static string Ago(int days) => JsonSerializer.Serialize(Now.AddDays(-days)).Trim('"');

    /// <summary>The people: ada (trialing, active in the product), bob (active customer, quiet), cy (canceled), dee (a lead), eve (test mode).</summary>
    private static readonly (string Name, ConnectionMode Mode, int? LastActivityDaysAgo, Dictionary<string, object?> Fields)[] People =
    [
        ("ada", ConnectionMode.Live, 1, new()
        {
            ["email"] = "ada@example.com", ["first_name"] = "Ada", ["city"] = "London", ["country"] = "GB", ["stripe_customer_id"] = "cus_ada",
            ["stripe_subscription_status"] = "trialing", ["stripe_subscription_trial"] = 1, ["stripe_subscription_active"] = 0,
            ["stripe_trial_end"] = Ago(-5), ["stripe_delinquent"] = false, ["stripe_total_orders"] = 0,
            ["stripe_total_sales"] = new Dictionary<string, long>(), ["stripe_mrr"] = new Dictionary<string, long>(),
            ["stripe_order_products"] = new List<string>(), ["stripe_card_exp_year"] = 2027,
        }),
        ("bob", ConnectionMode.Live, 20, new()
        {
            ["email"] = "bob@example.com", ["first_name"] = "Bob", ["city"] = "Paris 100%_off", ["country"] = "US", ["stripe_customer_id"] = "cus_bob",
            ["stripe_subscription_status"] = "active", ["stripe_subscription_trial"] = 0, ["stripe_subscription_active"] = 2,
            ["stripe_trial_end"] = Ago(400), ["stripe_delinquent"] = true, ["stripe_total_orders"] = 12,
            ["stripe_total_sales"] = new Dictionary<string, long> { ["usd"] = 250_000, ["eur"] = 900 },
            ["stripe_mrr"] = new Dictionary<string, long> { ["usd"] = 4_900 },
            ["stripe_order_products"] = new List<string> { "Pro plan", "Extra seats" }, ["stripe_card_exp_year"] = 2025,
            ["stripe_last_create_order_date"] = Ago(10),
        }),
        ("cy", ConnectionMode.Live, 200, new()
        {
            ["email"] = "cy@example.com", ["first_name"] = "Cy", ["country"] = "us", ["stripe_customer_id"] = "cus_cy",
            ["stripe_subscription_status"] = "canceled", ["stripe_subscription_trial"] = 0, ["stripe_subscription_active"] = 0,
            ["stripe_delinquent"] = false, ["stripe_total_orders"] = 1,
            ["stripe_total_sales"] = new Dictionary<string, long> { ["eur"] = 120_000 },
            ["stripe_mrr"] = new Dictionary<string, long>(),
            ["stripe_order_products"] = new List<string> { "Basic plan" }, ["stripe_last_create_order_date"] = Ago(300),
        }),
        ("dee", ConnectionMode.Live, null, new() { ["email"] = "dee@example.com" }),
        ("eve", ConnectionMode.Test, 1, new()
        {
            ["email"] = "eve@example.com", ["country"] = "US", ["stripe_customer_id"] = "cus_eve", ["stripe_subscription_status"] = "trialing", ["stripe_subscription_trial"] = 1,
            // Test mode's money must not leak into live segments (person_amounts is filtered by mode).
            ["stripe_total_sales"] = new Dictionary<string, long> { ["usd"] = 900_000 }, ["stripe_mrr"] = new Dictionary<string, long> { ["usd"] = 100 },
        }),
    ];

    /// <summary>(name, person, metric, days ago) for the metric conditions.</summary>
    private static readonly (string Person, string Metric, int DaysAgo)[] Events =
    [
        ("ada", "Logged In", 1), ("ada", "Logged In", 2), ("ada", "Logged In", 3), ("ada", "Successfully Paid", 40),
        ("bob", "Logged In", 20), ("bob", "Successfully Paid", 5), ("bob", "Successfully Paid", 35),
        ("eve", "Logged In", 1),
    ];

    public static TheoryData<string> CaseNames() => [.. Cases().Select(c => c.Name)];

    private static IEnumerable<(string Name, SegmentDefinition Definition, string[] Expected)> Cases()
    {
        static SegmentDefinition All(params SegmentCondition[] c) => new() { Match = SegmentMatch.All, Conditions = [.. c] };
        static SegmentDefinition Any(params SegmentCondition[] c) => new() { Match = SegmentMatch.Any, Conditions = [.. c] };

        yield return ("text equals, any case", All(OnField("stripe_subscription_status", FieldOperator.Equals, "TRIALING")), ["ada"]);
        yield return ("text not equals includes people without the field", All(OnField("stripe_subscription_status", FieldOperator.NotEquals, "trialing")), ["bob", "cy", "dee"]);
        yield return ("text contains", All(OnField("email", FieldOperator.Contains, "B@EXAMPLE")), ["bob"]);
        yield return ("contains treats % and _ as text", All(OnField("city", FieldOperator.Contains, "100%_")), ["bob"]);
        yield return ("contains a quote is just text", All(OnField("city", FieldOperator.Contains, "' OR 1=1 --")), []);
        yield return ("text is set", All(OnField("city", FieldOperator.IsSet)), ["ada", "bob"]);
        yield return ("text is not set", All(OnField("city", FieldOperator.IsNotSet)), ["cy", "dee"]);
        // country is a lower-cased column (docs/decisions/0015): the same answers as a field read from the JSON.
        yield return ("country equals, any case", All(OnField("country", FieldOperator.Equals, " Us ")), ["bob", "cy"]);
        yield return ("country not equals includes people without it", All(OnField("country", FieldOperator.NotEquals, "us")), ["ada", "dee"]);
        yield return ("country contains", All(OnField("country", FieldOperator.Contains, "B")), ["ada"]);
        yield return ("country is set", All(OnField("country", FieldOperator.IsSet)), ["ada", "bob", "cy"]);
        yield return ("country is not set", All(OnField("country", FieldOperator.IsNotSet)), ["dee"]);
        yield return ("status, country and a metric", All(OnField("stripe_subscription_status", FieldOperator.Equals, "active"),
            OnField("country", FieldOperator.Equals, "US"), OnMetric("Successfully Paid", MetricOperator.Did, 1, 30)), ["bob"]);
        yield return ("number greater than", All(OnField("stripe_total_orders", FieldOperator.GreaterThan, "1")), ["bob"]);
        yield return ("number less than", All(OnField("stripe_total_orders", FieldOperator.LessThan, "1")), ["ada"]);
        yield return ("number equals", All(OnField("stripe_card_exp_year", FieldOperator.Equals, "2025")), ["bob"]);
        yield return ("number not equals", All(OnField("stripe_card_exp_year", FieldOperator.NotEquals, "2025")), ["ada", "cy", "dee"]);
        yield return ("number with a decimal", All(OnField("stripe_total_orders", FieldOperator.GreaterThan, "11.5")), ["bob"]);
        yield return ("number is set", All(OnField("stripe_card_exp_year", FieldOperator.IsSet)), ["ada", "bob"]);
        yield return ("number is not set", All(OnField("stripe_total_orders", FieldOperator.IsNotSet)), ["dee"]);
        yield return ("bool equals true", All(OnField("stripe_delinquent", FieldOperator.Equals, "true")), ["bob"]);
        yield return ("bool equals false", All(OnField("stripe_delinquent", FieldOperator.Equals, "false")), ["ada", "cy"]);
        yield return ("bool not equals true", All(OnField("stripe_delinquent", FieldOperator.NotEquals, "true")), ["ada", "cy", "dee"]);
        yield return ("bool is not set", All(OnField("stripe_delinquent", FieldOperator.IsNotSet)), ["dee"]);
        yield return ("time within the last N days", All(OnField("stripe_last_create_order_date", FieldOperator.WithinLastDays, days: 30)), ["bob"]);
        yield return ("time more than N days ago", All(OnField("stripe_last_create_order_date", FieldOperator.MoreThanDaysAgo, days: 183)), ["cy"]);
        yield return ("time more than 0 days ago is in the past", All(OnField("stripe_trial_end", FieldOperator.MoreThanDaysAgo, days: 0)), ["bob"]);
        yield return ("time after a day", All(OnField("stripe_trial_end", FieldOperator.GreaterThan, Now.AddDays(4).ToString("yyyy-MM-dd"))), ["ada"]);
        yield return ("time before a day", All(OnField("stripe_trial_end", FieldOperator.LessThan, Now.ToString("yyyy-MM-dd"))), ["bob"]);
        yield return ("time is set", All(OnField("stripe_trial_end", FieldOperator.IsSet)), ["ada", "bob"]);
        yield return ("last activity more than N days ago", All(OnField("last_activity", FieldOperator.MoreThanDaysAgo, days: 15)), ["bob", "cy"]);
        yield return ("last activity within N days", All(OnField("last_activity", FieldOperator.WithinLastDays, days: 2)), ["ada"]);
        yield return ("last activity not set", All(OnField("last_activity", FieldOperator.IsNotSet)), ["dee"]);
        yield return ("money in a currency above", All(OnField("stripe_total_sales", FieldOperator.GreaterThan, "100000", currency: "usd")), ["bob"]);
        yield return ("money in a currency below counts a missing currency as 0", All(OnField("stripe_total_sales", FieldOperator.LessThan, "1000", currency: "usd")), ["ada", "cy", "dee"]);
        yield return ("money in any currency above", All(OnField("stripe_total_sales", FieldOperator.GreaterThan, "100000")), ["bob", "cy"]);
        yield return ("money equals in a currency", All(OnField("stripe_total_sales", FieldOperator.Equals, "900", currency: "eur")), ["bob"]);
        yield return ("money is set", All(OnField("stripe_mrr", FieldOperator.IsSet)), ["bob"]);
        yield return ("money is not set", All(OnField("stripe_mrr", FieldOperator.IsNotSet)), ["ada", "cy", "dee"]);
        yield return ("money not equals in a currency counts a missing currency as 0", All(OnField("stripe_total_sales", FieldOperator.NotEquals, "900", currency: "eur")), ["ada", "cy", "dee"]);
        yield return ("money in any currency below", All(OnField("stripe_total_sales", FieldOperator.LessThan, "1000")), ["bob"]);
        yield return ("money in a currency is set", All(OnField("stripe_total_sales", FieldOperator.IsSet, currency: "usd")), ["bob"]);
        yield return ("money in a currency is not set", All(OnField("stripe_total_sales", FieldOperator.IsNotSet, currency: "eur")), ["ada", "dee"]);
        yield return ("list contains", All(OnField("stripe_order_products", FieldOperator.Contains, "pro")), ["bob"]);
        yield return ("list is set", All(OnField("stripe_order_products", FieldOperator.IsSet)), ["bob", "cy"]);
        yield return ("list is not set", All(OnField("stripe_order_products", FieldOperator.IsNotSet)), ["ada", "dee"]);
        yield return ("did a metric at least once", All(OnMetric("Logged In", MetricOperator.Did, 1, 7)), ["ada"]);
        yield return ("did a metric at least N times", All(OnMetric("Logged In", MetricOperator.Did, 3, 7)), ["ada"]);
        yield return ("did a metric N times needs all N in the window", All(OnMetric("Logged In", MetricOperator.Did, 3, 2)), []);
        yield return ("did not do a metric", All(OnMetric("Successfully Paid", MetricOperator.DidNot, 1, 30)), ["ada", "cy", "dee"]);
        yield return ("did not do a metric at least twice", All(OnMetric("Successfully Paid", MetricOperator.DidNot, 2, 60)), ["ada", "cy", "dee"]);
        yield return ("AND", All(OnField("email", FieldOperator.Contains, "example.com"), OnField("stripe_total_orders", FieldOperator.GreaterThan, "0")), ["bob", "cy"]);
        yield return ("OR", Any(OnField("first_name", FieldOperator.Equals, "ada"), OnField("first_name", FieldOperator.Equals, "cy")), ["ada", "cy"]);
        yield return ("AND of an OR group", All(
            Of(SegmentMatch.Any, OnField("stripe_subscription_status", FieldOperator.Equals, "active"), OnField("stripe_subscription_status", FieldOperator.Equals, "canceled")),
            OnMetric("Successfully Paid", MetricOperator.Did, 1, 30)), ["bob"]);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Condition_selects_the_expected_people_on_sqlite(string name)
    {
        await using var db = await SeededAsync(DatabaseProvider.Sqlite);
        var (_, definition, expected) = Cases().Single(c => c.Name == name);

        Assert.Equal(expected, await db.MembersAsync(definition));
        Assert.Equal(expected.Length, await db.Queries.CountAsync(definition, ConnectionMode.Live, CancellationToken.None));
    }

    [PostgresFact]
    public async Task Every_condition_selects_the_same_people_on_postgres()
    {
        await using var db = await SeededAsync(DatabaseProvider.Postgres);
        foreach (var (name, definition, expected) in Cases())
        {
            var actual = await db.MembersAsync(definition);
            Assert.True(expected.SequenceEqual(actual), $"{name}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}]");
        }
    }

    [Fact]
    public async Task Test_mode_people_are_only_in_test_mode_segments()
    {
        await using var db = await SeededAsync(DatabaseProvider.Sqlite);
        var trialing = new SegmentDefinition { Conditions = [OnField("stripe_subscription_trial", FieldOperator.GreaterThan, "0")] };

        var (items, total) = await db.Queries.MembersAsync(trialing, ConnectionMode.Test, 1, 50, CancellationToken.None);

        Assert.Equal(1, total);
        Assert.Equal("eve@example.com", items.Single().Email);
    }

    [Fact]
    public void Validation_explains_each_mistake_in_a_sentence()
    {
        var definition = new SegmentDefinition
        {
            Conditions =
            [
                OnField("stripe_nope", FieldOperator.Equals, "x"),
                OnField("email", FieldOperator.GreaterThan, "x"),
                OnField("stripe_total_orders", FieldOperator.GreaterThan, "many"),
                OnField("last_activity", FieldOperator.WithinLastDays),
                OnMetric("Logged In", MetricOperator.Did, 0, 7),
                Of(SegmentMatch.Any),
            ],
        };

        var problems = definition.Validate();

        Assert.Equal(6, problems.Count);
        Assert.Contains(problems, p => p.Contains("no field 'stripe_nope'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Email cannot use \"is more than\"", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("\"many\" is not one", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("number of days", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("at least", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("group without conditions", StringComparison.Ordinal));
        Assert.All(problems, p => Assert.EndsWith(".", p, StringComparison.Ordinal));
        Assert.Equal(["Add at least one condition."], new SegmentDefinition().Validate());
    }

    [Fact]
    public void Definition_round_trips_through_json_with_readable_operators()
    {
        var definition = new SegmentDefinition
        {
            Match = SegmentMatch.Any,
            Conditions = [OnField("stripe_subscription_status", FieldOperator.NotEquals, "active"), OnMetric("Logged In", MetricOperator.DidNot, 2, 7)],
        };

        var json = definition.ToJson();

        Assert.Contains("\"match\":\"any\"", json, StringComparison.Ordinal);
        Assert.Contains("\"operator\":\"notEquals\"", json, StringComparison.Ordinal);
        Assert.Contains("\"did\":\"didNot\"", json, StringComparison.Ordinal);
        Assert.Equal(json, SegmentDefinition.FromJson(json).ToJson());
    }

    [Fact]
    public void Every_field_token_of_the_spec_can_be_filtered_on()
    {
        Assert.Equal(Core.Processing.PersonFields.Tokens, SegmentFields.All.Select(f => f.Token));
        Assert.All(SegmentFields.All, f => Assert.NotEmpty(f.Operators));
    }

    private sealed class Seeded(ServiceProvider services, TestDatabase database) : IAsyncDisposable
    {
        public SegmentQueries Queries { get; } = new(services.GetRequiredService<IDbContextFactory<AppDbContext>>(), new FakeTimeProvider(Now));

        public async Task<string[]> MembersAsync(SegmentDefinition definition)
        {
            var (items, _) = await Queries.MembersAsync(definition, ConnectionMode.Live, 1, 100, CancellationToken.None);
            return [.. items.Select(p => p.Email!.Split('@')[0]).Order(StringComparer.Ordinal)];
        }

        public async ValueTask DisposeAsync()
        {
            await services.DisposeAsync();
            await database.DisposeAsync();
        }
    }

    private static async Task<Seeded> SeededAsync(DatabaseProvider provider)
    {
        var database = TestDatabase.Create(provider);
        var services = new ServiceCollection()
            .AddStripeSyncDatabase(new DatabaseOptions { Provider = provider, ConnectionString = database.ConnectionString })
            .BuildServiceProvider();
        var factory = services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await DatabaseSetup.MigrateAsync(factory, CancellationToken.None);
        await using var db = await factory.CreateDbContextAsync();
        var ids = new Dictionary<string, Guid>();
        foreach (var (name, mode, lastActivity, fields) in People)
        {
            var all = Core.Processing.PersonFields.Tokens.ToDictionary(t => t, t => fields.GetValueOrDefault(t));
            all["last_activity"] = lastActivity is { } d ? Ago(d) : null;
            ids[name] = Guid.NewGuid();
            var person = new Person
            {
                Id = ids[name], Mode = mode, Key = $"{name}@example.com", Email = $"{name}@example.com", Identified = true,
                LastActivity = lastActivity is { } days ? Now.AddDays(-days).ToUnixTimeMilliseconds() : null,
            };
            person.SetFields(JsonSerializer.Serialize(all));
            db.People.Add(person);
        }

        var n = 0;
        foreach (var (person, metric, daysAgo) in Events)
        {
            var time = Now.AddDays(-daysAgo).ToUnixTimeMilliseconds();
            var mode = People.Single(p => p.Name == person).Mode;
            db.MetricEvents.Add(new StoredMetricEvent
            {
                Mode = mode, Metric = metric, NaturalKey = $"test:{n++}", Time = time, Day = (int)(time / 86_400_000), PersonId = ids[person],
            });
        }

        await db.SaveChangesAsync();
        return new Seeded(services, database);
    }
}
