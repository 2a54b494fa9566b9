using System.Text;
using System.Text.Json.Nodes;
using StripeSync.Simulator;

namespace StripeSync.Tests.Simulator;

/// <summary>Same seed and same "now": the same account, byte for byte, as served over HTTP.</summary>
public sealed class SimulatorDeterminismTests
{
    private static readonly string[] Lists =
    [
        "/v1/customers", "/v1/products", "/v1/prices", "/v1/plans", "/v1/coupons", "/v1/subscriptions?status=all", "/v1/invoices",
        "/v1/invoice_payments", "/v1/charges", "/v1/refunds", "/v1/checkout/sessions", "/v1/payment_methods", "/v1/events", "/v1/account",
    ];

    [Fact]
    public async Task Same_seed_and_now_serve_the_same_account_byte_for_byte()
    {
        var options = new SimulatorOptions { Customers = 40, Seed = 42, Now = SimulatorFixture.FixedNow };
        await using var first = await SimulatorServer.StartAsync(options);
        await using var second = await SimulatorServer.StartAsync(options);
        using var http = new HttpClient();

        var firstDump = await DumpAsync(http, first);
        Assert.Equal(firstDump, await DumpAsync(http, second));
        Assert.Equal(first.Account.AccountId, second.Account.AccountId);
    }

    [Fact]
    public async Task Different_seed_gives_a_different_account()
    {
        await using var first = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 10, Seed = 1, Now = SimulatorFixture.FixedNow });
        await using var second = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 10, Seed = 2, Now = SimulatorFixture.FixedNow });
        using var http = new HttpClient();
        Assert.NotEqual(await DumpAsync(http, first), await DumpAsync(http, second));
    }

    /// <summary>Every page of every list in both modes, as the bytes the server sent (headers aside: Request-Id is per request).</summary>
    private static async Task<string> DumpAsync(HttpClient http, SimulatorServer server)
    {
        var dump = new StringBuilder();
        foreach (var key in new[] { "sk_live_sim", "sk_test_sim" })
        {
            foreach (var path in Lists)
            {
                string? after = null;
                do
                {
                    var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
                    var query = path == "/v1/account" ? path : $"{path}{separator}limit=100" + (after is null ? "" : $"&starting_after={after}");
                    using var response = await SimulatorFixture.GetAsync(http, server, query, key);
                    var body = await response.Content.ReadAsStringAsync();
                    Assert.True(response.IsSuccessStatusCode, $"{query}: {body}");
                    dump.Append(query).Append('\n').Append(body).Append('\n');
                    var page = JsonNode.Parse(body)!;
                    after = page["has_more"]?.GetValue<bool>() == true ? page["data"]!.AsArray()[^1]!["id"]!.GetValue<string>() : null;
                }
                while (after is not null);
            }
        }

        return dump.ToString();
    }
}
