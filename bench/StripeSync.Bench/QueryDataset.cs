using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using StripeSync.Core.Connections;
using StripeSync.Core.People;
using StripeSync.Core.Processing;

namespace StripeSync.Bench;

/// <summary>
/// A large audience written straight into a migrated StripeSync database (scenario 4): people whose FieldsJson is
/// serialised from the same token → typed value dictionary DeriveJob writes, with the promoted columns set by
/// <see cref="Person.SetFields"/> itself, and metric events of every metric over two years. Deterministic (one seed),
/// so SQLite and PostgreSQL hold the same rows. The indexes the migrations made are dropped during the load and
/// rebuilt afterwards from their own definitions (one sort per index instead of 10 million random inserts). The money
/// fields' rows of <c>person_amounts</c> come from <see cref="Person.Amounts"/>, which SetFields fills as it does for DeriveJob.
/// </summary>
public sealed class QueryDataset(int people, int events, Guid connectionId, DateTimeOffset end)
{
    private const ConnectionMode Mode = ConnectionMode.Live;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web); // as DeriveJob serialises fields
    private static readonly string[] Tables = ["people", "person_customers", "person_amounts", "metric_events"];

    private static readonly string[] FirstNames =
    [
        "james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "william", "elizabeth", "david", "barbara",
        "richard", "susan", "joseph", "jessica", "thomas", "sarah", "charles", "karen", "lukas", "emma", "noah", "olivia", "liam",
        "sofia", "mateo", "yuki", "hiroshi", "ana", "pedro", "chen", "wei", "fatima", "omar", "ingrid", "lars", "anika", "raj", "priya",
    ];

    private static readonly string[] LastNames =
    [
        "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez", "hernandez",
        "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson", "martin", "lee", "perez", "thompson",
        "white", "harris", "sanchez", "clark", "ramirez", "lewis", "robinson", "walker", "young", "allen", "king", "wright", "mueller",
        "schmidt", "rossi", "dubois", "tanaka", "kowalski", "nguyen", "larsen", "novak", "silva", "costa",
    ];

    private static readonly string[] Domains = ["gmail.com", "outlook.com", "yahoo.com", "acme.io", "example.org", "proton.me", "icloud.com", "fastmail.com"];
    private static readonly string[] Countries = ["US", "US", "US", "US", "GB", "DE", "FR", "CA", "AU", "NL", "ES", "JP", "BR", "IN"];

    private static readonly (string Id, string Name, long Amount, string Interval)[] Plans =
    [
        ("price_starter_m", "Starter", 900, "month"), ("price_pro_m", "Pro", 2900, "month"), ("price_team_m", "Team", 9900, "month"),
        ("price_pro_y", "Pro", 29000, "year"), ("price_enterprise_m", "Enterprise", 49900, "month"),
    ];

    /// <summary>Share of events per metric: recurring billing dominates, as in a subscription business.</summary>
    private static readonly (string Metric, double Weight, string Prefix)[] MetricMix =
    [
        (Metrics.SubscriptionBilled, 20, "in"), (Metrics.SuccessfullyPaid, 22, "in"), (Metrics.IssuedInvoice, 22, "in"),
        (Metrics.CustomerCreated, 10, "cus"), (Metrics.FailedPayment, 4, "ch"), (Metrics.RefundedPayment, 1.5, "ch"),
        (Metrics.SubscriptionStarted, 5, "sub"), (Metrics.SubscriptionUpgraded, 1.5, "sub"), (Metrics.SubscriptionDowngraded, 1, "sub"),
        (Metrics.SubscriptionCanceled, 3, "sub"), (Metrics.TrialStarted, 3, "sub"), (Metrics.TrialEnded, 2.5, "sub"),
        (Metrics.CheckoutCompleted, 3, "cs"), (Metrics.CheckoutAbandoned, 1.5, "cs"),
    ];

    private readonly long endMs = end.ToUnixTimeMilliseconds();
    private readonly long spanMs = (long)TimeSpan.FromDays(730).TotalMilliseconds;
    private Guid[] ids = [];
    private string[] customerIds = [];

    /// <summary>The person with the most events (the heaviest person page) and one with a typical few.</summary>
    public (Guid Busiest, Guid Typical) SamplePeople() => (ids[0], ids[people / 2]);

    public string SampleEmail() => Email(people / 3, new Random(people / 3));

    public string SampleCustomerId() => customerIds[people / 4];

    /// <summary>Prepares the ids both providers use; cheap, so a cached database needs it too.</summary>
    public void Prepare()
    {
        var random = new Random(4242);
        // Sorted, so the primary key index grows at its end instead of splitting pages all over.
        ids = [.. Enumerable.Range(0, people).Select(_ => new Guid(RandomBytes(random))).Order()];
        customerIds = [.. Enumerable.Range(0, people).Select(i => "cus_" + Base62(random.NextInt64(), 8) + Base62(i, 6))];
    }

    public async Task WriteSqliteAsync(string path, CancellationToken ct)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync(ct);
        await ExecAsync(connection, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000; PRAGMA temp_store=MEMORY;", ct);
        var indexes = await SqliteIndexesAsync(connection, ct);
        foreach (var (name, _) in indexes)
        {
            await ExecAsync(connection, $"DROP INDEX \"{name}\"", ct);
        }

        await using (var transaction = connection.BeginTransaction())
        {
            await using var person = Insert(connection, "people", PersonColumns);
            await using var link = Insert(connection, "person_customers", LinkColumns);
            await using var amount = Insert(connection, "person_amounts", AmountColumns);
            await using var metric = Insert(connection, "metric_events", MetricColumns);
            var clock = Stopwatch.StartNew();
            foreach (var row in PersonRows())
            {
                Bind(person, row.Person);
                person.ExecuteNonQuery();
                Bind(link, row.Link);
                link.ExecuteNonQuery();
                foreach (var money in row.Amounts)
                {
                    Bind(amount, money);
                    amount.ExecuteNonQuery();
                }
            }

            Console.WriteLine($"  people written in {clock.Elapsed.TotalSeconds:N0} s");
            foreach (var row in MetricRows())
            {
                Bind(metric, row);
                metric.ExecuteNonQuery();
            }

            Console.WriteLine($"  metric events written in {clock.Elapsed.TotalSeconds:N0} s");
            await transaction.CommitAsync(ct);
        }

        var rebuild = Stopwatch.StartNew();
        foreach (var (_, sql) in indexes)
        {
            await ExecAsync(connection, sql, ct);
        }

        Console.WriteLine($"  {indexes.Count} indexes rebuilt in {rebuild.Elapsed.TotalSeconds:N0} s");
        await ExecAsync(connection, "PRAGMA journal_mode=WAL;", ct);
    }

    public async Task WritePostgresAsync(string connectionString, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await ExecAsync(connection, "SET maintenance_work_mem = '1GB'", ct);
        var indexes = new List<(string Name, string Sql)>();
        await using (var command = new NpgsqlCommand(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(@t) AND indexname NOT LIKE 'PK\\_%'", connection))
        {
            command.Parameters.AddWithValue("t", Tables);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                indexes.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        foreach (var (name, _) in indexes)
        {
            await ExecAsync(connection, $"DROP INDEX \"{name}\"", ct);
        }

        var clock = Stopwatch.StartNew();
        var links = new List<object?[]>(people);
        var amounts = new List<object?[]>(people);
        await using (var copy = await connection.BeginBinaryImportAsync(Copy("people", PersonColumns), ct))
        {
            foreach (var row in PersonRows())
            {
                await WriteAsync(copy, row.Person, ct, Array.IndexOf(PersonColumns, "FieldsJson")); // jsonb on PostgreSQL
                links.Add(row.Link);
                amounts.AddRange(row.Amounts);
            }

            await copy.CompleteAsync(ct);
        }

        await using (var copy = await connection.BeginBinaryImportAsync(Copy("person_amounts", AmountColumns), ct))
        {
            foreach (var row in amounts)
            {
                await WriteAsync(copy, row, ct);
            }

            await copy.CompleteAsync(ct);
        }

        await using (var copy = await connection.BeginBinaryImportAsync(Copy("person_customers", LinkColumns), ct))
        {
            foreach (var row in links)
            {
                await WriteAsync(copy, row, ct);
            }

            await copy.CompleteAsync(ct);
        }

        Console.WriteLine($"  people written in {clock.Elapsed.TotalSeconds:N0} s");
        await using (var copy = await connection.BeginBinaryImportAsync(Copy("metric_events", MetricColumns), ct))
        {
            foreach (var row in MetricRows())
            {
                await WriteAsync(copy, row, ct);
            }

            await copy.CompleteAsync(ct);
        }

        Console.WriteLine($"  metric events written in {clock.Elapsed.TotalSeconds:N0} s");
        var rebuild = Stopwatch.StartNew();
        foreach (var (_, sql) in indexes)
        {
            await ExecAsync(connection, sql, ct);
        }

        // What autovacuum would do shortly after such a load; without statistics the planner guesses row counts.
        await ExecAsync(connection, "VACUUM ANALYZE", ct);
        Console.WriteLine($"  {indexes.Count} indexes rebuilt and analysed in {rebuild.Elapsed.TotalSeconds:N0} s");
    }

    private static readonly string[] PersonColumns =
    [
        "Id", "Mode", "Key", "Email", "Identified", "Name", "SearchText", "EmailUnsubscribed", "FieldsJson", "LastActivity", "CreatedAt", "UpdatedAt",
        "StripeCustomerId", "SubscriptionStatus", "ActiveSubscriptions", "TrialingSubscriptions", "PastDueSubscriptions", "TrialEnd", "LastOrderAt", "Country",
    ];

    private static readonly string[] LinkColumns = ["ConnectionId", "CustomerId", "PersonId"];

    private static readonly string[] AmountColumns = ["PersonId", "Mode", "Token", "Currency", "Amount"];

    private static readonly string[] MetricColumns =
    [
        "Mode", "ConnectionId", "Metric", "NaturalKey", "Time", "Day", "PersonId", "CustomerId", "Amount", "Currency", "PropertiesJson", "SourceId", "FromState",
    ];

    private IEnumerable<(object?[] Person, object?[] Link, object?[][] Amounts)> PersonRows()
    {
        for (var i = 0; i < people; i++)
        {
            var random = new Random(i);
            var person = MakePerson(i, random);
            yield return (
                [
                    person.Id, (int)person.Mode, person.Key, person.Email, person.Identified, person.Name, person.SearchText, person.EmailUnsubscribed,
                    person.FieldsJson, person.LastActivity, person.CreatedAt, person.UpdatedAt, person.StripeCustomerId, person.SubscriptionStatus,
                    person.ActiveSubscriptions, person.TrialingSubscriptions, person.PastDueSubscriptions, person.TrialEnd, person.LastOrderAt, person.Country,
                ],
                [connectionId, customerIds[i], person.Id],
                [.. person.Amounts.Select(a => new object?[] { a.PersonId, (int)a.Mode, a.Token, a.Currency, a.Amount })]);
        }
    }

    private Person MakePerson(int i, Random random)
    {
        var identified = random.NextDouble() < 0.92;
        var first = FirstNames[random.Next(FirstNames.Length)];
        var last = LastNames[random.Next(LastNames.Length)];
        var email = identified ? Email(i, new Random(i)) : null;
        var name = random.NextDouble() < 0.85 ? $"{Capital(first)} {Capital(last)}" : null;
        var customer = customerIds[i];
        var created = endMs - (long)(spanMs * (1 - Math.Sqrt(random.NextDouble()))); // more customers recently: a growing business
        var lastActivity = endMs - (long)((endMs - created) * Math.Pow(random.NextDouble(), 2));
        var u = random.NextDouble();
        var status = u < 0.35 ? "active" : u < 0.40 ? "trialing" : u < 0.43 ? "past_due" : u < 0.58 ? "canceled" : u < 0.60 ? "unpaid" : null;
        var plan = Plans[random.Next(Plans.Length)];
        var currency = random.NextDouble() < 0.85 ? "usd" : random.NextDouble() < 0.66 ? "eur" : "gbp";
        var fields = PersonFields.Tokens.ToDictionary(t => t, _ => (object?)null, StringComparer.Ordinal);
        var country = Countries[random.Next(Countries.Length)];
        fields["email"] = email;
        fields["first_name"] = name is null ? null : Capital(first);
        fields["last_name"] = name is null ? null : Capital(last);
        fields["phone"] = random.NextDouble() < 0.4 ? $"+1555{random.Next(1_000_000, 9_999_999)}" : null;
        fields["address"] = random.NextDouble() < 0.6 ? $"{random.Next(1, 999)} Main Street" : null;
        fields["city"] = fields["address"] is null ? null : "Springfield";
        fields["postal_code"] = fields["address"] is null ? null : random.Next(10000, 99999).ToString(CultureInfo.InvariantCulture);
        fields["country"] = fields["address"] is null ? null : country;
        fields["email_unsubscribed"] = random.NextDouble() < 0.03;
        fields["stripe_customer_id"] = customer;
        fields["stripe_delinquent"] = status == "past_due";
        fields["stripe_currency"] = currency;
        fields["stripe_created"] = Time(created);
        fields["stripe_mrr"] = status is "active" or "past_due"
            ? new Dictionary<string, long> { [currency] = plan.Interval == "year" ? plan.Amount / 12 : plan.Amount }
            : new Dictionary<string, long>();
        if (random.NextDouble() < 0.7)
        {
            fields["stripe_card_brand"] = random.NextDouble() < 0.6 ? "visa" : "mastercard";
            fields["stripe_card_last4"] = random.Next(1000, 9999).ToString(CultureInfo.InvariantCulture);
            fields["stripe_card_exp_month"] = (long)random.Next(1, 13);
            fields["stripe_card_exp_year"] = (long)random.Next(2026, 2032);
        }

        var orders = 0;
        long? lastOrder = null;
        long? firstOrder = null;
        if (status is not null)
        {
            var subscriptionCreated = created + (long)(random.NextDouble() * 86_400_000 * 3);
            var trialEnd = subscriptionCreated + 14 * 86_400_000L;
            var canceledAt = status is "canceled" or "unpaid" ? subscriptionCreated + (long)((endMs - subscriptionCreated) * random.NextDouble()) : (long?)null;
            fields["stripe_subscription_id"] = "sub_" + Base62(random.NextInt64(), 14);
            fields["stripe_subscription_status"] = status;
            if (status == "trialing" || random.NextDouble() < 0.3)
            {
                fields["stripe_trial_start"] = Time(status == "trialing" ? endMs - random.Next(1, 14) * 86_400_000L : subscriptionCreated);
                fields["stripe_trial_end"] = Time(status == "trialing" ? endMs + random.Next(1, 14) * 86_400_000L : trialEnd);
            }

            fields["stripe_subscription_created"] = Time(subscriptionCreated);
            fields["stripe_subscription_canceled_at"] = canceledAt is { } c ? Time(c) : null;
            fields["stripe_cancel_at_period_end"] = status == "active" && random.NextDouble() < 0.05;
            fields["stripe_current_period_start"] = Time(endMs - random.Next(0, 30) * 86_400_000L);
            fields["stripe_current_period_end"] = Time(endMs + random.Next(1, 30) * 86_400_000L);
            fields["stripe_product_id"] = "prod_" + plan.Name.ToUpperInvariant();
            fields["stripe_product_name"] = plan.Name;
            fields["stripe_price_id"] = plan.Id;
            fields["stripe_plan_nickname"] = $"{plan.Name} ({plan.Interval}ly)";
            fields["stripe_plan_amount"] = plan.Amount;
            fields["stripe_plan_currency"] = currency;
            fields["stripe_plan_interval"] = plan.Interval;
            fields["stripe_plan_interval_count"] = 1L;
            if (status != "trialing")
            {
                var until = canceledAt ?? endMs;
                orders = Math.Max(1, (int)((until - subscriptionCreated) / (30 * 86_400_000L)) / (plan.Interval == "year" ? 12 : 1));
                firstOrder = subscriptionCreated;
                lastOrder = Math.Max(subscriptionCreated, until - random.Next(0, 30) * 86_400_000L);
            }
        }
        else if (random.NextDouble() < 0.5)
        {
            orders = random.Next(1, 4);
            firstOrder = created;
            lastOrder = created + (long)((endMs - created) * random.NextDouble());
        }

        if (orders > 0)
        {
            var amount = status is null ? random.Next(5, 300) * 100L : plan.Amount;
            fields["stripe_last_amount_paid"] = amount;
            fields["stripe_last_payment_currency"] = currency;
            fields["stripe_last_payment_date"] = Time(lastOrder!.Value);
            fields["stripe_last_payment_description"] = status is null ? "One-off purchase" : "Subscription update";
            fields["stripe_total_orders"] = orders;
            fields["stripe_total_sales"] = new Dictionary<string, long> { [currency] = orders * amount };
            fields["stripe_first_create_order_date"] = Time(firstOrder!.Value);
            fields["stripe_last_create_order_date"] = Time(lastOrder.Value);
            fields["stripe_order_status"] = random.NextDouble() < 0.03 ? "refunded" : "paid";
            fields["stripe_order_last_value"] = amount;
            fields["stripe_order_products"] = new List<string> { status is null ? "Gift card" : plan.Name };
        }
        else
        {
            fields["stripe_total_orders"] = 0;
            fields["stripe_total_sales"] = new Dictionary<string, long>();
            fields["stripe_order_products"] = new List<string>();
        }

        fields["stripe_subscription_active"] = status == "active" ? random.NextDouble() < 0.05 ? 2 : 1 : 0;
        fields["stripe_subscription_trial"] = status == "trialing" || (status == "active" && random.NextDouble() < 0.03) ? 1 : 0;
        fields["stripe_subscription_past_due"] = status == "past_due" ? 1 : 0;
        fields["stripe_subscription_paused"] = 0;
        fields["stripe_subscription_cancelled"] = status is "canceled" ? 1 : 0;
        fields["last_activity"] = Time(lastActivity);
        fields["stripe_last_sync_at"] = Time(endMs - random.Next(0, 86_400_000));

        var person = new Person
        {
            Id = ids[i],
            Mode = Mode,
            Key = email ?? "stripe:" + customer,
            Email = email,
            Identified = identified,
            Name = name,
            EmailUnsubscribed = (bool)fields["email_unsubscribed"]!,
            LastActivity = lastActivity,
            CreatedAt = created,
            UpdatedAt = endMs,
        };
        person.SearchText = string.Join(' ', [person.Email, person.Name, customer]).ToLowerInvariant();
        person.SetFields(JsonSerializer.Serialize(fields, Json));
        return person;
    }

    private IEnumerable<object?[]> MetricRows()
    {
        var random = new Random(99);
        var total = MetricMix.Sum(m => m.Weight);
        var row = new object?[MetricColumns.Length];
        for (var i = 0; i < events; i++)
        {
            // A skewed share per person: long-time subscribers have hundreds of events, most people a handful.
            var person = (int)(people * Math.Pow(random.NextDouble(), 1.3));
            var pick = random.NextDouble() * total;
            var mix = MetricMix[^1];
            foreach (var m in MetricMix)
            {
                if ((pick -= m.Weight) < 0)
                {
                    mix = m;
                    break;
                }
            }

            var time = endMs - (long)(spanMs * (1 - Math.Sqrt(random.NextDouble())));
            var source = mix.Prefix + "_" + Base62(i, 10) + Base62(random.NextInt64(), 14);
            var money = mix.Prefix is "in" or "ch" || mix.Metric == Metrics.CheckoutCompleted;
            var currency = random.NextDouble() < 0.85 ? "usd" : random.NextDouble() < 0.66 ? "eur" : "gbp";
            long? amount = money ? Plans[random.Next(Plans.Length)].Amount : null;
            var properties = new StringBuilder("{");
            properties.Append(CultureInfo.InvariantCulture, $"\"{(mix.Prefix == "in" ? "Invoice" : mix.Prefix == "ch" ? "Charge" : mix.Prefix == "cs" ? "Checkout session" : mix.Prefix == "sub" ? "Subscription" : "Stripe id")}\":\"{source}\"");
            if (amount is { } a)
            {
                properties.Append(CultureInfo.InvariantCulture, $",\"Amount\":\"{a}\",\"Currency\":\"{currency}\"");
            }

            if (mix.Prefix is "in" or "sub")
            {
                properties.Append(CultureInfo.InvariantCulture, $",\"Items\":\"{Plans[random.Next(Plans.Length)].Name}\"");
            }

            if (mix.Metric == Metrics.FailedPayment)
            {
                properties.Append(",\"Reason\":\"Your card has insufficient funds.\"");
            }

            properties.Append('}');
            row[0] = (int)Mode;
            row[1] = connectionId;
            row[2] = mix.Metric;
            row[3] = source + ":" + mix.Metric;
            row[4] = time;
            row[5] = (int)Math.Floor(time / 86_400_000d);
            row[6] = random.NextDouble() < 0.02 ? null : ids[person];
            row[7] = customerIds[person];
            row[8] = amount;
            row[9] = amount is null ? null : currency;
            row[10] = properties.ToString();
            row[11] = source;
            row[12] = mix.Prefix != "cs";
            yield return row;
        }
    }

    private static string Email(int i, Random random) =>
        $"{FirstNames[random.Next(FirstNames.Length)]}.{LastNames[random.Next(LastNames.Length)]}{i}@{Domains[random.Next(Domains.Length)]}";

    private static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static string Capital(string word) => char.ToUpperInvariant(word[0]) + word[1..];

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[16];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string Base62(long value, int width)
    {
        const string digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        var n = (ulong)value;
        var chars = new char[width];
        for (var k = width - 1; k >= 0; k--)
        {
            chars[k] = digits[(int)(n % 62)];
            n /= 62;
        }

        return new string(chars);
    }

    private static async Task<List<(string Name, string Sql)>> SqliteIndexesAsync(SqliteConnection connection, CancellationToken ct)
    {
        var indexes = new List<(string, string)>();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({string.Join(',', Tables.Select(t => $"'{t}'"))})";
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            indexes.Add((reader.GetString(0), reader.GetString(1)));
        }

        return indexes;
    }

    private static SqliteCommand Insert(SqliteConnection connection, string table, string[] columns)
    {
        var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO {table} ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) VALUES ({string.Join(", ", columns.Select((_, k) => "$p" + k))})";
        for (var k = 0; k < columns.Length; k++)
        {
            command.Parameters.Add(new SqliteParameter("$p" + k, null));
        }

        command.Prepare();
        return command;
    }

    /// <summary>Values as EF Core's SQLite provider stores them: GUIDs as upper-case text, booleans as 0/1.</summary>
    private static void Bind(SqliteCommand command, object?[] row)
    {
        for (var k = 0; k < row.Length; k++)
        {
            command.Parameters[k].Value = row[k] switch
            {
                null => DBNull.Value,
                Guid g => g.ToString().ToUpperInvariant(),
                bool b => b ? 1 : 0,
                var v => v,
            };
        }
    }

    private static string Copy(string table, string[] columns) =>
        $"COPY {table} ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) FROM STDIN (FORMAT BINARY)";

    private static async Task WriteAsync(NpgsqlBinaryImporter copy, object?[] row, CancellationToken ct, int jsonbColumn = -1)
    {
        await copy.StartRowAsync(ct);
        foreach (var (value, k) in row.Select((v, k) => (v, k)))
        {
            switch (value)
            {
                case null: await copy.WriteNullAsync(ct); break;
                case string json when k == jsonbColumn: await copy.WriteAsync(json, NpgsqlTypes.NpgsqlDbType.Jsonb, ct); break;
                case Guid g: await copy.WriteAsync(g, NpgsqlTypes.NpgsqlDbType.Uuid, ct); break;
                case string s: await copy.WriteAsync(s, NpgsqlTypes.NpgsqlDbType.Text, ct); break;
                case long l: await copy.WriteAsync(l, NpgsqlTypes.NpgsqlDbType.Bigint, ct); break;
                case int n: await copy.WriteAsync(n, NpgsqlTypes.NpgsqlDbType.Integer, ct); break;
                case bool b: await copy.WriteAsync(b, NpgsqlTypes.NpgsqlDbType.Boolean, ct); break;
                default: throw new InvalidOperationException($"No COPY type for {value.GetType()}.");
            }
        }
    }

    private static async Task ExecAsync(System.Data.Common.DbConnection connection, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(ct);
    }
}
