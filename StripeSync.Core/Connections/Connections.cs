using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Connections;

/// <summary>Stores connections with their secrets encrypted, and opens Stripe clients for them.</summary>
public sealed class Connections(
    IDbContextFactory<AppDbContext> dbFactory, ConnectionSecrets secrets, StripeGateway gateway, TimeProvider clock)
{
    /// <summary>Stores a connection for a key whose format is valid; probing permissions is the wizard's step.</summary>
    public Task<Connection> AddAsync(string apiKey, CancellationToken ct) => AddAsync(apiKey, null, demo: false, ct);

    /// <summary>Stores a connection; <paramref name="apiBase"/> and <paramref name="demo"/> are for the built-in demo account.</summary>
    public async Task<Connection> AddAsync(string apiKey, Uri? apiBase, bool demo, CancellationToken ct)
    {
        var check = StripeKeys.Check(apiKey);
        if (!check.Valid)
        {
            throw new ArgumentException(check.Message, nameof(apiKey));
        }

        apiKey = apiKey.Trim();
        var connection = new Connection
        {
            Id = Guid.NewGuid(),
            Mode = check.Mode!.Value,
            EncryptedKey = secrets.Protect(apiKey),
            KeyHint = StripeKeys.Mask(apiKey),
            State = ConnectionState.Connected,
            CreatedAt = clock.GetUtcNow(),
            ApiBase = apiBase?.ToString(),
            IsDemo = demo,
        };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.Connections.Add(connection);
        await db.SaveChangesAsync(ct);
        return connection;
    }

    /// <summary>
    /// Disconnects and purges: the connection, every Stripe object, event, cursor and metric event it brought,
    /// and the people left with no Stripe customer. Nothing in Stripe changes.
    /// </summary>
    public async Task<bool> PurgeAsync(Guid id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var connection = await db.Connections.SingleOrDefaultAsync(c => c.Id == id, ct);
        if (connection is null)
        {
            return false;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var people = await db.PersonCustomers.Where(l => l.ConnectionId == id).Select(l => l.PersonId).Distinct().ToListAsync(ct);
        await db.MetricEvents.Where(m => m.ConnectionId == id).ExecuteDeleteAsync(ct);
        await db.PersonCustomers.Where(l => l.ConnectionId == id).ExecuteDeleteAsync(ct);
        await db.People.Where(p => people.Contains(p.Id) && !db.PersonCustomers.Any(l => l.PersonId == p.Id)).ExecuteDeleteAsync(ct);
        await db.DirtyCustomers.Where(d => d.ConnectionId == id).ExecuteDeleteAsync(ct);
        await db.Inbox.Where(e => e.ConnectionId == id).ExecuteDeleteAsync(ct);
        await db.BackfillCursors.Where(c => c.ConnectionId == id).ExecuteDeleteAsync(ct);
        await db.BackfillSlices.Where(s => s.ConnectionId == id).ExecuteDeleteAsync(ct);
        await db.StripeObjects.Where(o => o.ConnectionId == id).ExecuteDeleteAsync(ct);
        await db.ReconciliationDays.Where(r => r.ConnectionId == id).ExecuteDeleteAsync(ct);
        await db.Connections.Where(c => c.Id == id).ExecuteDeleteAsync(ct);
        await transaction.CommitAsync(ct);
        gateway.Forget(id);
        return true;
    }

    /// <summary>The mode shown when none is asked for: live once a live connection exists, else test.</summary>
    public async Task<ConnectionMode> DefaultModeAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Connections.AnyAsync(c => c.Mode == ConnectionMode.Live, ct) ? ConnectionMode.Live : ConnectionMode.Test;
    }

    public async Task<Connection?> FindAsync(Guid id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Connections.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, ct);
    }

    /// <summary>The connection the wizard is in the middle of (stored key, sync not started), newest first.</summary>
    public async Task<Connection?> PendingAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return (await db.Connections.AsNoTracking().Where(c => c.Sync == SyncChoice.NotChosen).ToListAsync(ct))
            .OrderByDescending(c => c.CreatedAt).FirstOrDefault();
    }

    /// <summary>
    /// Rotates a connection's key within its mode, keeping everything it synced. A revoked connection comes back to
    /// life: importing if its backfill is unfinished, else synced.
    /// </summary>
    public async Task ReplaceKeyAsync(Guid id, string apiKey, CancellationToken ct)
    {
        var check = StripeKeys.Check(apiKey);
        if (!check.Valid)
        {
            throw new ArgumentException(check.Message, nameof(apiKey));
        }

        apiKey = apiKey.Trim();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var connection = await db.Connections.SingleOrDefaultAsync(c => c.Id == id, ct)
            ?? throw new InvalidOperationException($"Connection {id} does not exist.");
        if (connection.Mode != check.Mode)
        {
            throw new ArgumentException(
                $"This connection holds {connection.Mode.ToString().ToLowerInvariant()}-mode data; its key can only be replaced by another " +
                $"{connection.Mode.ToString().ToLowerInvariant()}-mode key. Connect a {check.Mode.ToString()!.ToLowerInvariant()}-mode key as a new connection instead.",
                nameof(apiKey));
        }

        connection.EncryptedKey = secrets.Protect(apiKey);
        connection.KeyHint = StripeKeys.Mask(apiKey);
        if (connection.State == ConnectionState.KeyRevoked)
        {
            var importing = await db.BackfillCursors.AnyAsync(c => c.ConnectionId == id && !c.Done, ct);
            connection.State = importing ? ConnectionState.Importing : ConnectionState.Synced;
            connection.LastError = null;
        }

        await db.SaveChangesAsync(ct);
        gateway.Forget(id);
    }

    public async Task<IReadOnlyList<Connection>> ListAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return [.. (await db.Connections.AsNoTracking().ToListAsync(ct)).OrderBy(c => c.CreatedAt)];
    }

    /// <summary>The Stripe client of a stored connection (its key decrypted in memory only).</summary>
    public StripeAccountClient ClientFor(Connection connection) =>
        gateway.For(connection.Id, secrets.Unprotect(connection.EncryptedKey), connection.Mode == ConnectionMode.Live,
            connection.ApiBase is { } apiBase ? new Uri(apiBase) : null);

    public string? WebhookSecret(Connection connection) =>
        connection.EncryptedWebhookSecret is { } encrypted ? secrets.Unprotect(encrypted) : null;

    public async Task SetWebhookAsync(Guid id, string endpointId, string secret, CancellationToken ct)
    {
        await UpdateAsync(id, c =>
        {
            c.WebhookEndpointId = endpointId;
            c.EncryptedWebhookSecret = secrets.Protect(secret);
        }, ct);
    }

    /// <summary>Records a state change (and its reason) on the connection.</summary>
    public Task SetStateAsync(Guid id, ConnectionState state, string? error, CancellationToken ct) =>
        UpdateAsync(id, c =>
        {
            // A revoked key stays revoked until the key is replaced; nothing else may overwrite that.
            if (c.State == ConnectionState.KeyRevoked && state != ConnectionState.KeyRevoked)
            {
                return;
            }

            c.State = state;
            if (error is not null)
            {
                c.LastError = error.Length > 2000 ? error[..2000] : error;
                c.LastErrorAt = clock.GetUtcNow();
            }
        }, ct);

    public async Task UpdateAsync(Guid id, Action<Connection> change, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var connection = await db.Connections.SingleOrDefaultAsync(c => c.Id == id, ct)
            ?? throw new InvalidOperationException($"Connection {id} does not exist.");
        change(connection);
        await db.SaveChangesAsync(ct);
    }
}
