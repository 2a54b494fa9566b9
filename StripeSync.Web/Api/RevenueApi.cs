using StripeSync.Core.Connections;
using StripeSync.Core.Revenue;

namespace StripeSync.Web.Api;

public static class RevenueApi
{
    private const int MaxDays = 3660;

    public static void MapRevenueApi(this RouteGroupBuilder api) =>
        api.MapGet("/revenue/mrr", async (string? from, string? to, string? mode, RevenueQueries revenue, TimeProvider clock,
            Connections connections, CancellationToken ct) =>
        {
            var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
            if (!Dates.TryRead(to, today, out var last) || !Dates.TryRead(from, last.AddDays(-89), out var first))
            {
                return Dates.Bad();
            }

            if (first > last || last.DayNumber - first.DayNumber >= MaxDays)
            {
                return TypedResults.Problem($"from must be on or before to, and the range at most {MaxDays} days.", statusCode: StatusCodes.Status400BadRequest);
            }

            if (await ApiMode.ResolveAsync(mode, connections, ct) is not { } resolved)
            {
                return ApiMode.BadMode();
            }

            return TypedResults.Ok(await revenue.DailyAsync(resolved, first, last, ct));
        }).WithTags("Revenue")
        .WithSummary("MRR per UTC day and currency (minor units), with that day's new, expansion, contraction, churn and reactivation. Default: the last 90 days.");
}
