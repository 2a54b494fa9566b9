namespace StripeSync.Core.Processing;

/// <summary>How a person is recognised: by normalised email (SPEC §3).</summary>
public static class Identity
{
    /// <summary>
    /// Trims and lower-cases (invariant) an email. Null, blank or not an address (no single '@' with text on
    /// both sides, whitespace inside, a domain starting or ending with a dot) gives null, so such a customer
    /// stays an unidentified profile instead of being merged under a bogus key.
    /// </summary>
    public static string? NormaliseEmail(string? email)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            return null;
        }

        var trimmed = email.Trim().ToLowerInvariant();
        var at = trimmed.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at != trimmed.LastIndexOf('@') || at == trimmed.Length - 1)
        {
            return null;
        }

        var domain = trimmed[(at + 1)..];
        if (domain.StartsWith('.') || domain.EndsWith('.') || domain.Contains("..", StringComparison.Ordinal))
        {
            return null;
        }

        foreach (var c in trimmed)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return null;
            }
        }

        return trimmed;
    }
}
