using System.Collections.Concurrent;

namespace StripeSync.Core.Connections;

/// <summary>
/// The webhook signing secret of each connection, decrypted, kept in memory for <see cref="CacheFor"/>: reading the
/// connection and unprotecting its secret on every delivery cost more than the rest of intake (BENCHMARKS.md §3).
/// A replaced secret, or a connection disconnected and purged, takes effect at most <see cref="CacheFor"/> later: until
/// then a delivery signed with the old secret is still accepted (a purged connection's events are then dropped by the
/// inbox, which checks the connection still exists). A connection without a secret is not cached, so an endpoint
/// registered a moment ago is recognised by its very first delivery.
/// </summary>
public sealed class WebhookSecrets(Connections connections, TimeProvider clock)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<Guid, (string Secret, DateTimeOffset ReadAt)> cache = new();

    /// <summary>The connection's current signing secret, or null when no such connection has a webhook endpoint.</summary>
    public async Task<string?> FindAsync(Guid connectionId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (cache.TryGetValue(connectionId, out var cached) && now - cached.ReadAt < CacheFor)
        {
            return cached.Secret;
        }

        var connection = await connections.FindAsync(connectionId, ct);
        var secret = connection is null ? null : connections.WebhookSecret(connection);
        if (secret is null)
        {
            cache.TryRemove(connectionId, out _);
            return null;
        }

        cache[connectionId] = (secret, now);
        return secret;
    }
}
