using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Stripe;
using Stripe.Checkout;
using StripeSync.Simulator.Data;

namespace StripeSync.Simulator.Api;

/// <summary>The Stripe REST endpoints the simulator serves, in Stripe's list envelope and pagination.</summary>
internal static class StripeEndpoints
{
    public static void MapStripeApi(this IEndpointRouteBuilder app, SimulatorAccount account)
    {
        MapList(app, account, "/v1/customers", "customer", m => m.Customers, Filters.Customer, (e, c, r) => CustomerShape(account, e, c, r));
        MapList(app, account, "/v1/products", "product", m => m.Products, Filters.None);
        MapList(app, account, "/v1/prices", "price", m => m.Prices, Filters.Price);
        MapList(app, account, "/v1/plans", "plan", m => m.Prices, Filters.Plan, Plan);
        MapList(app, account, "/v1/coupons", "coupon", m => m.Coupons, Filters.None);
        MapList(app, account, "/v1/subscriptions", "subscription", m => m.Subscriptions, Filters.Subscription);
        MapList(app, account, "/v1/invoices", "invoice", m => m.Invoices, Filters.Invoice);
        MapList(app, account, "/v1/invoice_payments", "invoice_payment", m => m.InvoicePayments, Filters.InvoicePayment);
        MapList(app, account, "/v1/charges", "charge", m => m.Charges, Filters.Customer);
        MapList(app, account, "/v1/refunds", "refund", m => m.Refunds, Filters.Refund);
        MapList(app, account, "/v1/checkout/sessions", "checkout.session", m => m.CheckoutSessions, Filters.Customer);
        MapList(app, account, "/v1/payment_methods", "payment_method", m => m.PaymentMethods, Filters.Customer);
        MapList(app, account, "/v1/events", "event", m => m.Events, Filters.Event);

        MapList(app, account, "/v1/payment_intents", "payment_intent", m => m.PaymentIntents, Filters.Customer);
        MapList(app, account, "/v1/setup_intents", "setup_intent", m => m.SetupIntents, Filters.Customer);
        MapList(app, account, "/v1/disputes", "dispute", m => m.Disputes, Filters.None);
        MapList(app, account, "/v1/radar/early_fraud_warnings", "radar.early_fraud_warning", m => m.EarlyFraudWarnings, Filters.None);
        MapList(app, account, "/v1/tax_ids", "tax_id", m => m.TaxIds, Filters.None);
        MapList(app, account, "/v1/credit_notes", "credit_note", m => m.CreditNotes, Filters.Customer);
        MapList(app, account, "/v1/subscription_schedules", "subscription_schedule", m => m.SubscriptionSchedules, Filters.Customer);

        MapItems(app, account, "/v1/invoices/{id}/lines", "invoice", m => m.Invoices,
            e => ((Invoice)e.Entity).Lines.Data.Select(l => (l.Id, JObject.Parse(StripeJson.Serialize(l)))));
        MapItems(app, account, "/v1/checkout/sessions/{id}/line_items", "checkout.session", m => m.CheckoutSessions,
            e => ((Session)e.Entity).LineItems.Data.Select(l => (l.Id, JObject.Parse(StripeJson.Serialize(l)))));

        app.MapGet("/v1/account", () => Json(JObject.Parse(StripeJson.Serialize(Account(account)))));

        app.MapGet("/v1/webhook_endpoints", (HttpContext context) =>
        {
            var endpoints = Mode(context, account).WebhookEndpoints.Values.OrderByDescending(e => e.Created).ToList();
            return Json(new JObject
            {
                ["object"] = "list",
                ["data"] = new JArray(endpoints.Select(e => WebhookJson(e, Mode(context, account).Livemode, withSecret: false))),
                ["has_more"] = false,
                ["url"] = "/v1/webhook_endpoints",
            });
        });

        app.MapPost("/v1/webhook_endpoints", async (HttpContext context) =>
        {
            var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync() : null;
            var url = form?["url"].ToString();
            if (string.IsNullOrEmpty(url))
            {
                return StripeErrors.Error(400, "invalid_request_error", "Missing required param: url.", "parameter_missing", "url");
            }

            if (!Uri.TryCreate(url, UriKind.Absolute, out _))
            {
                return StripeErrors.Error(400, "invalid_request_error", "Invalid URL: " + url, "url_invalid", "url");
            }

            var events = form!.Where(f => f.Key.StartsWith("enabled_events", StringComparison.Ordinal)).SelectMany(f => f.Value.ToArray()).OfType<string>().ToList();
            if (events.Count == 0)
            {
                return StripeErrors.Error(400, "invalid_request_error", "Missing required param: enabled_events.", "parameter_missing", "enabled_events");
            }

            var mode = Mode(context, account);
            var endpoint = new WebhookEndpointEntry(account.Ids.Next("we"), url, events, "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
                account.ChangeTime().ToUnixTimeSeconds());
            mode.WebhookEndpoints[endpoint.Id] = endpoint;
            return Json(WebhookJson(endpoint, mode.Livemode, withSecret: true));
        });

        app.MapDelete("/v1/webhook_endpoints/{id}", (HttpContext context, string id) =>
            Mode(context, account).WebhookEndpoints.TryRemove(id, out _)
                ? Json(new JObject { ["id"] = id, ["object"] = "webhook_endpoint", ["deleted"] = true })
                : StripeErrors.Missing("webhook_endpoint", id));
    }

