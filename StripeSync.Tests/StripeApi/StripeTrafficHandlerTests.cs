using System.Net;
using StripeSync.Core.StripeApi;

namespace StripeSync.Tests.StripeApi;

public sealed class StripeTrafficHandlerTests
{
    private static readonly StripeOptions Fast = new()
    {
        MaxRetries = 3,
        InitialBackoff = TimeSpan.FromMilliseconds(1),
        MaxBackoff = TimeSpan.FromMilliseconds(5),
    };

    [Theory]
    [InlineData("https://api.stripe.com/v1/invoices", "/v1/invoices")]
    [InlineData("https://api.stripe.com/v1/invoices/in_1Abc2/lines", "/v1/invoices/{id}/lines")]
    [InlineData("https://api.stripe.com/v1/invoice_payments", "/v1/invoice_payments")]
    [InlineData("https://api.stripe.com/v1/checkout/sessions", "/v1/checkout/sessions")]
    [InlineData("https://api.stripe.com/v1/customers/cus_9s6XKzkNRiz8i3", "/v1/customers/{id}")]
    public void Requests_count_against_their_endpoint_with_ids_folded(string url, string endpoint) =>
        Assert.Equal(endpoint, StripeTrafficHandler.Endpoint(new Uri(url)));

    [Fact]
    public async Task Server_errors_and_rate_limits_are_retried_until_success()
    {
        var inner = new Scripted(HttpStatusCode.InternalServerError, HttpStatusCode.TooManyRequests, HttpStatusCode.OK);
        using var traffic = new StripeTraffic(1000, 1000, TimeProvider.System);

        var response = await Send(traffic, inner);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, inner.Calls);
        var snapshot = traffic.Snapshot();
        Assert.Equal(2, snapshot.Retries);
        Assert.Equal(1, snapshot.RateLimited);
        Assert.Equal(1, snapshot.ServerErrors);
    }

    [Fact]
    public async Task Retries_stop_at_the_limit_and_return_stripes_answer()
    {
        var inner = new Scripted(Enumerable.Repeat(HttpStatusCode.ServiceUnavailable, 10).ToArray());
        using var traffic = new StripeTraffic(1000, 1000, TimeProvider.System);

        var response = await Send(traffic, inner);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(Fast.MaxRetries + 1, inner.Calls);
    }

    [Fact]
    public async Task Stripe_should_retry_false_is_honoured()
    {
        var inner = new Scripted(HttpStatusCode.InternalServerError, HttpStatusCode.OK) { ShouldRetry = "false" };
        using var traffic = new StripeTraffic(1000, 1000, TimeProvider.System);

        var response = await Send(traffic, inner);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(1, inner.Calls);
    }

    [Fact]
    public async Task A_revoked_key_is_never_retried_and_stops_all_later_calls()
    {
        var inner = new Scripted(HttpStatusCode.Unauthorized, HttpStatusCode.OK, HttpStatusCode.OK);
        using var traffic = new StripeTraffic(1000, 1000, TimeProvider.System);

        var first = await Send(traffic, inner);
        var second = await Send(traffic, inner);

        Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
        Assert.Equal(1, inner.Calls);
        Assert.True(traffic.Snapshot().KeyRevoked);
    }

    [Fact]
    public async Task Dropped_connections_are_retried()
    {
        var inner = new Scripted(HttpStatusCode.OK) { FailFirst = 2 };
        using var traffic = new StripeTraffic(1000, 1000, TimeProvider.System);

        var response = await Send(traffic, inner);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, traffic.Snapshot().NetworkErrors);
    }

    private static async Task<HttpResponseMessage> Send(StripeTraffic traffic, HttpMessageHandler inner)
    {
        using var handler = new StripeTrafficHandler(traffic, Fast, TimeProvider.System) { InnerHandler = inner };
        using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.stripe.com/v1/customers?limit=100");
        return await invoker.SendAsync(request, CancellationToken.None);
    }

    /// <summary>Answers with the given statuses in turn (the last one repeats).</summary>
    private sealed class Scripted(params HttpStatusCode[] statuses) : HttpMessageHandler
    {
        public int Calls { get; private set; }
        public string? ShouldRetry { get; init; }
        public int FailFirst { get; set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (FailFirst-- > 0)
            {
                throw new HttpRequestException("connection reset");
            }

            var status = statuses[Math.Min(Calls, statuses.Length - 1)];
            Calls++;
            var response = new HttpResponseMessage(status) { Content = new StringContent("{}") };
            if (ShouldRetry is not null)
            {
                response.Headers.Add("Stripe-Should-Retry", ShouldRetry);
            }

            return Task.FromResult(response);
        }
    }
}
