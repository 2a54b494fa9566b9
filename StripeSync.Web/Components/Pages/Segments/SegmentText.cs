using System.Globalization;
using StripeSync.Core.Segments;

namespace StripeSync.Web.Components.Pages.Segments;

/// <summary>A definition as one readable line: "Subscription status is trialing and Last activity is more than 2 days ago".</summary>
public static class SegmentText
{
    public static string Describe(SegmentDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var joiner = definition.Match == SegmentMatch.Any ? " or " : " and ";
        return string.Join(joiner, definition.Conditions.Select(Describe));
    }

    private static string Describe(SegmentCondition c)
    {
        if (c.Group is { } group)
        {
            return "(" + Describe(group) + ")";
        }

        if (c.Metric is not null)
        {
            var times = c.AtLeast == 1 ? "" : $" at least {c.AtLeast} times";
            return $"{(c.Did == MetricOperator.DidNot ? "did not do" : "did")} {c.Metric}{times} in the last {c.Days} days";
        }

        var field = SegmentFields.Find(c.Field ?? "");
        var label = field?.Label ?? c.Field;
        var kind = field?.Kind ?? FieldKind.Text;
        var op = c.Operator is { } o ? SegmentFields.OperatorLabel(o, kind) : "?";
        var currency = c.Currency is null ? "" : $" in {c.Currency.ToUpperInvariant()}";
        return c.Operator switch
        {
            FieldOperator.WithinLastDays => $"{label} is within the last {c.Days} days",
            FieldOperator.MoreThanDaysAgo => c.Days == 0 ? $"{label} has passed" : $"{label} is more than {c.Days} days ago",
            FieldOperator.IsSet or FieldOperator.IsNotSet => $"{label}{currency} {op}",
            _ => $"{label}{currency} {op} {Value(c, kind)}",
        };
    }

    private static string Value(SegmentCondition c, FieldKind kind) =>
        kind == FieldKind.Money && long.TryParse(c.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var minor) && c.Currency is { } currency
            ? People.Money.Format(minor, currency)
            : c.Value ?? "";
}
