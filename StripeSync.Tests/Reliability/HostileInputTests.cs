using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using StripeSync.Core.Persistence;
using StripeSync.Tests.Support;
using CoreConnections = StripeSync.Core.Connections.Connections;

namespace StripeSync.Tests.Reliability;

/// <summary>
/// Every API endpoint that takes input, given what a careless script or an attacker sends: empty, 1 MB, wrong-typed and
/// malformed JSON, script, SQL, unicode junk, impossible paging and dates. Each answers 4xx with an RFC 7807 body that
/// says what is wrong, never 5xx, and the database is the same afterwards.
/// </summary>
[Trait("Category", "Reliability")]
public sealed partial class HostileInputTests
{
    private const string Script = "<script>alert(1)</script>";

    private const int MaxKeyLength = StripeSync.Core.Connections.StripeKeys.MaxLength;

    /// <summary>The values every text input is given.</summary>
    private static readonly (string Name, string Value)[] Strings =
    [
        ("empty", ""),
        ("blank", "   "),
        ("1 MB", new string('x', 1 << 20)),
        ("script", Script),
        ("SQL", "' OR 1=1 --"),
        ("SQL drop", "'; DROP TABLE people; --"),
        ("unicode junk", "\u0000\u202E\u200B\uFEFF🙈𝕏\uFFFF\u0301\u0301"),
    ];

    /// <summary>Bodies that are not the JSON object an endpoint expects, whatever the endpoint.</summary>
    private static readonly (string Name, string? Body, string ContentType)[] BadBodies =
    [
        ("no body", null, "application/json"),
        ("empty body", "", "application/json"),
        ("truncated JSON", "{\"name\": \"a", "application/json"),
        ("not JSON", "hello", "application/json"),
        ("JSON null", "null", "application/json"),
        ("JSON array", "[1,2,3]", "application/json"),
        ("JSON number", "42", "application/json"),
        ("JSON string", "\"" + Script + "\"", "application/json"),
        ("10,000-deep nesting", new string('[', 10_000) + new string(']', 10_000), "application/json"),
        ("lone surrogate", "{\"name\":\"\\ud800\",\"apiKey\":\"\\ud800\",\"email\":\"\\ud800\"}", "application/json"),
        ("1 MB of JSON", "{\"junk\":\"" + new string('x', 1 << 20) + "\"}", "application/json"),
        ("form instead of JSON", "name=x&apiKey=y", "application/x-www-form-urlencoded"),
        ("text/plain", "{}", "text/plain"),
    ];

    private static readonly string[] Pages = ["-1", "0", "2147483648", "99999999999999999999", "abc", "1.5", "' OR 1=1 --", "%00"];
    private static readonly string[] PageSizes = ["-1", "0", "501", "2147483647", "abc", "1e3", "' OR 1=1 --"];
    private static readonly string[] BadDates = ["2026-13-01", "2026-02-30", "yesterday", "0000-00-00", "2026/01/01", "01-01-2026", "' OR 1=1 --", Script];

    private readonly List<Outcome> outcomes = [];
    private AppHost app = default!;
    private HttpClient api = default!;
    private Guid connectionId;
    private string segmentId = "";
    private Guid personId;

