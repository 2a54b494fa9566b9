using Microsoft.Extensions.DependencyInjection;
using StripeSync.Core.Access;
using StripeSync.Core.Connections;
using StripeSync.Core.Health;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Ingestion.Backfill;
using StripeSync.Core.Ingestion.Inbox;
using StripeSync.Core.Metrics;
using StripeSync.Core.People;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core;

public static class CoreServices
{
    /// <summary>Everything Core offers; all stateless or thread-safe, so singletons (one DbContext per operation inside).</summary>
    public static IServiceCollection AddStripeSyncCore(this IServiceCollection services)
    {
        services.AddScoped<Bootstrap>();
        services.AddScoped<Users>();
        services.AddSingleton<ApiKeys>();
        services.AddSingleton<StripeGateway>();
        services.AddSingleton<ConnectionSecrets>();
        services.AddSingleton<Connections.Connections>();
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<FieldMappings>();
        services.AddSingleton<Inbox>();
        services.AddSingleton<BackfillJob>();
        services.AddSingleton<InboxProcessor>();
        services.AddSingleton<EventsPoll>();
        services.AddSingleton<SyncControl>();
        services.AddSingleton<DeriveJob>();
        services.AddSingleton<SyncStatus>();
        services.AddSingleton<Reconciliation>();
        services.AddSingleton<PeopleQueries>();
        services.AddSingleton<MetricQueries>();
        services.AddSingleton<Revenue.RevenueQueries>();
        services.AddSingleton<ProductActivity>();
        services.AddSingleton<Segments.SegmentQueries>();
        services.AddSingleton<Segments.SegmentStore>();
        return services;
    }
}
