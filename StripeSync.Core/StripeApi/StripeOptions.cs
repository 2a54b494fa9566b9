using System.ComponentModel.DataAnnotations;

namespace StripeSync.Core.StripeApi;

/// <summary>The <c>Stripe</c> section: where Stripe is and how hard we may call it.</summary>
public sealed class StripeOptions
{
    public const string Section = "Stripe";

    /// <summary>Stripe itself, or any Stripe-speaking server (the simulator, a test double).</summary>
    [Required]
    public Uri ApiBase { get; set; } = new("https://api.stripe.com");

    /// <summary>Per connection; Stripe allows about 100 reads/s in live mode.</summary>
    [Range(0.1, 10_000)]
    public double LiveRequestsPerSecond { get; set; } = 95;

    /// <summary>Per connection; Stripe allows about 25 reads/s in test mode.</summary>
    [Range(0.1, 10_000)]
    public double TestRequestsPerSecond { get; set; } = 24;

    /// <summary>Per connection and endpoint (e.g. <c>/v1/invoices</c>); Stripe limits some endpoints to 25/s.</summary>
    [Range(0.1, 10_000)]
    public double EndpointRequestsPerSecond { get; set; } = 24;

    /// <summary>Attempts after the first for 429, 5xx and dropped connections.</summary>
    [Range(0, 20)]
    public int MaxRetries { get; set; } = 8;

    /// <summary>First back-off delay; doubles per attempt with full jitter, capped at <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(20);
}
