using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace StripeSync.Core.StripeApi;

/// <summary>What one connection's traffic to Stripe looked like; Sync health shows it.</summary>
public sealed record TrafficSnapshot(long Requests, long Retries, long RateLimited, long ServerErrors, long NetworkErrors, TimeSpan LimiterWait, bool KeyRevoked);

/// <summary>
/// The request budget and counters of one connection: one token bucket for the account and one per
/// endpoint, so neither of Stripe's limits is crossed (and none is left unused).
/// </summary>
public sealed class StripeTraffic(double accountPerSecond, double endpointPerSecond, TimeProvider clock) : IDisposable
{
    private readonly TokenBucketRateLimiter account = Bucket(accountPerSecond);
    private readonly ConcurrentDictionary<string, TokenBucketRateLimiter> endpoints = new();
    private long requests, retries, rateLimited, serverErrors, networkErrors, waitTicks;
    private volatile bool keyRevoked;

    public bool KeyRevoked => keyRevoked;

    public TrafficSnapshot Snapshot() => new(
        Interlocked.Read(ref requests), Interlocked.Read(ref retries), Interlocked.Read(ref rateLimited),
        Interlocked.Read(ref serverErrors), Interlocked.Read(ref networkErrors),
        TimeSpan.FromTicks(Interlocked.Read(ref waitTicks)), keyRevoked);

    /// <summary>
    /// Waits for a token of the endpoint's bucket, then of the account's. In that order, a request queued behind its
    /// busy endpoint holds no account token, which other endpoints' requests can use meanwhile.
    /// </summary>
    public async Task AcquireAsync(string endpoint, CancellationToken ct)
    {
        var started = clock.GetTimestamp();
        using (var lease = await endpoints.GetOrAdd(endpoint, _ => Bucket(endpointPerSecond)).AcquireAsync(1, ct))
        {
            EnsureAcquired(lease);
        }

        using (var lease = await account.AcquireAsync(1, ct))
        {
            EnsureAcquired(lease);
        }

        Interlocked.Add(ref waitTicks, clock.GetElapsedTime(started).Ticks);
        Interlocked.Increment(ref requests);
    }

    internal void CountRetry() => Interlocked.Increment(ref retries);

    internal void CountRateLimited() => Interlocked.Increment(ref rateLimited);

    internal void CountServerError() => Interlocked.Increment(ref serverErrors);

    internal void CountNetworkError() => Interlocked.Increment(ref networkErrors);

    internal void MarkRevoked() => keyRevoked = true;

    public void Dispose()
    {
        account.Dispose();
        foreach (var bucket in endpoints.Values)
        {
            bucket.Dispose();
        }
    }

    private static void EnsureAcquired(RateLimitLease lease)
    {
        if (!lease.IsAcquired)
        {
            throw new InvalidOperationException("The Stripe request queue of this connection is full.");
        }
    }

    // Tokens are added every 1/rate seconds, one at a time, so requests are spread evenly instead of bursting
    // at each second boundary (Stripe counts per rolling second). A bucket of a few tokens absorbs jitter.
    private static TokenBucketRateLimiter Bucket(double perSecond)
    {
        var period = TimeSpan.FromSeconds(1 / perSecond);
        if (period < TimeSpan.FromMilliseconds(1))
        {
            period = TimeSpan.FromMilliseconds(1);
        }

        var perPeriod = Math.Max(1, (int)Math.Round(perSecond * period.TotalSeconds));
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, (int)Math.Min(perSecond / 10, 10)),
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = period,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }
}
