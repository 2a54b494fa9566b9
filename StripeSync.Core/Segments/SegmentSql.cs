using System.Globalization;
using System.Text;
using StripeSync.Core.Connections;

namespace StripeSync.Core.Segments;

/// <summary>
/// Turns a validated <see cref="SegmentDefinition"/> into one SQL filter over <c>people</c> (aliased <c>p</c>) for
/// SQLite or PostgreSQL. Field tokens come only from <see cref="SegmentFields"/> (a whitelist, so they are safe to
/// write into the SQL); every value a user typed is a parameter (<c>{n}</c> placeholders, which EF Core binds).
/// Fields are read from <c>FieldsJson</c> with the provider's JSON functions, except the few promoted to indexed columns
/// of <c>people</c> (see docs/decisions/0007-segment-queries.md).
/// </summary>
internal sealed class SegmentSql
{
    /// <summary>Tokens with a column of their own (<see cref="People.Person.SetFields"/>); times there are unix ms.</summary>
    private static readonly Dictionary<string, string> Promoted = new(StringComparer.Ordinal)
    {
        ["stripe_customer_id"] = "StripeCustomerId",
        ["stripe_subscription_status"] = "SubscriptionStatus",
        ["stripe_subscription_active"] = "ActiveSubscriptions",
        ["stripe_subscription_trial"] = "TrialingSubscriptions",
        ["stripe_subscription_past_due"] = "PastDueSubscriptions",
        ["stripe_trial_end"] = "TrialEnd",
        ["stripe_last_create_order_date"] = "LastOrderAt",
        ["last_activity"] = "LastActivity",
        ["country"] = "Country",
    };

    /// <summary>
    /// Promoted text columns that hold the lower-case form text conditions compare (Stripe's statuses are lower case
    /// already; <see cref="People.Person.SetFields"/> lower-cases country): compared as they are, so the index answers.
    /// </summary>
    private static readonly HashSet<string> LowerCase = new(StringComparer.Ordinal) { "stripe_subscription_status", "country" };

    private readonly bool postgres;
    private readonly ConnectionMode mode;
    private readonly DateTimeOffset now;
    private readonly List<object> parameters = [];

    private SegmentSql(bool postgres, ConnectionMode mode, DateTimeOffset now)
    {
        this.postgres = postgres;
        this.mode = mode;
        this.now = now;
    }

    /// <summary>A complete <c>SELECT * FROM people</c> of the segment's members in <paramref name="mode"/>, with its parameters.</summary>
    public static (string Sql, object[] Parameters) Members(SegmentDefinition definition, ConnectionMode mode, bool postgres, DateTimeOffset now)
    {
        var builder = new SegmentSql(postgres, mode, now);
        var modeParameter = builder.Add((int)mode);
        var filter = builder.Group(definition);
        return ($"SELECT * FROM people AS p WHERE p.\"Mode\" = {modeParameter} AND {filter}", [.. builder.parameters]);
    }

    private string Add(object value)
    {
        parameters.Add(value);
        return "{" + (parameters.Count - 1).ToString(CultureInfo.InvariantCulture) + "}";
    }

    private string Group(SegmentDefinition group)
    {
        var parts = group.Conditions.Select(Condition).ToList();
        return "(" + string.Join(group.Match == SegmentMatch.Any ? " OR " : " AND ", parts) + ")";
    }

    private string Condition(SegmentCondition condition) =>
        condition.Group is { } group ? Group(group)
        : condition.Metric is not null ? Metric(condition)
        : Field(condition);

    private string Metric(SegmentCondition c)
    {
        var since = now.AddDays(-c.Days!.Value).ToUnixTimeMilliseconds();
        var events = $"FROM metric_events AS m WHERE m.\"PersonId\" = p.\"Id\" AND m.\"Metric\" = {Add(c.Metric!)} AND m.\"Time\" >= {Add(since)}";
        var did = c.AtLeast == 1
            ? $"EXISTS (SELECT 1 {events})"
            : $"((SELECT COUNT(*) {events}) >= {Add((long)c.AtLeast!.Value)})";
        return c.Did == MetricOperator.DidNot ? $"(NOT {did})" : did;
    }

    private string Field(SegmentCondition c)
    {
        var field = SegmentFields.Find(c.Field!) ?? throw new InvalidOperationException("Validate the definition before building SQL.");
        return field.Kind switch
        {
            FieldKind.Text => Text(field.Token, c),
            FieldKind.Number => Number(Json(field.Token, FieldKind.Number), c),
            FieldKind.Bool => Bool(field.Token, c),
            FieldKind.Time => Time(field.Token, c),
            FieldKind.Money => Money(field.Token, c),
            FieldKind.List => List(field.Token, c),
            _ => throw new InvalidOperationException($"Unknown field kind {field.Kind}."),
        };
    }

