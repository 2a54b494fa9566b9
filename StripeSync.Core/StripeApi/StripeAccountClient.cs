using System.Collections.Frozen;
using System.Text.Json;
using Stripe;

namespace StripeSync.Core.StripeApi;

/// <summary>A page of a Stripe list: the records and the cursor for the next page (null at the end).</summary>
public sealed record RecordPage(IReadOnlyList<StripeRecord> Items, string? NextCursor);

/// <summary>An event of the Events API or a webhook: our record of its object, and the raw JSON we keep.</summary>
/// <param name="Previous">For *.updated events: the object as it was before, from <c>data.previous_attributes</c>.</param>
public sealed record EventRecord(string Id, string Type, DateTimeOffset Created, bool Livemode, StripeRecord? Data,
    StripeRecord? Previous, string Json);

public sealed record EventPage(IReadOnlyList<EventRecord> Items, string? NextCursor);

/// <summary>Stripe's answer was an error we must not retry: the status and Stripe's own message.</summary>
public sealed class StripeCallException(int status, string? type, string? code, string message, Exception inner)
    : Exception(message, inner)
{
    public int Status { get; } = status;
    public string? ErrorType { get; } = type;
    public string? Code { get; } = code;
    public bool KeyRevoked => Status == 401;
}

/// <summary>
/// Everything StripeSync asks of one Stripe account, with one key. Lists are pages of 100, newest first,
/// walked with <c>starting_after</c>. All calls pass through the connection's <see cref="StripeTraffic"/>.
/// </summary>
public sealed class StripeAccountClient
{
    private const int PageSize = 100;

    /// <summary>
    /// Where each type lives and what comes expanded with its object, once for both a retrieve and a list, so a record
    /// from the backfill and one fetched for a webhook carry the same fields.
    /// </summary>
    private static readonly FrozenDictionary<StripeObjectType, Resource> Resources = new Dictionary<StripeObjectType, Resource>
    {
        // The default payment method comes with its customer: the card on file, even of a customer who never paid.
        [StripeObjectType.Customer] = new("/v1/customers", ["invoice_settings.default_payment_method"]),
        [StripeObjectType.Product] = new("/v1/products", []),
        [StripeObjectType.Price] = new("/v1/prices", ["tiers"]),
        [StripeObjectType.Coupon] = new("/v1/coupons", []),
        // Stripe lists only subscriptions that are not canceled unless asked for every status.
        [StripeObjectType.Subscription] = new("/v1/subscriptions", ["discounts", "items.data.discounts"], ListFilter: "status=all"),
        [StripeObjectType.Invoice] = new("/v1/invoices", []),
        [StripeObjectType.InvoicePayment] = new("/v1/invoice_payments", []),
        [StripeObjectType.Charge] = new("/v1/charges", []),
        [StripeObjectType.Refund] = new("/v1/refunds", []),
        [StripeObjectType.CheckoutSession] = new("/v1/checkout/sessions", ["line_items"]),
        // Not listed: the backfill gets each customer's default one expanded on the customer.
        [StripeObjectType.PaymentMethod] = new("/v1/payment_methods", [], Listed: false),
    }.ToFrozenDictionary();

    private readonly StripeClient client;
    private readonly bool livemode;

    internal StripeAccountClient(StripeClient client, bool livemode, StripeTraffic traffic)
    {
        this.client = client;
        this.livemode = livemode;
        Traffic = traffic;
    }

    public StripeTraffic Traffic { get; }

    /// <summary>
    /// One page of one object type created in [<paramref name="from"/>, <paramref name="before"/>) (unix seconds, null
    /// for open); <paramref name="cursor"/> is the last id of the previous page.
    /// </summary>
    public async Task<RecordPage> ListAsync(StripeObjectType type, string? cursor, long? from, long? before, CancellationToken ct)
    {
        if (!Resources.TryGetValue(type, out var resource) || !resource.Listed)
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Not listed by the backfill.");
        }

