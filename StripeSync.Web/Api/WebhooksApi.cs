using System.Text;
using StripeSync.Core.Connections;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Ingestion.Inbox;
using StripeSync.Core.StripeApi;

namespace StripeSync.Web.Api;

/// <summary>
/// <c>POST /stripe/webhooks/{connectionId}</c>: Stripe's deliveries. The signature is checked with the
/// connection's (briefly cached) secret over the raw bytes, the raw event stored once, and 200 returned as soon as it is
/// committed; processing is a job.
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
        Guid connectionId, HttpContext context, WebhookSecrets secrets, Connections connections, Inbox inbox, ISyncJobs jobs, TimeProvider clock,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var logger = loggers.CreateLogger(typeof(WebhooksApi));
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "The body is larger than any Stripe event.");
        }

        var secret = await secrets.FindAsync(connectionId, ct);
        if (secret is null)
        {
            return NoEndpoint();
        }

        var payload = await ReadCappedAsync(context.Request, ct);
        if (payload is null)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "The body is larger than any Stripe event.");
        }

        if (!StripeEvents.IsSignatureValid(payload.Value.Span, context.Request.Headers["Stripe-Signature"], secret, clock.GetUtcNow()))
        {
            logger.LogWarning("Webhook for connection {ConnectionId} refused: bad or stale signature", connectionId);
            await connections.UpdateAsync(connectionId, c => c.RejectedWebhooks++, ct);
            return Problem(StatusCodes.Status400BadRequest, "The Stripe-Signature header is missing, wrong, or older than 5 minutes.");
        }

        // Only the envelope is read here; Stripe.net's full parse of the event is the processor's.
        if (StripeEvents.ReadEnvelope(payload.Value) is not { } envelope)
        {
            await connections.UpdateAsync(connectionId, c => c.RejectedWebhooks++, ct);
            return Problem(StatusCodes.Status400BadRequest, "The body is not a Stripe event.");
        }

        // An event about an object StripeSync doesn't keep (payouts, balances, unknown types) is acknowledged and dropped,
        // but still counts as hearing from Stripe.
        InboxEntry[] entries = envelope.Kept
            ? [new InboxEntry(envelope.Id, envelope.Type, envelope.Created, Encoding.UTF8.GetString(payload.Value.Span))]
            : [];
        int stored;
        try
        {
            // Answered only once the event is committed: a 200 tells Stripe it may forget the event.
            stored = await inbox.StoreAsync(connectionId, entries, EventSource.Webhook, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // The statement that carried it failed and stored none of its batch: Stripe retries a delivery answered with an error.
            return Problem(StatusCodes.Status503ServiceUnavailable, "The event could not be stored just now; Stripe will send it again.");
        }

        if (stored > 0)
        {
            jobs.DrainInbox(connectionId);
        }

        return TypedResults.Ok(new { received = true });
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NoEndpoint() =>
        Problem(StatusCodes.Status404NotFound, "No connection with a webhook endpoint has this id.");

    /// <summary>The body as sent (the signature is over these exact bytes), or null past <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadCappedAsync(HttpRequest request, CancellationToken ct)
    {
        using var buffer = new MemoryStream(request.ContentLength is > 0 and <= MaxBodyBytes ? (int)request.ContentLength : 16 * 1024);
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

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail, statusCode: status);
}
