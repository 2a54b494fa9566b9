using System.Text.Json;
using System.Text.Json.Nodes;
using Stripe;
using Xunit.Abstractions;
using StripeSync.Core.StripeApi;
using StripeSync.Simulator;

namespace StripeSync.Tests.StripeApi;

// TEMPORARY: the new reader against the old Stripe.net parse + StripeMapper, before StripeMapper is deleted.
public sealed class ReaderVsMapperTemp(ITestOutputHelper output)
{
    private static string Old(string objectJson, bool livemode)
    {
        try
        {
            var e = EventUtility.ParseEvent("{\"id\":\"evt_x\",\"object\":\"event\",\"type\":\"x\",\"created\":1,\"data\":{\"object\":" + objectJson + "}}", throwOnApiVersionMismatch: false);
            var r = StripeMapper.Map(e.Data?.Object, livemode);
            return r is null ? "null" : JsonSerializer.Serialize(r, r.GetType());
        }
        catch (Exception e)
        {
            return "THROW " + e.GetType().Name;
        }
    }

    private static string New(string objectJson, bool livemode)
    {
        try
        {
            using var d = JsonDocument.Parse(objectJson);
            var r = StripeJsonReader.Read(d.RootElement, livemode);
            return r is null ? "null" : JsonSerializer.Serialize(r, r.GetType());
        }
        catch (Exception e)
        {
            return "THROW " + e.GetType().Name;
        }
    }

    [Fact]
    public async Task Reader_agrees_with_the_mapper()
    {
        var samples = new List<string>();
        var fixtures = JsonNode.Parse(System.IO.File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Simulator", "Fixtures", "fixtures3.json")))!["resources"]!;
        foreach (var k in new[] { "customer", "deleted_customer", "product", "deleted_product", "price", "coupon", "subscription", "invoice", "invoice_payment", "charge", "refund", "checkout.session", "payment_method" })
        {
            var o = fixtures[k]!.AsObject();
            samples.Add(o.ToJsonString());
            foreach (var name in o.Select(p => p.Key).ToList())
            {
                var removed = o.DeepClone().AsObject();
                removed.Remove(name);
                if (name != "object") samples.Add(removed.ToJsonString());
                var nulled = o.DeepClone().AsObject();
                nulled[name] = null;
                if (name != "object") samples.Add("NULL:" + nulled.ToJsonString());
            }
        }

        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 120, Seed = 3 });
        var events = sim.Account.EventsJson(livemode: true);
        foreach (var json in events)
        {
            var o = JsonNode.Parse(json)!["data"]!["object"]!;
            samples.Add(o.ToJsonString());
        }

        using var http = new HttpClient { BaseAddress = sim.BaseUrl };
        http.DefaultRequestHeaders.Authorization = new("Bearer", "rk_live_sim_full");
        foreach (var path in new[] { "/v1/customers?limit=100&expand[0]=data.invoice_settings.default_payment_method", "/v1/subscriptions?status=all&limit=100&expand[0]=data.discounts&expand[1]=data.items.data.discounts",
            "/v1/prices?limit=100&expand[0]=data.tiers", "/v1/checkout/sessions?limit=100&expand[0]=data.line_items", "/v1/invoices?limit=100", "/v1/invoice_payments?limit=100", "/v1/charges?limit=100", "/v1/refunds?limit=100", "/v1/coupons?limit=100", "/v1/products?limit=100" })
        {
            var page = JsonNode.Parse(await http.GetStringAsync(path))!;
            foreach (var item in page["data"]!.AsArray())
            {
                samples.Add(item!.ToJsonString());
            }
        }

        int same = 0, nullDiff = 0;
        var diffs = new List<string>();
        foreach (var raw in samples)
        {
            var isNull = raw.StartsWith("NULL:", StringComparison.Ordinal);
            var json = isNull ? raw[5..] : raw;
            var (a, b) = (Old(json, true), New(json, true));
            if (a == b) { same++; continue; }
            if (isNull) { nullDiff++; output.WriteLine("NULLDIFF " + json[..Math.Min(json.Length, 100)] + "\n  old " + a + "\n  new " + b); continue; }
            diffs.Add(json + "\n  old " + a + "\n  new " + b);
        }

        foreach (var d in diffs.Take(30)) output.WriteLine("DIFF " + d);
        output.WriteLine($"same {same}, diffs {diffs.Count}, null diffs {nullDiff}, samples {samples.Count}");

        // Events as a whole: Data and Previous.
        var eventDiffs = 0;
        foreach (var json in events)
        {
            var record = StripeEvents.Parse(json, livemode: true)!;
            var e = EventUtility.ParseEvent(json, throwOnApiVersionMismatch: false);
            Assert.Equal(e.Id, record.Id);
            Assert.Equal(new DateTimeOffset(DateTime.SpecifyKind(e.Created, DateTimeKind.Utc)), record.Created);
            if (json.Contains("previous_attributes", StringComparison.Ordinal))
            {
                var root = Newtonsoft.Json.Linq.JObject.Parse(json);
                var data = (Newtonsoft.Json.Linq.JObject)root["data"]!;
                var before = (Newtonsoft.Json.Linq.JObject)data["object"]!.DeepClone();
                foreach (var p in ((Newtonsoft.Json.Linq.JObject)data["previous_attributes"]!).Properties()) before[p.Name] = p.Value.DeepClone();
                var old = Old(before.ToString(Newtonsoft.Json.Formatting.None), true);
                var now = record.Previous is null ? "null" : JsonSerializer.Serialize(record.Previous, record.Previous.GetType());
                if (old != now) { eventDiffs++; output.WriteLine("PREVDIFF " + e.Type + "\n  old " + old + "\n  new " + now); }
            }
        }

        output.WriteLine($"event previous diffs {eventDiffs} of {events.Count}");
        Assert.Empty(diffs);
        Assert.Equal(0, eventDiffs);
    }
}
