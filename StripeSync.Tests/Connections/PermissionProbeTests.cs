using Microsoft.Extensions.Options;
using StripeSync.Core.Connections;
using StripeSync.Core.StripeApi;
using StripeSync.Simulator;

namespace StripeSync.Tests.Connections;

/// <summary>The permission check of the wizard and the API, against the simulator's restricted keys.</summary>
public sealed class PermissionProbeTests : IAsyncLifetime, IDisposable
{
    private SimulatorServer sim = null!;
    private StripeGateway gateway = null!;

    public async Task InitializeAsync()
    {
        sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 20, Seed = 11, Now = new DateTimeOffset(2026, 11, 16, 0, 0, 0, TimeSpan.Zero) });
        gateway = new StripeGateway(Options.Create(new StripeOptions
        {
            ApiBase = sim.BaseUrl,
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            MaxBackoff = TimeSpan.FromMilliseconds(200),
        }), TimeProvider.System);
    }

    public async Task DisposeAsync() => await sim.DisposeAsync();

    public void Dispose() => gateway?.Dispose();

    // The simulator's names for the permissions (docs/simulator.md), paired with the checklist's lines.
    public static TheoryData<string, string> Permissions => new()
    {
        { "customers_read", "Customers" },
        { "charges_read", "Charges" },
        { "invoices_read", "Invoices" },
        { "subscriptions_read", "Subscriptions" },
        { "prices_read", "Prices" },
        { "products_read", "Products" },
        { "events_read", "Events" },
        { "checkout_sessions_read", "Checkout Sessions" },
        { "webhook_endpoints_write", "Webhook Endpoints" },
    };

    [Theory]
    [MemberData(nameof(Permissions))]
    public async Task A_key_missing_one_permission_fails_exactly_that_line_with_stripes_message_and_what_to_tick(string permission, string line)
    {
        var result = await PermissionProbe.ProbeAsync(gateway.ForProbe($"rk_test_sim_without_{permission}", livemode: false), CancellationToken.None);

        Assert.False(result.KeyInvalid);
        Assert.Equal(9, result.Permissions.Count);
        var missing = Assert.Single(result.Permissions, p => !p.Granted);
        Assert.Equal(line, missing.Name);
        Assert.Contains("does not have the required permissions", missing.Message, StringComparison.Ordinal);
        Assert.Contains($"tick {line} → {(permission.EndsWith("_write", StringComparison.Ordinal) ? "Write" : "Read")}", missing.Message, StringComparison.Ordinal);
        var optional = line is "Checkout Sessions" or "Webhook Endpoints";
        Assert.Equal(!optional, missing.Required);
        Assert.Equal(optional ? 0 : 1, result.MissingRequired.Count());
        if (optional)
        {
            // What is lost without it is said on the line itself.
            Assert.Contains(line == "Webhook Endpoints" ? "polls Stripe's Events API" : "no Checkout Completed or Checkout Abandoned events",
                missing.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_full_key_is_granted_everything_and_probing_changes_nothing_in_stripe()
    {
        var result = await PermissionProbe.ProbeAsync(gateway.ForProbe("rk_live_sim_full", livemode: true), CancellationToken.None);

        Assert.All(result.Permissions, p => Assert.True(p.Granted, p.Name));
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", "sk_live_sim");
        using var endpoints = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri(sim.BaseUrl, "/v1/webhook_endpoints")));
        Assert.Equal(0, endpoints.RootElement.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task A_revoked_key_is_reported_as_invalid_or_revoked_not_as_missing_permissions()
    {
        sim.Faults.Revoke("rk_test_sim_full");

        var result = await PermissionProbe.ProbeAsync(gateway.ForProbe("rk_test_sim_full", livemode: false), CancellationToken.None);

        Assert.True(result.KeyInvalid);
        Assert.Empty(result.Permissions);
        Assert.Contains("Expired API Key provided", result.KeyMessage, StringComparison.Ordinal);
        Assert.Contains("invalid or has been revoked", result.KeyMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_errors_during_probing_are_retried_not_reported_as_missing()
    {
        sim.Faults.FailNext(3);

        var result = await PermissionProbe.ProbeAsync(gateway.ForProbe("rk_test_sim_full", livemode: false), CancellationToken.None);

        Assert.All(result.Permissions, p => Assert.True(p.Granted, $"{p.Name}: {p.Message}"));
        Assert.True(sim.Faults.Failed >= 3);
    }

    [Fact]
    public async Task Rate_limits_during_probing_are_waited_out_not_reported_as_missing()
    {
        sim.Faults.TestRequestsPerSecond = 3;

        var result = await PermissionProbe.ProbeAsync(gateway.ForProbe("rk_test_sim_full", livemode: false), CancellationToken.None);

        Assert.All(result.Permissions, p => Assert.True(p.Granted, $"{p.Name}: {p.Message}"));
        Assert.True(sim.Faults.RateLimited > 0, "the simulator never answered 429, so the test proved nothing");
    }
}
