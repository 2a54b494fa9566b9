using System.Globalization;

namespace StripeSync.Bench;

/// <summary>The command line, shared by every scenario; a scenario picks its own sizes from <see cref="Quick"/>.</summary>
public sealed record BenchOptions(
    IReadOnlyList<string> Scenarios,
    bool Quick,
    int? Runs,
    IReadOnlyList<int>? Customers,
    string? Postgres,
    string Output,
    string Command,
    int? People = null,
    int? Events = null)
{
    /// <summary>What every section says about how it was produced, so a section kept from an older run still tells its date.</summary>
    public string RunNote => $"Measured on {DateTime.UtcNow:yyyy-MM-dd} by `{Command}`{(Quick ? " (quick smoke size: not for comparison)" : "")}.";

    public static BenchOptions Parse(string[] args)
    {
        var scenarios = Arg(args, "--scenarios", "all")!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var customers = Arg(args, "--customers", null);
        var runs = Arg(args, "--runs", null);
        return new BenchOptions(
            scenarios,
            args.Contains("--quick"),
            runs is null ? null : int.Parse(runs, CultureInfo.InvariantCulture),
            customers?.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList(),
            Arg(args, "--postgres", null) ?? NonEmpty(Environment.GetEnvironmentVariable("STRIPESYNC_BENCH_POSTGRES")),
            Arg(args, "--output", "BENCHMARKS.md")!,
            "dotnet run -c Release --project bench/StripeSync.Bench --" + string.Concat(args.Select(a => " " + (a.Contains(';', StringComparison.Ordinal) ? "\"…\"" : a))),
            Int(args, "--people"),
            Int(args, "--events"));
    }

    private static int? Int(string[] args, string name) => Arg(args, name, null) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : null;

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static string? Arg(string[] args, string name, string? fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }
}
