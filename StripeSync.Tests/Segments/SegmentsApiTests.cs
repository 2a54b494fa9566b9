using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Segments;

/// <summary>The segments API (CRUD, members, refusals) and POST /api/v1/events on a fresh app with no Stripe account.</summary>
public sealed class SegmentsApiTests : IAsyncLifetime
{
    private AppHost app = default!;
    private HttpClient api = default!;

    public Task InitializeAsync()
    {
        app = AppHost.Start();
        api = app.WithApiKey(AppHost.AdminApiKey);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        api.Dispose();
        await app.DisposeAsync();
    }

    private static object LoggedInDefinition(int atLeast = 1) =>
        new { match = "all", conditions = new object[] { new { metric = "Logged In", did = "did", atLeast, days = 7 } } };

    private static object LoggedIn() => new { name = "Logged in this week", definition = LoggedInDefinition() };

    [Fact]
    public async Task A_custom_segment_is_created_listed_counted_changed_and_deleted()
    {
        await PostEventAsync(new { email = "a@example.com", metric = "Logged In" });
        await PostEventAsync(new { email = "b@example.com", metric = "Logged In" });
        await PostEventAsync(new { email = "b@example.com", metric = "Logged In" });

        var created = await api.PostAsJsonAsync("/api/v1/segments", LoggedIn());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var segment = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = segment.GetProperty("id").GetString();
        Assert.Equal($"/api/v1/segments/{id}", created.Headers.Location!.ToString());
        Assert.Equal(2, segment.GetProperty("count").GetInt32());
        Assert.False(segment.GetProperty("predefined").GetBoolean());
        Assert.Equal("did", segment.GetProperty("definition").GetProperty("conditions")[0].GetProperty("did").GetString());

        var list = await api.GetFromJsonAsync<JsonElement>("/api/v1/segments");
        Assert.Equal(11, list.GetProperty("total").GetInt32());
        Assert.Equal(10, list.GetProperty("items").EnumerateArray().Count(s => s.GetProperty("predefined").GetBoolean()));
        Assert.Equal(2, list.GetProperty("items").EnumerateArray().Single(s => s.GetProperty("id").GetString() == id).GetProperty("count").GetInt32());

        var members = await api.GetFromJsonAsync<JsonElement>($"/api/v1/segments/{id}/members");
        Assert.Equal(["a@example.com", "b@example.com"], members.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("email").GetString()));
        Assert.True(members.GetProperty("items")[0].GetProperty("fields").TryGetProperty("last_activity", out _));

