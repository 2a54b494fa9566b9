using Microsoft.AspNetCore.Http.HttpResults;
using StripeSync.Core.Connections;
using StripeSync.Core.Ingestion;
using StripeSync.Core.StripeApi;
using StripeSync.Web.Setup;

namespace StripeSync.Web.Api;

/// <summary>Connecting Stripe without a browser (SPEC §6): the same checks as the wizard.</summary>
public static class ConnectionsApi
{
    public sealed record NewConnection(string? ApiKey);

    public sealed record SyncRequest(string? Mode);

    public sealed record Created(Guid Id, string Mode, string KeyHint, string? Warning, IReadOnlyList<PermissionResult> Permissions);

    public static void MapConnectionsApi(this RouteGroupBuilder api)
    {
        var connections = api.MapGroup("/connections").RequireAuthorization(AuthSetup.ApiAdminPolicy).WithTags("Connections");

        connections.MapPost("/", async Task<Results<Created<Created>, ProblemHttpResult>> (
            NewConnection input, Connections all, StripeGateway gateway, CancellationToken ct) =>
        {
            var check = StripeKeys.Check(input.ApiKey);
            if (!check.Valid)
            {
                return TypedResults.Problem(check.Message, statusCode: StatusCodes.Status400BadRequest, title: "Not a usable Stripe key");
            }

            var probe = await PermissionProbe.ProbeAsync(gateway.ForProbe(input.ApiKey!.Trim(), check.Mode == ConnectionMode.Live), ct);
            if (probe.KeyInvalid)
            {
                return TypedResults.Problem(probe.KeyMessage, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Key refused by Stripe");
            }

            var connection = await all.AddAsync(input.ApiKey, ct);
            return TypedResults.Created($"/api/v1/connections/{connection.Id}",
                new Created(connection.Id, connection.Mode.ToString().ToLowerInvariant(), connection.KeyHint, check.Warning, probe.Permissions));
        }).WithSummary("Checks a Stripe key's format, probes every permission, and stores the connection (Admin).");

        connections.MapPost("/{id:guid}/sync", async Task<Results<Accepted, ProblemHttpResult>> (
            Guid id, SyncRequest input, Connections all, StripeGateway gateway, SyncControl sync, CancellationToken ct) =>
        {
            var choice = input.Mode?.Trim().ToLowerInvariant() switch
            {
                "import" => SyncChoice.Import,
                "skip" => SyncChoice.Skip,
                _ => SyncChoice.NotChosen,
            };
            if (choice == SyncChoice.NotChosen)
            {
                return TypedResults.Problem("mode must be \"import\" (existing customers and history) or \"skip\" (only what happens from now).",
                    statusCode: StatusCodes.Status400BadRequest, title: "Bad mode");
            }

            var connection = await all.FindAsync(id, ct);
            if (connection is null)
            {
                return TypedResults.Problem("No connection has this id.", statusCode: StatusCodes.Status404NotFound);
            }

            var probe = await PermissionProbe.ProbeAsync(all.ClientFor(connection), ct);
            var missing = probe.KeyInvalid ? ["the key itself"] : probe.MissingRequired.Select(p => $"{p.Name} ({p.Access})").ToList();
            if (missing.Count > 0)
            {
                return TypedResults.Problem($"The key lacks required permissions: {string.Join(", ", missing)}. Fix the key in Stripe's dashboard and try again.",
                    statusCode: StatusCodes.Status422UnprocessableEntity, title: "Missing permissions");
            }

            await sync.StartAsync(id, choice, ct);
            return TypedResults.Accepted($"/api/v1/status");
        }).WithSummary("Starts the sync: import history, or skip and take only what happens from now (Admin).");

        connections.MapPut("/{id:guid}/key", async Task<Results<NoContent, ProblemHttpResult>> (
            Guid id, NewConnection input, Connections all, StripeGateway gateway, SyncControl sync, CancellationToken ct) =>
        {
            var check = StripeKeys.Check(input.ApiKey);
            if (!check.Valid)
            {
                return TypedResults.Problem(check.Message, statusCode: StatusCodes.Status400BadRequest, title: "Not a usable Stripe key");
            }

            var connection = await all.FindAsync(id, ct);
            if (connection is null)
            {
                return TypedResults.Problem("No connection has this id.", statusCode: StatusCodes.Status404NotFound);
            }

            if (check.Mode != connection.Mode)
            {
                return TypedResults.Problem(
                    $"This connection holds {Lower(connection.Mode)}-mode data; its key can only be replaced by another {Lower(connection.Mode)}-mode key. " +
                    $"Connect a {Lower(check.Mode!.Value)}-mode key as a new connection instead (POST /api/v1/connections).",
                    statusCode: StatusCodes.Status400BadRequest, title: "Wrong mode");
            }

            var probe = await PermissionProbe.ProbeAsync(gateway.ForProbe(input.ApiKey!.Trim(), check.Mode == ConnectionMode.Live), ct);
            var missing = probe.KeyInvalid ? [] : probe.MissingRequired.Select(p => $"{p.Name} ({p.Access})").ToList();
            if (probe.KeyInvalid || missing.Count > 0)
            {
                return TypedResults.Problem(probe.KeyInvalid ? probe.KeyMessage : $"The new key lacks required permissions: {string.Join(", ", missing)}.",
                    statusCode: StatusCodes.Status422UnprocessableEntity, title: probe.KeyInvalid ? "Key refused by Stripe" : "Missing permissions");
            }

            var wasRevoked = connection.State == ConnectionState.KeyRevoked;
            await all.ReplaceKeyAsync(id, input.ApiKey, ct);
            if (wasRevoked)
            {
                await sync.ResumeAllAsync(ct);
            }

            return TypedResults.NoContent();
        }).WithSummary("Replaces a connection's key by another of the same mode, keeping its data; a revoked connection resumes (Admin).");

        connections.MapDelete("/{id:guid}", async Task<Results<NoContent, ProblemHttpResult>> (Guid id, Demo.DemoAccounts demo, CancellationToken ct) =>
            await demo.DisconnectAsync(id, ct)
                ? TypedResults.NoContent()
                : TypedResults.Problem("No connection has this id.", statusCode: StatusCodes.Status404NotFound))
            .WithSummary("Disconnects and purges everything that connection brought (Admin). Nothing in Stripe changes.");
    }

    private static string Lower(ConnectionMode mode) => mode.ToString().ToLowerInvariant();
}
