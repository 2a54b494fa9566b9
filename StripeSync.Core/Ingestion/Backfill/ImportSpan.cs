namespace StripeSync.Core.Ingestion.Backfill;

/// <summary>
/// Stripe's lists carry no totals, so an import's progress is measured in time: each slice is walked newest first,
/// and the created time of the last object it stored says how much of its time range is behind it. The type's
/// span runs from its newest object to its oldest, which is known once the open (oldest) slice has ended; until
/// then the share is unknown.
/// </summary>
public static class ImportSpan
{
    /// <summary>The share of the type's time span walked so far, 0–1, or null while the span is unknown.</summary>
    public static double? Fraction(BackfillCursor type, IReadOnlyCollection<BackfillSlice> slices)
    {
        if (type.Done)
        {
            return 1;
        }

        if (type.NewestCreated is not { } newest || type.OldestCreated is not { } oldest || slices.Any(s => s.From is null && !s.Done))
        {
            return null;
        }

        var end = newest + 1;
        if (end <= oldest)
        {
            return null;
        }

        double walked = 0;
        foreach (var slice in slices)
        {
            var top = Math.Min(slice.Before ?? end, end);
            var bottom = Math.Max(slice.From ?? oldest, oldest);
            var reached = slice.Done ? bottom : Math.Max(slice.Reached ?? top, bottom);
            walked += Math.Max(0, top - reached);
        }

        return Math.Clamp(walked / (end - oldest), 0, 1);
    }

    /// <summary>Seconds left at the pace so far (time span walked per second of import), or null before there is a pace.</summary>
    public static double? SecondsLeft(double? fraction, double elapsedSeconds) =>
        fraction is > 0 and < 1 && elapsedSeconds > 0 ? elapsedSeconds * (1 - fraction.Value) / fraction.Value : null;
}