    public static ModeData Mode(HttpContext context, SimulatorAccount account) =>
        account.Mode(((SimKey)context.Items[typeof(SimKey)]!).Livemode);

    private static void MapList(IEndpointRouteBuilder app, SimulatorAccount account, string path, string resource,
        Func<ModeData, ObjectList> list, Func<HttpContext, Func<Entry, bool>?> filter, Func<Entry, HttpContext, bool, JObject>? shape = null)
    {
        shape ??= Shape;
        app.MapGet(path, (HttpContext context) =>
        {
            var (limit, error) = Limit(context);
            if (error is not null)
            {
                return error;
            }

            var keep = filter(context);
            if (keep is null)
            {
                return StripeErrors.Error(400, "invalid_request_error", "Invalid filter value.", "parameter_invalid_string");
            }

            var created = Created(context);
            var query = context.Request.Query;
            var page = list(Mode(context, account)).Page(limit, NullIfEmpty(query["starting_after"]), NullIfEmpty(query["ending_before"]),
                e => created(e.Created) && keep(e));
            if (page is null)
            {
                // ObjectList.Page reads ending_before first when both are given: name the cursor it could not find.
                var cursor = NullIfEmpty(query["ending_before"]) is null ? "starting_after" : "ending_before";
                return StripeErrors.Missing(resource, query[cursor].ToString(), cursor);
            }

            // Written as text from each object's cached JSON: serialising Stripe.net entities on every page made the
            // simulator, not the importer, the cost an import benchmark measured.
            var body = new StringBuilder("{\"object\":\"list\",\"data\":[");
            foreach (var (entry, i) in page.Value.Page.Select((e, i) => (e, i)))
            {
                body.Append(i == 0 ? "" : ",").Append(Shaped(account, entry, context, path, shape, retrieve: false));
            }

            body.Append("],\"has_more\":").Append(page.Value.HasMore ? "true" : "false")
                .Append(",\"url\":").Append(JsonConvert.ToString(path)).Append('}');
            return Results.Text(body.ToString(), "application/json");
        });

        app.MapGet(path + "/{id}", (HttpContext context, string id) =>
            list(Mode(context, account)).Get(id) is { } entry
                ? Results.Text(Shaped(account, entry, context, path, shape, retrieve: true), "application/json")
                : Mode(context, account).Deleted.TryGetValue(id, out var deleted) && deleted == resource
                    ? Json(new JObject { ["id"] = id, ["object"] = resource, ["deleted"] = true })
                    : StripeErrors.Missing(resource, id));
    }

