using StripeSync.Core.Connections;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Ingestion.Inbox;
using StripeSync.Core.StripeApi;

namespace StripeSync.Web.Api;

/// <summary>
/// <c>POST /stripe/webhooks/{connectionId}</c>: Stripe's deliveries. The signature is checked with the
/// connection's stored secret, the raw event stored once, and 200 returned at once; processing is a job.
/// </summary>
public static class WebhooksApi
{
    /// <summary>Stripe's own events are a few kilobytes; anything far larger is not Stripe.</summary>
    public const int MaxBodyBytes = 512 * 1024;

    public static void MapWebhooksApi(this IEndpointRouteBuilder app) =>
        app.MapPost("/stripe/webhooks/{connectionId:guid}", ReceiveAsync)
            .AllowAnonymous()
            .DisableAntiforgery()
            .ExcludeFromDescription();

    private static async Task<IResult> ReceiveAsync(
        Guid connectionId, HttpContext context, Connections connections, Inbox inbox, ISyncJobs jobs, TimeProvider clock,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var logger = loggers.CreateLogger(typeof(WebhooksApi));
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "The body is larger than any Stripe event.");
        }

        var connection = await connections.FindAsync(connectionId, ct);
        var secret = connection is null ? null : connections.WebhookSecret(connection);
        if (connection is null || secret is null)
        {
            return Problem(StatusCodes.Status404NotFound, "No connection with a webhook endpoint has this id.");
        }

        var payload = await ReadCappedAsync(context.Request, ct);
        if (payload is null)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "The body is larger than any Stripe event.");
        }

        if (!StripeEvents.IsSignatureValid(payload, context.Request.Headers["Stripe-Signature"], secret, clock.GetUtcNow()))
        {
            logger.LogWarning("Webhook for connection {ConnectionId} refused: bad or stale signature", connectionId);
            await connections.UpdateAsync(connectionId, c => c.RejectedWebhooks++, ct);
            return Problem(StatusCodes.Status400BadRequest, "The Stripe-Signature header is missing, wrong, or older than 5 minutes.");
        }

        var stripeEvent = StripeEvents.Parse(payload, connection.Mode == ConnectionMode.Live);
        if (stripeEvent is null)
        {
            await connections.UpdateAsync(connectionId, c => c.RejectedWebhooks++, ct);
            return Problem(StatusCodes.Status400BadRequest, "The body is not a Stripe event.");
        }

        if (await inbox.AcceptAsync(connectionId, [stripeEvent], EventSource.Webhook, ct) > 0)
        {
            jobs.DrainInbox(connectionId);
        }

        return TypedResults.Ok(new { received = true });
    }

    private static async Task<string?> ReadCappedAsync(HttpRequest request, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail, statusCode: status);
}