    /// <summary>Something to damage: a connection (stored without asking Stripe), a person with a product event, a custom segment.</summary>
    private async Task SeedAsync()
    {
        connectionId = (await app.Services.GetRequiredService<CoreConnections>().AddAsync("rk_live_hostileinput0123456789", default)).Id;
        var recorded = await api.PostAsJsonAsync("/api/v1/events?mode=live", new { email = "victim@example.test", metric = "Logged In" });
        Assert.Equal(HttpStatusCode.Accepted, recorded.StatusCode);
        personId = (await recorded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("personId").GetGuid();
        var created = await api.PostAsJsonAsync("/api/v1/segments", new
        {
            name = "Victims",
            definition = new { match = "all", conditions = new[] { new { field = "email", @operator = "contains", value = "victim" } } },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        segmentId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task Every_api_input_refuses_hostile_values_with_a_problem_and_changes_nothing()
    {
        // Production, as deployed: the developer exception page must not be what turns a bad request into a readable answer.
        await using var host = AppHost.Start(extra: new Dictionary<string, string?> { ["environment"] = "Production" });
        using var client = host.WithApiKey(AppHost.AdminApiKey);
        (app, api) = (host, client);
        Assert.Equal("Production", app.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostEnvironment>().EnvironmentName);
        await SeedAsync();
        await WalkApiAsync();
    }

    private async Task WalkApiAsync()
    {
        var before = await FingerprintAsync(app);

        await ConnectionsAsync();
        await SyncAsync();
        await SegmentsAsync();
        await EventsAsync();
        await UsersAsync();
        await QueriesAsync();

        // Every /api/v1 route that takes input was called above: a route added tomorrow fails here until it is covered.
        var covered = outcomes.Select(o => o.Route).ToHashSet(StringComparer.Ordinal);
        var routes = ApiRoutes();
        var missing = routes.Where(r => !covered.Contains(r) && !NoInput.Contains(r)).ToList();
        Assert.True(missing.Count == 0, "not covered: " + string.Join(", ", missing));

        var after = await FingerprintAsync(app);
        var failures = outcomes.Where(o => o.Failure is not null).Select(o => $"{o.Route} [{o.Input}] → {o.Status}: {o.Failure}").ToList();
        var serverErrors = outcomes.Count(o => o.Status >= 500);
        var changed = before.Zip(after).Count(p => p.First != p.Second);
        ReliabilityReport.Write("Hostile input: API",
            [
                $"{outcomes.Count} requests to {covered.Count} method/route pairs (every /api/v1 route that takes input, read from the app's endpoint data source); "
                    + "values: empty, blank, 1 MB, script, SQL, unicode junk, lone surrogates; bodies: none, empty, truncated, not JSON, null, array, number, "
                    + "string, 10,000-deep nesting, 1 MB, form-encoded, text/plain; wrong-typed fields; paging −1, 0, 501, 2³¹, abc; impossible dates",
                .. outcomes.GroupBy(o => o.Route).Select(g =>
                    $"`{g.Key}`: {g.Count()} inputs, answered {string.Join(", ", g.GroupBy(o => o.Status).OrderBy(s => s.Key).Select(s => $"{s.Key} ×{s.Count()}"))}"),
                $"the only 2xx: {outcomes.Count(o => o.Status < 300)} searches of people (q, email, stripeCustomerId) for script, SQL and unicode junk, each finding 0 people "
                    + "(an injected OR 1=1 would find everyone); a POST without any body gets 404 with \"…or it takes a JSON body and none was sent\"",
                $"5xx: {serverErrors}; answers without an RFC 7807 body or message: {outcomes.Count(o => o.Failure is not null && o.Status < 500)}; "
                    + $"tables whose rows changed (people, segments, connections, metric events, users, API keys, field mappings): {changed}",
            ]);

        await File.WriteAllLinesAsync(Path.Combine(AppProcess.RepositoryRoot, "artifacts", "reliability", "hostile-input-api.txt"),
            outcomes.Select(o => $"{o.Status} {o.Route} [{o.Input}]{(o.Failure is null ? "" : " FAILED: " + o.Failure)}"));
        Assert.True(failures.Count == 0, $"{failures.Count} bad answers (all in artifacts/reliability/hostile-input-api.txt):\n" + string.Join("\n", failures.Take(60)));
        Assert.Equal(before, after);
    }

    [BrowserFact]
    [Trait("Tier", "Browser")]
    public async Task Every_form_refuses_hostile_values_with_a_message_and_shows_script_as_text()
    {
        await using var host = AppHost.Start(kestrel: true);
        using var admin = host.WithApiKey(AppHost.AdminApiKey);
        // Its own chromium, so the API test above does not need one.
        var chromium = new BrowserFixture();
        await chromium.InitializeAsync();
        var page = await chromium.NewPageAsync(host.ServerAddress);
        var dialogs = 0;
        page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };
        var lines = new List<string>();
        try
        {
            await page.GotoAsync("/Account/Login");
            await page.FillAsync("#email", AppHost.AdminEmail);
            await page.FillAsync("#password", AppHost.AdminPassword);
            await page.ClickAsync("button[type=submit]");
            await page.WaitForSelectorAsync("[data-interactive=true]");
            var before = await FingerprintAsync(host);

            lines.Add(await WizardKeyAsync(page));
            lines.Add(await UsersFormAsync(page));
            lines.Add(await ApiKeyNameRefusedAsync(page));
            lines.Add(await SegmentNameRefusedAsync(page));
            var after = await FingerprintAsync(host);
            lines.Add($"rows changed by the refused values (people, segments, connections, metric events, users, API keys, field mappings): "
                + before.Zip(after).Count(p => p.First != p.Second));
            Assert.Equal(before, after);

            // Script is a legal name: kept byte for byte, shown as text, never run.
            lines.Add(await ScriptAsTextAsync(page, admin));
            Assert.Equal(0, dialogs);
            lines.Add($"script dialogs opened (alert(1) run): {dialogs}");
        }
        finally
        {
            await page.Context.CloseAsync();
            await chromium.DisposeAsync();
        }

        ReliabilityReport.Write("Hostile input: forms, chromium", [.. lines]);
    }

    /// <summary>The values typed into forms: the API's list, with 1 MB cut to 100 kB (the size a paste realistically reaches).</summary>
    private static readonly (string Name, string Value)[] Typed =
    [
        ("empty", ""), ("blank", "   "), ("100 kB", new string('x', 100_000)), ("script", Script), ("SQL", "' OR 1=1 --"),
        ("SQL drop", "'; DROP TABLE people; --"), ("unicode junk", "\u202E\u200B\uFEFF🙈𝕏\u0301\u0301"),
    ];

    private static async Task<string> WizardKeyAsync(IPage page)
    {
        await page.GotoAsync("/connect");
        await page.WaitForSelectorAsync("[data-interactive=true]");
        var input = page.Locator(".key-input input");
        var tried = 0;
        foreach (var (name, value) in Typed.Concat(KeyLookalikes.Where(k => k.Item2.Length < 200_000)))
        {
            await input.FillAsync(value);
            await page.Locator(".key-next").ClickAsync();
            var error = page.Locator(".key-error");
            await Assertions.Expect(error).ToBeVisibleAsync();
            // Longer than any key, the field keeps one character more than a key can have (256), so the check sees
            // an over-long value and says so rather than passing on a cut-down one.
            Assert.True((await input.InputValueAsync()).Length <= MaxKeyLength + 1);
            await Assertions.Expect(error).ToContainTextAsync(value.Trim().Length == 0 ? "Paste a Stripe API key"
                : value.Trim().Length > MaxKeyLength ? "too long to be a Stripe API key"
                : value.StartsWith("pk_", StringComparison.Ordinal) ? "publishable key" : "does not look like a Stripe API key");
            await Assertions.Expect(page.Locator(".connect-stepper[data-step=key]")).ToBeVisibleAsync();
            tried++;
        }

        await BrowserFixture.ScreenshotAsync(page, "hostile-wizard-key");
        return $"connect wizard, key field: {tried} values (empty, blank, 100 kB, script, SQL, unicode junk, rk_live_ + script/SQL/full-width letters, pk_live_, prefix only): "
            + "each refused on the key step with the format message (100 kB, kept to 256 characters by the field, as too long); no connection stored, no call to Stripe";
    }

    private static async Task<string> UsersFormAsync(IPage page)
    {
        var tried = 0;
        foreach (var field in new[] { "Email", "Initial password" })
        {
            foreach (var (_, value) in Typed)
            {
                // A fresh form each time, so the message checked is this value's and not the last one's.
                await page.GotoAsync("/settings");
                await page.WaitForSelectorAsync("[data-interactive=true]");
                await page.GetByRole(AriaRole.Tab, new() { Name = "Users" }).ClickAsync();
                var rows = page.Locator("td[data-label=Email]");
                await Assertions.Expect(rows).ToHaveCountAsync(1);
                await page.GetByLabel("Email").FillAsync(field == "Email" ? value : "new@example.test");
                await page.GetByLabel("Initial password").FillAsync(field == "Email" ? "Hostile-Passw0rd" : value);
                await page.GetByRole(AriaRole.Button, new() { Name = "Add user" }).ClickAsync();
                // Either the form's own check (required) or Identity's reason, in a red snackbar.
                await Assertions.Expect(page.Locator(".mud-input-error, .mud-snackbar.mud-alert-filled-error").First).ToBeVisibleAsync();
                await Assertions.Expect(rows).ToHaveCountAsync(1);
                tried++;
            }
        }

        await BrowserFixture.ScreenshotAsync(page, "hostile-settings-users");
        return $"Settings → Users, add user: {tried} values in Email and Initial password (the other field valid): each refused with the required-field message "
            + "or Identity's reason in a red snackbar; still 1 user";
    }

    private static async Task<string> ApiKeyNameRefusedAsync(IPage page)
    {
        await page.GetByRole(AriaRole.Tab, new() { Name = "API keys" }).ClickAsync();
        var rows = page.Locator("td[data-label=Name]");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        foreach (var value in new[] { "", "   " })
        {
            await page.GetByLabel("Key name").FillAsync(value);
            await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
            await Assertions.Expect(page.GetByText("Give the key a name of 1 to 100 characters")).ToBeVisibleAsync();
            await Assertions.Expect(rows).ToHaveCountAsync(1);
        }

        // 100 kB into a field of at most 100 characters: the field keeps 100, and the circuit survives.
        await page.GetByLabel("Key name").FillAsync(new string('x', 100_000));
        Assert.True((await page.GetByLabel("Key name").InputValueAsync()).Length <= 100);
        await BrowserFixture.ScreenshotAsync(page, "hostile-settings-api-key");
        return "Settings → API keys, key name: empty and blank refused with \"Give the key a name of 1 to 100 characters\", no key created; 100 kB is cut to 100 characters by the field";
    }

    private static async Task<string> SegmentNameRefusedAsync(IPage page)
    {
        await page.GotoAsync("/segments/new");
        await page.WaitForSelectorAsync("[data-interactive=true]");
        await page.Locator(".add-field-condition").ClickAsync();
        await page.Locator(".field-value input").FillAsync("active");
        foreach (var value in new[] { "", "   " })
        {
            await page.Locator(".segment-name-input input").FillAsync(value);
            await Assertions.Expect(page.Locator(".save-segment")).ToBeDisabledAsync();
        }

        await page.Locator(".segment-name-input input").FillAsync(new string('x', 100_000));
        Assert.True((await page.Locator(".segment-name-input input").InputValueAsync()).Length <= 100);
        // A condition value of 100 kB: the field keeps the definition's limit of 500 characters.
        await page.Locator(".field-value input").FillAsync(new string('x', 100_000));
        Assert.True((await page.Locator(".field-value input").InputValueAsync()).Length <= 500);
        await BrowserFixture.ScreenshotAsync(page, "hostile-segment-builder");
        return "segment editor: empty and blank names keep Save disabled; a 100 kB name is cut to 100 characters by the field; "
            + "a 100 kB condition value is cut to 500 characters, the definition's limit";
    }

    private static async Task<string> ScriptAsTextAsync(IPage page, HttpClient admin)
    {
        // A segment named with script, through the editor. The condition's value reaches the server after the field's
        // 300 ms debounce; saving before it would save the previous value, so wait for it and the count it starts.
        await page.Locator(".field-value input").FillAsync("active");
        await page.WaitForTimeoutAsync(600);
        await Assertions.Expect(page.Locator(".match-count")).ToBeVisibleAsync();
        await page.Locator(".segment-name-input input").FillAsync(Script);
        await page.Locator(".save-segment").ClickAsync();
        await page.WaitForURLAsync(new Regex("/segments/[0-9a-f-]{36}$"));
        await Assertions.Expect(page.Locator(".segment-name")).ToHaveTextAsync(Script);
        Assert.Contains("&lt;script&gt;", await page.Locator(".segment-name").InnerHTMLAsync(), StringComparison.Ordinal);
        var segments = await admin.GetFromJsonAsync<JsonElement>("/api/v1/segments");
        Assert.Contains(segments.GetProperty("items").EnumerateArray(), s => s.GetProperty("name").GetString() == Script);
        await BrowserFixture.ScreenshotAsync(page, "hostile-segment-script-name");

        // An API key named with script.
        await page.GotoAsync("/settings");
        await page.WaitForSelectorAsync("[data-interactive=true]");
        await page.GetByRole(AriaRole.Tab, new() { Name = "API keys" }).ClickAsync();
        await page.GetByLabel("Key name").FillAsync(Script);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var cell = page.Locator("td[data-label=Name]", new() { HasText = Script });
        await Assertions.Expect(cell).ToHaveTextAsync(Script);
        Assert.Contains("&lt;script&gt;", await cell.InnerHTMLAsync(), StringComparison.Ordinal);
        await BrowserFixture.ScreenshotAsync(page, "hostile-api-key-script-name");

        // Product activity named with script, shown on the person's page.
        var recorded = await admin.PostAsJsonAsync("/api/v1/events?mode=live", new { email = "xss@example.test", metric = Script, properties = new Dictionary<string, string> { ["Note"] = Script } });
        var person = (await recorded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("personId").GetString();
        await page.GotoAsync($"/people/{person}");
        await page.WaitForSelectorAsync("[data-interactive=true]");
        await Assertions.Expect(page.GetByText(Script).First).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "hostile-person-script-activity");
        return "script kept as text where it is a legal value: a segment named `<script>alert(1)</script>` (editor → segment page, API), "
            + "an API key of that name (Settings table), a product event of that metric and property (person page): each shown literally, escaped in the HTML";
    }

    /// <summary>API routes that read nothing from the caller (no body, no query, no id).</summary>
    private static readonly HashSet<string> NoInput = new(StringComparer.Ordinal)
    {
        "GET /api/v1/status", "GET /api/v1/reconciliation", "GET /api/v1/{**path}",
    };

    private async Task ConnectionsAsync()
    {
        const string Route = "POST /api/v1/connections";
        await BodiesAsync(Route, HttpMethod.Post, "/api/v1/connections");
        foreach (var (name, value) in Strings.Concat(KeyLookalikes))
        {
            await JsonAsync(Route, HttpMethod.Post, "/api/v1/connections", $"apiKey {name}", new { apiKey = value });
        }

        foreach (var (name, json) in WrongTypes("apiKey"))
        {
            await SendAsync(Route, HttpMethod.Post, "/api/v1/connections", $"apiKey {name}", json);
        }

        const string Replace = "PUT /api/v1/connections/{id:guid}/key";
        var replace = $"/api/v1/connections/{connectionId}/key";
        await BodiesAsync(Replace, HttpMethod.Put, replace);
        foreach (var (name, value) in Strings.Concat(KeyLookalikes).Append(("a test key for a live connection", "rk_test_sim_full")))
        {
            await JsonAsync(Replace, HttpMethod.Put, replace, $"apiKey {name}", new { apiKey = value });
        }

        foreach (var (name, json) in WrongTypes("apiKey"))
        {
            await SendAsync(Replace, HttpMethod.Put, replace, $"apiKey {name}", json);
        }

        await JsonAsync(Replace, HttpMethod.Put, $"/api/v1/connections/{Guid.NewGuid()}/key", "unknown id", new { apiKey = "rk_live_sim_full" }, expect: 404);

        const string Delete = "DELETE /api/v1/connections/{id:guid}";
        await SendAsync(Delete, HttpMethod.Delete, $"/api/v1/connections/{Guid.NewGuid()}", "unknown id", null, expect: 404);
        foreach (var (name, value) in Strings.Where(s => s.Value.Trim().Length > 0))
        {
            // Not a guid: no route matches, and the API's fallback answers 404 in the same problem format.
            await SendAsync(Delete, HttpMethod.Delete, "/api/v1/connections/" + InPath(value), $"id {name}", null, expect: 404);
        }
    }

    /// <summary>Keys that look almost like Stripe's: refused by format, so no call ever leaves for Stripe.</summary>
    private static IEnumerable<(string, string)> KeyLookalikes =>
    [
        ("rk_live_ + script", "rk_live_" + Script),
        ("rk_live_ + SQL", "rk_live_' OR 1=1 --"),
        ("rk_live_ + 1 MB", "rk_live_" + new string('a', 1 << 20)),
        ("rk_live_ + unicode", "rk_live_ａｂｃｄｅｆ"),
        ("publishable", "pk_live_abcdef"),
        ("prefix only", "rk_live_"),
    ];

    private async Task SyncAsync()
    {
        const string Route = "POST /api/v1/connections/{id:guid}/sync";
        var path = $"/api/v1/connections/{connectionId}/sync";
        await BodiesAsync(Route, HttpMethod.Post, path);
        foreach (var (name, value) in Strings.Append(("upper-case word in a sentence", "IMPORT everything")))
        {
            await JsonAsync(Route, HttpMethod.Post, path, $"mode {name}", new { mode = value });
        }

        foreach (var (name, json) in WrongTypes("mode"))
        {
            await SendAsync(Route, HttpMethod.Post, path, $"mode {name}", json);
        }

        await JsonAsync(Route, HttpMethod.Post, $"/api/v1/connections/{Guid.NewGuid()}/sync", "unknown id", new { mode = "import" }, expect: 404);
        await JsonAsync(Route, HttpMethod.Post, "/api/v1/connections/' OR 1=1 --/sync", "id SQL", new { mode = "import" }, expect: 404);

        const string Check = "POST /api/v1/reconciliation/{connectionId:guid}/check";
        await SendAsync(Check, HttpMethod.Post, $"/api/v1/reconciliation/{Guid.NewGuid()}/check", "unknown id", null, expect: 404);
        await SendAsync(Check, HttpMethod.Post, $"/api/v1/reconciliation/{Uri.EscapeDataString(Script)}/check", "id script", null, expect: 404);
    }

    private async Task SegmentsAsync()
    {
        const string Create = "POST /api/v1/segments";
        var update = "PUT /api/v1/segments/{id}";
        foreach (var (route, method, path) in new[] { (Create, HttpMethod.Post, "/api/v1/segments"), (update, HttpMethod.Put, $"/api/v1/segments/{segmentId}") })
        {
            await BodiesAsync(route, method, path);
            foreach (var (name, definition) in BadDefinitions())
            {
                await JsonAsync(route, method, path, $"definition {name}", new { name = "Hostile", definition });
            }

            foreach (var (name, value) in Strings.Where(s => s.Value.Trim().Length == 0 || s.Value.Length > 100))
            {
                await JsonAsync(route, method, path, $"name {name}", new { name = value, definition = GoodDefinition });
            }

            foreach (var (name, json) in WrongTypes("name").Concat(WrongTypes("definition")))
            {
                await SendAsync(route, method, path, $"{name}", json);
            }

            await JsonAsync(route, method, path, "name taken by a predefined segment", new { name = "customers", definition = GoodDefinition }, expect: 409);
        }

        await JsonAsync(update, HttpMethod.Put, "/api/v1/segments/customers", "predefined", new { name = "Mine", definition = GoodDefinition }, expect: 409);
        const string Delete = "DELETE /api/v1/segments/{id}";
        await SendAsync(Delete, HttpMethod.Delete, "/api/v1/segments/customers", "predefined", null, expect: 409);
        foreach (var (name, value) in Strings.Where(s => s.Value.Trim().Length > 0))
        {
            var id = InPath(value);
            await JsonAsync(update, HttpMethod.Put, $"/api/v1/segments/{id}", $"id {name}", new { name = "Mine", definition = GoodDefinition }, expect: 404);
            await SendAsync(Delete, HttpMethod.Delete, $"/api/v1/segments/{id}", $"id {name}", null, expect: 404);
            await SendAsync("GET /api/v1/segments/{id}", HttpMethod.Get, $"/api/v1/segments/{id}", $"id {name}", null, expect: 404);
            await SendAsync("GET /api/v1/segments/{id}/members", HttpMethod.Get, $"/api/v1/segments/{id}/members", $"id {name}", null, expect: 404);
            await SendAsync("GET /api/v1/segments/{id}/members.csv", HttpMethod.Get, $"/api/v1/segments/{id}/members.csv", $"id {name}", null, expect: 404);
        }
    }

    private static readonly object GoodDefinition = new { match = "all", conditions = new[] { new { field = "email", @operator = "contains", value = "x" } } };

    private static IEnumerable<(string, object?)> BadDefinitions()
    {
        object Field(string field, string op, string value) => new { match = "all", conditions = new[] { new { field, @operator = op, value } } };
        yield return ("null", null);
        yield return ("match script", new { match = Script, conditions = Array.Empty<object>() });
        yield return ("match SQL", new { match = "' OR 1=1 --", conditions = Array.Empty<object>() });
        yield return ("field SQL", Field("email' OR 1=1 --", "equals", "x"));
        yield return ("field script", Field(Script, "equals", "x"));
        yield return ("operator SQL", Field("email", "'; DROP TABLE people; --", "x"));
        yield return ("value 1 MB", Field("email", "contains", new string('x', 1 << 20)));
        yield return ("number field given text", Field("stripe_total_orders", "greater_than", "' OR 1=1 --"));
        yield return ("date field given a bad date", Field("stripe_created", "after", "2026-13-45"));
        yield return ("metric 1 MB", new { match = "all", conditions = new[] { new { metric = new string('x', 1 << 20), did = "did", atLeast = 1, days = 30 } } });
        yield return ("metric negative count", new { match = "all", conditions = new[] { new { metric = "Successfully Paid", did = "did", atLeast = -1, days = -30 } } });
        yield return ("metric 100 years", new { match = "all", conditions = new[] { new { metric = "Successfully Paid", did = "did", atLeast = 1, days = 36_500_000 } } });
        yield return ("51 conditions", new { match = "all", conditions = Enumerable.Repeat(new { field = "email", @operator = "contains", value = "x" }, 51) });
        object nested = GoodDefinition;
        for (var i = 0; i < 6; i++)
        {
            nested = new { match = "any", conditions = new[] { nested } };
        }

        yield return ("groups 7 deep", nested);
    }

    private async Task EventsAsync()
    {
        const string Route = "POST /api/v1/events";
        await BodiesAsync(Route, HttpMethod.Post, "/api/v1/events");
        foreach (var (name, value) in Strings)
        {
            await JsonAsync(Route, HttpMethod.Post, "/api/v1/events", $"email {name}", new { email = value, metric = "Logged In" });
            await JsonAsync(Route, HttpMethod.Post, "/api/v1/events", $"metric {name}", new { email = "victim@example.test", metric = value },
                expect: IsText(value) && value.Length <= 64 ? Skip : null);
            await JsonAsync(Route, HttpMethod.Post, "/api/v1/events", $"stripeCustomerId {name}", new { stripeCustomerId = value, metric = "Logged In" });
            await JsonAsync(Route, HttpMethod.Post, "/api/v1/events", $"id {name}", new { id = value, email = "victim@example.test", metric = "Logged In" },
                expect: value.Trim().Length == 0 || (IsText(value) && value.Length <= 200) ? Skip : null);
            await JsonAsync(Route, HttpMethod.Post, $"/api/v1/events?mode={Uri.EscapeDataString(value)}", $"mode {name}",
                new { email = "victim@example.test", metric = "Logged In" }, expect: value.Trim().Length == 0 ? Skip : null);
        }

        await JsonAsync(Route, HttpMethod.Post, "/api/v1/events", "property value 1 MB",
            new { email = "victim@example.test", metric = "Logged In", properties = new Dictionary<string, string> { ["Note"] = new string('x', 1 << 20) } });
        await JsonAsync(Route, HttpMethod.Post, "/api/v1/events", "property name 1 MB",
            new { email = "victim@example.test", metric = "Logged In", properties = new Dictionary<string, string> { [new string('x', 1 << 20)] = "x" } });
        await JsonAsync(Route, HttpMethod.Post, "/api/v1/events", "51 properties",
            new { email = "victim@example.test", metric = "Logged In", properties = Enumerable.Range(0, 51).ToDictionary(i => $"p{i}", i => "x") });
        await JsonAsync(Route, HttpMethod.Post, "/api/v1/events", "a derived metric", new { email = "victim@example.test", metric = "Successfully Paid" });
        await JsonAsync(Route, HttpMethod.Post, "/api/v1/events", "unknown customer", new { stripeCustomerId = "cus_nobody", metric = "Logged In" }, expect: 404);
        foreach (var time in new[] { "2026-13-45T00:00:00Z", "yesterday", "' OR 1=1 --", "9999-12-31T23:59:59Z", "" })
        {
            await SendAsync(Route, HttpMethod.Post, "/api/v1/events", $"time {time}",
                $"{{\"email\":\"victim@example.test\",\"metric\":\"Logged In\",\"time\":\"{time}\"}}");
        }

        foreach (var (name, json) in WrongTypes("email"))
        {
            await SendAsync(Route, HttpMethod.Post, "/api/v1/events", name, json.Insert(1, "\"metric\":\"Logged In\","));
        }

        foreach (var (name, json) in WrongTypes("metric"))
        {
            await SendAsync(Route, HttpMethod.Post, "/api/v1/events", name, json.Insert(1, "\"email\":\"victim@example.test\","));
        }

        foreach (var properties in new[] { "\"" + Script + "\"", "1", "[\"' OR 1=1 --\"]", "{\"nested\":{\"$ne\":null}}" })
        {
            await SendAsync(Route, HttpMethod.Post, "/api/v1/events", $"properties {properties}",
                $"{{\"email\":\"victim@example.test\",\"metric\":\"Logged In\",\"properties\":{properties}}}");
        }
    }

    private async Task UsersAsync()
    {
        const string Route = "POST /api/v1/users";
        await BodiesAsync(Route, HttpMethod.Post, "/api/v1/users");
        foreach (var (name, value) in Strings)
        {
            await JsonAsync(Route, HttpMethod.Post, "/api/v1/users", $"email {name}", new { email = value, password = "Hostile-Passw0rd", role = "Marketer" });
            await JsonAsync(Route, HttpMethod.Post, "/api/v1/users", $"password {name}", new { email = "new@example.test", password = value, role = "Marketer" });
            await JsonAsync(Route, HttpMethod.Post, "/api/v1/users", $"role {name}", new { email = "new@example.test", password = "Hostile-Passw0rd", role = value });
        }

        await JsonAsync(Route, HttpMethod.Post, "/api/v1/users", "email taken", new { email = AppHost.AdminEmail, password = "Hostile-Passw0rd", role = "Admin" });
        foreach (var (name, json) in WrongTypes("email"))
        {
            await SendAsync(Route, HttpMethod.Post, "/api/v1/users", $"email {name}", json);
        }

        await PagingAsync("GET /api/v1/users", "/api/v1/users?");
    }

    private async Task QueriesAsync()
    {
        await PagingAsync("GET /api/v1/people", "/api/v1/people?");
        await PagingAsync("GET /api/v1/people/{id:guid}/events", $"/api/v1/people/{personId}/events?");
        await PagingAsync("GET /api/v1/segments", "/api/v1/segments?");
        await PagingAsync("GET /api/v1/segments/{id}/members", $"/api/v1/segments/{segmentId}/members?");
        await PagingAsync("GET /api/v1/metrics/{name}/events", "/api/v1/metrics/Failed%20Payment/events?");

        foreach (var (name, value) in Strings.Where(s => s.Value.Trim().Length > 0))
        {
            var v = InPath(value);
            var q = Uri.EscapeDataString(value);
            foreach (var (route, path) in new[]
                     {
                         ("GET /api/v1/people", "/api/v1/people?"), ("GET /api/v1/segments", "/api/v1/segments?"), ("GET /api/v1/metrics", "/api/v1/metrics?"),
                         ("GET /api/v1/segments/{id}", $"/api/v1/segments/{segmentId}?"), ("GET /api/v1/segments/{id}/members", $"/api/v1/segments/{segmentId}/members?"),
                         ("GET /api/v1/segments/{id}/members.csv", $"/api/v1/segments/{segmentId}/members.csv?"),
                         ("GET /api/v1/metrics/{name}/daily", "/api/v1/metrics/Failed%20Payment/daily?"), ("GET /api/v1/metrics/{name}/events", "/api/v1/metrics/Failed%20Payment/events?"),
                         ("GET /api/v1/revenue/mrr", "/api/v1/revenue/mrr?"),
                     })
            {
                await SendAsync(route, HttpMethod.Get, path + "mode=" + q, $"mode {name}", null);
            }

            await SendAsync("GET /api/v1/people/{id:guid}", HttpMethod.Get, $"/api/v1/people/{v}", $"id {name}", null, expect: 404);
            await SendAsync("GET /api/v1/people/{id:guid}/events", HttpMethod.Get, $"/api/v1/people/{v}/events", $"id {name}", null, expect: 404);
            await SendAsync("GET /api/v1/metrics/{name}/daily", HttpMethod.Get, $"/api/v1/metrics/{v}/daily", $"name {name}", null, expect: 404);
            await SendAsync("GET /api/v1/metrics/{name}/events", HttpMethod.Get, $"/api/v1/metrics/{v}/events", $"name {name}", null, expect: 404);
            await SendAsync("GET /api/v1/metrics/{name}/events", HttpMethod.Get, $"/api/v1/metrics/Failed%20Payment/events?date={q}", $"date {name}", null);
        }

        await SendAsync("GET /api/v1/people/{id:guid}", HttpMethod.Get, $"/api/v1/people/{Guid.NewGuid()}", "unknown id", null, expect: 404);
        await SendAsync("GET /api/v1/metrics/{name}/events", HttpMethod.Get, "/api/v1/metrics/Failed%20Payment/events?property.=x", "nameless property filter", null);
        await SendAsync("GET /api/v1/metrics/{name}/events", HttpMethod.Get, "/api/v1/metrics/Failed%20Payment/events?property.[contains]=x", "nameless contains filter", null);
        foreach (var (route, path) in new[] { ("GET /api/v1/metrics/{name}/daily", "/api/v1/metrics/Failed%20Payment/daily?"), ("GET /api/v1/revenue/mrr", "/api/v1/revenue/mrr?") })
        {
            foreach (var date in BadDates)
            {
                await SendAsync(route, HttpMethod.Get, $"{path}from={Uri.EscapeDataString(date)}", $"from {date}", null);
                await SendAsync(route, HttpMethod.Get, $"{path}to={Uri.EscapeDataString(date)}", $"to {date}", null);
            }

            await SendAsync(route, HttpMethod.Get, $"{path}from=2026-02-01&to=2026-01-01", "from after to", null);
            await SendAsync(route, HttpMethod.Get, $"{path}from=0001-01-01&to=9999-12-31", "10,000 years", null);
        }

        // Free text is looked for, not executed: a search for SQL or script finds nobody (an injected OR 1=1 would find everyone).
        foreach (var (name, value) in Strings.Where(s => s.Value.Trim().Length > 0 && s.Value.Length < 1000))
        {
            foreach (var parameter in new[] { "q", "email", "stripeCustomerId" })
            {
                var response = await api.GetAsync($"/api/v1/people?{parameter}={Uri.EscapeDataString(value)}");
                var total = response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("total").GetInt32() : -1;
                Record("GET /api/v1/people", $"{parameter} {name}", (int)response.StatusCode,
                    total == 0 ? null : $"a search for {name} answered {(int)response.StatusCode} with {total} people");
            }
        }

        // A 1 MB search is not a search: refused, not run.
        foreach (var parameter in new[] { "q", "email", "stripeCustomerId" })
        {
            await SendAsync("GET /api/v1/people", HttpMethod.Get, $"/api/v1/people?{parameter}={new string('x', 1 << 20)}", $"{parameter} 1 MB", null);
        }

        await SendAsync("GET /api/v1/metrics/{name}/events", HttpMethod.Get, $"/api/v1/metrics/Failed%20Payment/events?property.Reason[contains]={new string('x', 1 << 20)}",
            "filter value 1 MB", null);
    }

    private async Task PagingAsync(string route, string path)
    {
        foreach (var page in Pages)
        {
            await SendAsync(route, HttpMethod.Get, $"{path}page={Uri.EscapeDataString(page)}", $"page {page}", null);
        }

        foreach (var size in PageSizes)
        {
            await SendAsync(route, HttpMethod.Get, $"{path}pageSize={Uri.EscapeDataString(size)}", $"pageSize {size}", null);
        }
    }

    private async Task BodiesAsync(string route, HttpMethod method, string path)
    {
        foreach (var (name, body, contentType) in BadBodies)
        {
            await SendAsync(route, method, path, name, body, contentType);
        }
    }

    /// <summary>The field given a number, a boolean, an object and an array, in an otherwise empty object.</summary>
    private static IEnumerable<(string, string)> WrongTypes(string field) =>
    [
        ($"{field} a number", $"{{\"{field}\":12345678901234567890}}"),
        ($"{field} a boolean", $"{{\"{field}\":true}}"),
        ($"{field} an object", $"{{\"{field}\":{{\"$ne\":null}}}}"),
        ($"{field} an array", $"{{\"{field}\":[\"' OR 1=1 --\"]}}"),
    ];

    /// <summary>A value as a path segment; NUL is left out, since Kestrel refuses it in a path before the app sees it.</summary>
    private static string InPath(string value) => Uri.EscapeDataString(value.Replace("\u0000", "", StringComparison.Ordinal));

    /// <summary>Text a person could mean: not blank, no control characters (PostgreSQL refuses NUL in text).</summary>
    private static bool IsText(string value) => value.Trim().Length > 0 && !value.Any(char.IsControl);

    /// <summary>An expectation that does not apply: the input is valid text, sent only to prove it is stored as text elsewhere.</summary>
    private const int Skip = -1;

    private Task JsonAsync(string route, HttpMethod method, string path, string input, object body, int? expect = null) =>
        SendAsync(route, method, path, input, JsonSerializer.Serialize(body, JsonSerializerOptions.Web), "application/json", expect);

    private Task SendAsync(string route, HttpMethod method, string path, string input, string? body, int? expect = null) =>
        SendAsync(route, method, path, input, body, "application/json", expect);

    private async Task SendAsync(string route, HttpMethod method, string path, string input, string? body, string contentType, int? expect = null)
    {
        if (expect == Skip)
        {
            return;
        }

        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        using var response = await api.SendAsync(request);
        var status = (int)response.StatusCode;
        Record(route, input, status, await ProblemAsync(response, expect));
    }

    private void Record(string route, string input, int status, string? failure) => outcomes.Add(new Outcome(route, input, status, failure));

    /// <summary>Why the answer is not a 4xx RFC 7807 problem with a message, or null when it is.</summary>
    private static async Task<string?> ProblemAsync(HttpResponseMessage response, int? expect)
    {
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync();
        if (status is < 400 or >= 500 || status is 401 or 403 || (expect is { } e && status != e))
        {
            return $"expected {(expect is null ? "4xx" : expect.ToString())}; body: {Shorten(text)}";
        }

        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"content type {response.Content.Headers.ContentType?.MediaType}, not application/problem+json: {Shorten(text)}";
        }

        try
        {
            var problem = JsonDocument.Parse(text).RootElement;
            var detail = problem.TryGetProperty("detail", out var d) ? d.GetString() : null;
            if (!problem.TryGetProperty("status", out var s) || s.GetInt32() != status)
            {
                return $"the problem's status is not {status}: {Shorten(text)}";
            }

            return string.IsNullOrWhiteSpace(detail) ? $"no detail says what is wrong: {Shorten(text)}" : null;
        }
        catch (JsonException)
        {
            return $"not JSON: {Shorten(text)}";
        }
    }

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;

    private List<string> ApiRoutes()
    {
        var source = app.Services.GetRequiredService<EndpointDataSource>();
        return [.. source.Endpoints.OfType<RouteEndpoint>()
            .Where(e => (e.RoutePattern.RawText ?? "").StartsWith("/api/", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => $"{m} {e.RoutePattern.RawText!.TrimEnd('/')}"))
            .Distinct()];
    }

    private static readonly JsonSerializerOptions FingerprintJson = new() { ReferenceHandler = ReferenceHandler.IgnoreCycles };

    /// <summary>Per table, its row count and a hash of every row: what "nothing changed" means.</summary>
    private static async Task<List<string>> FingerprintAsync(AppHost app)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return
        [
            Hash("people", await db.People.AsNoTracking().OrderBy(p => p.Id).ToListAsync()),
            Hash("segments", await db.Segments.AsNoTracking().OrderBy(s => s.Id).ToListAsync()),
            Hash("connections", await db.Connections.AsNoTracking().OrderBy(c => c.Id).ToListAsync()),
            Hash("metric events", await db.MetricEvents.AsNoTracking().OrderBy(m => m.Id).ToListAsync()),
            Hash("users", await db.Users.AsNoTracking().OrderBy(u => u.Id).Select(u => new { u.Id, u.Email, u.PasswordHash, u.Disabled }).ToListAsync()),
            Hash("API keys", await db.ApiKeys.AsNoTracking().OrderBy(k => k.Id).Select(k => new { k.Id, k.Name, k.RevokedAt }).ToListAsync()),
            Hash("field mappings", await db.FieldMappings.AsNoTracking().ToListAsync()),
        ];
    }

    private static string Hash<T>(string table, List<T> rows) =>
        $"{table}: {rows.Count} rows, {Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(rows, FingerprintJson)))[..16]}";

    private sealed record Outcome(string Route, string Input, int Status, string? Failure);
}