    /// <summary>A list that belongs to one object (an invoice's lines, a checkout session's line items), paged by <c>starting_after</c>.</summary>
    private static void MapItems(IEndpointRouteBuilder app, SimulatorAccount account, string route, string resource,
        Func<ModeData, ObjectList> list, Func<Entry, IEnumerable<(string Id, JObject Json)>> items)
    {
        app.MapGet(route, (HttpContext context, string id) =>
        {
            if (list(Mode(context, account)).Get(id) is not { } owner)
            {
                return StripeErrors.Missing(resource, id);
            }

            var (limit, error) = Limit(context);
            if (error is not null)
            {
                return error;
            }

            var all = items(owner).ToList();
            var after = context.Request.Query["starting_after"].ToString();
            var start = string.IsNullOrEmpty(after) ? 0 : all.FindIndex(l => l.Id == after) + 1;
            var page = all.Skip(start).Take(limit).ToList();
            return Json(new JObject
            {
                ["object"] = "list",
                ["data"] = new JArray(page.Select(l => l.Json)),
                ["has_more"] = start + page.Count < all.Count,
                ["url"] = route.Replace("{id}", id, StringComparison.Ordinal),
            });
        });
    }

    /// <summary>An object's JSON in the shape asked for, made once per shape until the account changes.</summary>
    private static string Shaped(SimulatorAccount account, Entry entry, HttpContext context, string path,
        Func<Entry, HttpContext, bool, JObject> shape, bool retrieve)
    {
        if (entry.Json is not null)
        {
            return entry.Json;
        }

        var generation = account.Generation;
        var key = path + (retrieve ? "/{id}" : "") + "?" + string.Join(",", Expansions(context, retrieve).Order(StringComparer.Ordinal));
        if (entry.Shaped is { } cached && cached.Generation == generation && cached.Shape == key)
        {
            return cached.Json;
        }

        var json = shape(entry, context, retrieve).ToString(Formatting.None);
        entry.Shaped = new ShapedJson(generation, key, json);
        return json;
    }

    /// <summary>An object as Stripe returns it: includable and expandable fields only when asked for.</summary>
    private static JObject Shape(Entry entry, HttpContext context, bool retrieve)
    {
        if (entry.Json is not null)
        {
            return JObject.Parse(entry.Json);
        }

        var json = JObject.Parse(StripeJson.Serialize(entry.Entity));
        var expand = Expansions(context, retrieve);
        switch (entry.Entity)
        {
            case Subscription:
                if (!expand.Contains("discounts"))
                {
                    json["discounts"] = Ids(json["discounts"]);
                }

                if (!expand.Contains("items.data.discounts") && json["items"]?["data"] is JArray items)
                {
                    foreach (var item in items.OfType<JObject>())
                    {
                        item["discounts"] = Ids(item["discounts"]);
                    }
                }

                break;
            case Stripe.Price when !expand.Contains("tiers"):
                json.Remove("tiers");
                break;
            case Session when !expand.Contains("line_items"):
                json.Remove("line_items");
                break;
            case Customer:
                json.Remove("subscriptions");
                json.Remove("sources");
                json.Remove("tax_ids");
                json.Remove("cash_balance");
                json.Remove("invoice_credit_balance");
                break;
        }

        return json;
    }

    /// <summary>A customer, with its default payment method expanded when asked (<c>invoice_settings.default_payment_method</c>).</summary>
    private static JObject CustomerShape(SimulatorAccount account, Entry entry, HttpContext context, bool retrieve)
    {
        var json = Shape(entry, context, retrieve);
        if (Expansions(context, retrieve).Contains("invoice_settings.default_payment_method")
            && json["invoice_settings"] is JObject settings && settings["default_payment_method"]?.ToString() is { Length: > 0 } id
            && Mode(context, account).PaymentMethods.Get(id)?.Entity is { } method)
        {
            settings["default_payment_method"] = JObject.Parse(StripeJson.Serialize(method));
        }

        return json;
    }

