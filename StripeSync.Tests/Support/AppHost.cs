using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StripeSync.Core.Persistence;
using StripeSync.Web.Components;

namespace StripeSync.Tests.Support;

/// <summary>
/// The real app (real database, real Hangfire) started in the test process. Settings are plain
/// configuration keys, exactly as an operator would give them.
/// </summary>
public sealed partial class AppHost : WebApplicationFactory<App>
{
    public const string AdminEmail = "admin@example.test";
    public const string AdminPassword = "Admin-Passw0rd!";
    public const string AdminApiKey = "ssk_test_bootstrap_key_0123456789abcdef";

    private readonly Dictionary<string, string?> settings;
    private readonly bool kestrel;

    private bool keepDatabase;

    private AppHost(TestDatabase database, Dictionary<string, string?> settings, bool kestrel)
    {
        Database = database;
        this.settings = settings;
        this.kestrel = kestrel;
        if (kestrel)
        {
            UseKestrel(0);
        }
    }

    public TestDatabase Database { get; }

    public List<string> Logs { get; } = [];

    /// <summary>A host on a fresh database; <paramref name="bootstrap"/> creates the admin and API key from settings.</summary>
    /// <param name="provider">
    /// The database; when not named, SQLite unless <c>STRIPESYNC_TEST_PROVIDER=Postgres</c> asks to run such tests on PostgreSQL.
    /// </param>
    /// <param name="database">An existing database to start on (a restart); a fresh one when null.</param>
    public static AppHost Start(DatabaseProvider? provider = null, bool bootstrap = true, bool kestrel = false,
        IDictionary<string, string?>? extra = null, TestDatabase? database = null)
    {
        database ??= TestDatabase.Create(provider
            ?? (Environment.GetEnvironmentVariable("STRIPESYNC_TEST_PROVIDER") is "Postgres" ? DatabaseProvider.Postgres : DatabaseProvider.Sqlite));
        provider = database.Provider;
        var settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider.ToString(),
            ["Database:ConnectionString"] = database.ConnectionString,
        };
        if (bootstrap)
        {
            settings["Bootstrap:AdminEmail"] = AdminEmail;
            settings["Bootstrap:AdminPassword"] = AdminPassword;
            settings["Bootstrap:ApiKey"] = AdminApiKey;
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var host = new AppHost(database, settings, kestrel);
        host.StartServer();
        return host;
    }

    /// <summary>The address a browser can reach (Kestrel hosts only).</summary>
    public Uri ServerAddress =>
        new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public HttpClient Anonymous() => CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        BaseAddress = kestrel ? ServerAddress : new Uri("http://localhost"),
    });

    /// <summary>
    /// Waits (bounded) until /healthz is healthy: a job server announces itself a moment after start-up,
    /// sooner in memory than through PostgreSQL.
    /// </summary>
    public async Task<System.Text.Json.JsonElement> WaitHealthyAsync()
    {
        using var client = Anonymous();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var response = await client.GetAsync("/healthz");
            var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            if (response.IsSuccessStatusCode || DateTime.UtcNow > deadline)
            {
                return body;
            }

            await Task.Delay(200);
        }
    }

    public HttpClient WithApiKey(string key)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>Signs in through the real login form (antiforgery token and all) and returns a client holding the cookie.</summary>
    public async Task<HttpClient> SignedInAsync(string email, string password)
    {
        var client = Anonymous();
        var response = await PostLoginAsync(client, email, password);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Redirect, $"sign-in of {email} failed: {response.StatusCode}");
        return client;
    }

    public static async Task<HttpResponseMessage> PostLoginAsync(HttpClient client, string email, string password)
    {
        var form = await client.GetStringAsync("/Account/Login");
        return await client.PostAsync("/Account/Login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = AntiforgeryToken(form),
            ["_handler"] = "login",
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        }));
    }

    public static string AntiforgeryToken(string html) =>
        TokenPattern().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("No antiforgery token in the page.");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddProvider(new ListLoggerProvider(Logs)));
    }

    /// <summary>Stops the app but keeps its database, as a crash or restart would.</summary>
    public async Task StopKeepingDatabaseAsync()
    {
        keepDatabase = true;
        await DisposeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (!keepDatabase)
        {
            await Database.DisposeAsync();
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    /// <summary>Keeps every log line, so tests can prove what is (and is not) logged.</summary>
    private sealed class ListLoggerProvider(List<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ListLogger(lines, categoryName);

        public void Dispose()
        {
        }

        private sealed class ListLogger(List<string> lines, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (lines)
                {
                    lines.Add($"{logLevel} {category}: {formatter(state, exception)} {exception}");
                }
            }
        }
    }
}
