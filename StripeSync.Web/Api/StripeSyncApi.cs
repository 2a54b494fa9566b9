using StripeSync.Web.Setup;

namespace StripeSync.Web.Api;

public static class StripeSyncApi
{
    /// <summary>Everything under <c>/api/v1</c> authenticates with an API key; each feature maps its own group.</summary>
    public static void MapStripeSyncApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization(AuthSetup.ApiPolicy).DisableAntiforgery();
        api.MapStatusApi();
        api.MapUsersApi();
        api.MapConnectionsApi();
        api.MapPeopleApi();
        api.MapMetricsApi();
        api.MapRevenueApi();
        api.MapReconciliationApi();
        api.MapSegmentsApi();
        api.MapEventsApi();
        // Routing does not match an endpoint that binds a JSON body to a request without one; such requests land here too.
        api.MapFallback("{**path}", (HttpRequest request) => (request.Method is "POST" or "PUT" or "PATCH", request.ContentType) switch
            {
                (true, not null) when !request.HasJsonContentType() => TypedResults.Problem(
                    "Send the body as JSON with Content-Type: application/json. The OpenAPI document at /openapi/v1.json lists every endpoint and its input.",
                    statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Not JSON"),
                (true, null) => TypedResults.Problem(
                    "There is no such API endpoint, or it takes a JSON body and none was sent; the OpenAPI document at /openapi/v1.json lists them all.",
                    statusCode: StatusCodes.Status404NotFound, title: "Not found"),
                _ => TypedResults.Problem("There is no such API endpoint; the OpenAPI document at /openapi/v1.json lists them all.",
                    statusCode: StatusCodes.Status404NotFound, title: "Not found"),
            })
            .ExcludeFromDescription();
        app.MapSegmentsExport();
    }
}

/// <summary>A page of a list, as every list endpoint returns it.</summary>
public sealed record Paged<T>(IReadOnlyList<T> Items, int Total);

/// <summary><c>?page=1&amp;pageSize=50</c>, at most 500 a page.</summary>
public sealed record Paging(int Page, int PageSize)
{
    public const int MaxPageSize = 500;

    public static bool TryRead(int? page, int? pageSize, out Paging paging, out string error)
    {
        paging = new Paging(page ?? 1, pageSize ?? 50);
        error = paging switch
        {
            { Page: < 1 } => "page starts at 1.",
            { PageSize: < 1 or > MaxPageSize } => $"pageSize must be between 1 and {MaxPageSize}.",
            _ => "",
        };
        return error.Length == 0;
    }

    public static IResult Bad(string error) =>
        TypedResults.Problem(error, statusCode: StatusCodes.Status400BadRequest, title: "Bad paging");

    public Paged<T> Apply<T>(IReadOnlyCollection<T> all) =>
        new([.. all.Skip((Page - 1) * PageSize).Take(PageSize)], all.Count);
}

/// <summary>Dates in query strings: <c>yyyy-MM-dd</c>, UTC days.</summary>
public static class Dates
{
    public static bool TryRead(string? text, DateOnly fallback, out DateOnly date)
    {
        if (string.IsNullOrEmpty(text))
        {
            date = fallback;
            return true;
        }

        return DateOnly.TryParseExact(text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out date);
    }

    public static IResult Bad() =>
        TypedResults.Problem("from and to are dates as yyyy-MM-dd (UTC days).", statusCode: StatusCodes.Status400BadRequest);
}
