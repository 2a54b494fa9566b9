namespace StripeSync.Core.Access;

/// <summary>
/// A bearer key for the REST API. Only a SHA-256 hash of the secret is stored: the key has 256 bits of
/// entropy, so a slow password hash would add latency to every request without adding safety.
/// </summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public required string Name { get; set; }

    /// <summary>The first characters of the key, enough for a person to recognise it in a list.</summary>
    public required string Prefix { get; set; }

    public required string Hash { get; set; }
    public required string UserId { get; set; }
    public AppUser? User { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
