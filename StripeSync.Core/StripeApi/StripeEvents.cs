using Newtonsoft.Json.Linq;
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

    private static EventRecord ToRecord(Event e, string json, bool livemode)
    {
        livemode = e.Livemode || livemode;
        return new EventRecord(e.Id, e.Type, new DateTimeOffset(DateTime.SpecifyKind(e.Created, DateTimeKind.Utc)),
            e.Livemode, StripeMapper.Map(e.Data?.Object, livemode), Previous(json, livemode), json);
    }

    /// <summary>
    /// The object before the change: <c>data.object</c> with <c>data.previous_attributes</c> laid over it. This is
    /// right however late or out of order the event arrives, unlike whatever state we happen to hold.
    /// </summary>
    private static StripeRecord? Previous(string json, bool livemode)
    {
        var root = JObject.Parse(json);
        if (root["data"] is not JObject data || data["object"] is not JObject current
            || data["previous_attributes"] is not JObject { HasValues: true } previous)
        {
            return null;
        }

        var before = (JObject)current.DeepClone();
        foreach (var property in previous.Properties())
        {
            before[property.Name] = property.Value.DeepClone();
        }

        data["object"] = before;
        data.Remove("previous_attributes");
        return StripeMapper.Map(EventUtility.ParseEvent(root.ToString(Newtonsoft.Json.Formatting.None), throwOnApiVersionMismatch: false).Data?.Object, livemode);
    }
}
