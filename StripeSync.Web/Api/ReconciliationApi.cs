using StripeSync.Core.Connections;
using StripeSync.Core.Health;
using StripeSync.Core.StripeApi;
using StripeSync.Web.Setup;

namespace StripeSync.Web.Api;

public static class ReconciliationApi
{
    public static void MapReconciliationApi(this RouteGroupBuilder api)
    {
        var reconciliation = api.MapGroup("/reconciliation").WithTags("Reconciliation");

        reconciliation.MapGet("/", async (Reconciliation reconciliations, CancellationToken ct) => TypedResults.Ok(await reconciliations.ReadAllAsync(ct)))
            .WithSummary("Per connection, the last check of the last 30 UTC days: successful payments in Stripe (succeeded charges) and in "
                + "StripeSync (Successfully Paid), their difference, and when it was checked (hourly, and when an import finishes).");

        reconciliation.MapPost("/{connectionId:guid}/check", async (Guid connectionId, Reconciliation reconciliations, Connections connections,
            CancellationToken ct) =>
        {
            if (await connections.FindAsync(connectionId, ct) is null)
            {
                return Results.Problem($"There is no connection {connectionId}.", statusCode: StatusCodes.Status404NotFound);
            }

            try
            {
                var result = await reconciliations.CheckAsync(connectionId, ct);
                return result.Unavailable is { } reason
                    ? Results.Problem($"Not checked: {reason}", statusCode: StatusCodes.Status409Conflict)
                    : Results.Ok(result);
            }
            catch (StripeCallException e)
            {
                return Results.Problem($"Stripe refused the count: {e.Message}", statusCode: StatusCodes.Status502BadGateway);
            }
        }).RequireAuthorization(AuthSetup.ApiAdminPolicy)
        .WithSummary("Counts the last 30 days in Stripe and in StripeSync now and returns the result (Admin).");
    }
}
