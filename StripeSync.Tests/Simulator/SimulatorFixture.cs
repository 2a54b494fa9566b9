using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Stripe;
using StripeSync.Simulator;

namespace StripeSync.Tests.Simulator;

/// <summary>One small simulator shared by the simulator tests: generated once, pinned to a fixed "now".</summary>
public sealed class SimulatorFixture : IAsyncLifetime
{
    /// <summary>A fixed "now" keeps the generated account the same on every run and every day.</summary>
    public static readonly DateTimeOffset FixedNow = new(2026, 11, 16, 0, 0, 0, TimeSpan.Zero);

    /// <summary>60 live customers (test mode gets a tenth); rate limits off, as main's simulator defaults.</summary>
    public static readonly SimulatorOptions SmallAccount = new() { Customers = 60, Seed = 7, Now = FixedNow };

    public SimulatorServer Server { get; private set; } = null!;

    public HttpClient Http { get; } = new();

    public async Task InitializeAsync() => Server = await SimulatorServer.StartAsync(SmallAccount);

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }

    public StripeClient Client(string key, int maxNetworkRetries = 2) => ClientFor(Server, key, maxNetworkRetries);

    /// <summary>
    /// Stripe.net pointed at a simulator. Stripe.net retries 500s, dropped connections and anything with
    /// <c>Stripe-Should-Retry: true</c> by itself (twice by default); error tests pass 0 to see the first answer.
    /// </summary>
    public static StripeClient ClientFor(SimulatorServer server, string key, int maxNetworkRetries = 2) =>
        new(apiKey: key, httpClient: new SystemNetHttpClient(new HttpClient(), maxNetworkRetries: maxNetworkRetries),
            apiBase: server.BaseUrl.ToString().TrimEnd('/'));

    public Task<HttpResponseMessage> GetAsync(string pathAndQuery, string key = "sk_test_sim") => GetAsync(Http, Server, pathAndQuery, key);

    public static async Task<HttpResponseMessage> GetAsync(HttpClient http, SimulatorServer server, string pathAndQuery, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseUrl, pathAndQuery));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return await http.SendAsync(request);
    }

    public async Task<JsonNode> GetJsonAsync(string pathAndQuery, string key = "sk_test_sim")
    {
        using var response = await GetAsync(pathAndQuery, key);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }
}

[CollectionDefinition(Name)]
public sealed class SimulatorTests : ICollectionFixture<SimulatorFixture>
{
    public const string Name = "Simulator";
}
