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

    /// <summary>Every field token of SPEC §6 with its value, as JSON.</summary>
    public string FieldsJson { get; set; } = "{}";

    public long? LastActivity { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
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
