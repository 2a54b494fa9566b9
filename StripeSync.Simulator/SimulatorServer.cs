using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using StripeSync.Simulator.Api;
using StripeSync.Simulator.Data;

namespace StripeSync.Simulator;

/// <summary>
/// A Stripe-speaking HTTP server on a loopback port, serving a generated account: what tests, benchmarks and the
/// demo account point <c>Stripe:ApiBase</c> at.
/// </summary>
public sealed class SimulatorServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly CancellationTokenSource stop = new();
    private readonly Task? activity;

    private SimulatorServer(WebApplication app, SimulatorAccount account, Faults faults, WebhookSender webhooks, SimulatorControl control)
    {
        this.app = app;
        Account = account;
        Faults = faults;
        Webhooks = webhooks;
        Control = control;
        BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        if (account.Options.LiveActivity)
        {
            activity = Task.Run(() => LiveActivityAsync(account.Options.LiveActivityInterval));
        }
    }

    /// <summary>Where Stripe.net's <c>ApiBase</c> should point, e.g. <c>http://127.0.0.1:54321/</c>.</summary>
    public Uri BaseUrl { get; }

    /// <summary>The generated data, for tests' independent calculations.</summary>
    public SimulatorAccount Account { get; }

    /// <summary>Rate limits and injected faults, changeable while running.</summary>
    public Faults Faults { get; }

    public WebhookSender Webhooks { get; }

    /// <summary>Scripted changes (new customer, upgrade, cancel, failed payment, refund, …).</summary>
    public SimulatorControl Control { get; }

    public static async Task<SimulatorServer> StartAsync(SimulatorOptions options, CancellationToken ct = default)
    {
        var account = new SimulatorAccount(options);
        account.Generate();
        var faults = new Faults(options);
        var webhooks = new WebhookSender(account);
        var control = new SimulatorControl(account);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, options.Port));
        var app = builder.Build();
        var gate = new Gate(account, faults);
        app.Use(gate.InvokeAsync);
        app.MapStripeApi(account);
        app.MapControlApi(account, faults, webhooks, control);
        await app.StartAsync(ct);
        return new SimulatorServer(app, account, faults, webhooks, control);
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        if (activity is not null)
        {
            try
            {
                await activity;
            }
            catch (OperationCanceledException)
            {
            }
        }

        await Webhooks.DisposeAsync();
        await app.StopAsync();
        await app.DisposeAsync();
        stop.Dispose();
    }

    private async Task LiveActivityAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stop.Token))
        {
            Control.RandomActivity();
        }
    }
}
