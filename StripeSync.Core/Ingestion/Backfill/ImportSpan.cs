using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Ingestion.Backfill;

/// <summary>
/// Stripe's lists carry no totals, so an import's progress is measured in time: lists run newest first,
/// and the created time of the last object fetched says how far back the walk has come. The far end (the
/// oldest object of a type) is found by bisecting with <c>created[lt]</c> and limit=1, to the day: about a
/// dozen cheap requests per type, spent only on types with more than one page.
/// </summary>
public static class ImportSpan
{
    /// <summary>Stripe launched in 2011: no object is older.</summary>
    private static readonly DateTimeOffset StripeEpoch = new(2011, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Unix seconds at or before the oldest object of the type (to within a day).</summary>
    public static async Task<long> OldestCreatedAsync(StripeAccountClient client, StripeObjectType type, long newest, CancellationToken ct)
    {
        // Invariant: no object is older than `low`; some object is older than `high`.
        var low = StripeEpoch.ToUnixTimeSeconds();
        var high = newest + 1;
        while (high - low > 86_400)
        {
            var middle = low + ((high - low) / 2);
            if (await client.AnyCreatedBeforeAsync(type, DateTimeOffset.FromUnixTimeSeconds(middle), ct))
            {
                high = middle;
            }
            else
            {
                low = middle;
            }
        }

        return low;
    }

    /// <summary>The share of the type's time span walked so far, 0–1.</summary>
    public static double? Fraction(long? newest, long? oldest, long? reached)
    {
        if (newest is not { } n || oldest is not { } o || reached is not { } r || n <= o)
        {
            return null;
        }

        return Math.Clamp((double)(n - r) / (n - o), 0, 1);
    }

    /// <summary>Seconds left at the pace so far (time span walked per second of import), or null before there is a pace.</summary>
    public static double? SecondsLeft(double? fraction, double elapsedSeconds) =>
        fraction is > 0 and < 1 && elapsedSeconds > 0 ? elapsedSeconds * (1 - fraction.Value) / fraction.Value : null;
}
