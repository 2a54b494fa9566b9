namespace StripeSync.Core.Connections;

public enum StripeKeyKind
{
    Restricted,
    Secret,
}

/// <summary>What a pasted key is, decided from its format alone (no network call).</summary>
public sealed record StripeKeyCheck(bool Valid, StripeKeyKind? Kind, ConnectionMode? Mode, string Message, string? Warning)
{
    public static StripeKeyCheck Refused(string message) => new(false, null, null, message, null);
}

public static class StripeKeys
{
    /// <summary>Stripe's keys are under 255 characters.</summary>
    public const int MaxLength = 255;

    private const string WhereToCreate =
        "Create a restricted key in Stripe's dashboard under Developers → API keys → Create restricted key.";

    /// <summary>Checks the format of a key before any network call (SPEC §1 step 1).</summary>
    public static StripeKeyCheck Check(string? key)
    {
        key = key?.Trim();
        if (string.IsNullOrEmpty(key))
        {
            return StripeKeyCheck.Refused("Paste a Stripe API key. " + WhereToCreate);
        }

        if (key.Length > MaxLength)
        {
            return StripeKeyCheck.Refused("That is too long to be a Stripe API key (they are under 255 characters). " + WhereToCreate);
        }

        if (key.StartsWith("pk_", StringComparison.Ordinal))
        {
            return StripeKeyCheck.Refused(
                "That is a publishable key (pk_…): it is meant for browsers and cannot read customers or invoices. " + WhereToCreate);
        }

        var parts = key.Split('_', 3);
        var valid = parts.Length == 3 && parts[2].Length >= 3 && parts[2].All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
        if (!valid || parts[0] is not ("rk" or "sk") || parts[1] is not ("test" or "live"))
        {
            return StripeKeyCheck.Refused(
                "That does not look like a Stripe API key: they start with rk_live_, rk_test_, sk_live_ or sk_test_. " + WhereToCreate);
        }

        var mode = parts[1] == "live" ? ConnectionMode.Live : ConnectionMode.Test;
        return parts[0] == "rk"
            ? new StripeKeyCheck(true, StripeKeyKind.Restricted, mode, $"A restricted {Describe(mode)} key.", null)
            : new StripeKeyCheck(true, StripeKeyKind.Secret, mode, $"A secret {Describe(mode)} key.",
                "A secret key can change everything in your Stripe account; StripeSync only reads. A restricted key with read " +
                "permissions is safer. " + WhereToCreate);
    }

    /// <summary>The only form of a key people ever see again: its prefix and last four characters.</summary>
    public static string Mask(string key)
    {
        var prefixEnd = key.IndexOf('_', key.IndexOf('_', StringComparison.Ordinal) + 1);
        var prefix = prefixEnd > 0 ? key[..(prefixEnd + 1)] : "";
        return $"{prefix}…{key[^Math.Min(4, key.Length)..]}";
    }

    private static string Describe(ConnectionMode mode) => mode == ConnectionMode.Live ? "live-mode" : "test-mode";
}