        var query = Query(resource.ListPath, cursor, resource.ListExpand) + (from is { } f ? $"&created%5Bgte%5D={f}" : "") + (before is { } b ? $"&created%5Blt%5D={b}" : "");
        using var page = await GetJsonAsync(query, ct);
        var (items, hasMore, last) = StripeJsonReader.List(page.RootElement, o => StripeJsonReader.Read(o, type, livemode));
        return new RecordPage(items, hasMore && last is not null ? last : null);
    }

    /// <summary>A list's path and query as Stripe.net's typed services wrote it: pages of 100, the cursor, the expansions.</summary>
    private static string Query(string path, string? cursor, params string[] expand)
    {
        var query = new System.Text.StringBuilder(path).Append(path.Contains('?', StringComparison.Ordinal) ? '&' : '?').Append("limit=").Append(PageSize);
        if (cursor is not null)
        {
            query.Append("&starting_after=").Append(Uri.EscapeDataString(cursor));
        }

        return query.Append(Expansions(expand, '&')).ToString();
    }

    /// <summary><c>expand[0]=…&amp;expand[1]=…</c>, as Stripe.net encodes a list.</summary>
    private static string Expansions(string[] expand, char separator) =>
        string.Concat(expand.Select((path, i) => (i == 0 ? separator : '&') + $"expand%5B{i}%5D=" + Uri.EscapeDataString(path)));

    /// <summary>A GET whose JSON we read ourselves (the caller disposes it).</summary>
    private async Task<JsonDocument> GetJsonAsync(string pathAndQuery, CancellationToken ct) =>
        JsonDocument.Parse((await RawAsync(HttpMethod.Get, pathAndQuery, null, ct)).Content);

    /// <summary>A request outside Stripe.net's typed services; Stripe's errors become <see cref="StripeCallException"/> as elsewhere.</summary>
    private async Task<StripeResponse> RawAsync(HttpMethod method, string pathAndQuery, string? content, CancellationToken ct)
    {
        StripeResponse response;
        try
        {
            response = await client.RawRequestAsync(method, pathAndQuery, content, null, ct);
        }
        catch (StripeException e)
        {
            throw new StripeCallException((int)e.HttpStatusCode, e.StripeError?.Type, e.StripeError?.Code, e.StripeError?.Message ?? e.Message, e);
        }

        var status = (int)response.StatusCode;
        if (status >= 300)
        {
            var error = StripeErrorOf(response.Content);
            throw new StripeCallException(status, error?.Type, error?.Code, error?.Message ?? $"Stripe answered {status}.",
                new InvalidOperationException(response.Content));
        }

        return response;
    }

    /// <summary>The current state of one object (invoice lines complete), or null if Stripe no longer has it.</summary>
    public async Task<StripeRecord?> RetrieveAsync(StripeObjectType type, string id, CancellationToken ct)
    {
        if (!Resources.TryGetValue(type, out var resource))
        {
            return null;
        }

        try
        {
            StripeRecord record;
            using (var json = await GetJsonAsync(resource.Path + "/" + Uri.EscapeDataString(id) + Expansions(resource.Expand, '?'), ct))
            {
                record = StripeJsonReader.Read(json.RootElement, type, livemode);
            }

            return record switch
            {
                InvoiceRecord { LinesComplete: false } invoice => invoice with { Lines = await ListInvoiceLinesAsync(invoice.Id, ct), LinesComplete = true },
                // A deleted customer answers {id, object, deleted: true} and nothing else: no state to replace what we hold.
                CustomerRecord { Deleted: true } => null,
                _ => record,
            };
        }
        catch (StripeCallException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>The lines of an invoice beyond those embedded in it.</summary>
    public async Task<IReadOnlyList<InvoiceLineRecord>> ListInvoiceLinesAsync(string invoiceId, CancellationToken ct)
    {
        var lines = new List<InvoiceLineRecord>();
        string? cursor = null;
        do
        {
            using var page = await GetJsonAsync(Query($"/v1/invoices/{Uri.EscapeDataString(invoiceId)}/lines", cursor), ct);
            var (items, hasMore, last) = StripeJsonReader.List(page.RootElement, StripeJsonReader.InvoiceLine);
            lines.AddRange(items);
            cursor = hasMore ? last : null;
        }
        while (cursor is not null);

        return lines;
    }

    /// <summary>
    /// Every charge created in [<paramref name="from"/>, <paramref name="until"/>), whatever its status: Stripe's
    /// charge list filters by time but not by status. Used to count what Stripe itself has, independently of the sync.
    /// </summary>
    public async Task<IReadOnlyList<ChargeRecord>> ListChargesCreatedAsync(DateTimeOffset from, DateTimeOffset until, CancellationToken ct)
    {
        var charges = new List<ChargeRecord>();
        string? cursor = null;
        do
        {
            using var page = await GetJsonAsync(Query("/v1/charges", cursor)
                + $"&created%5Bgte%5D={from.ToUnixTimeSeconds()}&created%5Blt%5D={until.ToUnixTimeSeconds()}", ct);
            var (items, hasMore, last) = StripeJsonReader.List(page.RootElement, StripeJsonReader.Charge);
            charges.AddRange(items);
            cursor = hasMore && last is not null ? last : null;
        }
        while (cursor is not null);

        return charges;
    }

    /// <summary>
    /// Events created at or after <paramref name="after"/> (unix seconds), newest first, one page. Read raw, so
    /// each event is stored exactly as Stripe wrote it (previous_attributes included), the same bytes a webhook carries.
    /// </summary>
    public async Task<EventPage> ListEventsAsync(long after, string? cursor, CancellationToken ct)
    {
        var query = $"/v1/events?limit={PageSize}&created%5Bgte%5D={after}" + (cursor is null ? "" : "&starting_after=" + Uri.EscapeDataString(cursor));
        using var page = await GetJsonAsync(query, ct);
        var (events, hasMore, last) = StripeJsonReader.List(page.RootElement, item => StripeEvents.Parse(item.GetRawText(), livemode));
        return new EventPage([.. events.OfType<EventRecord>()], hasMore && last is not null ? last : null);
    }

    /// <summary>The Stripe account's id (<c>acct_…</c>), or null where the key may not read it.</summary>
    public async Task<string?> AccountIdAsync(CancellationToken ct)
    {
        try
        {
            return (await Call(() => new AccountService(client).GetSelfAsync(null, ct))).Id;
        }
        catch (StripeCallException e) when (e.Status == 403)
        {
            return null;
        }
    }

    /// <summary>Registers StripeSync's webhook endpoint; Stripe returns the signing secret only now.</summary>
    public async Task<(string Id, string Secret)> CreateWebhookEndpointAsync(Uri url, IEnumerable<string> events, CancellationToken ct)
    {
        var endpoint = await Call(() => new WebhookEndpointService(client).CreateAsync(new WebhookEndpointCreateOptions
        {
            Url = url.ToString(),
            EnabledEvents = [.. events],
            Description = "StripeSync",
        }, null, ct));
        return (endpoint.Id, endpoint.Secret);
    }

    /// <summary>
    /// Asks Stripe whether this key may use an endpoint: a list with limit=1 for read, and for write a create
    /// with no parameters, which Stripe refuses with 400 (missing parameter) when allowed and 403 when not,
    /// so probing never changes the account. Returns null when allowed, else Stripe's own error.
    /// </summary>
    public async Task<StripeCallException?> ProbeAsync(string path, bool write, CancellationToken ct)
    {
        try
        {
            _ = write ? await RawAsync(HttpMethod.Post, path, "", ct) : await RawAsync(HttpMethod.Get, path + "?limit=1", null, ct);
            return null;
        }
        catch (StripeCallException e) when (write && e.Status == 400)
        {
            return null;
        }
        catch (StripeCallException e)
        {
            return e;
        }
    }

    /// <summary>One object type's endpoint. A list wraps its objects in <c>data</c>, so it asks each expansion under <c>data.</c>.</summary>
    private sealed record Resource(string Path, string[] Expand, string? ListFilter = null, bool Listed = true)
    {
        public string ListPath { get; } = ListFilter is null ? Path : $"{Path}?{ListFilter}";

        public string[] ListExpand { get; } = [.. Expand.Select(e => "data." + e)];
    }

    private static StripeError? StripeErrorOf(string? json)
    {
        try
        {
            return json is null ? null : Newtonsoft.Json.Linq.JObject.Parse(json)["error"]?.ToObject<StripeError>();
        }
        catch (Newtonsoft.Json.JsonException)
        {
            return null;
        }
    }

    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (StripeException e)
        {
            throw new StripeCallException((int)e.HttpStatusCode, e.StripeError?.Type, e.StripeError?.Code,
                e.StripeError?.Message ?? e.Message, e);
        }
    }
}
