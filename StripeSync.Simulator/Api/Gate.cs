using System.Collections.Concurrent;
using System.Text;
using System.Threading.RateLimiting;
using StripeSync.Simulator.Data;

namespace StripeSync.Simulator.Api;

/// <summary>
/// What stands before every <c>/v1</c> endpoint, in Stripe's order: the key (401), the request-rate limits
/// (429), injected faults (500, dropped connections, latency), then the restricted key's permissions (403).
/// </summary>
internal sealed class Gate(SimulatorAccount account, Faults faults)
{
    private readonly ConcurrentDictionary<string, TokenBucketRateLimiter> buckets = new(StringComparer.Ordinal);
    private readonly Random random = new(account.Options.Seed);
    private readonly Lock randomGate = new();

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        context.Response.Headers["Request-Id"] = "req_" + Guid.NewGuid().ToString("N")[..14];
        context.Response.Headers["Stripe-Version"] = SimulatorAccount.ApiVersion;
        if (!context.Request.Path.StartsWithSegments("/v1"))
        {
            await next(context);
            return;
        }

        faults.CountRequest();
        var started = TimeProvider.System.GetTimestamp();
        try
        {
            await ApiAsync(context, next);
        }
        finally
        {
            if (faults.KeepLog)
            {
                faults.Record(context.Request.Method, Endpoint(context.Request.Path.Value ?? ""), context.Response.StatusCode, started, TimeProvider.System.GetTimestamp());
            }
        }
    }

    private async Task ApiAsync(HttpContext context, RequestDelegate next)
    {
        if (faults.Latency > TimeSpan.Zero)
        {
            await Task.Delay(faults.Latency, context.RequestAborted);
        }

        var key = KeyOf(context.Request);
        if (key is null)
        {
            await StripeErrors.Error(401, "invalid_request_error",
                "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.")
                .ExecuteAsync(context);
            return;
        }

        if (key.StartsWith("pk_", StringComparison.Ordinal))
        {
            await StripeErrors.Error(401, "invalid_request_error",
                "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.")
                .ExecuteAsync(context);
            return;
        }

        var known = Keys.Resolve(key);
        if (known is null || faults.IsRevoked(key))
        {
            faults.CountUnauthorized();
            await StripeErrors.Error(401, "invalid_request_error",
                $"{(known is null ? "Invalid" : "Expired")} API Key provided: {Keys.Redact(key)}", known is null ? null : "api_key_expired")
                .ExecuteAsync(context);
            return;
        }

        context.Items[typeof(SimKey)] = known;
        var endpoint = Endpoint(context.Request.Path.Value ?? "");
        var accountRate = known.Livemode ? faults.LiveRequestsPerSecond : faults.TestRequestsPerSecond;
        if (!Admit(known.Livemode ? "live" : "test", accountRate) || !Admit((known.Livemode ? "live " : "test ") + endpoint, faults.EndpointRequestsPerSecond))
        {
            faults.CountRateLimited();
            await StripeErrors.Error(429, "invalid_request_error",
                "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.", "rate_limit")
                .ExecuteAsync(context);
            return;
        }

        double roll;
        lock (randomGate)
        {
            roll = random.NextDouble();
        }

        var forced = faults.TakeForcedFailure();
        if (!forced && roll < faults.DropRate)
        {
            faults.CountDropped();
            context.Abort();
            return;
        }

        if (forced || roll < faults.DropRate + faults.FailureRate)
        {
            faults.CountFailed();
            await StripeErrors.Error(500, "api_error",
                "An unknown error occurred while processing your request. Please retry, or contact us at https://support.stripe.com/contact.",
                shouldRetry: true).ExecuteAsync(context);
            return;
        }

        // Stripe has no restricted-key permission for the account itself (SPEC §1 lists none either): a restricted key
        // gets 403 there, which StripeSync treats as "account id unknown".
        if (known.Restricted && context.Request.Path.StartsWithSegments("/v1/account"))
        {
            await StripeErrors.Error(403, "invalid_request_error",
                $"The provided key '{Keys.Redact(key)}' does not have the required permissions for this endpoint on account '{account.AccountId}'. " +
                "This is a restricted API key, but the required permissions are not available for use by restricted keys.")
                .ExecuteAsync(context);
            return;
        }

        var permission = Keys.Required(context.Request.Method, context.Request.Path.Value ?? "");
        if (permission is not null && !known.Permissions.Contains(permission))
        {
            await StripeErrors.Error(403, "invalid_request_error",
                $"The provided key '{Keys.Redact(key)}' does not have the required permissions for this endpoint on account '{account.AccountId}'. " +
                $"Having the '{Keys.StripeName(permission)}' permission would allow this request to continue.")
                .ExecuteAsync(context);
            return;
        }

        await next(context);
    }

    private bool Admit(string bucket, double perSecond)
    {
        if (perSecond <= 0)
        {
            return true;
        }

        // A rolling second: at most perSecond requests in any second, refilled about ten times a second. The period
        // follows from the tokens per refill, so the rate is exact: 25/s refilled as round(2.5) = 2 tokens every 100 ms
        // was 20/s, and below 10/s one token every 100 ms was 10/s.
        var tokens = Math.Max(1, (int)Math.Round(perSecond / 10));
        var limiter = buckets.GetOrAdd($"{bucket}@{perSecond}", _ => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, (int)perSecond),
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = TimeSpan.FromSeconds(tokens / perSecond),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
        using var lease = limiter.AttemptAcquire();
        return lease.IsAcquired;
    }

    private static string? KeyOf(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header[7..].Trim();
        }

        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim())).Split(':')[0];
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>
    /// <c>/v1/invoices/in_1Ab/lines</c> → <c>/v1/invoices/{id}/lines</c>: limits count per endpoint. An id is a prefix,
    /// an underscore and a random part with a digit or a capital (<c>cs_HgNtUCAhXAAdQJ</c> has no digit); resource
    /// names (<c>line_items</c>, <c>payment_methods</c>) are lower case.
    /// </summary>
    internal static string Endpoint(string path) =>
        string.Join('/', path.Split('/').Select(s => s.IndexOf('_', StringComparison.Ordinal) is var at and > 0 && s[(at + 1)..].Any(c => char.IsDigit(c) || char.IsUpper(c)) ? "{id}" : s));
}

