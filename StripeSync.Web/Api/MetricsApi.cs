using StripeSync.Core.Connections;
using StripeSync.Core.Metrics;

namespace StripeSync.Web.Api;

public static class MetricsApi
{
    private const int MaxDays = 3660;

    public static void MapMetricsApi(this RouteGroupBuilder api)
    {
        var metrics = api.MapGroup("/metrics").WithTags("Metrics");

        metrics.MapGet("/", async (string? mode, MetricQueries queries, Connections connections, CancellationToken ct) =>
            await ApiMode.ResolveAsync(mode, connections, ct) is { } resolved
                ? Results.Ok(await queries.ListAsync(resolved, ct))
                : ApiMode.BadMode())
            .WithSummary("Every metric with its count over the last 30 days (UTC), zeros included.");

        metrics.MapGet("/{name}/daily", async (string name, string? from, string? to, string? mode,
            MetricQueries queries, TimeProvider clock, Connections connections, CancellationToken ct) =>
        {
            if (!Core.Processing.Metrics.All.Contains(name))
            {
                return UnknownMetric(name);
            }

            var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
            if (!Dates.TryRead(to, today, out var last) || !Dates.TryRead(from, last.AddDays(-29), out var first))
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

            return TypedResults.Ok(await queries.DailyAsync(resolved, name, first, last, ct));
        }).WithSummary("A metric's count and amounts per currency for every UTC day of the range (default: the last 30 days).");

        metrics.MapGet("/{name}/events", async (string name, string? mode, string? date, int? page, int? pageSize, HttpRequest request,
            MetricQueries queries, Connections connections, CancellationToken ct) =>
        {
            if (!Core.Processing.Metrics.All.Contains(name))
            {
                return UnknownMetric(name);
            }

            if (!Paging.TryRead(page, pageSize, out var paging, out var error))
            {
                return Paging.Bad(error);
            }

            if (await ApiMode.ResolveAsync(mode, connections, ct) is not { } resolved)
            {
                return ApiMode.BadMode();
            }

            if (Filters(request.Query) is not { } filters)
            {
                return TypedResults.Problem("A property filter needs a name: property.Name=value (equal) or property.Name[contains]=text.",
                    statusCode: StatusCodes.Status400BadRequest);
            }

            if (filters.Any(f => f.Value.Length > Core.People.ProductActivity.MaxPropertyValue))
            {
                return TypedResults.Problem($"A property filter's value has at most {Core.People.ProductActivity.MaxPropertyValue} characters.",
                    statusCode: StatusCodes.Status400BadRequest);
            }

            DateOnly? day = null;
            if (!string.IsNullOrEmpty(date))
            {
                if (!Dates.TryRead(date, default, out var parsed))
                {
                    return TypedResults.Problem("date is a UTC day as yyyy-MM-dd.", statusCode: StatusCodes.Status400BadRequest);
                }

                day = parsed;
            }

            var (items, total) = await queries.EventsAsync(resolved, name, filters, paging.Page, paging.PageSize, ct, day);
            return TypedResults.Ok(new Paged<MetricEventView>(items, total));
        }).WithSummary("The activity feed of a metric, newest first, with each event's person; filter with property.Name=value (equal) "
            + "and property.Name[contains]=text, both ignoring case, e.g. property.Currency=usd&property.Reason[contains]=expired; date=yyyy-MM-dd keeps one UTC day.");
    }

    private const string Prefix = "property.";
    private const string ContainsSuffix = "[contains]";

    private static List<PropertyFilter>? Filters(IQueryCollection query)
    {
        var filters = new List<PropertyFilter>();
        foreach (var (key, values) in query.Where(q => q.Key.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var contains = key.EndsWith(ContainsSuffix, StringComparison.Ordinal);
            var name = key[Prefix.Length..^(contains ? ContainsSuffix.Length : 0)];
            if (name.Length == 0)
            {
                return null;
            }

            filters.AddRange(values.Select(v => new PropertyFilter(name, contains ? PropertyOperator.Contains : PropertyOperator.Equals, v ?? "")));
        }

        return filters;
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult UnknownMetric(string name) => TypedResults.Problem(
        $"There is no metric '{name}'. Metrics: {string.Join(", ", Core.Processing.Metrics.All)}.", statusCode: StatusCodes.Status404NotFound);
}
