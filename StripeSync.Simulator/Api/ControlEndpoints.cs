using StripeSync.Simulator.Data;

namespace StripeSync.Simulator.Api;

/// <summary>
/// <c>/_sim/…</c>: the simulator's own control API (JSON), for scripts and manual runs. Tests in-process use
/// <see cref="SimulatorServer.Control"/>, <see cref="SimulatorServer.Faults"/> and <see cref="SimulatorServer.Webhooks"/> directly.
/// </summary>
internal static class ControlEndpoints
{
    public sealed record NewCustomer(bool Livemode, string? Email, string? Name, string? PriceId);

    public sealed record CancelRequest(string? Feedback, string? Reason);

    public sealed record RefundRequest(long? Amount, string? Reason);

    public sealed record EmailRequest(string Email);

    public sealed record PaymentRequest(long? Amount);

    public sealed record FaultSettings(double? FailureRate, double? DropRate, int? LatencyMs, double? LiveRequestsPerSecond,
        double? TestRequestsPerSecond, double? EndpointRequestsPerSecond, int? FailNext = null);

    private static readonly string[] DocumentedKeys = ["sk_test_sim", "sk_live_sim", "rk_test_sim_full", "rk_live_sim_full"];

    public static void MapControlApi(this IEndpointRouteBuilder app, SimulatorAccount account, Faults faults, WebhookSender webhooks, SimulatorControl control)
    {
        var sim = app.MapGroup("/_sim");
        sim.MapGet("/", () => Results.Ok(new
        {
            account = account.AccountId,
            now = account.Now,
            live = Counts(account.Live),
            test = Counts(account.Test),
            faults = new { faults.FailureRate, faults.DropRate, latencyMs = faults.Latency.TotalMilliseconds, faults.LiveRequestsPerSecond, faults.TestRequestsPerSecond, faults.EndpointRequestsPerSecond },
            served = new { faults.Requests, faults.RateLimited, faults.Failed, faults.Dropped, faults.Unauthorized },
            webhooks = new { mode = webhooks.Mode.ToString(), webhooks.Sent, webhooks.Delivered, webhooks.FailedAttempts },
            keys = DocumentedKeys.Concat(Keys.Permissions.Select(p => $"rk_test_sim_without_{p}")),
        }));
        sim.MapPost("/customers", (NewCustomer input) => Run(() => control.NewCustomer(input.Livemode, input.Email, input.Name, input.PriceId)));
        sim.MapPost("/subscriptions/{id}/upgrade", (string id) => Run(() => control.Upgrade(id)));
        sim.MapPost("/subscriptions/{id}/downgrade", (string id) => Run(() => control.Downgrade(id)));
        sim.MapPost("/subscriptions/{id}/cancel", (string id, CancelRequest? input) =>
            Run(() => control.Cancel(id, input?.Feedback ?? "too_expensive", input?.Reason ?? "cancellation_requested")));
        sim.MapPost("/subscriptions/{id}/end-trial", (string id) => Run(() => control.EndTrial(id)));
        sim.MapPost("/subscriptions/{id}/fail-then-pay", (string id) => Run(() => control.FailThenPay(id)));
        sim.MapPost("/subscriptions/{id}/fail-payment", (string id) => Run(() => control.FailPayment(id)));
        sim.MapPost("/charges/{id}/refund", (string id, RefundRequest? input) =>
            Run(() => control.Refund(id, input?.Amount, input?.Reason ?? "requested_by_customer")));
        sim.MapPost("/customers/{id}/email", (string id, EmailRequest input) => Run(() => control.SetEmail(id, input.Email)));
        sim.MapDelete("/customers/{id}", (string id) => Run(() => control.DeleteCustomer(id)));
        sim.MapPost("/customers/{id}/unannounced-payment", (string id, PaymentRequest? input) =>
            Run(() => control.UnannouncedPayment(id, input?.Amount ?? 4200)));
        sim.MapPost("/keys/{key}/revoke", (string key) => Run(() => faults.Revoke(key)));
        sim.MapPost("/keys/{key}/restore", (string key) => Run(() => faults.Restore(key)));
        sim.MapPost("/faults", (FaultSettings input) => Run(() =>
        {
            faults.FailureRate = input.FailureRate ?? faults.FailureRate;
            faults.DropRate = input.DropRate ?? faults.DropRate;
            faults.Latency = input.LatencyMs is { } ms ? TimeSpan.FromMilliseconds(ms) : faults.Latency;
            faults.LiveRequestsPerSecond = input.LiveRequestsPerSecond ?? faults.LiveRequestsPerSecond;
            faults.TestRequestsPerSecond = input.TestRequestsPerSecond ?? faults.TestRequestsPerSecond;
            faults.EndpointRequestsPerSecond = input.EndpointRequestsPerSecond ?? faults.EndpointRequestsPerSecond;
            if (input.FailNext is { } count)
            {
                faults.FailNext(count);
            }
        }));
        sim.MapPost("/webhooks/misdeliver/{mode}", (string mode) =>
            Enum.TryParse<Misdelivery>(mode, ignoreCase: true, out var parsed)
                ? Run(() => webhooks.Mode = parsed)
                : Results.BadRequest(new { error = $"mode is one of {string.Join(", ", Enum.GetNames<Misdelivery>())}" }));
    }

    private static object Counts(ModeData mode) => new
    {
        customers = mode.Customers.Count, subscriptions = mode.Subscriptions.Count, invoices = mode.Invoices.Count,
        charges = mode.Charges.Count, refunds = mode.Refunds.Count, events = mode.Events.Count, webhookEndpoints = mode.WebhookEndpoints.Count,
    };

    private static IResult Run(Func<object?> action)
    {
        try
        {
            return Results.Ok(new { result = action() });
        }
        catch (ArgumentException e)
        {
            return Results.NotFound(new { error = e.Message });
        }
    }

    private static IResult Run(Action action) => Run(() =>
    {
        action();
        return (object?)"ok";
    });
}
