using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace StripeSync.Tests.Support;

/// <summary>
/// The real app as its own operating-system process (the built StripeSync.Web.dll), so a test can do what
/// no in-process host allows: kill it with SIGKILL mid-write and start it again on the same database.
/// Its output goes to artifacts/reliability/ for whoever reads a failure.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Dictionary<string, string> environment;
    private readonly string role;
    private readonly string logPath;
    private Process? process;

    public AppProcess(string name, IDictionary<string, string> environment, string role = "all", int? port = null)
    {
        this.environment = new Dictionary<string, string>(environment);
        this.role = role;
        Port = port ?? FreePort();
        var folder = Path.Combine(RepositoryRoot, "artifacts", "reliability");
        Directory.CreateDirectory(folder);
        logPath = Path.Combine(folder, name + ".log");
        File.WriteAllText(logPath, "");
    }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    /// <summary>Everything the process wrote to stdout and stderr, across restarts.</summary>
    public string LogPath => logPath;

    /// <summary>How many times this process was killed.</summary>
    public int Kills { get; private set; }

    public static string RepositoryRoot
    {
        get
        {
            var folder = new DirectoryInfo(AppContext.BaseDirectory);
            while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "StripeSync.sln")))
            {
                folder = folder.Parent;
            }

            return folder?.FullName ?? throw new InvalidOperationException("StripeSync.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The web app built beside these tests (same configuration: Debug or Release).</summary>
    private static string WebAssembly
    {
        get
        {
            var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
            var path = Path.Combine(RepositoryRoot, "StripeSync.Web", "bin", configuration, "net10.0", "StripeSync.Web.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build StripeSync.Web first.", path);
        }
    }

    public void Start()
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
        info.ArgumentList.Add(Address.ToString());
        info.ArgumentList.Add("--role");
        info.ArgumentList.Add(role);
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__StripeSync"] = "Information";
        process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, as a power cut or the OOM killer would.</summary>
    public async Task KillHardAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Kills++;
            Append($"==== killed (SIGKILL) #{Kills} ====");
        }

        process?.Dispose();
        process = null;
    }

    /// <summary>Waits (bounded) until the process answers /healthz (workers serve it too).</summary>
    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (process is null || process.HasExited)
            {
                throw new InvalidOperationException($"The app process exited during start-up; see {logPath}");
            }

            try
            {
                using var response = await client.GetAsync("/healthz");
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

        throw new TimeoutException($"The app process did not become healthy; see {logPath}");
    }

    public async ValueTask DisposeAsync() => await KillHardAsync();

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (logPath)
        {
            File.AppendAllText(logPath, line + Environment.NewLine);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