/// <summary>The fault and limit knobs, changeable while running (control API), and what they caused.</summary>
public sealed class Faults(SimulatorOptions options)
{
    private readonly ConcurrentDictionary<string, bool> revoked = new(StringComparer.Ordinal);
    private long requests, rateLimited, failed, dropped, unauthorized, pendingFailures;

    public double LiveRequestsPerSecond { get; set; } = options.LiveRequestsPerSecond;
    public double TestRequestsPerSecond { get; set; } = options.TestRequestsPerSecond;
    public double EndpointRequestsPerSecond { get; set; } = options.EndpointRequestsPerSecond;
    public TimeSpan Latency { get; set; } = options.Latency;
    public double FailureRate { get; set; } = options.FailureRate;
    public double DropRate { get; set; } = options.DropRate;

    public long Requests => Interlocked.Read(ref requests);
    public long RateLimited => Interlocked.Read(ref rateLimited);
    public long Failed => Interlocked.Read(ref failed);
    public long Dropped => Interlocked.Read(ref dropped);
    public long Unauthorized => Interlocked.Read(ref unauthorized);

    /// <summary>Requests still to be answered 500 because of <see cref="FailNext"/>.</summary>
    public long PendingFailures => Interlocked.Read(ref pendingFailures);

    /// <summary>Answers the next <paramref name="count"/> admitted API requests 500 (a deterministic burst, unlike <see cref="FailureRate"/>).</summary>
    public void FailNext(int count) => Interlocked.Exchange(ref pendingFailures, Math.Max(0, count));

    public void Revoke(string key) => revoked[key] = true;

    public void Restore(string key) => revoked.TryRemove(key, out _);

    public bool IsRevoked(string key) => revoked.ContainsKey(key);

    internal bool TakeForcedFailure()
    {
        var pending = Interlocked.Read(ref pendingFailures);
        while (pending > 0)
        {
            var seen = Interlocked.CompareExchange(ref pendingFailures, pending - 1, pending);
            if (seen == pending)
            {
                return true;
            }

            pending = seen;
        }

        return false;
    }

    /// <summary>Keep a <see cref="Log"/> of every <c>/v1</c> request (off by default: a benchmark serves millions).</summary>
    public bool KeepLog { get; set; }

    /// <summary>The requests served while <see cref="KeepLog"/> was on, in the order they ended.</summary>
    public IReadOnlyList<ServedRequest> Log => [.. log];

    private readonly ConcurrentQueue<ServedRequest> log = new();

    internal void Record(string method, string endpoint, int status, long started, long ended) =>
        log.Enqueue(new ServedRequest(method, endpoint, status, started, ended));

    internal void CountRequest() => Interlocked.Increment(ref requests);
    internal void CountRateLimited() => Interlocked.Increment(ref rateLimited);
    internal void CountFailed() => Interlocked.Increment(ref failed);
    internal void CountDropped() => Interlocked.Increment(ref dropped);
    internal void CountUnauthorized() => Interlocked.Increment(ref unauthorized);
}

/// <summary>One served <c>/v1</c> request: its endpoint with ids folded (<c>/v1/invoices/{id}/lines</c>), its status, and when
/// it arrived and was answered (<see cref="TimeProvider.GetTimestamp"/> of the system clock, comparable with each other only).</summary>
public sealed record ServedRequest(string Method, string Endpoint, int Status, long Started, long Ended);
