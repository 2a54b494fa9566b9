namespace StripeSync.Core.Processing;

/// <summary>
/// Stripe's minor units per currency: amounts arrive in the currency's smallest unit, which is the unit itself for
/// zero-decimal currencies (¥500 is 500) and a thousandth for three-decimal ones.
/// </summary>
public static class Currencies
{
    private static readonly HashSet<string> ZeroDecimal = new(StringComparer.OrdinalIgnoreCase)
    {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    };

    private static readonly HashSet<string> ThreeDecimal = new(StringComparer.OrdinalIgnoreCase) { "bhd", "jod", "kwd", "omr", "tnd" };

    /// <summary>Digits after the decimal point: 0, 2 or 3.</summary>
    public static int Decimals(string currency) => ZeroDecimal.Contains(currency) ? 0 : ThreeDecimal.Contains(currency) ? 3 : 2;

    /// <summary>Minor units in one major unit: 1, 100 or 1,000.</summary>
    public static long MinorPerMajor(string currency) => Decimals(currency) switch { 0 => 1, 3 => 1000, _ => 100 };

    /// <summary>A minor-unit amount in major units (500 JPY is 500, 500 USD cents is 5.00).</summary>
    public static decimal ToMajor(long minor, string currency) => minor / (decimal)MinorPerMajor(currency);
}
