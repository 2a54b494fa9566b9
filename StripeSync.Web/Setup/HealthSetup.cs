using System.Text.Json;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StripeSync.Core.Persistence;

namespace StripeSync.Web.Setup;

/// <summary><c>/healthz</c>: can we reach the database, and is a job server alive to do the work?</summary>
public static class HealthSetup
{
    public static void AddStripeSyncHealth(this IServiceCollection services) =>
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database")
            .AddCheck<JobServerHealthCheck>("jobs");

    public static void MapStripeSyncHealth(this WebApplication app) =>
        app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = WriteAsync }).AllowAnonymous();

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        }));
    }

    private sealed class DatabaseHealthCheck(IDbContextFactory<AppDbContext> dbFactory) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                return await db.Database.CanConnectAsync(cancellationToken)
                    ? HealthCheckResult.Healthy($"{db.Database.ProviderName} reachable")
                    : HealthCheckResult.Unhealthy("The database cannot be reached.");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy("The database cannot be reached: " + e.Message);
            }
        }
    }

    /// <summary>Healthy while at least one Hangfire server (this process or a worker) has sent a heartbeat lately.</summary>
    private sealed class JobServerHealthCheck(JobStorage storage, TimeProvider clock) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var servers = storage.GetMonitoringApi().Servers();
            var alive = servers.Count(s => s.Heartbeat is { } beat && now - beat < TimeSpan.FromMinutes(1));
            return Task.FromResult(alive > 0
                ? HealthCheckResult.Healthy($"{alive} job server(s) alive")
                : HealthCheckResult.Unhealthy("No job server has sent a heartbeat in the last minute; start a worker (--role worker or all)."));
        }
    }
}
