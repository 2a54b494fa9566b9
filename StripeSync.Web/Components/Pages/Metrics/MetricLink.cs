namespace StripeSync.Web.Components.Pages.Metrics;

/// <summary>Metric names have spaces ("Failed Payment"): their page address escapes them.</summary>
public static class MetricLink
{
    public static string For(string metric) => "metrics/" + Uri.EscapeDataString(metric);
}
