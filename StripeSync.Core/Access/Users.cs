using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Persistence;

namespace StripeSync.Core.Access;

public sealed record UserSummary(string Id, string Email, string Role, bool Disabled, bool LockedOut, DateTimeOffset CreatedAt);

/// <summary>What an admin does to the people who use StripeSync: list, create, change role, disable.</summary>
public sealed class Users(UserManager<AppUser> users, Bootstrap bootstrap, IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public async Task<IReadOnlyList<UserSummary>> ListAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await (from u in db.Users.AsNoTracking()
                          select new
                          {
                              u.Id, u.Email, u.Disabled, u.LockoutEnd, u.CreatedAt,
                              IsAdmin = db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.Name == Roles.Admin)),
                          }).ToListAsync(ct);
        var now = clock.GetUtcNow();
        return [.. rows.Select(r => new UserSummary(r.Id, r.Email ?? "", r.IsAdmin ? Roles.Admin : Roles.Marketer,
                r.Disabled, !r.Disabled && r.LockoutEnd > now, r.CreatedAt))
            .OrderBy(u => u.Email, StringComparer.OrdinalIgnoreCase)];
    }

    public Task<AppUser> CreateAsync(string email, string password, string role) =>
        bootstrap.CreateUserAsync(email, password, role);

    public async Task SetRoleAsync(string userId, string role, string actingUserId)
    {
        if (!Roles.IsKnown(role))
        {
            throw new InvalidOperationException($"Unknown role '{role}'. Use {string.Join(" or ", Roles.All)}.");
        }

        var user = await FindAsync(userId);
        if (userId == actingUserId && role != Roles.Admin)
        {
            throw new InvalidOperationException("You cannot remove your own Admin role; ask another admin.");
        }

        var current = await users.GetRolesAsync(user);
        await users.RemoveFromRolesAsync(user, current);
        await users.AddToRoleAsync(user, role);
        await users.UpdateSecurityStampAsync(user);
    }

    /// <summary>Disabling locks the account for good and invalidates its sessions; enabling lifts that.</summary>
    public async Task SetDisabledAsync(string userId, bool disabled, string actingUserId)
    {
        if (userId == actingUserId && disabled)
        {
            throw new InvalidOperationException("You cannot disable your own account.");
        }

        var user = await FindAsync(userId);
        user.Disabled = disabled;
        user.LockoutEnabled = true;
        user.LockoutEnd = disabled ? DateTimeOffset.MaxValue : null;
        await users.UpdateAsync(user);
        await users.ResetAccessFailedCountAsync(user);
        await users.UpdateSecurityStampAsync(user);
    }

    private async Task<AppUser> FindAsync(string userId) =>
        await users.FindByIdAsync(userId) ?? throw new InvalidOperationException("That user no longer exists.");
}
