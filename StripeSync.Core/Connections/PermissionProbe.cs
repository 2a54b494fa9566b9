using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Connections;

/// <summary>One permission of SPEC §1 and what it costs to lack it.</summary>
public sealed record PermissionCheck(string Name, string Access, string Path, bool Required, string Tick, string? WithoutIt);

public sealed record PermissionResult(string Name, string Access, bool Granted, bool Required, string Message);

/// <summary>The outcome of probing a key: 401 means nothing else matters.</summary>
public sealed record ProbeResult(bool KeyInvalid, string? KeyMessage, IReadOnlyList<PermissionResult> Permissions)
{
    public IEnumerable<PermissionResult> MissingRequired => Permissions.Where(p => p.Required && !p.Granted);
}

/// <summary>Probes every permission by calling the endpoint it guards (SPEC §1 step 2).</summary>
public static class PermissionProbe
{
    public static readonly IReadOnlyList<PermissionCheck> All =
    [
        new("Customers", "read", "/v1/customers", true, "Customers → Read", null),
        new("Charges", "read", "/v1/charges", true, "Charges → Read (covers refunds)", null),
        new("Invoices", "read", "/v1/invoices", true, "Invoices → Read", null),
        new("Subscriptions", "read", "/v1/subscriptions", true, "Subscriptions → Read", null),
        new("Prices", "read", "/v1/prices", true, "Prices → Read", null),
        new("Products", "read", "/v1/products", true, "Products → Read", null),
        new("Events", "read", "/v1/events", true, "Events → Read", null),
        new("Checkout Sessions", "read", "/v1/checkout/sessions", false, "Checkout Sessions → Read",
            "Without it there are no Checkout Completed or Checkout Abandoned events."),
        new("Webhook Endpoints", "write", "/v1/webhook_endpoints", false, "Webhook Endpoints → Write",
            "Without it StripeSync cannot register its webhook and polls Stripe's Events API every minute instead."),
    ];

    public static async Task<ProbeResult> ProbeAsync(StripeAccountClient client, CancellationToken ct)
    {
        var results = new List<PermissionResult>();
        foreach (var permission in All)
        {
            var error = await client.ProbeAsync(permission.Path, permission.Access == "write", ct);
            if (error is { Status: 401 })
            {
                return new ProbeResult(true,
                    $"Stripe refused the key: {error.Message} The key is invalid or has been revoked; create a new restricted key in Stripe's dashboard.", []);
            }

            results.Add(error switch
            {
                null => new PermissionResult(permission.Name, permission.Access, true, permission.Required, "Granted."),
                { Status: 403 } => new PermissionResult(permission.Name, permission.Access, false, permission.Required,
                    $"{error.Message} In Stripe's dashboard, edit the restricted key and tick {permission.Tick}."
                    + (permission.WithoutIt is { } cost ? " " + cost : "")),
                _ => new PermissionResult(permission.Name, permission.Access, false, permission.Required,
                    $"Could not check (Stripe answered {error.Status}: {error.Message}); try again in a moment."),
            });
        }

        return new ProbeResult(false, null, results);
    }
}
