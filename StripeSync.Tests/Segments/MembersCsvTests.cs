using System.Text.Json;
using StripeSync.Core.Segments;

namespace StripeSync.Tests.Segments;

/// <summary>An exported cell is what the person's field says, and never something a spreadsheet would run.</summary>
public sealed class MembersCsvTests
{
    [Theory]
    [InlineData("\"=HYPERLINK(\\\"http://evil.example\\\",\\\"open\\\")\"", "'=HYPERLINK(\"http://evil.example\",\"open\")")]
    [InlineData("\"+1 555 0100\"", "'+1 555 0100")]
    [InlineData("\"-2+3\"", "'-2+3")]
    [InlineData("\"@SUM(A1:A9)\"", "'@SUM(A1:A9)")]
    [InlineData("\"\\tcmd\"", "'\tcmd")]
    [InlineData("\"Ada Lovelace\"", "Ada Lovelace")]
    [InlineData("-4200", "-4200")]
    [InlineData("[\"=1+1\",\"pro\"]", "'=1+1; pro")]
    [InlineData("{\"usd\":4900,\"eur\":-500}", "usd=4900;eur=-500")]
    public void A_cell_a_spreadsheet_would_read_as_a_formula_is_written_as_text(string json, string expected)
    {
        using var document = JsonDocument.Parse(json);
        Assert.Equal(expected, MembersCsv.Cell(document.RootElement));
    }

    [Fact]
    public void A_cell_with_a_comma_quote_or_line_break_is_quoted() =>
        Assert.Equal("\"Smith, \"\"Jr\"\"\"", MembersCsv.Quote("Smith, \"Jr\""));
}