        var changed = await api.PutAsJsonAsync($"/api/v1/segments/{id}", new { name = "Busy this week", definition = LoggedInDefinition(atLeast: 2) });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var after = await changed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Busy this week", after.GetProperty("name").GetString());
        Assert.Equal(1, after.GetProperty("count").GetInt32());

        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/v1/segments/{id}")).StatusCode);
        await AssertProblemAsync(await api.GetAsync($"/api/v1/segments/{id}"), HttpStatusCode.NotFound, "No segment has this id");
        await AssertProblemAsync(await api.DeleteAsync($"/api/v1/segments/{id}"), HttpStatusCode.NotFound, "No segment has this id");
    }

    [Fact]
    public async Task Predefined_segments_cannot_be_changed_or_deleted()
    {
        await AssertProblemAsync(await api.PutAsJsonAsync("/api/v1/segments/customers", LoggedIn()), HttpStatusCode.Conflict, "cannot be changed");
        await AssertProblemAsync(await api.DeleteAsync("/api/v1/segments/customers"), HttpStatusCode.Conflict, "cannot be deleted");
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/segments/customers")).StatusCode);
    }

    [Fact]
    public async Task Bad_segments_are_refused_with_a_sentence_and_nothing_is_stored()
    {
        await AssertProblemAsync(await api.PostAsJsonAsync("/api/v1/segments", new { name = "", definition = new { conditions = Array.Empty<object>() } }),
            HttpStatusCode.BadRequest, "Give the segment a name");
        await AssertProblemAsync(await api.PostAsJsonAsync("/api/v1/segments", new
        {
            name = "Sneaky",
            definition = new { conditions = new object[] { new { field = "email\"); DROP TABLE people; --", @operator = "equals", value = "x" } } },
        }), HttpStatusCode.BadRequest, "there is no field");
        await AssertProblemAsync(await api.PostAsJsonAsync("/api/v1/segments", new
        {
            name = "Words",
            definition = new { conditions = new object[] { new { field = "stripe_total_orders", @operator = "greaterThan", value = "lots" } } },
        }), HttpStatusCode.BadRequest, "is not one");
        await AssertProblemAsync(await api.PostAsync("/api/v1/segments", new StringContent("{\"name\":\"x\",\"definition\":{\"match\":\"sometimes\"}}", Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, "not a segment");
        await AssertProblemAsync(await api.PostAsync("/api/v1/segments", new StringContent("not json", Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, "not a segment");
        await AssertProblemAsync(await api.PostAsJsonAsync("/api/v1/segments", new { name = "Customers", definition = LoggedInDefinition() }),
            HttpStatusCode.Conflict, "already exists");

        Assert.Equal(HttpStatusCode.Created, (await api.PostAsJsonAsync("/api/v1/segments", LoggedIn())).StatusCode);
        await AssertProblemAsync(await api.PostAsJsonAsync("/api/v1/segments", new { name = "LOGGED IN THIS WEEK", definition = LoggedInDefinition() }),
            HttpStatusCode.Conflict, "already exists");
        Assert.Equal(11, (await api.GetFromJsonAsync<JsonElement>("/api/v1/segments")).GetProperty("total").GetInt32());

        await AssertProblemAsync(await api.GetAsync("/api/v1/segments/nope/members"), HttpStatusCode.NotFound, "No segment has this id");
        await AssertProblemAsync(await api.GetAsync($"/api/v1/segments/{Guid.NewGuid()}/members.csv"), HttpStatusCode.NotFound, "No segment has this id");
        await AssertProblemAsync(await api.GetAsync("/api/v1/segments?mode=staging"), HttpStatusCode.BadRequest, "mode must be live or test");
        await AssertProblemAsync(await api.GetAsync("/api/v1/segments/customers/members?pageSize=501"), HttpStatusCode.BadRequest, "pageSize");
    }

    [Fact]
    public async Task An_unknown_email_becomes_a_lead_whose_last_activity_is_the_posted_time()
    {
        var time = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var response = await api.PostAsJsonAsync("/api/v1/events", new { email = " New.Lead@Example.com ", metric = "Signed Up", time, properties = new { plan = "pro", seats = 3, trial = true } });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("leadCreated").GetBoolean());
        var person = (await SyncWait.AllPeopleAsync(api, "&email=new.lead@example.com")).Single();
        Assert.True(person.GetProperty("identified").GetBoolean());
        Assert.Equal(0, person.GetProperty("stripeCustomerIds").GetArrayLength());
        Assert.Equal(time, person.GetProperty("fields").GetProperty("last_activity").GetDateTimeOffset());
        Assert.Equal("new.lead@example.com", person.GetProperty("fields").GetProperty("email").GetString());
        var events = await api.GetFromJsonAsync<JsonElement>($"/api/v1/people/{person.GetProperty("id").GetGuid()}/events");
        var stored = events.GetProperty("items").EnumerateArray().Single();
        Assert.Equal("Signed Up", stored.GetProperty("metric").GetString());
        Assert.Equal("3", stored.GetProperty("properties").GetProperty("seats").GetString());

        // An older activity does not move last activity back.
        await PostEventAsync(new { email = "new.lead@example.com", metric = "Logged In", time = time.AddDays(-3) });
        person = (await SyncWait.AllPeopleAsync(api, "&email=new.lead@example.com")).Single();
        Assert.Equal(time, person.GetProperty("fields").GetProperty("last_activity").GetDateTimeOffset());
    }

    [Fact]
    public async Task A_retried_event_with_the_same_id_is_stored_once_and_events_without_id_each_count()
    {
        var first = await PostEventAsync(new { id = "evt-42", email = "r@example.com", metric = "Exported Report" });
        var retry = await PostEventAsync(new { id = "evt-42", email = "r@example.com", metric = "Exported Report" });
        await PostEventAsync(new { email = "r@example.com", metric = "Exported Report" });
        await PostEventAsync(new { email = "r@example.com", metric = "Exported Report" });

        Assert.False(first.GetProperty("duplicate").GetBoolean());
        Assert.True(retry.GetProperty("duplicate").GetBoolean());
        var person = (await SyncWait.AllPeopleAsync(api, "&email=r@example.com")).Single();
        var events = await api.GetFromJsonAsync<JsonElement>($"/api/v1/people/{person.GetProperty("id").GetGuid()}/events");
        Assert.Equal(3, events.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Bad_events_are_refused_with_a_sentence_and_nothing_is_stored()
    {
        var future = DateTimeOffset.UtcNow.AddDays(1);
        (object Body, string Says)[] cases =
        [
            (new { metric = "Logged In" }, "give \"email\" or \"stripeCustomerId\""),
            (new { email = "not-an-email", metric = "Logged In" }, "is not an email address"),
            (new { email = "x@example.com" }, "Name the activity"),
            (new { email = "x@example.com", metric = new string('m', 65) }, "at most 64 characters"),
            (new { email = "x@example.com", metric = "Successfully Paid" }, "derives from Stripe"),
            (new { email = "x@example.com", metric = "Logged In", time = future }, "is in the future"),
            (new { email = "x@example.com", metric = "Logged In", time = "yesterday" }, "is not a time"),
            (new { email = "x@example.com", metric = "Logged In", properties = new { nested = new { a = 1 } } }, "object or list"),
            (new { email = "x@example.com", metric = "Logged In", properties = new[] { 1, 2 } }, "\"properties\" is an object"),
        ];
        foreach (var (body, says) in cases)
        {
            await AssertProblemAsync(await api.PostAsJsonAsync("/api/v1/events", body), HttpStatusCode.BadRequest, says);
        }

        await AssertProblemAsync(await api.PostAsync("/api/v1/events", new StringContent("{", Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, "not valid JSON");
        await AssertProblemAsync(await api.PostAsJsonAsync("/api/v1/events", new { stripeCustomerId = "cus_nobody", metric = "Logged In" }),
            HttpStatusCode.NotFound, "No person has the Stripe customer id cus_nobody");
        Assert.Empty(await SyncWait.AllPeopleAsync(api));
    }

    private async Task<JsonElement> PostEventAsync(object body)
    {
        var response = await api.PostAsJsonAsync("/api/v1/events", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string says)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {status}, got {response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(says, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
