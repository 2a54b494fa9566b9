using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Ingestion;

// The durable state of the sync. Times are unix milliseconds (long): comparable and indexable the same
// way on SQLite and PostgreSQL.

/// <summary>The newest state we know of one Stripe object, as our record serialised to JSON.</summary>
public sealed class StoredObject
{
    public Guid ConnectionId { get; set; }
    public required string StripeId { get; set; }
    public StripeObjectType Type { get; set; }
    public bool Livemode { get; set; }

    /// <summary>The customer the object belongs to, where the object names it.</summary>
    public string? CustomerId { get; set; }

    /// <summary>The object this one hangs off: a refund's charge, an invoice payment's invoice.</summary>
    public string? ParentId { get; set; }

    public long Created { get; set; }

    /// <summary>When Stripe's state was this (event time, or fetch time for a listed object): newest wins.</summary>
    public long Version { get; set; }

    public required string Json { get; set; }
}

/// <summary>Where the backfill of one object type of one connection stands, summed over its slices: progress and ETA.</summary>
public sealed class BackfillCursor
{
    public Guid ConnectionId { get; set; }
    public StripeObjectType Type { get; set; }
    public bool Done { get; set; }
    public long Fetched { get; set; }
    public int Pages { get; set; }
    public long StartedAt { get; set; }
    public long UpdatedAt { get; set; }

    /// <summary>Created time (unix seconds) of the newest object fetched, and of the oldest fetched so far.</summary>
    public long? NewestCreated { get; set; }

    public long? OldestCreated { get; set; }
}

/// <summary>
/// One created-time range of one object type, walked newest first as its own chain of pages, so one type's pages
/// are fetched side by side (see BackfillJob). <see cref="From"/> and <see cref="Before"/> bound <c>created</c>
/// (unix seconds, from inclusive, before exclusive; null is open); <see cref="Cursor"/> is the last id stored.
/// </summary>
public sealed class BackfillSlice
{
    public Guid ConnectionId { get; set; }
    public StripeObjectType Type { get; set; }
    public int Slice { get; set; }
    public long? From { get; set; }
    public long? Before { get; set; }
    public string? Cursor { get; set; }

    /// <summary>Created time of the last object stored, null before the first page.</summary>
    public long? Reached { get; set; }

    public bool Done { get; set; }
    public int Pages { get; set; }
    public long Fetched { get; set; }
}

public enum EventSource
{
    Webhook,
    Poll,
}

/// <summary>A Stripe event taken in (by webhook or poll), stored raw and unique on its id, then processed.</summary>
public sealed class InboxEvent
{
    /// <summary>An event that failed this often is left alone and counted as failed on Sync health.</summary>
    public const int MaxAttempts = 5;

    public long Id { get; set; }
    public Guid ConnectionId { get; set; }
    public required string EventId { get; set; }
    public required string Type { get; set; }

    /// <summary>Stripe's creation time of the event, unix seconds.</summary>
    public long Created { get; set; }

    public long ReceivedAt { get; set; }
    public EventSource Source { get; set; }
    public required string Json { get; set; }
    public long? ProcessedAt { get; set; }
    public int Attempts { get; set; }
    public string? Error { get; set; }
}

/// <summary>A customer whose person (fields, metric events) must be derived again.</summary>
public sealed class DirtyCustomer
{
    public Guid ConnectionId { get; set; }
    public required string CustomerId { get; set; }
    public long MarkedAt { get; set; }

    /// <summary>
    /// New on every mark. Derivation removes a mark only if its stamp is still the one it read, so a change that
    /// lands while the customer is being derived is derived again, not lost.
    /// </summary>
    public Guid Stamp { get; set; }
}
