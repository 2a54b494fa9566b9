using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace StripeSync.Bench;

/// <summary>
/// The real web app (the StripeSync.Web.dll built beside this benchmark, Release) as a child process on a loopback
/// port, configured only through its environment, as an operator would run it. Its output goes to a log file.
/// </summary>
public sealed class WebAppProcess : IAsyncDisposable
{
    private readonly Process process;

    private WebAppProcess(Process process, int port, string log)
    {
        this.process = process;
        Address = new Uri($"http://127.0.0.1:{port}/");
        LogPath = log;
    }

    public Uri Address { get; }

    public string LogPath { get; }

    /// <summary>The app's own process (the dotnet host runs the dll in it), for /proc/&lt;pid&gt;/status and /proc/&lt;pid&gt;/stat.</summary>
    public int ProcessId => process.Id;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<WebAppProcess> StartAsync(int port, IReadOnlyDictionary<string, string> environment, string log)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(WebAssembly)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(WebAssembly);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{port}");
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        // Production unless the caller says otherwise (the pages scenario needs Development: see PagesScenario).
        info.Environment["ASPNETCORE_ENVIRONMENT"] = environment.GetValueOrDefault("ASPNETCORE_ENVIRONMENT", "Production");
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        File.WriteAllText(log, "");
        var process = Process.Start(info)!;
        var writer = TextWriter.Synchronized(new StreamWriter(log, append: true) { AutoFlush = true });
        process.OutputDataReceived += (_, e) => writer.WriteLine(e.Data);
        process.ErrorDataReceived += (_, e) => writer.WriteLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var app = new WebAppProcess(process, port, log);
        await app.WaitHealthyAsync();
        return app;
    }

    /// <summary>Peak working set of the app process so far, MB (Linux: VmHWM).</summary>
    public long PeakMegabytes() => ProcessMemory.PeakMegabytes(process.Id);

    /// <summary>CPU time the app process has used so far (all its threads).</summary>
    public TimeSpan CpuTime()
    {
        process.Refresh();
        return process.TotalProcessorTime;
    }

    /// <summary>The app's log lines so far (its console output).</summary>
    public IReadOnlyList<string> LogLines()
    {
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    private static string WebAssembly
    {
        get
        {
            var folder = new DirectoryInfo(AppContext.BaseDirectory);
            while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "StripeSync.sln")))
            {
                folder = folder.Parent;
            }

            var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
            var path = Path.Combine(folder?.FullName ?? ".", "StripeSync.Web", "bin", configuration, "net10.0", "StripeSync.Web.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build the benchmark (it builds StripeSync.Web beside it).", path);
        }
    }

    private async Task WaitHealthyAsync()
    {
        using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The app exited during start-up; see {LogPath}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("healthz", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"The app did not become healthy; see {LogPath}");
    }
}
