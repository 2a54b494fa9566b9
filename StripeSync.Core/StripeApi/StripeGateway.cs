using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Stripe;

namespace StripeSync.Core.StripeApi;

/// <summary>
/// Hands out one <see cref="StripeAccountClient"/> per connection, each with its own rate budget and
/// counters, over one shared socket pool. Stripe.net's own retries are off: <see cref="StripeTrafficHandler"/>
/// retries, so that every attempt is rate-limited and counted.
/// </summary>
public sealed class StripeGateway(IOptions<StripeOptions> options, TimeProvider clock) : IDisposable
{
    private readonly SocketsHttpHandler sockets = new() { PooledConnectionLifetime = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = 64 };
    private readonly ConcurrentDictionary<(Guid, string, Uri?), StripeAccountClient> clients = new();

    /// <summary>The client of a connection; <paramref name="apiKey"/> is the decrypted key (never logged).</summary>
    /// <param name="apiBase">Where this connection's Stripe is (the demo's simulator); null for <c>Stripe:ApiBase</c>.</param>
    public StripeAccountClient For(Guid connectionId, string apiKey, bool livemode, Uri? apiBase = null) =>
        clients.GetOrAdd((connectionId, apiKey, apiBase), _ => Create(apiKey, livemode, apiBase));

    /// <summary>A throw-away client for probing a key that is not stored yet.</summary>
    public StripeAccountClient ForProbe(string apiKey, bool livemode, Uri? apiBase = null) => Create(apiKey, livemode, apiBase);

    /// <summary>Forgets a connection's client (key replaced, connection removed).</summary>
    public void Forget(Guid connectionId)
    {
        foreach (var key in clients.Keys.Where(k => k.Item1 == connectionId))
        {
            if (clients.TryRemove(key, out var client))
            {
                client.Traffic.Dispose();
            }
        }
    }

    public void Dispose()
    {
        foreach (var client in clients.Values)
        {
            client.Traffic.Dispose();
        }

        sockets.Dispose();
    }

    private StripeAccountClient Create(string apiKey, bool livemode, Uri? apiBase)
    {
        var settings = options.Value;
        var traffic = new StripeTraffic(livemode ? settings.LiveRequestsPerSecond : settings.TestRequestsPerSecond,
            settings.EndpointRequestsPerSecond, clock);
        var http = new HttpClient(new StripeTrafficHandler(traffic, settings, clock) { InnerHandler = sockets }, disposeHandler: false)
        {
            Timeout = TimeSpan.FromMinutes(2),
        };
        var stripe = new StripeClient(
            apiKey: apiKey,
            httpClient: new SystemNetHttpClient(http, maxNetworkRetries: 0),
            apiBase: (apiBase ?? settings.ApiBase).ToString().TrimEnd('/'));
        return new StripeAccountClient(stripe, livemode, traffic);
    }
}
