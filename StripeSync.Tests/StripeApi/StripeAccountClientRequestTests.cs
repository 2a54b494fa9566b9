using System.Collections.Concurrent;
using System.Web;
using Stripe;
using StripeSync.Core.StripeApi;
using StripeSync.Tests.Simulator;

namespace StripeSync.Tests.StripeApi;

/// <summary>
/// The requests <see cref="StripeAccountClient"/> sends for each object type, seen on the wire on their way to the
/// simulator: a list and a retrieve of one type ask the same path with the same expansions (the list's under
/// <c>data.</c>), so a record read from the backfill and one fetched for a webhook carry the same fields.
/// </summary>
[Collection(SimulatorTests.Name)]
public sealed class StripeAccountClientRequestTests(SimulatorFixture fixture)
{
    /// <summary>What each type's object needs expanded, as the readers expect it (written out here, not read from the client).</summary>
    public static TheoryData<StripeObjectType, string, string[]> Listed => new()
    {
        { StripeObjectType.Customer, "/v1/customers", ["invoice_settings.default_payment_method"] },
        { StripeObjectType.Product, "/v1/products", [] },
        { StripeObjectType.Price, "/v1/prices", ["tiers"] },
        { StripeObjectType.Coupon, "/v1/coupons", [] },
        { StripeObjectType.Subscription, "/v1/subscriptions", ["discounts", "items.data.discounts"] },
        { StripeObjectType.Invoice, "/v1/invoices", [] },
        { StripeObjectType.InvoicePayment, "/v1/invoice_payments", [] },
        { StripeObjectType.Charge, "/v1/charges", [] },
        { StripeObjectType.Refund, "/v1/refunds", [] },
        { StripeObjectType.CheckoutSession, "/v1/checkout/sessions", ["line_items"] },
    };

    [Theory]
    [MemberData(nameof(Listed))]
    public async Task A_list_and_a_retrieve_of_a_type_ask_its_path_with_the_same_expansions(StripeObjectType type, string path, string[] expand)
    {
        var (client, sent) = ClientRecording();

        var first = await client.ListAsync(type, null, null, null, CancellationToken.None);
        var id = first.Items.Count > 0 ? first.Items[0].Id : throw new InvalidOperationException($"The simulator has no {type}.");
        sent.Clear();
        await client.ListAsync(type, id, 1_600_000_000, 1_900_000_000, CancellationToken.None);
        var retrieved = await client.RetrieveAsync(type, id, CancellationToken.None);

        var list = sent.First();
        Assert.Equal(path, list.AbsolutePath);
        var query = HttpUtility.ParseQueryString(list.Query);
        Assert.Equal("100", query["limit"]);
        Assert.Equal(id, query["starting_after"]);
        Assert.Equal("1600000000", query["created[gte]"]);
        Assert.Equal("1900000000", query["created[lt]"]);
        // Stripe lists only live subscriptions unless asked for every status; the other lists take no status filter.
        Assert.Equal(type == StripeObjectType.Subscription ? "all" : null, query["status"]);
        Assert.Equal(expand.Select(e => "data." + e), Expansions(query));

        var retrieve = sent.Skip(1).First();
        Assert.Equal($"{path}/{id}", retrieve.AbsolutePath);
        var retrieveQuery = HttpUtility.ParseQueryString(retrieve.Query);
        Assert.Equal(expand, Expansions(retrieveQuery));
        Assert.Equal(expand.Length, retrieveQuery.Count);
        Assert.Equal(id, retrieved?.Id);
        Assert.Equal(type, retrieved?.Type);
    }

    [Fact]
    public async Task A_payment_method_is_retrieved_but_never_listed()
    {
        var (client, sent) = ClientRecording();
        var customer = (await client.ListAsync(StripeObjectType.Customer, null, null, null, CancellationToken.None))
            .Items.OfType<CustomerRecord>().First(c => c.DefaultPaymentMethodId is not null);
        sent.Clear();

        var method = await client.RetrieveAsync(StripeObjectType.PaymentMethod, customer.DefaultPaymentMethodId!, CancellationToken.None);

        Assert.Equal($"/v1/payment_methods/{customer.DefaultPaymentMethodId}", Assert.Single(sent).AbsolutePath);
        Assert.Empty(Assert.Single(sent).Query);
        Assert.Equal(customer.DefaultPaymentMethodId, method?.Id);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.ListAsync(StripeObjectType.PaymentMethod, null, null, null, CancellationToken.None));
        Assert.Single(sent);
    }

    private static string?[] Expansions(System.Collections.Specialized.NameValueCollection query) =>
        [.. Enumerable.Range(0, query.Count).Select(i => query[$"expand[{i}]"]).TakeWhile(e => e is not null)];

    private (StripeAccountClient Client, ConcurrentQueue<Uri> Sent) ClientRecording()
    {
        var recorder = new Recorder { InnerHandler = new HttpClientHandler() };
        var stripe = new StripeClient(apiKey: "sk_live_sim", httpClient: new SystemNetHttpClient(new HttpClient(recorder), maxNetworkRetries: 0),
            apiBase: fixture.Server.BaseUrl.ToString().TrimEnd('/'));
        return (new StripeAccountClient(stripe, livemode: true, new StripeTraffic(1000, 1000, TimeProvider.System)), recorder.Sent);
    }

    private sealed class Recorder : DelegatingHandler
    {
        public ConcurrentQueue<Uri> Sent { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Sent.Enqueue(request.RequestUri!);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
