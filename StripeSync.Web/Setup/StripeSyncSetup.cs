using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using Hangfire;
using StripeSync.Core;
using StripeSync.Core.Access;
using StripeSync.Core.Ingestion;
using StripeSync.Core.StripeApi;
using StripeSync.Core.Persistence;
using StripeSync.Web.Api;
using StripeSync.Web.Components;
using StripeSync.Web.Components.Account;

namespace StripeSync.Web.Setup;

/// <summary>The table of contents of the app: what it registers and what it maps, per role.</summary>
public static class StripeSyncSetup
{
    public static void AddStripeSync(this WebApplicationBuilder builder)
    {
        var role = HostRoles.Read(builder.Configuration);
        var database = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        if (database.Provider == DatabaseProvider.Postgres && database.ConnectionString == DatabaseOptions.DefaultSqlite)
        {
            throw new InvalidOperationException(
                "Database:Provider is Postgres but Database:ConnectionString is not set; give a PostgreSQL connection string.");
        }

        if (role != HostRole.All && database.Provider == DatabaseProvider.Sqlite)
        {
            throw new InvalidOperationException(
                $"--role {role.ToString().ToLowerInvariant()} needs a shared job queue: run on PostgreSQL (Database:Provider=Postgres), or use --role all.");
        }

        if (role == HostRole.Worker && string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            // A worker serves only /healthz; any free loopback port keeps several workers on one machine apart.
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }

        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(database));
        services.AddStripeSyncDatabase(database);
        // Keys that encrypt cookies (and, later, stored Stripe keys) live in the app database, so every
        // process of a deployment shares them and a restart doesn't sign everyone out.
        services.AddDataProtection().SetApplicationName("StripeSync").PersistKeysToDbContext<AppDbContext>();
        services.AddOptions<BootstrapOptions>().BindConfiguration(BootstrapOptions.Section);
        services.AddStripeSyncCore();
        services.AddOptions<StripeOptions>().BindConfiguration(StripeOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SyncOptions>().BindConfiguration(SyncOptions.Section);
        services.AddSingleton<ISyncJobs, HangfireSyncJobs>();
        services.AddTransient<SyncJobRunner>();
        services.AddSingleton<Demo.DemoAccounts>();

        builder.AddStripeSyncAuth();
        builder.AddStripeSyncJobs(role, database);
        services.AddStripeSyncHealth();

        services.AddProblemDetails();
        services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "StripeSync API";
            doc.Info.Description = "People, metrics, segments and revenue synced from Stripe. Authenticate with `Authorization: Bearer <api key>`.";
            return Task.CompletedTask;
        }));

        if (role.ServesWeb())
        {
            services.AddRazorComponents().AddInteractiveServerComponents();
            services.AddMudServices();
            services.AddSingleton<FirstRun>();
            services.AddScoped<Components.Layout.ViewMode>();
        }
    }

    /// <summary>Migrates, bootstraps, schedules the events poll and re-enqueues unfinished sync work.</summary>
    public static async Task PrepareAsync(this WebApplication app)
    {
        var ct = app.Lifetime.ApplicationStopping;
        await DatabaseSetup.MigrateAsync(app.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<AppDbContext>>(), ct,
            async alone =>
            {
                await using var scope = app.Services.CreateAsyncScope();
                var options = scope.ServiceProvider.GetRequiredService<IOptions<BootstrapOptions>>().Value;
                await scope.ServiceProvider.GetRequiredService<Bootstrap>().RunAsync(options, alone);
            });

        app.Services.GetRequiredService<IRecurringJobManager>().AddOrUpdate<SyncJobRunner>(
            "stripe-events-poll", job => job.PollEventsAsync(CancellationToken.None), Cron.Minutely());
        app.Services.GetRequiredService<IRecurringJobManager>().AddOrUpdate<SyncJobRunner>(
            "reconciliation", job => job.ReconcileAllAsync(CancellationToken.None), Cron.Hourly());
        if (HostRoles.Read(app.Configuration) == HostRole.All)
        {
            // The demo's simulator lives in this process; split roles would each start their own, so only the all-in-one runs it.
            await app.Services.GetRequiredService<Demo.DemoAccounts>().RestartAllAsync(ct);
        }

        await app.Services.GetRequiredService<SyncControl>().ResumeAllAsync(ct);
    }

    public static void MapStripeSync(this WebApplication app)
    {
        var role = HostRoles.Read(app.Configuration);
        app.UseSecurityHeaders();
        app.MapStripeSyncHealth();
        if (!role.ServesWeb())
        {
            return;
        }

        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/Error", createScopeForErrors: true);
        }

        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseMiddleware<FirstRunRedirect>();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapStaticAssets().AllowAnonymous();
        app.MapOpenApi("/openapi/{documentName}.json").RequireAuthorization(AuthSetup.ApiOrCookiePolicy);
        app.MapStripeSyncApi();
        app.MapWebhooksApi();
        app.MapAccountEndpoints();
        app.MapJobsDashboard();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
    }
}