    /// <summary>The token's value as SQL: text (or the JSON text of objects and lists), typed for numbers, booleans and times.</summary>
    private string Json(string token, FieldKind kind)
    {
        if (Promoted.TryGetValue(token, out var column))
        {
            return $"p.\"{column}\"";
        }

        if (!postgres)
        {
            return $"json_extract(p.\"FieldsJson\", '$.{token}')";
        }

        var text = $"(p.\"FieldsJson\"::jsonb ->> '{token}')";
        return kind switch
        {
            FieldKind.Number => $"({text})::numeric",
            FieldKind.Bool => $"({text})::boolean",
            FieldKind.Time => $"({text})::timestamptz",
            _ => text,
        };
    }

    private string Text(string token, SegmentCondition c)
    {
        var x = Json(token, FieldKind.Text);
        var lower = LowerCase.Contains(token) ? x : $"lower({x})";
        return c.Operator switch
        {
            FieldOperator.Equals => $"({lower} = {Add(c.Value!.Trim().ToLowerInvariant())})",
            FieldOperator.NotEquals => $"({x} IS NULL OR {lower} <> {Add(c.Value!.Trim().ToLowerInvariant())})",
            FieldOperator.Contains => Like(x, c.Value!),
            FieldOperator.IsSet => $"({x} IS NOT NULL AND {x} <> '')",
            FieldOperator.IsNotSet => $"({x} IS NULL OR {x} = '')",
            _ => throw Unsupported(c),
        };
    }

    private string Like(string x, string value)
    {
        var escaped = new StringBuilder();
        foreach (var ch in value.Trim().ToLowerInvariant())
        {
            if (ch is '%' or '_' or '\\')
            {
                escaped.Append('\\');
            }

            escaped.Append(ch);
        }

        return $"(lower({x}) LIKE {Add("%" + escaped + "%")} ESCAPE '\\')";
    }

    private string Number(string x, SegmentCondition c)
    {
        var value = c.Operator is FieldOperator.IsSet or FieldOperator.IsNotSet ? "" : AddNumber(c.Value);
        return c.Operator switch
        {
            FieldOperator.Equals => $"({x} = {value})",
            FieldOperator.NotEquals => $"({x} IS NULL OR {x} <> {value})",
            FieldOperator.GreaterThan => $"({x} > {value})",
            FieldOperator.LessThan => $"({x} < {value})",
            FieldOperator.IsSet => $"({x} IS NOT NULL)",
            FieldOperator.IsNotSet => $"({x} IS NULL)",
            _ => throw Unsupported(c),
        };
    }

    /// <summary>Whole numbers bind as integers: SQLite compares a number with a text parameter as "less than any text".</summary>
    private string AddNumber(string? text)
    {
        SegmentDefinition.TryNumber(text, out var number);
        return AddNumber(number);
    }

    private string AddNumber(decimal number) =>
        number == decimal.Truncate(number) && number is >= long.MinValue and <= long.MaxValue ? Add((long)number) : Add((double)number);

    private string Bool(string token, SegmentCondition c)
    {
        var x = Json(token, FieldKind.Bool);
        object Value()
        {
            SegmentDefinition.TryBool(c.Value, out var b);
            return postgres ? b : b ? 1L : 0L; // SQLite's json_extract reads true/false as 1/0.
        }

        return c.Operator switch
        {
            FieldOperator.Equals => $"({x} = {Add(Value())})",
            FieldOperator.NotEquals => $"({x} IS NULL OR {x} <> {Add(Value())})",
            FieldOperator.IsSet => $"({x} IS NOT NULL)",
            FieldOperator.IsNotSet => $"({x} IS NULL)",
            _ => throw Unsupported(c),
        };
    }

