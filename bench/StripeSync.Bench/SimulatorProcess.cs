using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace StripeSync.Bench;

/// <summary>
/// The simulator as its own OS process (the StripeSync.Simulator build this project references), so the benchmark
/// process's memory and CPU are StripeSync's alone. At 20,000 customers the simulated account and its JSON cache
/// take gigabytes, which in-process would swamp the figure the issue asks for.
/// </summary>
public sealed partial class SimulatorProcess : IAsyncDisposable
{
    private readonly Process process;

    private SimulatorProcess(Process process, Uri baseUrl)
    {
        this.process = process;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public static async Task<SimulatorProcess> StartAsync(int customers, int seed)
    {
        var info = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "StripeSync.Simulator"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", "0", "--customers", customers.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {info.FileName}.");
        var errors = process.StandardError.ReadToEndAsync();
        // Generating a large account takes a while; its first line says where it listens.
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (Listening().Match(line) is { Success: true } match)
            {
                _ = process.StandardOutput.ReadToEndAsync(); // Keep its pipe drained.
                return new SimulatorProcess(process, new Uri(match.Groups[1].Value));
            }
        }

        await process.WaitForExitAsync();
        throw new InvalidOperationException($"The simulator exited ({process.ExitCode}) before listening: {await errors}");
    }

    /// <summary>The simulator's own peak resident memory so far (VmHWM), MB.</summary>
    public long PeakMegabytes => ProcessMemory.PeakMegabytes(process.Id);

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
        process.Dispose();
    }

    [GeneratedRegex(@"^Stripe simulator on (\S+) ")]
    private static partial Regex Listening();
}

/// <summary>A process's resident memory from /proc (Linux), MB.</summary>
public static class ProcessMemory
{
    /// <summary>VmHWM: the process's peak resident set since it started.</summary>
    public static long PeakMegabytes(int pid) => Read(pid, "VmHWM:");

    /// <summary>VmRSS: the process's resident set now.</summary>
    public static long CurrentMegabytes(int pid) => Read(pid, "VmRSS:");

    private static long Read(int pid, string key)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
    }
}
