using System.Globalization;
using System.Runtime.InteropServices;
using StripeSync.Simulator;

// Standalone: dotnet run --project StripeSync.Simulator -- --port 12111 --customers 2000 --seed 1 [--live-activity]
//   [--stripe-limits] [--latency-ms 50] [--failure-rate 0.1] [--drop-rate 0.05] [--now 2026-11-16T00:00:00Z]
// docs/simulator.md explains each.
var options = new SimulatorOptions
{
    Port = Read("--port", 12111),
    Customers = Read("--customers", 200),
    Seed = Read("--seed", 1),
    LiveActivity = args.Contains("--live-activity"),
    Latency = TimeSpan.FromMilliseconds(Read("--latency-ms", 0)),
    FailureRate = Read("--failure-rate", 0.0),
    DropRate = Read("--drop-rate", 0.0),
};
if (Array.IndexOf(args, "--now") is var nowAt and >= 0 && nowAt + 1 < args.Length)
{
    // A fixed "now" makes two runs with the same seed serve the same bytes (the default is today 00:00 UTC).
    options = options with { Now = DateTimeOffset.Parse(args[nowAt + 1], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) };
}

if (args.Contains("--stripe-limits"))
{
    options = options.WithStripeLimits();
}

await using var server = await SimulatorServer.StartAsync(options);
Console.WriteLine($"Stripe simulator on {server.BaseUrl} ({options.Customers} customers, seed {options.Seed}); keys: sk_test_sim, rk_live_sim_full, …; control: {server.BaseUrl}_sim/");
// Ctrl+C, and SIGTERM from whatever started it (a script, a benchmark, `docker stop`): a background process
// started by a shell ignores SIGINT, so SIGTERM is the signal that must end it.
var done = new TaskCompletionSource();
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
await done.Task;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    done.TrySetResult();
}

T Read<T>(string name, T fallback) where T : IParsable<T>
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length && T.TryParse(args[at + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
}