    private string Time(string token, SegmentCondition c)
    {
        // Promoted times are columns (unix ms, indexed); other times are ISO 8601 strings in the JSON.
        var column = Promoted.ContainsKey(token);
        var x = column || postgres ? Json(token, FieldKind.Time) : $"julianday({Json(token, FieldKind.Time)})";
        string At(DateTimeOffset time) => Add(column ? time.ToUnixTimeMilliseconds()
            : postgres ? time.ToUniversalTime()
            : time.ToUnixTimeMilliseconds() / 86_400_000d + 2_440_587.5); // the Julian day number of the instant

        DateTimeOffset Day(int offset)
        {
            SegmentDefinition.TryDate(c.Value, out var date);
            return new DateTimeOffset(date.AddDays(offset).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        }

        return c.Operator switch
        {
            FieldOperator.WithinLastDays => $"({x} >= {At(now.AddDays(-c.Days!.Value))})",
            FieldOperator.MoreThanDaysAgo => $"({x} < {At(now.AddDays(-c.Days!.Value))})",
            FieldOperator.GreaterThan => $"({x} >= {At(Day(1))})", // after the day: from the next midnight (UTC)
            FieldOperator.LessThan => $"({x} < {At(Day(0))})", // before the day: until its midnight (UTC)
            FieldOperator.IsSet => $"({x} IS NOT NULL)",
            FieldOperator.IsNotSet => $"({x} IS NULL)",
            _ => throw Unsupported(c),
        };
    }

    /// <summary>
    /// Money is an object of currency → minor units, kept as rows of <c>person_amounts</c> (at most one per token and
    /// currency). With a currency, a missing currency counts as 0; without one, the condition holds when some currency's
    /// amount satisfies it ("in any currency"). Either way the people come from the <c>(Mode, Token, Currency, Amount)</c>
    /// index, not from parsing every person's JSON.
    /// </summary>
    private string Money(string token, SegmentCondition c)
    {
        if (!People.PersonAmount.Tokens.Contains(token))
        {
            throw new InvalidOperationException($"Money field {token} has no rows in person_amounts.");
        }

        decimal value = 0;
        if (c.Operator is not (FieldOperator.IsSet or FieldOperator.IsNotSet))
        {
            SegmentDefinition.TryNumber(c.Value, out value);
        }

        // "Is set" means "not zero"; "is not set" is its negation, written below.
        var op = c.Operator is FieldOperator.IsSet or FieldOperator.IsNotSet ? FieldOperator.NotEquals : c.Operator!.Value;
        string Rows(bool holds, string? currency)
        {
            var compare = (op, holds) switch
            {
                (FieldOperator.Equals, true) or (FieldOperator.NotEquals, false) => "=",
                (FieldOperator.NotEquals, true) or (FieldOperator.Equals, false) => "<>",
                (FieldOperator.GreaterThan, true) => ">",
                (FieldOperator.GreaterThan, false) => "<=",
                (FieldOperator.LessThan, true) => "<",
                (FieldOperator.LessThan, false) => ">=",
                _ => throw Unsupported(c),
            };
            var inCurrency = currency is null ? "" : $" AND a.\"Currency\" = {Add(currency)}";
            // Not correlated (the mode is the query's own parameter): the planner reads the matching rows once, by index.
            return $"SELECT a.\"PersonId\" FROM person_amounts AS a WHERE a.\"Mode\" = {Add((int)mode)} AND a.\"Token\" = '{token}'{inCurrency} " +
                $"AND a.\"Amount\" {compare} {AddNumber(value)}";
        }

        string condition;
        if (c.Currency is not { } currency)
        {
            condition = $"(p.\"Id\" IN ({Rows(holds: true, null)}))";
        }
        else if (!Holds(op, 0, value))
        {
            condition = $"(p.\"Id\" IN ({Rows(holds: true, currency)}))";
        }
        else
        {
            // Zero satisfies the comparison, so a person without the currency is in too: everyone but those whose amount fails it.
            condition = $"(p.\"Id\" NOT IN ({Rows(holds: false, currency)}))";
        }

        return c.Operator == FieldOperator.IsNotSet ? $"(NOT {condition})" : condition;
    }

    private static bool Holds(FieldOperator op, decimal amount, decimal value) => op switch
    {
        FieldOperator.Equals => amount == value,
        FieldOperator.NotEquals => amount != value,
        FieldOperator.GreaterThan => amount > value,
        FieldOperator.LessThan => amount < value,
        _ => false,
    };

    private string List(string token, SegmentCondition c)
    {
        var x = Json(token, FieldKind.List);
        return c.Operator switch
        {
            FieldOperator.Contains => Like(x, c.Value!),
            FieldOperator.IsSet => $"({x} IS NOT NULL AND {x} <> '[]')",
            FieldOperator.IsNotSet => $"({x} IS NULL OR {x} = '[]')",
            _ => throw Unsupported(c),
        };
    }

    private static InvalidOperationException Unsupported(SegmentCondition c) =>
        new($"Operator {c.Operator} does not apply to field {c.Field}; validate the definition first.");
}
