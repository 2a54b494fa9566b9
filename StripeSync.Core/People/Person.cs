using System.Globalization;
using System.Text.Json;
using StripeSync.Core.Connections;

namespace StripeSync.Core.People;

/// <summary>
/// A person of the audience, keyed by normalised email within a mode; a Stripe customer without email is
/// an unidentified person keyed by its customer id until an email appears.
/// </summary>
public sealed class Person
{
    public Guid Id { get; set; }
    public ConnectionMode Mode { get; set; }

    /// <summary>The normalised email, or <c>stripe:cus_…</c> for an unidentified customer.</summary>
    public required string Key { get; set; }

    public string? Email { get; set; }
    public bool Identified { get; set; }
    public string? Name { get; set; }

    /// <summary>Lower-case email, name and Stripe customer ids: what people search finds a person by.</summary>
    public string SearchText { get; set; } = "";

    /// <summary>The local "email unsubscribed" flag (SPEC §3): StripeSync's own, never sent to Stripe.</summary>
    public bool EmailUnsubscribed { get; set; }

    /// <summary>Every field token of SPEC §6 with its value, as JSON. Set it with <see cref="SetFields"/>, which keeps the promoted columns in step.</summary>
    public string FieldsJson { get; set; } = "{}";

    /// <summary>Last activity (unix ms): the <c>last_activity</c> field as a column.</summary>
    public long? LastActivity { get; set; }

    // The fields segments filter on most, promoted to indexed columns so the predefined segments are index scans, not a
    // JSON parse per person (docs/decisions/0007). Always written by SetFields from the same JSON.
    public string? StripeCustomerId { get; set; }
    public string? SubscriptionStatus { get; set; }
    public int? ActiveSubscriptions { get; set; }
    public int? TrialingSubscriptions { get; set; }
    public int? PastDueSubscriptions { get; set; }

    /// <summary>stripe_trial_end, unix ms.</summary>
    public long? TrialEnd { get; set; }

    /// <summary>stripe_last_create_order_date, unix ms.</summary>
    public long? LastOrderAt { get; set; }

    /// <summary>
    /// country, lower-cased (segments compare text case-insensitively, so the column holds the form they compare and its
    /// index answers an equality): custom segments filter people by country more than by any other field that is not a
    /// column (docs/decisions/0015).
    /// </summary>
    public string? Country { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }

    /// <summary>
    /// The money fields (MRR, total sales), one row per token and currency, so segments compare amounts by index instead
    /// of parsing FieldsJson (docs/decisions/0007). Written by <see cref="SetFields"/>; deleted with the person (cascade).
    /// </summary>
    public List<PersonAmount> Amounts { get; } = [];

    /// <summary>
    /// Stores the fields (a JSON object of token → value), the columns promoted from them and <see cref="Amounts"/>. Set
    /// <see cref="Mode"/> first; a stored person must have been loaded with its amounts, which this updates in place.
    /// </summary>
    public void SetFields(string fieldsJson)
    {
        using var document = JsonDocument.Parse(fieldsJson);
        var fields = document.RootElement;
        FieldsJson = fieldsJson;
        StripeCustomerId = Text(fields, "stripe_customer_id");
        SubscriptionStatus = Text(fields, "stripe_subscription_status");
        ActiveSubscriptions = Count(fields, "stripe_subscription_active");
        TrialingSubscriptions = Count(fields, "stripe_subscription_trial");
        PastDueSubscriptions = Count(fields, "stripe_subscription_past_due");
        TrialEnd = Time(fields, "stripe_trial_end");
        LastOrderAt = Time(fields, "stripe_last_create_order_date");
        Country = Text(fields, "country")?.ToLowerInvariant();
        SetAmounts(fields);
    }

    private void SetAmounts(JsonElement fields)
    {
        var current = new Dictionary<(string Token, string Currency), long>();
        foreach (var token in PersonAmount.Tokens)
        {
            if (fields.TryGetProperty(token, out var money) && money.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in money.EnumerateObject())
                {
                    if (entry.Value.ValueKind == JsonValueKind.Number && entry.Value.TryGetInt64(out var amount))
                    {
                        current[(token, entry.Name)] = amount;
                    }
                }
            }
        }

        // In place: EF Core updates changed rows, deletes the removed ones (orphans) and inserts the new ones.
        Amounts.RemoveAll(a => !current.ContainsKey((a.Token, a.Currency)));
        foreach (var ((token, currency), amount) in current)
        {
            if (Amounts.Find(a => a.Token == token && a.Currency == currency) is { } row)
            {
                row.Amount = amount;
                row.Mode = Mode;
            }
            else
            {
                Amounts.Add(new PersonAmount { PersonId = Id, Mode = Mode, Token = token, Currency = currency, Amount = amount });
            }
        }
    }

    private static string? Text(JsonElement fields, string token) =>
        fields.TryGetProperty(token, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? Count(JsonElement fields, string token) =>
        fields.TryGetProperty(token, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n : null;

    private static long? Time(JsonElement fields, string token) =>
        Text(fields, token) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.ToUnixTimeMilliseconds() : null;
}

/// <summary>One currency's amount of a person's money field (a row of <c>person_amounts</c>), in minor units.</summary>
public sealed class PersonAmount
{
    /// <summary>The money fields (SPEC §6) kept as rows: objects of currency → minor units.</summary>
    public static readonly IReadOnlyList<string> Tokens = ["stripe_mrr", "stripe_total_sales"];

    public Guid PersonId { get; set; }

    /// <summary>The person's mode, repeated so a segment reads the amounts index alone.</summary>
    public ConnectionMode Mode { get; set; }

    public required string Token { get; set; }

    /// <summary>Lower-case ISO currency, as in the field's JSON.</summary>
    public required string Currency { get; set; }

    public long Amount { get; set; }
}

/// <summary>Which Stripe customers make up a person.</summary>
public sealed class PersonCustomer
{
    public Guid ConnectionId { get; set; }
    public required string CustomerId { get; set; }
    public Guid PersonId { get; set; }
}

/// <summary>A stored metric event (SPEC §4); unique on (mode, natural key), so a fact is counted once.</summary>
public sealed class StoredMetricEvent
{
    public long Id { get; set; }
    public ConnectionMode Mode { get; set; }
    public Guid? ConnectionId { get; set; }
    public required string Metric { get; set; }
    public required string NaturalKey { get; set; }

    /// <summary>Stripe's time of the fact, unix milliseconds.</summary>
    public long Time { get; set; }

    /// <summary>The UTC day of <see cref="Time"/> (days since 1970-01-01), for daily charts grouped in SQL.</summary>
    public int Day { get; set; }

    public Guid? PersonId { get; set; }
    public string? CustomerId { get; set; }
    public long? Amount { get; set; }
    public string? Currency { get; set; }
    public string PropertiesJson { get; set; } = "{}";
    public string? SourceId { get; set; }

    /// <summary>
    /// Derived from the stored state (and replaced when that state says otherwise, e.g. a charge first seen
    /// alone turns out to have paid an invoice), as opposed to a fact only an event showed, which stays.
    /// </summary>
    public bool FromState { get; set; }
}
