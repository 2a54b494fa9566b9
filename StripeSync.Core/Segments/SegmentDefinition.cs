using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StripeSync.Core.Segments;

[JsonConverter(typeof(CamelCaseWords<SegmentMatch>))]
public enum SegmentMatch
{
    /// <summary>Every condition holds (AND).</summary>
    All,

    /// <summary>At least one condition holds (OR).</summary>
    Any,
}

[JsonConverter(typeof(CamelCaseWords<FieldOperator>))]
public enum FieldOperator
{
    Equals,
    NotEquals,
    GreaterThan,
    LessThan,
    Contains,
    IsSet,
    IsNotSet,
    WithinLastDays,
    MoreThanDaysAgo,
}

[JsonConverter(typeof(CamelCaseWords<MetricOperator>))]
public enum MetricOperator
{
    Did,
    DidNot,
}

/// <summary>Operators and matches read and write as camelCase words ("notEquals", "any") in the API and in storage alike.</summary>
public sealed class CamelCaseWords<T>() : JsonStringEnumConverter<T>(JsonNamingPolicy.CamelCase, allowIntegerValues: false) where T : struct, Enum;

/// <summary>
/// Who belongs to a segment: <see cref="Match"/> (AND/OR) over conditions, each a field condition, a metric
/// condition or a nested group. Stored as JSON on custom segments and returned as is by the API, e.g.
/// <c>{"match":"all","conditions":[{"field":"stripe_subscription_status","operator":"equals","value":"trialing"},
/// {"metric":"Successfully Paid","did":"did","atLeast":1,"days":30}]}</c>.
/// Mutable, because the visual builder edits it in place.
/// </summary>
public sealed class SegmentDefinition
{
    /// <summary>Deepest nesting of groups a definition may have (the builder offers one level).</summary>
    public const int MaxDepth = 4;

    public const int MaxConditions = 50;

    /// <summary>The longest text a condition compares with.</summary>
    public const int MaxValueLength = 500;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public SegmentMatch Match { get; set; }

    public List<SegmentCondition> Conditions { get; set; } = [];

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static SegmentDefinition FromJson(string json) =>
        JsonSerializer.Deserialize<SegmentDefinition>(json, Json) ?? throw new JsonException("A segment definition is a JSON object.");

    public SegmentDefinition Clone() => FromJson(ToJson());

    /// <summary>What is wrong with the definition, in sentences a marketer understands; empty when it can be evaluated.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Conditions.Count == 0)
        {
            problems.Add("Add at least one condition.");
        }

        Validate(this, 1, "", problems);
        if (Count(this) > MaxConditions)
        {
            problems.Add($"A segment has at most {MaxConditions} conditions.");
        }