    /// <summary>The account as Stripe.net's entity, so every key of the API version is there (Connect details left empty).</summary>
    private static Account Account(SimulatorAccount account) => new()
    {
        Id = account.AccountId, Object = "account", BusinessType = "company", ChargesEnabled = true, Country = "US",
        Created = account.Now.AddYears(-3).UtcDateTime, DefaultCurrency = "usd", DetailsSubmitted = true, Email = "owner@example.com",
        PayoutsEnabled = true, Type = "standard", Metadata = [],
        BusinessProfile = new AccountBusinessProfile { Name = "Simulated SaaS Inc.", Url = "https://example.com" },
        Capabilities = new AccountCapabilities { CardPayments = "active", Transfers = "active" },
        ExternalAccounts = new StripeList<IExternalAccount> { Object = "list", Data = [], HasMore = false, Url = $"/v1/accounts/{account.AccountId}/external_accounts" },
    };

    private static JObject Plan(Entry entry, HttpContext context, bool retrieve)
    {
        var price = (Stripe.Price)entry.Entity;
        var plan = new Plan
        {
            Id = price.Id, Object = "plan", Active = price.Active, Amount = price.UnitAmount, AmountDecimal = price.UnitAmountDecimal,
            BillingScheme = price.BillingScheme, Created = price.Created, Currency = price.Currency, Interval = price.Recurring?.Interval,
            IntervalCount = price.Recurring?.IntervalCount ?? 1, Livemode = price.Livemode, Metadata = [], Nickname = price.Nickname,
            ProductId = price.ProductId, TiersMode = price.TiersMode, UsageType = price.Recurring?.UsageType,
        };
        return JObject.Parse(StripeJson.Serialize(plan));
    }

