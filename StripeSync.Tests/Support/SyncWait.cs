using System.Net.Http.Json;
using System.Text.Json;

namespace StripeSync.Tests.Support;

/// <summary>Waiting (bounded) for the sync to reach a state, through the public API as a user would.</summary>
public static class SyncWait
{
    public static async Task<JsonElement> UntilAsync(HttpClient api, string state, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        JsonElement status;
        do
        {
            status = await api.GetFromJsonAsync<JsonElement>("/api/v1/status");
            if (status.GetProperty("state").GetString() == state
                && status.GetProperty("connections").EnumerateArray()
                    .All(c => c.GetProperty("pendingEvents").GetInt32() == 0 && c.GetProperty("pendingPeople").GetInt32() == 0))
            {
                return status;
            }

            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"The sync did not reach '{state}': {status}");
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
