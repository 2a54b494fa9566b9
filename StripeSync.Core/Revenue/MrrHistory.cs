using StripeSync.Core.Processing;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Revenue;

/// <summary>A plan change seen by an event: the subscription's MRR just before and after (one currency).</summary>
public sealed record MrrChange(string SubscriptionId, DateTimeOffset Time, string Currency, long Before, long After);

/// <summary>One UTC day of one currency: MRR at the end of the day and the day's movements (all in minor units).</summary>
public sealed record MrrDay(DateOnly Date, string Currency, long Mrr, long New, long Expansion, long Contraction, long Churn, long Reactivation);

/// <summary>
/// MRR over time from subscription states and the plan changes events showed. A subscription contributes from
/// when it started paying (trial end, else start) until it ended (canceled: ended_at; unpaid or paused: the start
/// of the period it stopped paying); its amount is its MRR run rate then (SPEC §3 rules), stepped where a discount
/// starts or stops applying, or, where events showed plan changes, at each known change. Movements are classified
/// per customer and currency:
/// new (first MRR ever), reactivation (MRR again after churning), expansion, contraction, churn (to zero).
/// History before StripeSync saw a plan change can't show that change: the backfill knows only current states.
/// </summary>
public static class MrrHistory
{
    public static IReadOnlyList<MrrDay> Daily(
        IEnumerable<SubscriptionRecord> subscriptions, IEnumerable<MrrChange> changes, Func<string, CouponRecord?> coupon,
        DateOnly from, DateOnly to, DateTimeOffset now)
    {
        var changesBySubscription = changes.GroupBy(c => c.SubscriptionId).ToDictionary(g => g.Key, g => g.OrderBy(c => c.Time).ToList());
        var steps = new List<(string Customer, string Currency, DateTimeOffset Time, long Delta)>();
        foreach (var s in subscriptions)
        {
            if (s.Status is "incomplete" or "incomplete_expired" or "trialing")
            {
                continue;
            }

            var start = s.TrialEnd is { } trialEnd && trialEnd > (s.StartDate ?? s.Created) && trialEnd <= now ? trialEnd : s.StartDate ?? s.Created;
            DateTimeOffset? end = s.Status switch
            {
                "canceled" => s.EndedAt ?? s.CanceledAt ?? now,
                "unpaid" or "paused" => s.Items.Select(i => i.CurrentPeriodStart).Min() ?? now,
                _ => null,
            };
            if (end <= start)
            {
                continue;
            }

            var valuedAt = end?.AddSeconds(-1) ?? now;
            var rate = Mrr.RunRate(s, coupon, valuedAt);
            foreach (var (currency, current) in rate)
            {
                var known = changesBySubscription.GetValueOrDefault(s.Id)?.Where(c => c.Currency == currency && c.Time > start && (end is null || c.Time < end)).ToList() ?? [];
                if (known.Count == 0)
                {
                    // No plan change known: the amount steps only where a discount starts or stops applying (a coupon for
                    // the first six months bills half for six months, then the full price).
                    var level = 0L;
                    foreach (var at in Mrr.DiscountBoundaries(s, coupon).Where(t => t > start && t < (end ?? now) && t <= now).Prepend(start).Distinct().Order())
                    {
                        var amount = Mrr.RunRate(s, coupon, at).GetValueOrDefault(currency);
                        steps.Add((s.CustomerId, currency, at, amount - level));
                        level = amount;
                    }

                    if (end is { } stopped)
                    {
                        steps.Add((s.CustomerId, currency, stopped, -level));
                    }

                    continue;
                }

                // Walk back from today's amount through the changes to the amount it started with.
                var initial = known.Count > 0 ? known[0].Before : current;
                steps.Add((s.CustomerId, currency, start, initial));
                foreach (var change in known)
                {
                    steps.Add((s.CustomerId, currency, change.Time, change.After - change.Before));
                }

                var final = known.Count > 0 ? known[^1].After : current;
                if (end is { } ended)
                {
                    steps.Add((s.CustomerId, currency, ended, -final));
                }
            }
        }

        // Classify each step by what it does to its customer's total MRR in that currency.
        var movements = new Dictionary<(DateOnly, string), long[]>();
        foreach (var group in steps.GroupBy(p => (p.Customer, p.Currency)))
        {
            long total = 0;
            var everPaid = false;
            foreach (var step in group.OrderBy(p => p.Time))
            {
                if (step.Delta == 0)
                {
                    continue;
                }

                var before = total;
                total += step.Delta;
                var kind = before <= 0 && total > 0 ? (everPaid ? Kind.Reactivation : Kind.New)
                    : total <= 0 && before > 0 ? Kind.Churn
                    : step.Delta > 0 ? Kind.Expansion : Kind.Contraction;
                everPaid |= total > 0;
                var day = DateOnly.FromDateTime(step.Time.UtcDateTime);
                if (!movements.TryGetValue((day, group.Key.Currency), out var cells))
                {
                    movements[(day, group.Key.Currency)] = cells = new long[6];
                }

                cells[0] += step.Delta;
                cells[(int)kind] += Math.Abs(step.Delta);
            }
        }

        var currencies = movements.Keys.Select(k => k.Item2).Distinct().Order(StringComparer.Ordinal).ToList();
        var days = new List<MrrDay>();
        foreach (var currency in currencies)
        {
            var level = movements.Where(m => m.Key.Item2 == currency && m.Key.Item1 < from).Sum(m => m.Value[0]);
            for (var day = from; day <= to; day = day.AddDays(1))
            {
                var cells = movements.GetValueOrDefault((day, currency)) ?? new long[6];
                level += cells[0];
                days.Add(new MrrDay(day, currency, level, cells[(int)Kind.New], cells[(int)Kind.Expansion], cells[(int)Kind.Contraction],
                    cells[(int)Kind.Churn], cells[(int)Kind.Reactivation]));
            }
        }

        return days;
    }

    private enum Kind
    {
        New = 1,
        Expansion = 2,
        Contraction = 3,
        Churn = 4,
        Reactivation = 5,
    }
}
