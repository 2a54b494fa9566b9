using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Stripe;
using StripeSync.Core.Persistence;
using StripeSync.Tests.Support;
using CoreConnections = StripeSync.Core.Connections.Connections;

namespace StripeSync.Tests.Reliability;

/// <summary>
/// The webhook endpoint is the one door open to the internet without a sign-in. A fuzzer throws at it
/// what a hostile or broken sender would: every input is refused or ignored with the right status,
/// nothing reaches the inbox, and the app stays healthy.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class WebhookAbuseTests : IAsyncLifetime
{
    private const string Secret = "whsec_fuzz_secret_0123456789";
    private AppHost app = default!;
    private Guid connectionId;

    public async Task InitializeAsync()
    {
        app = AppHost.Start();
        var connections = app.Services.GetRequiredService<CoreConnections>();
        var connection = await connections.AddAsync("rk_test_fuzztests0123456789", default);
        await connections.SetWebhookAsync(connection.Id, "we_fuzz", Secret, default);
        connectionId = connection.Id;
    }

    public async Task DisposeAsync() => await app.DisposeAsync();

    [Fact]
    public async Task Unsigned_forged_and_replayed_deliveries_are_refused_with_400_and_counted()
    {
        var random = new Random(8);
        var real = Event("evt_fuzz_real", "customer.updated");
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signatures = new List<string?>
        {
            null, "", " ", "garbage", "t=,v1=", "v1=deadbeef", $"t={now}", $"t={now},v1=", $"t=abc,v1={new string('a', 64)}",
            $"t={now},v0={Hmac(now, real)}", $"t={now},v1={Hmac(now, real).ToUpperInvariant()}x",
            EventUtility.GenerateSignatureHeader(real, "whsec_someone_else", null),
            EventUtility.GenerateSignatureHeader(real, Secret, now - 301), // replayed: older than the 5-minute tolerance
            EventUtility.GenerateSignatureHeader(real, Secret, now - 86_400),
            EventUtility.GenerateSignatureHeader(real, Secret, now + 3_600), // from the future
            "t=" + now + "," + string.Join(",", Enumerable.Repeat("v1=" + new string('0', 64), 500)),
            new string('x', 8_000),
        };
        for (var i = 0; i < 40; i++)
        {
            signatures.Add(RandomAscii(random, random.Next(1, 200)));
        }

        foreach (var signature in signatures)
        {
            using var response = await PostAsync(real, signature);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        // A body changed after signing (one byte at a time) no longer matches its signature.
        var header = Sign(real);
        for (var i = 0; i < 40; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(real);
            bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(7));
            using var response = await PostAsync(Encoding.UTF8.GetString(bytes), header);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        Assert.Equal(0, await InboxCountAsync());
        Assert.Equal(signatures.Count + 40, await RejectedAsync());
        await AssertHealthyAsync();
        ReliabilityReport.Write("Webhook abuse: signatures",
            $"{signatures.Count} missing, malformed, forged, replayed (older than 5 minutes) or future signatures, and 40 bodies altered after signing",
            $"answered 400: {signatures.Count + 40}; counted as rejected on Sync health: {await RejectedAsync()}; events stored: {await InboxCountAsync()}; /healthz afterwards: 200");
    }

    [Fact]
    public async Task Signed_bodies_that_are_not_stripe_events_are_refused_and_nothing_is_stored()
    {
        var random = new Random(9);
        var bodies = new List<string>
        {
            "", " ", "null", "true", "0", "\"evt\"", "[]", "{}", "{not json", "{\"id\":", "<xml/>", "id=evt_1&type=customer.created",
            "{\"id\":\"evt_1\"}", "{\"type\":\"customer.created\"}", "{\"id\":null,\"type\":null}", "{\"id\":1,\"type\":2,\"data\":3}",
            "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"customer.created\",\"created\":\"yesterday\",\"data\":{\"object\":{}}}",
            "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"customer.created\",\"created\":1,\"data\":{\"object\":{\"object\":\"customer\",\"id\":\"cus_1\",\"created\":\"x\"}}}",
            new string('[', 20_000) + new string(']', 20_000), // deep nesting must not take the process down
            "{\"a\":" + string.Concat(Enumerable.Repeat("{\"a\":", 5_000)) + "1" + new string('}', 5_001),
            "\uFEFF{\"id\":\"evt_bom\"}", "{\"id\":\"evt_\u0000nul\",\"type\":\"customer.created\"}",
            "{\"id\":\"evt_x\",\"object\":\"event\",\"type\":\"customer.created\",\"data\":{\"object\":\"<script>alert(1)</script>\"}}",
        };
        for (var i = 0; i < 60; i++)
        {
            bodies.Add(Mutate(random, Event($"evt_mut_{i}", "customer.created")));
        }

        var statuses = new List<HttpStatusCode>();
        foreach (var body in bodies)
        {
            using var response = await PostAsync(body, Sign(body));
            statuses.Add(response.StatusCode);
            // A mutation may still be a well-formed event (a changed letter in an email): then it is a real, signed event.
            Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.OK,
                $"body #{statuses.Count - 1} ({body[..Math.Min(60, body.Length)]}…) got {(int)response.StatusCode}");
        }

        Assert.All(statuses.Take(23), s => Assert.Equal(HttpStatusCode.BadRequest, s));
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var stored = await db.Inbox.Select(e => e.EventId).ToListAsync();
        Assert.All(stored, id => Assert.StartsWith("evt_mut_", id, StringComparison.Ordinal));
        // An accepted mutation whose object is no longer one StripeSync keeps is acknowledged but not stored.
        Assert.InRange(stored.Count, 1, statuses.Count(s => s == HttpStatusCode.OK));
        await AssertHealthyAsync();
        ReliabilityReport.Write("Webhook abuse: signed junk",
            $"{bodies.Count} correctly signed bodies that are not Stripe events (empty, scalars, truncated JSON, 20,000-deep nesting, wrong types, script, 60 random mutations of a real event)",
            $"answered 400: {statuses.Count(s => s == HttpStatusCode.BadRequest)}; answered 200: {statuses.Count(s => s == HttpStatusCode.OK)} (mutations that were still well-formed events); stored: {stored.Count}, all of them well-formed events; 5xx: 0; /healthz afterwards: 200");
    }

    [Fact]
    public async Task Events_about_objects_StripeSync_does_not_keep_are_acknowledged_and_dropped()
    {
        var unknown = new[]
        {
            EventAbout("evt_payout", "payout.paid", "{\"id\":\"po_1\",\"object\":\"payout\",\"amount\":100}"),
            EventAbout("evt_balance", "balance.available", "{\"object\":\"balance\",\"available\":[]}"),
            EventAbout("evt_invented", "made.up.type", "{\"id\":\"zz_1\",\"object\":\"made_up\"}"),
        };

        foreach (var body in unknown)
        {
            using var response = await PostAsync(body, Sign(body));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(0, await InboxCountAsync());
    }

    [Fact]
    public async Task Wrong_content_types_methods_and_sizes_get_the_right_status()
    {
        var payload = Event("evt_ct", "customer.created");
        using var client = app.Anonymous();
        var url = $"/stripe/webhooks/{connectionId}";

        foreach (var type in new[] { "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream" })
        {
            using var content = new StringContent(payload, Encoding.UTF8);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
            content.Headers.Add("Stripe-Signature", EventUtility.GenerateSignatureHeader(payload, "whsec_wrong", null));
            using var response = await client.PostAsync(url, content);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        using (var get = await client.GetAsync(url))
        {
            // Only POST is mapped; a GET falls through to the signed-in pages and is sent to sign in.
            Assert.Equal(HttpStatusCode.Redirect, get.StatusCode);
            Assert.Contains("/Account/Login", get.Headers.Location!.ToString(), StringComparison.Ordinal);
        }

        using (var notAGuid = await client.PostAsync("/stripe/webhooks/not-a-guid", new StringContent(payload, Encoding.UTF8, "application/json")))
        {
            // No webhook route matches: like any unknown address, anonymous callers are sent to sign in.
            Assert.Equal(HttpStatusCode.Redirect, notAGuid.StatusCode);
        }

        var huge = "{\"id\":\"evt_huge\",\"pad\":\"" + new string('x', 2 * 1024 * 1024) + "\"}";
        using (var big = await PostAsync(huge, Sign(huge)))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        }

        // Chunked (no Content-Length): the cap holds while reading.
        using (var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge))))
        {
            chunked.Headers.Add("Stripe-Signature", Sign(huge));
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = chunked };
            request.Headers.TransferEncodingChunked = true;
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }

        Assert.Equal(0, await InboxCountAsync());
        await AssertHealthyAsync();
    }

    private async Task AssertHealthyAsync()
    {
        using var client = app.Anonymous();
        using var health = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    private async Task<int> InboxCountAsync()
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await db.Inbox.CountAsync();
    }

    private async Task<long> RejectedAsync()
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await db.Connections.Where(c => c.Id == connectionId).Select(c => c.RejectedWebhooks).SingleAsync();
    }

    private async Task<HttpResponseMessage> PostAsync(string payload, string? signature)
    {
        using var client = app.Anonymous();
        using var content = new StringContent(payload, Encoding.UTF8, "application/json");
        if (signature is not null)
        {
            content.Headers.TryAddWithoutValidation("Stripe-Signature", signature);
        }

        return await client.PostAsync($"/stripe/webhooks/{connectionId}", content);
    }

    private static string Sign(string payload) => EventUtility.GenerateSignatureHeader(payload, Secret, null);

    private static string Hmac(long timestamp, string payload)
    {
        using var hmac = new System.Security.Cryptography.HMACSHA256(Encoding.UTF8.GetBytes(Secret));
        return Convert.ToHexStringLower(hmac.ComputeHash(Encoding.UTF8.GetBytes($"{timestamp}.{payload}")));
    }

    private static string RandomAscii(Random random, int length) =>
        new([.. Enumerable.Range(0, length).Select(_ => (char)random.Next(0x20, 0x7f))]);

    /// <summary>Cuts, duplicates or corrupts part of a real event, as a broken proxy or a hostile sender would.</summary>
    private static string Mutate(Random random, string json)
    {
        var at = random.Next(json.Length);
        return random.Next(4) switch
        {
            0 => json[..at],
            1 => json[..at] + json[at..].Replace('"', '\''),
            2 => json.Insert(at, RandomAscii(random, random.Next(1, 20))),
            _ => json.Remove(at, Math.Min(json.Length - at, random.Next(1, 30))),
        };
    }

    private static string Event(string id, string type) =>
        EventAbout(id, type, "{\"id\":\"cus_fuzz1\",\"object\":\"customer\",\"created\":1700000000,\"email\":\"fuzz@example.test\",\"livemode\":false,\"metadata\":{}}");

    private static string EventAbout(string id, string type, string dataObject) =>
        "{\"id\":\"" + id + "\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"created\":" + DateTimeOffset.UtcNow.ToUnixTimeSeconds()
        + ",\"livemode\":false,\"pending_webhooks\":1,\"request\":{\"id\":null,\"idempotency_key\":null},\"type\":\"" + type + "\","
        + "\"data\":{\"object\":" + dataObject + "}}";
}
