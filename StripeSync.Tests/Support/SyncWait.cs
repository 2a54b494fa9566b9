using System.Net.Http.Json;
using System.Text.Json;

namespace StripeSync.Tests.Support;

/// <summary>Waiting (bounded) for the sync to reach a state, through the public API as a user would.</summary>
public static class SyncWait
{
    /// <param name="settled">Also wait until no event and no person is waiting to be processed.</param>
    public static async Task<JsonElement> UntilAsync(HttpClient api, string state, TimeSpan? timeout = null, bool settled = true)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        JsonElement status;
        do
        {
            status = await api.GetFromJsonAsync<JsonElement>("/api/v1/status");
            if (status.GetProperty("state").GetString() == state && (!settled || status.GetProperty("connections").EnumerateArray()
                    .All(c => c.GetProperty("pendingEvents").GetInt32() == 0 && c.GetProperty("pendingPeople").GetInt32() == 0)))
            {
                return status;
            }

            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"The sync did not reach '{state}': {status}");
    }

    /// <summary>Connects a key and starts the sync through the API, as an automation script would.</summary>
    public static async Task<Guid> ConnectAsync(HttpClient api, string key, string mode = "import")
    {
        var created = await api.PostAsJsonAsync("/api/v1/connections", new { apiKey = key });
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal(System.Net.HttpStatusCode.Accepted, (await api.PostAsJsonAsync($"/api/v1/connections/{id}/sync", new { mode })).StatusCode);
        return id;
    }

    public static async Task<List<JsonElement>> AllPeopleAsync(HttpClient api, string query = "")
    {
        var people = new List<JsonElement>();
        for (var page = 1; ; page++)
        {
            var result = await api.GetFromJsonAsync<JsonElement>($"/api/v1/people?pageSize=500&page={page}{query}");
            people.AddRange(result.GetProperty("items").EnumerateArray());
            if (people.Count >= result.GetProperty("total").GetInt32())
            {
                return people;
            }
        }
    }
}
