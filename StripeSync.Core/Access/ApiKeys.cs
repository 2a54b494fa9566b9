using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Persistence;

namespace StripeSync.Core.Access;

/// <summary>The key a caller presented belongs to this user, who has this role.</summary>
public sealed record ApiKeyOwner(Guid KeyId, string UserId, string UserName, string Role);

/// <summary>A key as listed in Settings: never the secret itself.</summary>
public sealed record ApiKeySummary(Guid Id, string Name, string Prefix, string OwnerEmail, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>Creates, checks and revokes API keys.</summary>
public sealed class ApiKeys(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public const string KeyPrefix = "ssk_";
    private const int MinimumLength = 24;
    private const int MaximumLength = 200;

    /// <summary>Makes a new key for the user; the returned secret is shown once and never stored.</summary>
    public async Task<(ApiKeySummary Key, string Secret)> CreateAsync(string userId, string name, CancellationToken ct)
    {
        var secret = KeyPrefix + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var key = await StoreAsync(userId, name, secret, ct);
        return (key, secret);
    }

    /// <summary>Stores a key whose secret was chosen elsewhere (the Bootstrap:ApiKey setting).</summary>
    public async Task<ApiKeySummary> ImportAsync(string userId, string name, string secret, CancellationToken ct)
    {
        if (secret.Length is < MinimumLength or > MaximumLength || secret.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException(
                $"An API key must be {MinimumLength} to {MaximumLength} characters without spaces.", nameof(secret));
        }

        return await StoreAsync(userId, name, secret, ct);
    }

    public async Task<bool> ExistsAsync(string secret, CancellationToken ct)
    {
        var hash = Hash(secret);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ApiKeys.AnyAsync(k => k.Hash == hash, ct);
    }

    /// <summary>The owner of a live key, or null for an unknown, revoked or disabled-owner key.</summary>
    public async Task<ApiKeyOwner?> AuthenticateAsync(string secret, CancellationToken ct)
    {
        if (secret.Length is < MinimumLength or > MaximumLength)
        {
            return null;
        }

        var hash = Hash(secret);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var key = await db.ApiKeys.Include(k => k.User)
            .SingleOrDefaultAsync(k => k.Hash == hash && k.RevokedAt == null, ct);
        if (key?.User is not { Disabled: false } user || user.LockoutEnd > clock.GetUtcNow())
        {
            return null;
        }

        // The key carries its creator's current role, so demoting a person demotes their keys too.
        var role = await (from ur in db.UserRoles
                          join r in db.Roles on ur.RoleId equals r.Id
                          where ur.UserId == user.Id
                          select r.Name).ToListAsync(ct);
        var now = clock.GetUtcNow();
        if (key.LastUsedAt is null || now - key.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            key.LastUsedAt = now;
            await db.SaveChangesAsync(ct);
        }

        return new ApiKeyOwner(key.Id, user.Id, user.UserName ?? user.Email ?? user.Id,
            role.Contains(Roles.Admin) ? Roles.Admin : Roles.Marketer);
    }

    public async Task<IReadOnlyList<ApiKeySummary>> ListAsync(string? userId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.ApiKeys.AsNoTracking();
        if (userId is not null)
        {
            query = query.Where(k => k.UserId == userId);
        }

        var keys = await query.Select(k => new ApiKeySummary(
            k.Id, k.Name, k.Prefix, k.User!.Email ?? "", k.CreatedAt, k.LastUsedAt, k.RevokedAt)).ToListAsync(ct);
        return [.. keys.OrderByDescending(k => k.CreatedAt)];
    }

    /// <summary>Revokes a key; a non-admin may revoke only their own.</summary>
    public async Task<bool> RevokeAsync(Guid id, string? ownerUserId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id, ct);
        if (key is null || (ownerUserId is not null && key.UserId != ownerUserId))
        {
            return false;
        }

        key.RevokedAt ??= clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return true;
    }

    private async Task<ApiKeySummary> StoreAsync(string userId, string name, string secret, CancellationToken ct)
    {
        name = name.Trim();
        if (name.Length is 0 or > 100)
        {
            throw new ArgumentException("Give the key a name of 1 to 100 characters, e.g. \"CRM export\".", nameof(name));
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == userId, ct)
            ?? throw new ArgumentException("That user does not exist.", nameof(userId));
        var key = new ApiKey
        {
            Id = Guid.NewGuid(),
            Name = name,
            Prefix = secret[..Math.Min(secret.Length, 10)],
            Hash = Hash(secret),
            UserId = userId,
            CreatedAt = clock.GetUtcNow(),
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(ct);
        return new ApiKeySummary(key.Id, key.Name, key.Prefix, user.Email ?? "", key.CreatedAt, null, null);
    }

    private static string Hash(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
