namespace StripeSync.Core.Ingestion;

/// <summary>The <c>App</c> section, as far as the sync needs it.</summary>
public sealed class SyncOptions
{
    public const string Section = "App";

    /// <summary>
    /// Where Stripe can reach this app (e.g. <c>https://stripesync.example.com/</c>). With it, connections register
    /// a webhook endpoint; without it (a laptop, localhost) the Events API is polled every minute.
    /// </summary>
    public Uri? PublicUrl { get; set; }

    /// <summary>
    /// How often a connection without a webhook endpoint (its registration failed: Stripe down, or a key without the
    /// Webhook Endpoints permission that may have been given it since) tries to register one again.
    /// </summary>
    public TimeSpan WebhookRetryInterval { get; set; } = TimeSpan.FromHours(1);
}
