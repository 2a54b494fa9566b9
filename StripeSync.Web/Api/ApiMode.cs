using StripeSync.Core.Connections;

namespace StripeSync.Web.Api;

/// <summary>
/// Which mode's data a request reads: <c>?mode=live|test</c>, else live when a live connection exists, else
/// test. Test-mode data is kept apart from live data everywhere (SPEC §1).
/// </summary>
public static class ApiMode
{
    public static async Task<ConnectionMode?> ResolveAsync(string? mode, Connections connections, CancellationToken ct) =>
        mode?.Trim().ToLowerInvariant() switch
        {
            "live" => ConnectionMode.Live,
            "test" => ConnectionMode.Test,
            null or "" => await connections.DefaultModeAsync(ct),
            _ => null,
        };

    public static IResult BadMode() =>
        TypedResults.Problem("mode must be live or test.", statusCode: StatusCodes.Status400BadRequest, title: "Bad mode");
}
