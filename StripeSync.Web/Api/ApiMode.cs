using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Connections;
using StripeSync.Core.Persistence;

namespace StripeSync.Web.Api;

/// <summary>
/// Which mode's data a request reads: <c>?mode=live|test</c>, else live when a live connection exists, else
/// test. Test-mode data is kept apart from live data everywhere (SPEC §1).
/// </summary>
public static class ApiMode
{
    public static async Task<ConnectionMode?> ResolveAsync(string? mode, IDbContextFactory<AppDbContext> dbFactory, CancellationToken ct)
    {
        switch (mode?.Trim().ToLowerInvariant())
        {
            case "live":
                return ConnectionMode.Live;
            case "test":
                return ConnectionMode.Test;
            case null or "":
                await using (var db = await dbFactory.CreateDbContextAsync(ct))
                {
                    return await db.Connections.AnyAsync(c => c.Mode == ConnectionMode.Live, ct) ? ConnectionMode.Live : ConnectionMode.Test;
                }

            default:
                return null;
        }
    }

    public static IResult BadMode() =>
        TypedResults.Problem("mode must be live or test.", statusCode: StatusCodes.Status400BadRequest, title: "Bad mode");
}
