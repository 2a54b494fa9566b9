using StripeSync.Core.Processing;

namespace StripeSync.Core.Segments;

public enum FieldKind
{
    Text,
    Number,
    Bool,
    Time,

    /// <summary>An object of currency → minor units (MRR, total sales).</summary>
    Money,

    /// <summary>A list of strings (purchased products).</summary>
    List,
}

public sealed record SegmentField(string Token, string Label, FieldKind Kind)
{
    public IReadOnlyList<FieldOperator> Operators => SegmentFields.OperatorsOf(Kind);
}

/// <summary>
/// The fields a segment can filter on: exactly the field tokens of SPEC §6 (<see cref="PersonFields.Tokens"/>),
/// each with its kind, which decides its operators and how SQL reads it. Only these tokens ever reach SQL.
/// </summary>
public static class SegmentFields
{
    private static readonly Dictionary<string, (string Label, FieldKind Kind)> Known = new(StringComparer.Ordinal)
    {
        ["email"] = ("Email", FieldKind.Text),
        ["first_name"] = ("First name", FieldKind.Text),
        ["last_name"] = ("Last name", FieldKind.Text),
        ["phone"] = ("Phone", FieldKind.Text),
        ["address"] = ("Address", FieldKind.Text),
        ["city"] = ("City", FieldKind.Text),
        ["region"] = ("State / region", FieldKind.Text),
        ["postal_code"] = ("Postal code", FieldKind.Text),
        ["country"] = ("Country", FieldKind.Text),
        ["email_unsubscribed"] = ("Email unsubscribed", FieldKind.Bool),
        ["stripe_customer_id"] = ("Stripe customer id", FieldKind.Text),
        ["stripe_description"] = ("Customer description", FieldKind.Text),
        ["stripe_delinquent"] = ("Delinquent", FieldKind.Bool),
        ["stripe_currency"] = ("Customer currency", FieldKind.Text),
        ["stripe_created"] = ("Customer since", FieldKind.Time),
        ["stripe_mrr"] = ("MRR", FieldKind.Money),
        ["stripe_card_brand"] = ("Card brand", FieldKind.Text),
        ["stripe_card_last4"] = ("Card last 4", FieldKind.Text),
        ["stripe_card_exp_month"] = ("Card expiry month", FieldKind.Number),
        ["stripe_card_exp_year"] = ("Card expiry year", FieldKind.Number),
        ["stripe_subscription_id"] = ("Subscription id", FieldKind.Text),
        ["stripe_subscription_status"] = ("Subscription status", FieldKind.Text),
        ["stripe_trial_start"] = ("Trial start", FieldKind.Time),
        ["stripe_trial_end"] = ("Trial end", FieldKind.Time),
        ["stripe_subscription_created"] = ("Subscription created", FieldKind.Time),
        ["stripe_subscription_canceled_at"] = ("Subscription canceled at", FieldKind.Time),
        ["stripe_cancel_at_period_end"] = ("Cancels at period end", FieldKind.Bool),
        ["stripe_current_period_start"] = ("Current period start", FieldKind.Time),
        ["stripe_current_period_end"] = ("Current period end", FieldKind.Time),
        ["stripe_product_id"] = ("Product id", FieldKind.Text),
        ["stripe_product_name"] = ("Product name", FieldKind.Text),
        ["stripe_price_id"] = ("Price id", FieldKind.Text),
        ["stripe_plan_nickname"] = ("Plan nickname", FieldKind.Text),
        ["stripe_plan_amount"] = ("Plan amount (minor units)", FieldKind.Number),
        ["stripe_plan_currency"] = ("Plan currency", FieldKind.Text),
        ["stripe_plan_interval"] = ("Plan interval", FieldKind.Text),
        ["stripe_plan_interval_count"] = ("Plan interval count", FieldKind.Number),
        ["stripe_last_amount_paid"] = ("Last amount paid (minor units)", FieldKind.Number),
        ["stripe_last_payment_currency"] = ("Last payment currency", FieldKind.Text),
        ["stripe_last_payment_date"] = ("Last payment date", FieldKind.Time),
        ["stripe_last_payment_description"] = ("Last payment description", FieldKind.Text),
        ["stripe_total_orders"] = ("Total orders", FieldKind.Number),
        ["stripe_total_sales"] = ("Total sales", FieldKind.Money),
        ["stripe_first_create_order_date"] = ("First order date", FieldKind.Time),
        ["stripe_last_create_order_date"] = ("Last order date", FieldKind.Time),
        ["stripe_order_status"] = ("Last order status", FieldKind.Text),
        ["stripe_order_last_value"] = ("Last order value (minor units)", FieldKind.Number),
        ["stripe_order_products"] = ("Purchased products", FieldKind.List),
        ["stripe_subscription_active"] = ("Active subscriptions", FieldKind.Number),
        ["stripe_subscription_trial"] = ("Trialing subscriptions", FieldKind.Number),
        ["stripe_subscription_past_due"] = ("Past-due subscriptions", FieldKind.Number),
        ["stripe_subscription_paused"] = ("Paused subscriptions", FieldKind.Number),
        ["stripe_subscription_cancelled"] = ("Canceled subscriptions", FieldKind.Number),
        ["last_activity"] = ("Last activity", FieldKind.Time),
        ["stripe_last_sync_at"] = ("Last sync at", FieldKind.Time),
    };

