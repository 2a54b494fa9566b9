using Stripe;

namespace StripeSync.Core.StripeApi;

/// <summary>Reading and verifying Stripe events, from webhooks and from the Events API alike.</summary>
public static class StripeEvents
{
    /// <summary>Stripe's own default: a signature older (or newer) than five minutes is refused.</summary>
    public const long ToleranceSeconds = 300;

    /// <summary>Checks <c>Stripe-Signature</c> (HMAC-SHA256 of "t.payload") against the endpoint's secret.</summary>
    public static bool IsSignatureValid(string payload, string? header, string secret, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(header))
        {
            return false;
        }

        try
        {
            EventUtility.ValidateSignature(payload, header, secret, ToleranceSeconds, now.ToUnixTimeSeconds());
            return true;
        }
        catch (StripeException)
        {
            return false;
        }
    }

    /// <summary>Parses an event's JSON (any API version); null when it is not a Stripe event at all.</summary>
    public static EventRecord? Parse(string json, bool livemode)
    {
        try
        {
            var stripeEvent = EventUtility.ParseEvent(json, throwOnApiVersionMismatch: false);
            return string.IsNullOrEmpty(stripeEvent?.Id) || string.IsNullOrEmpty(stripeEvent.Type) ? null : ToRecord(stripeEvent, json, livemode);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Untrusted input: whatever Stripe.net's parser throws on it means "not a Stripe event".
            return null;
        }
    }

    internal static EventRecord ToRecord(Event e, string json, bool livemode)
    {
        var previous = e.Data?.PreviousAttributes is Newtonsoft.Json.Linq.JObject attributes
            ? attributes.Properties().Select(p => p.Name).ToList()
            : [];
        return new EventRecord(e.Id, e.Type, new DateTimeOffset(DateTime.SpecifyKind(e.Created, DateTimeKind.Utc)),
            e.Livemode, StripeMapper.Map(e.Data?.Object, e.Livemode || livemode), previous, json);
    }
}
