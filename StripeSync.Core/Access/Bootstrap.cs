using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using StripeSync.Core.Persistence;

namespace StripeSync.Core.Access;

/// <summary>The <c>Bootstrap</c> section: headless set-up of a fresh database (SPEC §6 Automation).</summary>
public sealed class BootstrapOptions
{
    public const string Section = "Bootstrap";
    public string? AdminEmail { get; set; }
    public string? AdminPassword { get; set; }
    public string? ApiKey { get; set; }
}

/// <summary>Creates the roles, and on a database with no users the first admin and API key from configuration.</summary>
public sealed class Bootstrap(
    UserManager<AppUser> users,
    RoleManager<IdentityRole> roles,
    ApiKeys apiKeys,
    IDbContextFactory<AppDbContext> dbFactory,
    TimeProvider clock,
    ILogger<Bootstrap> logger)
{
    public async Task RunAsync(BootstrapOptions options, CancellationToken ct)
    {
        foreach (var role in Roles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                Require(await roles.CreateAsync(new IdentityRole(role)), $"create role {role}");
            }
        }

        if (string.IsNullOrWhiteSpace(options.AdminEmail) || string.IsNullOrEmpty(options.AdminPassword))
        {
            return;
        }

        var admin = await users.FindByEmailAsync(options.AdminEmail);
        if (admin is null)
        {
            if (await AnyUserAsync(ct))
            {
                logger.LogInformation("Bootstrap admin skipped: the database already has users");
                return;
            }

            admin = await CreateUserAsync(options.AdminEmail, options.AdminPassword, Roles.Admin);
            logger.LogInformation("Bootstrap created the first admin {Email}", options.AdminEmail);
        }

        if (!string.IsNullOrEmpty(options.ApiKey) && !await apiKeys.ExistsAsync(options.ApiKey, ct))
        {
            await apiKeys.ImportAsync(admin.Id, "Bootstrap", options.ApiKey, ct);
            logger.LogInformation("Bootstrap stored an API key for {Email}", options.AdminEmail);
        }
    }

    public async Task<bool> AnyUserAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Users.AnyAsync(ct);
    }

    /// <summary>Creates a user with a role; Identity's password and email rules apply.</summary>
    public async Task<AppUser> CreateUserAsync(string email, string password, string role)
    {
        if (!Roles.IsKnown(role))
        {
            throw new InvalidOperationException($"Unknown role '{role}'. Use {string.Join(" or ", Roles.All)}.");
        }

        var user = new AppUser { UserName = email.Trim(), Email = email.Trim(), EmailConfirmed = true, CreatedAt = clock.GetUtcNow() };
        Require(await users.CreateAsync(user, password), "create the user");
        Require(await users.AddToRoleAsync(user, role), "assign the role");
        return user;
    }

    private static void Require(IdentityResult result, string what)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(
                $"Could not {what}: {string.Join(" ", result.Errors.Select(e => e.Description))}");
        }
    }
}
