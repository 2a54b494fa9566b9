namespace StripeSync.Web.Components.Pages.Metrics;

/// <summary>MudChart spaces its vertical ticks by a fixed step (20 by default): pick a round one for the data instead.</summary>
public static class ChartScale
{
    private static readonly int[] Factors = [1, 2, 5, 10];

    /// <summary>A step of 1, 2 or 5 × 10ⁿ giving about five ticks up to <paramref name="max"/> (never below 1).</summary>
    public static int Step(double max)
    {
        var rough = Math.Max(1, max / 5);
        var magnitude = (int)Math.Pow(10, Math.Floor(Math.Log10(rough)));
        return Factors.Select(f => f * magnitude).First(s => s >= rough);
    }
}
