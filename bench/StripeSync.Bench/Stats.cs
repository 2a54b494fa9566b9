namespace StripeSync.Bench;

public static class Stats
{
    /// <summary>The middle of an ascending list (the upper middle for an even count).</summary>
    public static double Median(IReadOnlyList<double> sorted) => sorted[sorted.Count / 2];

    /// <summary>The nearest-rank percentile of an ascending list, p in 0–100.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
