using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StripeSync.Core.Connections;
using StripeSync.Tests.Support;
using CoreConnections = StripeSync.Core.Connections.Connections;

namespace StripeSync.Tests.Connections;

public sealed class WebhookSecretsTests
{
    [Fact]
    public async Task A_replaced_secret_takes_effect_within_the_cache_bound_and_the_old_one_stops_working()
    {
        await using var app = AppHost.Start();
        var connections = app.Services.GetRequiredService<CoreConnections>();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var secrets = new WebhookSecrets(connections, clock);
        var connection = await connections.AddAsync("rk_test_secretcache0123456789", default);
        await connections.SetWebhookAsync(connection.Id, "we_1", "whsec_first", default);
        Assert.Equal("whsec_first", await secrets.FindAsync(connection.Id, default));

        await connections.SetWebhookAsync(connection.Id, "we_1", "whsec_second", default);
        clock.Advance(WebhookSecrets.CacheFor - TimeSpan.FromMilliseconds(1));
        Assert.Equal("whsec_first", await secrets.FindAsync(connection.Id, default)); // the bound: never longer than this
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("whsec_second", await secrets.FindAsync(connection.Id, default));
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal("whsec_second", await secrets.FindAsync(connection.Id, default));
    }

    [Fact]
    public async Task A_disconnected_connection_is_forgotten_within_the_cache_bound()
    {
        await using var app = AppHost.Start();
        var connections = app.Services.GetRequiredService<CoreConnections>();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var secrets = new WebhookSecrets(connections, clock);
        var connection = await connections.AddAsync("rk_test_secretcache0123456789", default);
        await connections.SetWebhookAsync(connection.Id, "we_1", "whsec_first", default);
        Assert.NotNull(await secrets.FindAsync(connection.Id, default));

        await connections.PurgeAsync(connection.Id, default);
        clock.Advance(WebhookSecrets.CacheFor);

        Assert.Null(await secrets.FindAsync(connection.Id, default));
    }

    [Fact]
    public async Task A_connection_without_an_endpoint_yet_is_not_cached_so_its_first_delivery_is_recognised()
    {
        await using var app = AppHost.Start();
        var connections = app.Services.GetRequiredService<CoreConnections>();
        var secrets = new WebhookSecrets(connections, new FakeTimeProvider(DateTimeOffset.UtcNow));
        var connection = await connections.AddAsync("rk_test_secretcache0123456789", default);
        Assert.Null(await secrets.FindAsync(connection.Id, default));

        await connections.SetWebhookAsync(connection.Id, "we_1", "whsec_new", default);

        Assert.Equal("whsec_new", await secrets.FindAsync(connection.Id, default));
        Assert.Null(await secrets.FindAsync(Guid.NewGuid(), default));
    }
}