    /// <summary>Every field, in token order.</summary>
    public static IReadOnlyList<SegmentField> All { get; } =
        [.. PersonFields.Tokens.Select(t => new SegmentField(t, Known[t].Label, Known[t].Kind))];

    public static SegmentField? Find(string token) => All.FirstOrDefault(f => string.Equals(f.Token, token, StringComparison.Ordinal));

    public static IReadOnlyList<FieldOperator> OperatorsOf(FieldKind kind) => kind switch
    {
        FieldKind.Text => [FieldOperator.Equals, FieldOperator.NotEquals, FieldOperator.Contains, FieldOperator.IsSet, FieldOperator.IsNotSet],
        FieldKind.Number => [FieldOperator.Equals, FieldOperator.NotEquals, FieldOperator.GreaterThan, FieldOperator.LessThan, FieldOperator.IsSet, FieldOperator.IsNotSet],
        FieldKind.Bool => [FieldOperator.Equals, FieldOperator.NotEquals, FieldOperator.IsSet, FieldOperator.IsNotSet],
        FieldKind.Time => [FieldOperator.WithinLastDays, FieldOperator.MoreThanDaysAgo, FieldOperator.GreaterThan, FieldOperator.LessThan, FieldOperator.IsSet, FieldOperator.IsNotSet],
        FieldKind.Money => [FieldOperator.GreaterThan, FieldOperator.LessThan, FieldOperator.Equals, FieldOperator.NotEquals, FieldOperator.IsSet, FieldOperator.IsNotSet],
        FieldKind.List => [FieldOperator.Contains, FieldOperator.IsSet, FieldOperator.IsNotSet],
        _ => [],
    };

    public static string OperatorLabel(FieldOperator op, FieldKind kind = FieldKind.Text) => op switch
    {
        FieldOperator.Equals => "is",
        FieldOperator.NotEquals => "is not",
        FieldOperator.GreaterThan => kind == FieldKind.Time ? "is after" : "is more than",
        FieldOperator.LessThan => kind == FieldKind.Time ? "is before" : "is less than",
        FieldOperator.Contains => "contains",
        FieldOperator.IsSet => kind == FieldKind.Money ? "is set (not zero)" : "is set",
        FieldOperator.IsNotSet => kind == FieldKind.Money ? "is not set (zero)" : "is not set",
        FieldOperator.WithinLastDays => "is within the last N days",
        FieldOperator.MoreThanDaysAgo => "is more than N days ago",
        _ => op.ToString(),
    };
}
