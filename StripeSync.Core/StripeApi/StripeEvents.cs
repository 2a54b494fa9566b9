using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace StripeSync.Core.StripeApi;

/// <summary>A webhook's event as intake reads it: enough to store it once and to know whether it is about anything StripeSync keeps.</summary>
/// <param name="Created">Unix seconds.</param>
/// <param name="Kept">Its <c>data.object</c> is of a type StripeSync stores (others are acknowledged and dropped).</param>
public sealed record EventEnvelope(string Id, string Type, long Created, bool Livemode, bool Kept);

/// <summary>Reading and verifying Stripe events, from webhooks and from the Events API alike.</summary>
public static class StripeEvents
{
    /// <summary>Stripe's own default: a signature older (or newer) than five minutes is refused.</summary>
    public const long ToleranceSeconds = 300;

    /// <summary>
    /// Checks <c>Stripe-Signature</c> as Stripe's scheme defines it, over the body's raw bytes: <c>t=</c> is the signing time
    /// (refused more than <see cref="ToleranceSeconds"/> away from now, either way), and any <c>v1=</c> entry (Stripe sends
    /// several while an endpoint's secret is being rolled) may be the lowercase hex HMAC-SHA256 of "t.payload" under the secret.
    /// </summary>
    public static bool IsSignatureValid(ReadOnlySpan<byte> payload, string? header, string secret, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(header))
        {
            return false;
        }

        string? timestamp = null;
        var signatures = new List<string>();
        foreach (var item in header.Split(','))
        {
            var pair = item.Trim().Split('=', 2);
            if (pair.Length != 2)
            {
                continue;
            }

            if (pair[0] == "t")
            {
                timestamp ??= pair[1];
            }
            else if (pair[0] == "v1")
            {
                signatures.Add(pair[1]);
            }
        }

