namespace StripeSync.Simulator;

/// <summary>Every knob of the simulator (docs/simulator.md explains each).</summary>
public sealed record SimulatorOptions
{
    /// <summary>Live-mode customers; test mode gets a tenth (at least 5).</summary>
    public int Customers { get; init; } = 200;

    public int Seed { get; init; } = 1;

    /// <summary>0 takes any free loopback port.</summary>
    public int Port { get; init; }

    /// <summary>"Now" of the generated history (two years back from here). Defaults to today 00:00 UTC.</summary>
    public DateTimeOffset? Now { get; init; }

    /// <summary>Keep generating plausible activity every few seconds (the demo account).</summary>
    public bool LiveActivity { get; init; }

    public TimeSpan LiveActivityInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Requests per second per account in live mode (Stripe: 100); 0 = unlimited.</summary>
    public double LiveRequestsPerSecond { get; init; }

    /// <summary>Requests per second per account in test mode (Stripe: 25); 0 = unlimited.</summary>
    public double TestRequestsPerSecond { get; init; }

    /// <summary>Requests per second per endpoint (Stripe: 25 on some); 0 = unlimited.</summary>
    public double EndpointRequestsPerSecond { get; init; }

    /// <summary>Added to every API request.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Share of API requests answered 500 with Stripe-Should-Retry: true (0–1).</summary>
    public double FailureRate { get; init; }

    /// <summary>Share of API requests whose connection is dropped without an answer (0–1).</summary>
    public double DropRate { get; init; }

    /// <summary>The simulator's own "today" for live activity and control changes; tests may replace it.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The Stripe limits of SPEC §2 / issue 7: 100/s live, 25/s test, 25/s per endpoint.</summary>
    public SimulatorOptions WithStripeLimits() =>
        this with { LiveRequestsPerSecond = 100, TestRequestsPerSecond = 25, EndpointRequestsPerSecond = 25 };
}
