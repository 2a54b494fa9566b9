using System.Text.Json;
using System.Text.Json.Nodes;

namespace StripeSync.Tests.Simulator;

/// <summary>
/// Every served resource carries the keys of Stripe's own example object (stripe-mock's fixtures3.json) with the
/// same kinds of values. Null is accepted against any kind (Stripe's nullable fields), an id string against an
/// object that has an id (an unexpanded expandable), and a string against a number for <c>*_decimal</c> fields
/// (Stripe sends decimals as strings; the fixture shows numbers).
/// </summary>
[Collection(SimulatorTests.Name)]
public sealed class SimulatorShapeTests(SimulatorFixture fixture)
{
    /// <summary>Keys of the fixture the simulator doesn't send, and why.</summary>
    private static readonly Dictionary<string, string> Omissions = new(StringComparer.Ordinal)
    {
        ["invoice.subscription"] = "removed in 2025-03-31.basil: the subscription is in parent.subscription_details.subscription "
            + "(Stripe.net 53 has no Invoice.Subscription); stripe-mock's example still carries it",
        ["line_item.subscription"] = "removed in 2025-03-31.basil: parent.subscription_item_details.subscription names it "
            + "(Stripe.net 53 has no InvoiceLineItem.Subscription)",
    };

    public static TheoryData<string, string> Resources => new()
    {
        { "/v1/customers?limit=100", "customer" },
        { "/v1/products?limit=100", "product" },
        { "/v1/prices?limit=100", "price" },
        { "/v1/plans?limit=100", "plan" },
        { "/v1/coupons?limit=100", "coupon" },
        { "/v1/subscriptions?status=all&limit=100", "subscription" },
        { "/v1/invoices?limit=100", "invoice" },
        { "/v1/invoice_payments?limit=100", "invoice_payment" },
        { "/v1/charges?limit=100", "charge" },
        { "/v1/refunds?limit=100", "refund" },
        { "/v1/checkout/sessions?limit=100", "checkout.session" },
        { "/v1/payment_methods?limit=100", "payment_method" },
        { "/v1/payment_intents?limit=100", "payment_intent" },
        { "/v1/events?limit=100", "event" },
    };

    private static readonly Lazy<JsonObject> FixtureResources = new(() =>
    {
        // A copy ships with the tests (MIT, see Fixtures/README.md), so they run wherever the repository is cloned.
        var path = Path.Combine(AppContext.BaseDirectory, "Simulator", "Fixtures", "fixtures3.json");
        return JsonNode.Parse(File.ReadAllText(path))!["resources"]!.AsObject();
    });

    [Theory]
    [MemberData(nameof(Resources))]
    public async Task Listed_objects_carry_the_keys_and_value_kinds_of_stripes_example(string path, string resource)
    {
        var data = (await fixture.GetJsonAsync(path, "sk_live_sim"))["data"]!.AsArray();
        Assert.NotEmpty(data);
        var problems = data.SelectMany(item => Compare(FixtureResources.Value[resource]!, item!, resource)).Distinct().ToList();
        Assert.Empty(problems);
    }

    [Fact]
    public async Task Retrieved_object_has_the_same_keys_as_the_listed_one()
    {
        var listed = (await fixture.GetJsonAsync("/v1/invoices?limit=1", "sk_live_sim"))["data"]![0]!.AsObject();
        var retrieved = (await fixture.GetJsonAsync($"/v1/invoices/{listed["id"]}", "sk_live_sim")).AsObject();
        Assert.Equal(listed.Select(p => p.Key).Order(StringComparer.Ordinal), retrieved.Select(p => p.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Invoice_lines_webhook_endpoints_and_account_match_stripes_examples()
    {
        var invoices = (await fixture.GetJsonAsync("/v1/invoices?limit=1"))["data"]!.AsArray();
        var lines = await fixture.GetJsonAsync($"/v1/invoices/{invoices[0]!["id"]}/lines");
        Assert.Equal("list", lines["object"]!.GetValue<string>());
        var problems = lines["data"]!.AsArray().SelectMany(l => Compare(FixtureResources.Value["line_item"]!, l!, "line_item")).ToList();

        using var create = new HttpRequestMessage(HttpMethod.Post, new Uri(fixture.Server.BaseUrl, "/v1/webhook_endpoints"))
        {
            Content = new FormUrlEncodedContent([new("url", "https://example.com/hook"), new("enabled_events[]", "invoice.paid")]),
        };
        create.Headers.Authorization = new("Bearer", "sk_test_sim");
        using var created = await fixture.Http.SendAsync(create);
        var endpoint = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        problems.AddRange(Compare(FixtureResources.Value["webhook_endpoint"]!, endpoint, "webhook_endpoint"));
        Assert.StartsWith("whsec_", endpoint["secret"]!.GetValue<string>(), StringComparison.Ordinal);
        using var deleted = await DeleteAsync($"/v1/webhook_endpoints/{endpoint["id"]}");
        Assert.True(JsonNode.Parse(await deleted.Content.ReadAsStringAsync())!["deleted"]!.GetValue<bool>());

        // The account: its top-level keys only; the simulator leaves Connect's nested details (capabilities,
        // requirements, settings…) empty, and StripeSync reads only the id.
        var account = await fixture.GetJsonAsync("/v1/account");
        problems.AddRange(Compare(FixtureResources.Value["account"]!, account, "account").Where(p => p.Split(':')[0].Count(c => c == '.') == 1));
        Assert.Empty(problems);
    }

    private async Task<HttpResponseMessage> DeleteAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(fixture.Server.BaseUrl, path));
        request.Headers.Authorization = new("Bearer", "sk_test_sim");
        return await fixture.Http.SendAsync(request);
    }

    private static IEnumerable<string> Compare(JsonNode expected, JsonNode? actual, string path)
    {
        if (expected is not JsonObject expectedObject || actual is not JsonObject actualObject)
        {
            yield break; // kinds are checked by the caller
        }

        foreach (var (key, value) in expectedObject)
        {
            var keyPath = $"{path}.{key}";
            if (Omissions.ContainsKey(keyPath) || (path == "event.data" && key == "object"))
            {
                continue; // an event's data.object is any resource: each is checked through its own list
            }

            if (!actualObject.TryGetPropertyValue(key, out var mine))
            {
                yield return $"{keyPath}: missing";
                continue;
            }

            if (value is null || mine is null)
            {
                continue;
            }

            var expectedKind = Kind(value);
            var actualKind = Kind(mine);
            var unexpanded = expectedKind == "object" && actualKind == "string" && value["id"] is not null;
            var decimalString = expectedKind == "number" && actualKind == "string" && key.EndsWith("_decimal", StringComparison.Ordinal);
            if (expectedKind != actualKind && !unexpanded && !decimalString)
            {
                yield return $"{keyPath}: {actualKind} where Stripe has {expectedKind}";
                continue;
            }

            if (value is JsonObject && mine is JsonObject && key != "metadata") // metadata keys are the merchant's own
            {
                foreach (var problem in Compare(value, mine, keyPath))
                {
                    yield return problem;
                }
            }

            if (value is JsonArray { Count: > 0 } expectedArray && mine is JsonArray { Count: > 0 } actualArray && expectedArray[0] is JsonObject)
            {
                foreach (var problem in Compare(expectedArray[0]!, actualArray[0], keyPath))
                {
                    yield return problem;
                }
            }
        }
    }

    private static string Kind(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };
}
