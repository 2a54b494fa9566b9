using StripeSync.Core.Health;

namespace StripeSync.Web.Api;

public static class StatusApi
{
    public static void MapStatusApi(this RouteGroupBuilder api) =>
        api.MapGet("/status", async (SyncStatus status, CancellationToken ct) => TypedResults.Ok(await status.ReadAsync(ct)))
            .WithSummary("Overall sync state, and per connection: mode, state, backfill progress per object type, last webhook, processing lag, unidentified customers, last error.");
}
