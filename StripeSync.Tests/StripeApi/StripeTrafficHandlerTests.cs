using System.Net;
using System.Net.Sockets;
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
    public async Task A_call_waiting_for_the_rate_budget_when_the_key_is_revoked_is_not_sent()
    {
        // One token at a time (2/s): the second call waits in the queue while the first is at Stripe.
        using var traffic = new StripeTraffic(2, 1000, TimeProvider.System);
        var inner = new Gated();
        using var handler = new StripeTrafficHandler(traffic, Fast, TimeProvider.System) { InnerHandler = inner };
        using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        using var firstRequest = new HttpRequestMessage(HttpMethod.Get, "https://api.stripe.com/v1/customers");
        using var secondRequest = new HttpRequestMessage(HttpMethod.Get, "https://api.stripe.com/v1/invoices");

        var first = invoker.SendAsync(firstRequest, CancellationToken.None);
        await inner.Entered.Task;
        var second = invoker.SendAsync(secondRequest, CancellationToken.None);
        inner.Answer.SetResult(new HttpResponseMessage(HttpStatusCode.Unauthorized) { Content = new StringContent("{}") });

        Assert.Equal(HttpStatusCode.Unauthorized, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await second).StatusCode);
        Assert.Equal(1, inner.Calls);
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

    [Fact]
    public async Task A_connection_reset_as_soon_as_it_is_accepted_is_retried_like_a_dropped_one()
    {
        // What SocketsHttpHandler throws, unwrapped, when the peer resets the connection it has just accepted.
        var inner = new Scripted(HttpStatusCode.OK) { FailFirst = 2, Failure = () => new SocketException((int)SocketError.NotConnected) };
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

    /// <summary>Holds every call until the test gives the answer.</summary>
    private sealed class Gated : HttpMessageHandler
    {
        private int calls;

        public int Calls => calls;
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource<HttpResponseMessage> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref calls);
            Entered.TrySetResult();
            return await Answer.Task;
        }
    }

    /// <summary>Answers with the given statuses in turn (the last one repeats).</summary>
    private sealed class Scripted(params HttpStatusCode[] statuses) : HttpMessageHandler
    {
        public int Calls { get; private set; }
        public string? ShouldRetry { get; init; }
        public int FailFirst { get; set; }
        public Func<Exception> Failure { get; init; } = () => new HttpRequestException("connection reset");

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (FailFirst-- > 0)
            {
                throw Failure();
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
