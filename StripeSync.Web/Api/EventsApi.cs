using System.Text.Json;
using StripeSync.Core.Connections;
using StripeSync.Core.People;

namespace StripeSync.Web.Api;

public static class EventsApi
{
    public static void MapEventsApi(this RouteGroupBuilder api)
    {
        api.MapPost("/events", async Task<IResult> (HttpRequest request, string? mode, ProductActivity activity, Connections connections, CancellationToken ct) =>
        {
            if (await ApiMode.ResolveAsync(mode, connections, ct) is not { } resolved)
            {
                return ApiMode.BadMode();
            }

            const string Shape = "Send a JSON object { \"email\" or \"stripeCustomerId\", \"metric\", \"time\" (ISO 8601 UTC), \"properties\", \"id\" (optional; makes retries safe) }.";
            ProductEvent? input;
            try
            {
                input = await JsonSerializer.DeserializeAsync<ProductEvent>(request.Body, JsonSerializerOptions.Web, ct);
            }
            catch (JsonException e)
            {
                return Bad(e.Path is "$.time"
                    ? "\"time\" is not a time: send ISO 8601 in UTC, e.g. 2026-11-30T12:00:00Z."
                    : $"The body is not valid JSON of the expected shape ({e.Path ?? "at the start"}). {Shape}");
            }

            if (input is null)
            {
                return Bad(Shape);
            }

            var result = await activity.RecordAsync(resolved, input, ct);
            return result.Outcome switch
            {
                ProductEventOutcome.Invalid => Bad(result.Problem!),
                ProductEventOutcome.UnknownCustomer => TypedResults.Problem(result.Problem, statusCode: StatusCodes.Status404NotFound, title: "Unknown customer"),
                _ => TypedResults.Accepted((string?)null, new
                {
                    personId = result.PersonId,
                    leadCreated = result.LeadCreated,
                    duplicate = result.Outcome == ProductEventOutcome.Duplicate,
                }),
            };
        })
        .WithTags("Events")
        .WithSummary("Records product activity as a metric event of a person (by email or Stripe customer id) and moves their last activity; "
            + "an unknown email creates a lead; a repeated id is stored once. 202.");
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Bad(string message) =>
        TypedResults.Problem(message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid event");
}
