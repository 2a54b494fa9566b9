using StripeSync.Core.Segments;
using StripeSync.Web.Components.Pages.People;

namespace StripeSync.Tests.People;

/// <summary>Stripe sends amounts in each currency's smallest unit: ¥500 arrives as 500, $5.00 as 500, 5.000 KWD as 5000.</summary>
public sealed class MoneyTests
{
    [Theory]
    [InlineData(4900, "usd", "$49.00")]
    [InlineData(123456, "eur", "€1,234.56")]
    [InlineData(500, "jpy", "500 JPY")]
    [InlineData(1250000, "krw", "1,250,000 KRW")]
    [InlineData(5250, "kwd", "5.250 KWD")]
    [InlineData(995, "chf", "9.95 CHF")]
    public void An_amount_is_written_in_its_currencys_own_units(long minor, string currency, string expected) =>
        Assert.Equal(expected, Money.Format(minor, currency));

    [Theory]
    [InlineData("usd", 100_000)]
    [InlineData("jpy", 1_000)]
    [InlineData("kwd", 1_000_000)]
    public void High_value_is_a_thousand_major_units_of_the_currency(string currency, long minor) =>
        Assert.Equal(minor, PredefinedSegments.HighValueThreshold(currency));
}