    /// <summary>The expansions asked for, relative to one object (<c>data.x</c> on lists, <c>x</c> on retrieve).</summary>
    private static HashSet<string> Expansions(HttpContext context, bool retrieve)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, values) in context.Request.Query)
        {
            if (key == "expand" || key.StartsWith("expand[", StringComparison.Ordinal))
            {
                foreach (var value in values.OfType<string>())
                {
                    set.Add(retrieve ? value : value.StartsWith("data.", StringComparison.Ordinal) ? value[5..] : value);
                }
            }
        }

        return set;
    }

    private static JArray Ids(JToken? list) =>
        new(list is JArray array ? array.Select(t => t is JObject o ? o["id"] : t) : []);

    private static (int Limit, IResult? Error) Limit(HttpContext context)
    {
        var text = context.Request.Query["limit"].ToString();
        if (string.IsNullOrEmpty(text))
        {
            return (10, null);
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit))
        {
            return (0, StripeErrors.Error(400, "invalid_request_error", "Invalid integer: " + text, "parameter_invalid_integer", "limit"));
        }

        return limit is < 1 or > 100
            ? (0, StripeErrors.Error(400, "invalid_request_error",
                "This value must be greater than or equal to 1 and less than or equal to 100.", "parameter_invalid_integer", "limit"))
            : (limit, null);
    }

    /// <summary><c>created</c>, <c>created[gt]</c>, <c>created[gte]</c>, <c>created[lt]</c>, <c>created[lte]</c> (unix seconds).</summary>
    private static Func<long, bool> Created(HttpContext context)
    {
        var q = context.Request.Query;
        long? Read(string key) => long.TryParse(q[key].ToString(), CultureInfo.InvariantCulture, out var v) ? v : null;
        var exact = Read("created");
        var gt = Read("created[gt]");
        var gte = Read("created[gte]");
        var lt = Read("created[lt]");
        var lte = Read("created[lte]");
        return t => (exact is null || t == exact) && (gt is null || t > gt) && (gte is null || t >= gte) && (lt is null || t < lt) && (lte is null || t <= lte);
    }

    private static string? NullIfEmpty(Microsoft.Extensions.Primitives.StringValues value) =>
        string.IsNullOrEmpty(value.ToString()) ? null : value.ToString();

    private static JObject WebhookJson(WebhookEndpointEntry e, bool livemode, bool withSecret)
    {
        var json = new JObject
        {
            ["id"] = e.Id,
            ["object"] = "webhook_endpoint",
            ["api_version"] = null,
            ["application"] = null,
            ["created"] = e.Created,
            ["description"] = null,
            ["enabled_events"] = new JArray(e.EnabledEvents),
            ["livemode"] = livemode,
            ["metadata"] = new JObject(),
            ["status"] = "enabled",
            ["url"] = e.Url,
        };
        if (withSecret)
        {
            json["secret"] = e.Secret;
        }

        return json;
    }

    private static IResult Json(JObject json) => Results.Text(json.ToString(Formatting.None), "application/json");

    /// <summary>The list filters Stripe.net sends for each resource.</summary>
    private static class Filters
    {
        public static Func<Entry, bool>? None(HttpContext context) => _ => true;

        public static Func<Entry, bool>? Customer(HttpContext context)
        {
            var customer = context.Request.Query["customer"].ToString();
            var email = context.Request.Query["email"].ToString();
            return e => (customer.Length == 0 || CustomerOf(e.Entity) == customer)
                && (email.Length == 0 || (e.Entity is Stripe.Customer c && c.Email == email));
        }

        public static Func<Entry, bool>? Price(HttpContext context)
        {
            var product = context.Request.Query["product"].ToString();
            var type = context.Request.Query["type"].ToString();
            return e => e.Entity is Stripe.Price p && (product.Length == 0 || p.ProductId == product) && (type.Length == 0 || p.Type == type);
        }

        public static Func<Entry, bool>? Plan(HttpContext context) => e => e.Entity is Stripe.Price { Type: "recurring" };

        public static Func<Entry, bool>? Subscription(HttpContext context)
        {
            var status = context.Request.Query["status"].ToString();
            var customer = context.Request.Query["customer"].ToString();
            // Stripe lists every status but canceled unless asked: status=all includes them.
            return e => e.Entity is Stripe.Subscription s && (customer.Length == 0 || s.CustomerId == customer)
                && (status == "all" || (status.Length == 0 ? s.Status != "canceled" : s.Status == status));
        }

        public static Func<Entry, bool>? Invoice(HttpContext context)
        {
            var status = context.Request.Query["status"].ToString();
            var customer = context.Request.Query["customer"].ToString();
            var subscription = context.Request.Query["subscription"].ToString();
            return e => e.Entity is Stripe.Invoice i && (status.Length == 0 || i.Status == status) && (customer.Length == 0 || i.CustomerId == customer)
                && (subscription.Length == 0 || i.Parent?.SubscriptionDetails?.SubscriptionId == subscription);
        }

        public static Func<Entry, bool>? InvoicePayment(HttpContext context)
        {
            var invoice = context.Request.Query["invoice"].ToString();
            return e => invoice.Length == 0 || ((Stripe.InvoicePayment)e.Entity).InvoiceId == invoice;
        }

        public static Func<Entry, bool>? Refund(HttpContext context)
        {
            var charge = context.Request.Query["charge"].ToString();
            return e => charge.Length == 0 || ((Stripe.Refund)e.Entity).ChargeId == charge;
        }

        public static Func<Entry, bool>? Event(HttpContext context)
        {
            var q = context.Request.Query;
            var type = q["type"].ToString();
            var types = q.Where(p => p.Key.StartsWith("types", StringComparison.Ordinal)).SelectMany(p => p.Value.OfType<string>()).ToHashSet(StringComparer.Ordinal);
            return e => (type.Length == 0 || Matches(((Event)e.Entity).Type, type)) && (types.Count == 0 || types.Any(t => Matches(((Event)e.Entity).Type, t)));
        }

        private static bool Matches(string type, string pattern) =>
            pattern.EndsWith(".*", StringComparison.Ordinal) ? type.StartsWith(pattern[..^1], StringComparison.Ordinal) : type == pattern;

        private static string? CustomerOf(IHasObject entity) => entity switch
        {
            Stripe.Customer c => c.Id,
            Charge c => c.CustomerId,
            Session s => s.CustomerId,
            PaymentMethod p => p.CustomerId,
            PaymentIntent p => p.CustomerId,
            _ => null,
        };
    }
}
