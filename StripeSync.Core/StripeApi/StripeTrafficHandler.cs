using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace StripeSync.Core.StripeApi;

/// <summary>
/// Sits under Stripe.net (whose own retries are off): every attempt waits for the connection's rate
/// budget; 429, 5xx and dropped connections are retried with exponential back-off and full jitter,
/// unless Stripe says <c>Stripe-Should-Retry: false</c>; a 401 marks the key revoked and is never retried.
/// </summary>
internal sealed partial class StripeTrafficHandler(StripeTraffic traffic, StripeOptions options, TimeProvider clock) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (traffic.KeyRevoked)
        {
            // No request at all once Stripe said the key is gone: no retry storm against a revoked key.
            return Revoked(request);
        }

        var endpoint = Endpoint(request.RequestUri);
        for (var attempt = 0; ; attempt++)
        {
            await traffic.AcquireAsync(endpoint, cancellationToken);
            if (traffic.KeyRevoked)
            {
                // Asked again after the wait: requests queued for the rate budget (or backing off) when another
                // one met the 401 would otherwise still go out, one more 401 each.
                return Revoked(request);
            }

            HttpResponseMessage? response = null;
            try
            {
                response = await base.SendAsync(request, cancellationToken);
            }
            // A connection reset right after it was accepted can surface as a bare SocketException (SocketsHttpHandler
            // reads the remote end point of a socket that is already gone), not wrapped in HttpRequestException.
            catch (Exception e) when (e is HttpRequestException or SocketException or IOException
                && attempt < options.MaxRetries && !cancellationToken.IsCancellationRequested)
            {
                traffic.CountNetworkError();
            }

            if (response is not null)
            {
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    traffic.MarkRevoked();
                    return response;
                }

                var retryable = response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500;
                if (!retryable || attempt >= options.MaxRetries || ShouldNotRetry(response))
                {
                    return response;
                }

                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    traffic.CountRateLimited();
                }
                else
                {
                    traffic.CountServerError();
                }

                response.Dispose();
            }

            traffic.CountRetry();
            await Task.Delay(Backoff(attempt), clock, cancellationToken);
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        var cap = Math.Min(options.MaxBackoff.TotalMilliseconds, options.InitialBackoff.TotalMilliseconds * Math.Pow(2, attempt));
        // Full jitter, but never less than half the step, so many workers don't come back in lock-step.
        return TimeSpan.FromMilliseconds(cap / 2 + (Random.Shared.NextDouble() * cap / 2));
    }

    private static bool ShouldNotRetry(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Stripe-Should-Retry", out var values)
        && values.Any(v => v.Equals("false", StringComparison.OrdinalIgnoreCase));

    /// <summary>The endpoint a request counts against: <c>/v1/invoices/in_123/lines</c> → <c>/v1/invoices/{id}/lines</c>.</summary>
    internal static string Endpoint(Uri? uri) =>
        uri is null ? "" : IdSegment().Replace(uri.AbsolutePath, "/{id}");

    private static HttpResponseMessage Revoked(HttpRequestMessage request) => new(HttpStatusCode.Unauthorized)
    {
        RequestMessage = request,
        Content = new StringContent(
            """{"error":{"type":"invalid_request_error","message":"StripeSync stopped calling Stripe with this key after Stripe answered 401 (invalid or revoked key)."}}""",
            System.Text.Encoding.UTF8, "application/json"),
    };

    [GeneratedRegex("/[a-z]+_(?=[A-Za-z0-9_]*[A-Z0-9])[A-Za-z0-9_]+(?=/|$)")]
    private static partial Regex IdSegment();
}
