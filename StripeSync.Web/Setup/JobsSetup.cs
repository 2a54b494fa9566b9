using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;
using StripeSync.Core.Access;
using StripeSync.Core.Persistence;

namespace StripeSync.Web.Setup;

/// <summary>
/// Hangfire runs the work; it never holds state we can't rebuild. In-memory storage with SQLite (one
/// process), PostgreSQL storage when the app database is PostgreSQL (several workers share the queue).
/// </summary>
public static class JobsSetup
{
    public static void AddStripeSyncJobs(this WebApplicationBuilder builder, HostRole role, DatabaseOptions database)
    {
        builder.Services.AddHangfire(config =>
        {
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();
            if (database.Provider == DatabaseProvider.Postgres)
            {
                config.UsePostgreSqlStorage(
                    o => o.UseNpgsqlConnection(database.ConnectionString),
                    new PostgreSqlStorageOptions
                    {
                        SchemaName = "hangfire",
                        PrepareSchemaIfNecessary = true,
                        // A worker killed mid-job must not stall the others for Hangfire.PostgreSql's defaults (its job
                        // invisible for 30 minutes, its lock held for 10). A live worker's heartbeat keeps its job
                        // invisible; jobs give their lock back within ISyncJobs.RunBudget, so a minute-old lock is a dead one's.
                        // See docs/decisions/0009.
                        InvisibilityTimeout = TimeSpan.FromMinutes(1),
                        UseSlidingInvisibilityTimeout = true,
                        DistributedLockTimeout = TimeSpan.FromMinutes(1),
                    });
            }
            else
            {
                config.UseInMemoryStorage();
            }
        });

        if (role.RunsJobs())
        {
            builder.Services.AddHangfireServer(o =>
            {
                o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{role.ToString().ToLowerInvariant()}";
                o.WorkerCount = builder.Configuration.GetValue("Jobs:WorkerCount", Math.Max(4, Environment.ProcessorCount * 2));
            });
        }
    }

    public static void MapJobsDashboard(this WebApplication app) =>
        app.MapHangfireDashboard("/hangfire", new DashboardOptions
        {
            DashboardTitle = "StripeSync jobs",
            AppPath = "/",
            // The endpoint policy below already demands an Admin; the filter repeats it inside Hangfire so
            // that a routing change can never open the dashboard.
            Authorization = [new AdminOnlyDashboardFilter()],
        }).RequireAuthorization(AuthSetup.AdminPolicy);

    private sealed class AdminOnlyDashboardFilter : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) =>
            context.GetHttpContext().User.IsInRole(Roles.Admin);
    }
}
