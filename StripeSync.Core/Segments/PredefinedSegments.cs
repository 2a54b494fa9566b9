using System.Globalization;
using static StripeSync.Core.Segments.SegmentCondition;

namespace StripeSync.Core.Segments;

public sealed record PredefinedSegment(string Id, string Name, string Description, SegmentDefinition Definition);

/// <summary>
/// The segments every account starts with (SPEC §5: Encharge's eight, DailyStory's two), written in the same
/// definition model as custom segments. Subscription segments read the per-status subscription counts, so a person
/// with an active plan and a trialing add-on is both a customer and in a trial; "churned" reads the most relevant
/// subscription's status, which is canceled, incomplete-expired or unpaid only when nothing active, trialing or past
/// due is left.
/// </summary>
public static class PredefinedSegments
{
    public const string SyncingWithStripe = "syncing-with-stripe";
    public const string CurrentTrials = "current-trials";
    public const string SlippingTrials = "slipping-trials";
    public const string SlippingCustomers = "slipping-customers";
    public const string ExpiredTrials = "expired-trials";
    public const string Customers = "customers";
    public const string ChurnedCustomers = "churned-customers";
    public const string PastDueSubscriptions = "past-due-subscriptions";
    public const string NoOrderIn6Months = "no-order-in-6-months";
    public const string HighValue = "high-value";

    /// <summary>Six months, as days: the "no order" window.</summary>
    public const int SixMonthsInDays = 183;

    /// <summary>High value: total sales above this many major units (1,000.00) of the account's main currency.</summary>
    public const long HighValueMajorUnits = 1_000;

    public static bool IsPredefined(string id) => Ids.Contains(id);

    public static IReadOnlyList<string> Ids { get; } =
    [
        SyncingWithStripe, CurrentTrials, SlippingTrials, SlippingCustomers, ExpiredTrials, Customers, ChurnedCustomers,
        PastDueSubscriptions, NoOrderIn6Months, HighValue,
    ];

    /// <summary>The predefined segments; <paramref name="mainCurrency"/> (lower-case ISO) sets High value's currency.</summary>
    public static IReadOnlyList<PredefinedSegment> All(string mainCurrency)
    {
        var trialing = OnField("stripe_subscription_trial", FieldOperator.GreaterThan, "0");
        var customer = Of(SegmentMatch.Any,
            OnField("stripe_subscription_active", FieldOperator.GreaterThan, "0"),
            OnField("stripe_subscription_past_due", FieldOperator.GreaterThan, "0"));
        var threshold = HighValueThreshold(mainCurrency);
        return
        [
            new(SyncingWithStripe, "Syncing with Stripe", "Everyone who is a Stripe customer (has a Stripe customer id).",
                Define(SegmentMatch.All, OnField("stripe_customer_id", FieldOperator.IsSet))),
            new(CurrentTrials, "Current Trials", "People with a trialing subscription.",
                Define(SegmentMatch.All, trialing)),
            new(SlippingTrials, "Slipping Trials", "People with a trialing subscription whose last activity was more than 2 days ago.",
                Define(SegmentMatch.All, trialing, OnField("last_activity", FieldOperator.MoreThanDaysAgo, days: 2))),
            new(SlippingCustomers, "Slipping Customers", "People with an active or past-due subscription whose last activity was more than 15 days ago.",
                Define(SegmentMatch.All, customer, OnField("last_activity", FieldOperator.MoreThanDaysAgo, days: 15))),
            new(ExpiredTrials, "Expired Trials", "People whose trial ended without converting: the trial end has passed and no subscription is active, trialing or past due.",
                Define(SegmentMatch.All,
                    OnField("stripe_trial_end", FieldOperator.MoreThanDaysAgo, days: 0),
                    OnField("stripe_subscription_status", FieldOperator.NotEquals, "active"),
                    OnField("stripe_subscription_status", FieldOperator.NotEquals, "trialing"),
                    OnField("stripe_subscription_status", FieldOperator.NotEquals, "past_due"))),
            new(Customers, "Customers", "People with an active or past-due subscription.",
                Define(SegmentMatch.All, customer)),
            new(ChurnedCustomers, "Churned Customers", "People whose subscription ended (canceled, incomplete-expired or unpaid) and who have no active, trialing or past-due one.",
                Define(SegmentMatch.Any,
                    OnField("stripe_subscription_status", FieldOperator.Equals, "canceled"),
                    OnField("stripe_subscription_status", FieldOperator.Equals, "incomplete_expired"),
                    OnField("stripe_subscription_status", FieldOperator.Equals, "unpaid"))),
            new(PastDueSubscriptions, "Past Due Subscriptions", "People with a past-due subscription.",
                Define(SegmentMatch.All, OnField("stripe_subscription_past_due", FieldOperator.GreaterThan, "0"))),
            new(NoOrderIn6Months, "No order in 6 months", $"People who have ordered before, but not in the last 6 months ({SixMonthsInDays} days).",
                Define(SegmentMatch.All, OnField("stripe_last_create_order_date", FieldOperator.MoreThanDaysAgo, days: SixMonthsInDays))),
            new(HighValue, "High value",
                $"Total sales (net of refunds) above {HighValueMajorUnits.ToString("N0", CultureInfo.InvariantCulture)} {mainCurrency.ToUpperInvariant()}: "
                + $"{mainCurrency.ToUpperInvariant()} is the currency most recent payments use; sales in other currencies are not converted.",
                Define(SegmentMatch.All, OnField("stripe_total_sales", FieldOperator.GreaterThan,
                    threshold.ToString(CultureInfo.InvariantCulture), currency: mainCurrency))),
        ];
    }

    /// <summary><see cref="HighValueMajorUnits"/> in minor units of <paramref name="currency"/>.</summary>
    public static long HighValueThreshold(string currency) =>
        HighValueMajorUnits * Processing.Currencies.MinorPerMajor(currency);

    private static SegmentDefinition Define(SegmentMatch match, params SegmentCondition[] conditions) =>
        new() { Match = match, Conditions = [.. conditions] };
}
