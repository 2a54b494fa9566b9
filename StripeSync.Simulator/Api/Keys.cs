namespace StripeSync.Simulator.Api;

/// <summary>An API key the simulator knows: its mode and, for a restricted key, what it may do.</summary>
internal sealed record SimKey(string Key, bool Livemode, bool Restricted, IReadOnlySet<string> Permissions);

/// <summary>
/// The documented keys: <c>sk_test_sim</c>, <c>sk_live_sim</c>, <c>rk_test_sim_full</c>, <c>rk_live_sim_full</c>, and
/// <c>rk_{test|live}_sim_without_{permission}</c> for each permission (e.g. <c>rk_test_sim_without_invoices_read</c>).
/// </summary>
internal static class Keys
{
    public static readonly IReadOnlyList<string> Permissions =
    [
        "customers_read", "charges_read", "invoices_read", "subscriptions_read", "prices_read", "products_read",
        "events_read", "checkout_sessions_read", "webhook_endpoints_write",
        "payment_intents_read", "setup_intents_read", "disputes_read", "credit_notes_read", "radar_read",
    ];

    /// <summary>Stripe's own names for those permissions, as its 403 message gives them.</summary>
    public static string StripeName(string permission) => permission switch
    {
        "customers_read" => "rak_customer_read",
        "charges_read" => "rak_charge_read",
        "invoices_read" => "rak_invoice_read",
        "subscriptions_read" => "rak_subscription_read",
        "prices_read" => "rak_plan_read",
        "products_read" => "rak_product_read",
        "events_read" => "rak_event_read",
        "checkout_sessions_read" => "rak_checkout_session_read",
        "payment_intents_read" => "rak_payment_intent_read",
        "setup_intents_read" => "rak_setup_intent_read",
        "disputes_read" => "rak_dispute_read",
        "credit_notes_read" => "rak_credit_note_read",
        "radar_read" => "rak_radar_read",
        _ => "rak_webhook_write",
    };

    public static SimKey? Resolve(string key)
    {
        var all = Permissions.ToHashSet(StringComparer.Ordinal);
        return key switch
        {
            "sk_test_sim" => new SimKey(key, false, false, all),
            "sk_live_sim" => new SimKey(key, true, false, all),
            "rk_test_sim_full" => new SimKey(key, false, true, all),
            "rk_live_sim_full" => new SimKey(key, true, true, all),
            _ when key.StartsWith("rk_test_sim_without_", StringComparison.Ordinal) => Without(key, false, key["rk_test_sim_without_".Length..], all),
            _ when key.StartsWith("rk_live_sim_without_", StringComparison.Ordinal) => Without(key, true, key["rk_live_sim_without_".Length..], all),
            _ => null,
        };
    }

    /// <summary>The permission an endpoint needs; null for endpoints every key may call.</summary>
    public static string? Required(string method, string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var resource = segments.Length > 1 ? segments[1] : "";
        if (resource == "checkout")
        {
            return "checkout_sessions_read";
        }

        return resource switch
        {
            "customers" or "payment_methods" or "tax_ids" => "customers_read",
            "charges" or "refunds" => "charges_read",
            "invoices" or "invoice_payments" => "invoices_read",
            "subscriptions" or "subscription_items" or "subscription_schedules" => "subscriptions_read",
            "payment_intents" => "payment_intents_read",
            "setup_intents" => "setup_intents_read",
            "disputes" => "disputes_read",
            "credit_notes" => "credit_notes_read",
            "radar" => "radar_read",
            "prices" or "plans" or "coupons" => "prices_read",
            "products" => "products_read",
            "events" => "events_read",
            "webhook_endpoints" => "webhook_endpoints_write",
            _ => method == "GET" ? null : "webhook_endpoints_write",
        };
    }

    /// <summary>How Stripe shows a key in its error messages: the prefix, stars, the last four.</summary>
    public static string Redact(string key)
    {
        var prefix = key.Length > 8 ? key[..8] : key;
        return key.Length <= 12 ? prefix + "****" : prefix + new string('*', Math.Max(4, key.Length - 12)) + key[^4..];
    }

    private static SimKey? Without(string key, bool livemode, string missing, HashSet<string> all) =>
        all.Contains(missing) ? new SimKey(key, livemode, true, all.Where(p => p != missing).ToHashSet(StringComparer.Ordinal)) : null;
}
