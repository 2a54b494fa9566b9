using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using StripeSync.Core.Connections;
using StripeSync.Core.Ingestion;
using StripeSync.Core.People;
using StripeSync.Core.Persistence;
using StripeSync.Core.StripeApi;
using StripeSync.Tests.Support;
using Build = StripeSync.Tests.Processing.Build;
using CoreConnections = StripeSync.Core.Connections.Connections;

namespace StripeSync.Tests.People;

/// <summary>GET /api/v1/people finds people by a piece of their name or any of their Stripe customer ids, on both providers.</summary>
public sealed class PeopleApiTests
{
    [Fact]
    public Task Sqlite_search_finds_people_by_name_and_by_stripe_customer_id() => SearchAsync(DatabaseProvider.Sqlite);

    [PostgresFact]
    public Task Postgres_search_finds_people_by_name_and_by_stripe_customer_id() => SearchAsync(DatabaseProvider.Postgres);

    private static async Task SearchAsync(DatabaseProvider provider)
    {
        await using var app = AppHost.Start(provider);
        using var api = app.WithApiKey(AppHost.AdminApiKey);
        // Ada has two Stripe customers under one email; Grace one; a customer without email stays a person of its own.
        await DeriveAsync(app,
            Build.Customer("cus_ada1", "ada@example.test", "Ada Lovelace"),
            Build.Customer("cus_ada2", "ADA@example.test", null),
            Build.Customer("cus_grace", "grace@example.test", "Grace Hopper"),
            Build.Customer("cus_anon", null, "Anonymous Lovelace fan"));

        Assert.Equal(["ada@example.test"], await EmailsAsync(api, "q=Ada%20Lovelace"));
        Assert.Equal(["ada@example.test", null], await EmailsAsync(api, "q=LOVELACE"));
        Assert.Equal(["grace@example.test"], await EmailsAsync(api, "q=hop"));
        Assert.Equal(["grace@example.test"], await EmailsAsync(api, "q=Grace%20Hopper"));
        // By customer id as free text (any of a person's ids, in part) and as the exact stripeCustomerId parameter.
        Assert.Equal(["ada@example.test"], await EmailsAsync(api, "q=cus_ada2"));
        Assert.Equal(["ada@example.test"], await EmailsAsync(api, "q=cus_ada"));
        Assert.Equal([null], await EmailsAsync(api, "q=CUS_ANON"));
        Assert.Equal(["ada@example.test"], await EmailsAsync(api, "stripeCustomerId=cus_ada2"));
        Assert.Equal(["grace@example.test"], await EmailsAsync(api, "stripeCustomerId=cus_grace"));
        // stripeCustomerId is exact: a prefix finds no one, nor does an id nobody has.
        Assert.Empty(await EmailsAsync(api, "stripeCustomerId=cus_ada"));
        Assert.Empty(await EmailsAsync(api, "q=cus_nobody"));
        // LIKE's wildcards are plain characters in a search.
        Assert.Empty(await EmailsAsync(api, "q=" + Uri.EscapeDataString("%")));
        Assert.Empty(await EmailsAsync(api, "q=" + Uri.EscapeDataString("cus_ad_1")));

        var ada = (await api.GetFromJsonAsync<JsonElement>("/api/v1/people?stripeCustomerId=cus_ada1")).GetProperty("items")[0];
        Assert.Equal(["cus_ada1", "cus_ada2"], ada.GetProperty("stripeCustomerIds").EnumerateArray().Select(c => c.GetString()));
    }

    /// <summary>The emails of the people a search finds, in the API's order (unidentified people have none).</summary>
    private static async Task<List<string?>> EmailsAsync(HttpClient api, string query)
    {
        var result = await api.GetFromJsonAsync<JsonElement>("/api/v1/people?mode=live&" + query);
        var emails = result.GetProperty("items").EnumerateArray()
            .Select(p => p.GetProperty("email").ValueKind == JsonValueKind.Null ? null : p.GetProperty("email").GetString()).ToList();
        Assert.Equal(emails.Count, result.GetProperty("total").GetInt32());
        return emails;
    }

    /// <summary>A synced live connection (stored without asking Stripe) with these customers stored and derived, as the sync would.</summary>
    private static async Task DeriveAsync(AppHost app, params StripeRecord[] records)
    {
        var connections = app.Services.GetRequiredService<CoreConnections>();
        var connection = await connections.AddAsync("rk_live_peopleapi0123456789", CancellationToken.None);
        await connections.UpdateAsync(connection.Id, c => c.State = ConnectionState.Synced, CancellationToken.None);
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            var version = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await StateStore.UpsertAsync(db, connection.Id, [.. records.Select(r => new StateStore.PageRow(r, version))], version, CancellationToken.None);
        }

        await app.Services.GetRequiredService<DeriveJob>().RunAsync(connection.Id, CancellationToken.None);
    }
}
