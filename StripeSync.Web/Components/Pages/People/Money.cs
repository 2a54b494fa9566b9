using System.Globalization;
using System.Text.Json;
using StripeSync.Core.Processing;

namespace StripeSync.Web.Components.Pages.People;

/// <summary>Amounts in minor units per currency (<c>{"usd": 4900}</c>) as a person reads them: "$49.00 · €45.00".</summary>
public static class Money
{
    public static string Format(JsonElement fields, string token)
    {
        if (!fields.TryGetProperty(token, out var amounts) || amounts.ValueKind != JsonValueKind.Object)
        {
            return "—";
        }

        var parts = amounts.EnumerateObject().Where(a => a.Value.GetInt64() != 0).Select(a => Format(a.Value.GetInt64(), a.Name)).ToList();
        return parts.Count == 0 ? "—" : string.Join(" · ", parts);
    }

    public static string Format(IReadOnlyDictionary<string, long> amounts)
    {
        var parts = amounts.Where(a => a.Value != 0).Select(a => Format(a.Value, a.Key)).ToList();
        return parts.Count == 0 ? "—" : string.Join(" · ", parts);
    }

    public static string Format(long minor, string currency)
    {
        var symbol = Symbol(currency);
        var amount = Currencies.ToMajor(minor, currency).ToString("N" + Currencies.Decimals(currency).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        return symbol.Length > 0 ? symbol + amount : $"{amount} {currency.ToUpperInvariant()}";
    }

    /// <summary>The sign written before an amount ("$"), or "" for a currency shown by its code after it ("5,000 JPY").</summary>
    public static string Symbol(string currency) => currency.ToLowerInvariant() switch { "usd" => "$", "eur" => "€", "gbp" => "£", _ => "" };
}
