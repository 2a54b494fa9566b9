using Stripe;
using Stripe.Checkout;

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
    public Task<RecordPage> ListAsync(StripeObjectType type, string? cursor, long? from, long? before, CancellationToken ct)
    {
        var created = new DateRangeOptions
        {
            GreaterThanOrEqual = from is { } f ? DateTimeOffset.FromUnixTimeSeconds(f).UtcDateTime : null,
            LessThan = before is { } b ? DateTimeOffset.FromUnixTimeSeconds(b).UtcDateTime : null,
        };
        return type switch
        {
            // The default payment method comes with its customer: the card on file, even of a customer who never paid.
            StripeObjectType.Customer => Page(new CustomerService(client).ListAsync(
                With(Options<CustomerListOptions>(cursor, "data.invoice_settings.default_payment_method"), o => o.Created = created), null, ct)),
            StripeObjectType.Product => Page(new ProductService(client).ListAsync(
                With(Options<ProductListOptions>(cursor), o => o.Created = created), null, ct)),
            StripeObjectType.Price => Page(new PriceService(client).ListAsync(
                With(Options<PriceListOptions>(cursor, "data.tiers"), o => o.Created = created), null, ct)),
            StripeObjectType.Coupon => Page(new CouponService(client).ListAsync(
                With(Options<CouponListOptions>(cursor), o => o.Created = created), null, ct)),
            StripeObjectType.Subscription => Page(new SubscriptionService(client).ListAsync(
                With(Options<SubscriptionListOptions>(cursor, "data.discounts", "data.items.data.discounts"), o => (o.Status, o.Created) = ("all", created)), null, ct)),
            StripeObjectType.Invoice => Page(new InvoiceService(client).ListAsync(
                With(Options<InvoiceListOptions>(cursor), o => o.Created = created), null, ct)),
            StripeObjectType.InvoicePayment => Page(new InvoicePaymentService(client).ListAsync(
                With(Options<InvoicePaymentListOptions>(cursor), o => o.Created = created), null, ct)),
            StripeObjectType.Charge => Page(new ChargeService(client).ListAsync(
                With(Options<ChargeListOptions>(cursor), o => o.Created = created), null, ct)),
            StripeObjectType.Refund => Page(new RefundService(client).ListAsync(
                With(Options<RefundListOptions>(cursor), o => o.Created = created), null, ct)),
            StripeObjectType.CheckoutSession => Page(new SessionService(client).ListAsync(
                With(Options<SessionListOptions>(cursor, "data.line_items"), o => o.Created = created), null, ct)),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not listed by the backfill."),
        };
    }

    /// <summary>A GET whose JSON we read ourselves.</summary>
    private async Task<Newtonsoft.Json.Linq.JObject> RawGetAsync(string pathAndQuery, CancellationToken ct) =>
        Newtonsoft.Json.Linq.JObject.Parse((await RawAsync(HttpMethod.Get, pathAndQuery, null, ct)).Content);

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
        try
        {
            StripeRecord? record = type switch
            {
                StripeObjectType.Customer => StripeMapper.Customer(await Call(() => new CustomerService(client).GetAsync(id,
                    Expand<CustomerGetOptions>("invoice_settings.default_payment_method"), null, ct))),
                StripeObjectType.Product => StripeMapper.Product(await Call(() => new ProductService(client).GetAsync(id, null, null, ct))),
                StripeObjectType.Price => StripeMapper.Price(await Call(() => new PriceService(client).GetAsync(id, Expand<PriceGetOptions>("tiers"), null, ct))),
                StripeObjectType.Coupon => StripeMapper.Coupon(await Call(() => new CouponService(client).GetAsync(id, null, null, ct))),
                StripeObjectType.Subscription => StripeMapper.Subscription(await Call(() => new SubscriptionService(client).GetAsync(id,
                    Expand<SubscriptionGetOptions>("discounts", "items.data.discounts"), null, ct))),
                StripeObjectType.Invoice => StripeMapper.Invoice(await Call(() => new InvoiceService(client).GetAsync(id, null, null, ct))),
                StripeObjectType.InvoicePayment => StripeMapper.InvoicePayment(await Call(() => new InvoicePaymentService(client).GetAsync(id, null, null, ct))),
                StripeObjectType.Charge => StripeMapper.Charge(await Call(() => new ChargeService(client).GetAsync(id, null, null, ct))),
                StripeObjectType.Refund => StripeMapper.Refund(await Call(() => new RefundService(client).GetAsync(id, null, null, ct)), livemode),
                StripeObjectType.CheckoutSession => StripeMapper.CheckoutSession(await Call(() => new SessionService(client).GetAsync(id,
                    Expand<SessionGetOptions>("line_items"), null, ct))),
                StripeObjectType.PaymentMethod => StripeMapper.PaymentMethod(await Call(() => new PaymentMethodService(client).GetAsync(id, null, null, ct))),
                _ => null,
            };
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
            var page = await Call(() => new InvoiceLineItemService(client).ListAsync(invoiceId,
                new InvoiceLineItemListOptions { Limit = PageSize, StartingAfter = cursor }, null, ct));
            lines.AddRange(page.Data.Select(StripeMapper.InvoiceLine));
            cursor = page.HasMore ? page.Data[^1].Id : null;
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
            var page = await Call(() => new ChargeService(client).ListAsync(new ChargeListOptions
            {
                Limit = PageSize,
                StartingAfter = cursor,
                Created = new DateRangeOptions { GreaterThanOrEqual = from.UtcDateTime, LessThan = until.UtcDateTime },
            }, null, ct));
            charges.AddRange(page.Data.Select(StripeMapper.Charge));
            cursor = page.HasMore && page.Data.Count > 0 ? page.Data[^1].Id : null;
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
        var page = await RawGetAsync(query, ct);
        var events = new List<EventRecord>();
        foreach (var item in page["data"] as Newtonsoft.Json.Linq.JArray ?? [])
        {
            if (StripeEvents.Parse(item.ToString(Newtonsoft.Json.Formatting.None), livemode) is { } parsed)
            {
                events.Add(parsed);
            }
        }

        var last = (page["data"] as Newtonsoft.Json.Linq.JArray)?.LastOrDefault()?["id"]?.ToString();
        return new EventPage(events, page["has_more"]?.ToObject<bool>() == true && last is not null ? last : null);
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

    private async Task<RecordPage> Page<T>(Task<StripeList<T>> list) where T : IHasId, IHasObject
    {
        var page = await Call(() => list);
        var records = page.Data.Select(o => StripeMapper.Map(o, livemode)!).ToList();
        return new RecordPage(records, page.HasMore && page.Data.Count > 0 ? page.Data[^1].Id : null);
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

    private static T Options<T>(string? cursor, params string[] expand) where T : ListOptions, new()
    {
        var options = new T { Limit = PageSize, StartingAfter = cursor };
        foreach (var path in expand)
        {
            options.AddExpand(path);
        }

        return options;
    }

    private static T Expand<T>(params string[] paths) where T : BaseOptions, new()
    {
        var options = new T();
        foreach (var path in paths)
        {
            options.AddExpand(path);
        }

        return options;
    }

    private static T With<T>(T options, Action<T> change)
    {
        change(options);
        return options;
    }
}