        return problems;
    }

    private static int Count(SegmentDefinition group) => group.Conditions.Sum(c => c.Group is { } g ? Count(g) : 1);

    private static void Validate(SegmentDefinition group, int depth, string prefix, List<string> problems)
    {
        if (depth > MaxDepth)
        {
            problems.Add($"Groups nest at most {MaxDepth} deep.");
            return;
        }

        for (var i = 0; i < group.Conditions.Count; i++)
        {
            var where = $"Condition {prefix}{i + 1}";
            var condition = group.Conditions[i];
            if (condition is null)
            {
                problems.Add($"{where} is empty.");
                continue;
            }

            var kinds = (condition.Field is not null ? 1 : 0) + (condition.Metric is not null ? 1 : 0) + (condition.Group is not null ? 1 : 0);
            if (kinds != 1)
            {
                problems.Add($"{where} must be exactly one of: a field condition (field), a metric condition (metric) or a group (group).");
            }
            else if (condition.Group is { } nested)
            {
                if (nested.Conditions.Count == 0)
                {
                    problems.Add($"{where} is a group without conditions.");
                }

                Validate(nested, depth + 1, $"{prefix}{i + 1}.", problems);
            }
            else if (condition.Field is not null)
            {
                ValidateField(condition, where, problems);
            }
            else
            {
                ValidateMetric(condition, where, problems);
            }
        }
    }

    private static void ValidateField(SegmentCondition c, string where, List<string> problems)
    {
        if (SegmentFields.Find(c.Field!) is not { } field)
        {
            problems.Add($"{where}: there is no field '{c.Field}'. Fields are the personalization tokens, e.g. stripe_subscription_status.");
            return;
        }

        if (c.Operator is not { } op)
        {
            problems.Add($"{where}: pick an operator for {field.Label}.");
            return;
        }

        if (!field.Operators.Contains(op))
        {
            problems.Add($"{where}: {field.Label} cannot use \"{SegmentFields.OperatorLabel(op)}\"; it can use {string.Join(", ", field.Operators.Select(o => $"\"{SegmentFields.OperatorLabel(o)}\""))}.");
            return;
        }

        if (c.Currency is { } currency && (field.Kind != FieldKind.Money || currency.Length != 3 || !currency.All(char.IsAsciiLetterLower)))
        {
            problems.Add(field.Kind == FieldKind.Money
                ? $"{where}: a currency is a three-letter ISO code in lower case, like usd."
                : $"{where}: only money fields (MRR, total sales) take a currency.");
        }

        switch (op)
        {
            case FieldOperator.IsSet or FieldOperator.IsNotSet:
                return;
            case FieldOperator.WithinLastDays or FieldOperator.MoreThanDaysAgo:
                if (c.Days is not { } days || days < (op == FieldOperator.WithinLastDays ? 1 : 0) || days > 36_500)
                {
                    problems.Add($"{where}: give a number of days for {field.Label} ({(op == FieldOperator.WithinLastDays ? 1 : 0)} to 36500).");
                }

                return;
        }

        if (string.IsNullOrWhiteSpace(c.Value))
        {
            problems.Add($"{where}: give a value for {field.Label}.");
            return;
        }

        var valid = field.Kind switch
        {
            FieldKind.Number or FieldKind.Money => TryNumber(c.Value, out _),
            FieldKind.Bool => TryBool(c.Value, out _),
            FieldKind.Time => TryDate(c.Value, out _),
            _ => c.Value.Length <= MaxValueLength,
        };
        if (!valid)
        {
            problems.Add(field.Kind switch
            {
                FieldKind.Number => $"{where}: {field.Label} is compared with a number, and \"{c.Value}\" is not one.",
                FieldKind.Money => $"{where}: {field.Label} is compared with an amount in minor units (cents: 100000 is 1,000.00), and \"{c.Value}\" is not one.",
                FieldKind.Bool => $"{where}: {field.Label} is true or false, not \"{c.Value}\".",
                FieldKind.Time => $"{where}: {field.Label} is compared with a date as yyyy-MM-dd (UTC), and \"{c.Value}\" is not one.",
                _ => $"{where}: a value has at most {MaxValueLength} characters.",
            });
        }
    }

    private static void ValidateMetric(SegmentCondition c, string where, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(c.Metric) || c.Metric.Length > 64)
        {
            problems.Add($"{where}: name the metric (at most 64 characters), e.g. Successfully Paid.");
        }

        if (c.Did is null)
        {
            problems.Add($"{where}: choose whether the person did or did not do {c.Metric}.");
        }

        if (c.AtLeast is not ( >= 1 and <= 1_000_000))
        {
            problems.Add($"{where}: \"at least\" is a number of times from 1 to 1000000.");
        }

        if (c.Days is not ( >= 1 and <= 36_500))
        {
            problems.Add($"{where}: \"in the last\" is a number of days from 1 to 36500.");
        }
    }

    internal static bool TryNumber(string? text, out decimal value) =>
        decimal.TryParse(text?.Trim(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);

    internal static bool TryBool(string? text, out bool value) => bool.TryParse(text?.Trim(), out value);

    internal static bool TryDate(string? text, out DateOnly value) =>
        DateOnly.TryParseExact(text?.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out value);
}

/// <summary>
/// One condition: a field condition (<see cref="Field"/>, <see cref="Operator"/>, <see cref="Value"/> or
/// <see cref="Days"/>, and for money fields an optional <see cref="Currency"/>), a metric condition
/// (<see cref="Metric"/>, <see cref="Did"/>, <see cref="AtLeast"/> times in the last <see cref="Days"/> days),
/// or a nested <see cref="Group"/>.
/// </summary>
public sealed class SegmentCondition
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Field { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public FieldOperator? Operator { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Value { get; set; }

    /// <summary>Money fields: the currency compared (lower-case ISO code); none means "in any currency".</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Currency { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Metric { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MetricOperator? Did { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? AtLeast { get; set; }

    /// <summary>N of "within the last N days" / "more than N days ago", or D of a metric condition's "in the last D days".</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Days { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SegmentDefinition? Group { get; set; }

    public static SegmentCondition OnField(string field, FieldOperator op, string? value = null, int? days = null, string? currency = null) =>
        new() { Field = field, Operator = op, Value = value, Days = days, Currency = currency };

    public static SegmentCondition OnMetric(string metric, MetricOperator did, int atLeast, int days) =>
        new() { Metric = metric, Did = did, AtLeast = atLeast, Days = days };

    public static SegmentCondition Of(SegmentMatch match, params SegmentCondition[] conditions) =>
        new() { Group = new SegmentDefinition { Match = match, Conditions = [.. conditions] } };
}
