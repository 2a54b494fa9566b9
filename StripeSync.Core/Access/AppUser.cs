using Microsoft.AspNetCore.Identity;

namespace StripeSync.Core.Access;

/// <summary>A person who signs in to StripeSync (an admin or a marketer), not a person of the audience.</summary>
public sealed class AppUser : IdentityUser
{
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Disabled users keep their history and API keys but can neither sign in nor use a key.</summary>
    public bool Disabled { get; set; }
}
