using Newtonsoft.Json;
using Stripe;

namespace StripeSync.Simulator.Data;

/// <summary>Stripe.net's own serialisation of its entities: exactly the wire format Stripe.net reads back.</summary>
internal static class StripeJson
{
    public static string Serialize(IHasObject entity) => JsonConvert.SerializeObject(entity, Formatting.None);
}
