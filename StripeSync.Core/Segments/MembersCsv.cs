using System.Text.Json;
using StripeSync.Core.People;
using StripeSync.Core.Connections;

namespace StripeSync.Core.Segments;

/// <summary>
/// A segment's members as CSV (RFC 4180): a header row of <c>id</c> and every enabled field under its mapped name
/// (the field mapping of the connect wizard), then one person a line. Money objects are written
/// <c>usd=1234;eur=500</c> (minor units), lists joined with <c>; </c>, times ISO 8601 UTC.
/// </summary>
public static class MembersCsv
{
    public static async Task WriteAsync(TextWriter writer, IAsyncEnumerable<PersonView> members, FieldMap map, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(map);
        await writer.WriteAsync(Line(["id", .. map.Columns.Select(c => c.Property)]));
        await foreach (var person in members.WithCancellation(ct))
        {
            var cells = new List<string>(map.Columns.Count + 1) { person.Id.ToString() };
            foreach (var (token, _) in map.Columns)
            {
                cells.Add(person.Fields.ValueKind == JsonValueKind.Object && person.Fields.TryGetProperty(token, out var value) ? Cell(value) : "");
            }

            await writer.WriteAsync(Line(cells));
        }

        await writer.FlushAsync(ct);
    }

    /// <summary>One field's value as CSV text (before quoting).</summary>
    public static string Cell(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => Text(value.GetString()!),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Object => string.Join(";", value.EnumerateObject().Select(p => $"{p.Name}={Cell(p.Value)}")),
        JsonValueKind.Array => string.Join("; ", value.EnumerateArray().Select(Cell)),
        _ => "",
    };

    /// <summary>
    /// Text from Stripe is anyone's input (a name typed at checkout): a cell a spreadsheet would read as a formula
    /// (<c>=HYPERLINK(…)</c>, <c>+</c>, <c>-</c>, <c>@</c>, or a leading tab or return) gets a leading apostrophe, which
    /// spreadsheets show as text (OWASP, CSV injection). Numbers are JSON numbers and stay as they are.
    /// </summary>
    private static string Text(string text) => text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + text : text;

    private static string Line(IEnumerable<string> cells) => string.Join(",", cells.Select(Quote)) + "\r\n";

    /// <summary>Quotes a cell when it holds a comma, quote or line break (doubling quotes), as RFC 4180 says.</summary>
    public static string Quote(string cell) =>
        cell.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;
}
