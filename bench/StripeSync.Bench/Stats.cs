namespace StripeSync.Bench;

public static class Stats
{
    /// <summary>
    /// The middle of an ascending list; for an even count the mean of the two middle values, so the median of a time
    /// and of the rate derived from it describe the same runs (the upper middle picked the slowest time but the fastest rate).
    /// </summary>
    public static double Median(IReadOnlyList<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

    /// <summary>The nearest-rank percentile of an ascending list, p in 0–100.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