        if (signatures.Count == 0 || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var signedAt)
            || Math.Abs(now.ToUnixTimeSeconds() - signedAt) > ToleranceSeconds)
        {
            return false;
        }

        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        hmac.AppendData(Encoding.ASCII.GetBytes(timestamp + "."));
        hmac.AppendData(payload);
        var expected = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(hmac.GetHashAndReset()));
        var found = false;
        foreach (var signature in signatures)
        {
            // Constant time per comparison: how much of a guess matched must not show in the answer's timing.
            found |= CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature));
        }

        return found;
    }

    /// <summary>
    /// What intake needs of a webhook's body, read with System.Text.Json without building Stripe.net's typed event (the
    /// processor reads the object later): the event's id, type, created and livemode, and whether its object is one StripeSync
    /// keeps. The whole body must be well-formed JSON and the envelope of the right shape, else null: not a Stripe event.
    /// Only the object's identity (<c>object</c>, <c>id</c>, <c>created</c>) is checked here; its other fields are Stripe's.
    /// </summary>
    public static EventEnvelope? ReadEnvelope(ReadOnlyMemory<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !NonEmptyString(root, "id", MaxEventIdLength, out var id)
                || !NonEmptyString(root, "type", MaxEventTypeLength, out var type)
                || !root.TryGetProperty("created", out var created) || created.ValueKind != JsonValueKind.Number || !created.TryGetInt64(out var createdAt))
            {
                return null;
            }

            var livemode = false;
            if (root.TryGetProperty("livemode", out var mode))
            {
                if (mode.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    return null;
                }

                livemode = mode.GetBoolean();
            }

            var kept = false;
            if (root.TryGetProperty("data", out var data) && data.ValueKind != JsonValueKind.Null)
            {
                if (data.ValueKind != JsonValueKind.Object)
                {
                    return null;
                }

                if (data.TryGetProperty("object", out var dataObject) && dataObject.ValueKind != JsonValueKind.Null)
                {
                    if (dataObject.ValueKind != JsonValueKind.Object || !IsObjectIdentityValid(dataObject, out kept))
                    {
                        return null;
                    }
                }
            }

            return new EventEnvelope(id, type, createdAt, livemode, kept);
        }
        catch (JsonException)
        {
            // Malformed, truncated, nested deeper than 64, or not UTF-8.
            return null;
        }
    }

    /// <summary>Longer than any id or type Stripe issues, and than the inbox's columns hold.</summary>
    private const int MaxEventIdLength = 255;

    private const int MaxEventTypeLength = 128;

    private static bool NonEmptyString(JsonElement element, string name, int maxLength, out string value)
    {
        value = element.TryGetProperty(name, out var property) && property.ValueKind == JsonValueKind.String ? property.GetString()! : "";
        return value.Length > 0 && value.Length <= maxLength;
    }

    private static bool IsObjectIdentityValid(JsonElement dataObject, out bool kept)
    {
        kept = false;
        if (dataObject.TryGetProperty("object", out var objectType))
        {
            if (objectType.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            kept = StripeJsonReader.KeptObjects.Contains(objectType.GetString()!);
        }

        if (dataObject.TryGetProperty("id", out var id) && id.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
        {
            return false;
        }

        if (kept && (id.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(id.GetString())))
        {
            return false; // An object StripeSync keeps is stored by its id.
        }

        // Every Stripe object's created is unix seconds; Stripe.net would refuse the event otherwise.
        return !dataObject.TryGetProperty("created", out var created) || created.ValueKind == JsonValueKind.Null
            || (created.ValueKind == JsonValueKind.Number && created.TryGetInt64(out _));
    }

    /// <summary>Parses an event's JSON (any API version); null when it is not a Stripe event at all.</summary>
    public static EventRecord? Parse(string json, bool livemode)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || String(root, "id") is not { Length: > 0 } id || String(root, "type") is not { Length: > 0 } type)
            {
                return null;
            }

            var eventLivemode = root.TryGetProperty("livemode", out var mode) && mode.ValueKind != JsonValueKind.Null && mode.GetBoolean();
            var created = root.TryGetProperty("created", out var at) && at.ValueKind != JsonValueKind.Null ? at.GetInt64() : 0;
            livemode = eventLivemode || livemode;
            StripeRecord? record = null, previous = null;
            if (root.TryGetProperty("data", out var data) && data.ValueKind != JsonValueKind.Null)
            {
                if (data.TryGetProperty("object", out var current) && current.ValueKind != JsonValueKind.Null)
                {
                    record = StripeJsonReader.Read(current, livemode);
                    previous = Previous(data, current, livemode);
                }
            }

            // customer.deleted carries the customer as it was, without "deleted": only the event's type says it is gone.
            if (type == "customer.deleted" && record is CustomerRecord customer)
            {
                record = customer with { Deleted = true };
            }

            return new EventRecord(id, type, DateTimeOffset.FromUnixTimeSeconds(created), eventLivemode, record, previous, json);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Untrusted input: whatever stops us reading it (malformed JSON, a field of the wrong kind) means "not a Stripe event".
            return null;
        }
    }

    private static string? String(JsonElement o, string name) =>
        o.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value.GetString() : null;

    /// <summary>
    /// The object before the change: <c>data.object</c> with <c>data.previous_attributes</c> laid over it. This is
    /// right however late or out of order the event arrives, unlike whatever state we happen to hold.
    /// </summary>
    private static StripeRecord? Previous(JsonElement data, JsonElement current, bool livemode)
    {
        if (!data.TryGetProperty("previous_attributes", out var previous) || previous.ValueKind != JsonValueKind.Object
            || current.ValueKind != JsonValueKind.Object || !previous.EnumerateObject().Any())
        {
            return null; // Most events have none.
        }

        // Each attribute that changed replaces the object's own, at the top level only, as Stripe describes the change.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in current.EnumerateObject())
            {
                if (!previous.TryGetProperty(property.Name, out _))
                {
                    property.WriteTo(writer);
                }
            }

            foreach (var property in previous.EnumerateObject())
            {
                property.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        using var before = JsonDocument.Parse(buffer.WrittenMemory);
        return StripeJsonReader.Read(before.RootElement, livemode);
    }
}
