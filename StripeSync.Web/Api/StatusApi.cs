namespace StripeSync.Web.Api;

public static class StatusApi
{
    public sealed record Status(string State, string Message, IReadOnlyList<object> Connections);

    public static void MapStatusApi(this RouteGroupBuilder api) =>
        api.MapGet("/status", () => TypedResults.Ok(new Status(
                "not_connected",
                "No Stripe account is connected yet. Connect one with POST /api/v1/connections or in the app's connect wizard.",
                [])))
            .WithSummary("Overall sync state, per connection.");
}
