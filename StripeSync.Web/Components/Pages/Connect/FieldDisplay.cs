using System.Collections;
using System.Globalization;
using StripeSync.Web.Components.Pages.People;

namespace StripeSync.Web.Components.Pages.Connect;

/// <summary>A field value (as <c>PersonFields.Compute</c> types them) as a person reads it in the wizard.</summary>
public static class FieldDisplay
{
    public static string Format(object? value) => value switch
    {
        null => "—",
        bool b => b ? "true" : "false",
        DateTimeOffset t => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
        IReadOnlyDictionary<string, long> amounts => amounts.Count == 0 ? "—"
            : string.Join(" · ", amounts.Select(a => Money.Format(a.Value, a.Key))),
        string s => s,
        IEnumerable list => string.Join(", ", list.Cast<object?>().Select(Format)),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "—",
    };
}
