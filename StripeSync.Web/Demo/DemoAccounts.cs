using System.Collections.Concurrent;
using StripeSync.Core.Connections;
using StripeSync.Simulator;

namespace StripeSync.Web.Demo;

/// <summary>
/// The built-in demo account (SPEC §7): a simulated Stripe account served in-process on loopback, with a plausible
/// change every few seconds, connected like any other account but marked <see cref="Connection.IsDemo"/>.
/// The simulator keeps nothing on disk; it is deterministic from its seed and its "now" (the connection's creation
/// day), so after a restart <see cref="RestartAllAsync"/> serves the same history again on a new port
/// (docs/decisions/0006).
/// </summary>
public sealed class DemoAccounts(Connections connections, TimeProvider clock, ILogger<DemoAccounts> log) : IAsyncDisposable
{
    /// <summary>The simulator's full-permission restricted live key: the demo shows live mode, where its activity happens.</summary>
    public const string Key = "rk_live_sim_full";

    private const int Seed = 2026;
    private const int Customers = 150;

    private readonly ConcurrentDictionary<Guid, SimulatorServer> servers = new();

    /// <summary>Starts a demo simulator and stores a connection to it; the wizard goes on from the permission check.</summary>
    public async Task<Connection> ConnectAsync(CancellationToken ct)
    {
        var created = clock.GetUtcNow();
        var server = await SimulatorServer.StartAsync(Options(created), ct);
        try
        {
            var connection = await connections.AddAsync(Key, server.BaseUrl, demo: true, ct);
            servers[connection.Id] = server;
            log.LogInformation("Demo account started at {BaseUrl} for connection {ConnectionId}", server.BaseUrl, connection.Id);
            return connection;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>At start-up: serves every demo connection's account again (same seed, same day) and points it at the new port.</summary>
    public async Task RestartAllAsync(CancellationToken ct)
    {
        foreach (var connection in (await connections.ListAsync(ct)).Where(c => c.IsDemo && !servers.ContainsKey(c.Id)))
        {
            var server = await SimulatorServer.StartAsync(Options(connection.CreatedAt), ct);
            servers[connection.Id] = server;
            await connections.UpdateAsync(connection.Id, c => c.ApiBase = server.BaseUrl.ToString(), ct);
            log.LogInformation("Demo account restarted at {BaseUrl} for connection {ConnectionId}", server.BaseUrl, connection.Id);
        }
    }

    /// <summary>Disconnects and purges a connection, and stops its simulator if it is the demo's.</summary>
    public async Task<bool> DisconnectAsync(Guid id, CancellationToken ct)
    {
        var purged = await connections.PurgeAsync(id, ct);
        if (servers.TryRemove(id, out var server))
        {
            await server.DisposeAsync();
        }

        return purged;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in servers.Keys)
        {
            if (servers.TryRemove(id, out var server))
            {
                await server.DisposeAsync();
            }
        }
    }

    private static SimulatorOptions Options(DateTimeOffset created) => new()
    {
        Seed = Seed,
        Customers = Customers,
        Now = new DateTimeOffset(created.UtcDateTime.Date, TimeSpan.Zero),
        LiveActivity = true,
    };
}
