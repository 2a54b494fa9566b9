using System.Text;
using Microsoft.Extensions.Options;
using Stripe;
using StripeSync.Core.StripeApi;
using StripeSync.Simulator;

namespace StripeSync.Tests.StripeApi;

/// <summary>Intake's own reading of a webhook (signature over the raw bytes, the envelope only) agrees with Stripe.net's.</summary>
public sealed class StripeEventsTests
{
    private const string Secret = "whsec_events_secret_0123456789";

    [Fact]
    public async Task The_envelope_agrees_with_the_full_parse_on_every_event_of_an_account()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 60, Seed = 3 });
        var events = sim.Account.EventsJson(livemode: true);
        Assert.NotEmpty(events);

        foreach (var json in events)
        {
            var full = StripeEvents.Parse(json, livemode: true)!;
            var envelope = StripeEvents.ReadEnvelope(Encoding.UTF8.GetBytes(json))!;
            Assert.Equal((full.Id, full.Type, full.Created.ToUnixTimeSeconds(), full.Livemode), (envelope.Id, envelope.Type, envelope.Created, envelope.Livemode));
            // What intake keeps is exactly what the processor can read into a record.
            Assert.True(envelope.Kept == (full.Data is not null), $"{full.Type}: kept {envelope.Kept}, record {full.Data?.GetType().Name ?? "none"}");
        }
    }

    [Fact]
    public async Task Customer_deleted_reads_as_a_deleted_customer_in_its_last_state_and_the_deleted_stub_replaces_nothing()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Customers = 10, Seed = 3 });
        var customers = sim.Account.All<Customer>(livemode: true).Where(c => c.Email is not null).Take(2).ToList();
        sim.Control.DeleteCustomer(customers[0].Id);

        // Stripe's event carries the customer as it was, without "deleted": the type alone says so.
        var deleted = sim.Account.EventsJson(livemode: true).Select(json => StripeEvents.Parse(json, livemode: true)!).Single(e => e.Type == "customer.deleted");
        var record = Assert.IsType<CustomerRecord>(deleted.Data);
        Assert.True(record.Deleted);
        Assert.Equal(customers[0].Email, record.Email);

        // A retrieve answers {id, object, deleted: true}: nothing to store over what the event told.
        using var gateway = new StripeGateway(Options.Create(new StripeOptions { ApiBase = sim.BaseUrl }), TimeProvider.System);
        var client = gateway.For(Guid.NewGuid(), "rk_live_sim_full", livemode: true);
        Assert.Null(await client.RetrieveAsync(StripeObjectType.Customer, customers[0].Id, default));
        Assert.Equal(customers[1].Email, Assert.IsType<CustomerRecord>(await client.RetrieveAsync(StripeObjectType.Customer, customers[1].Id, default)).Email);
    }

    [Theory]
    [InlineData("{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"payout.paid\",\"created\":1,\"data\":{\"object\":{\"id\":\"po_1\",\"object\":\"payout\"}}}", false)]
    [InlineData("{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"balance.available\",\"created\":1,\"data\":{\"object\":{\"object\":\"balance\"}}}", false)]
    [InlineData("{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"customer.created\",\"created\":1,\"data\":{\"object\":{\"id\":\"cus_1\",\"object\":\"customer\"}}}", true)]
    [InlineData("{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"checkout.session.completed\",\"created\":1,\"data\":{\"object\":{\"id\":\"cs_1\",\"object\":\"checkout.session\"}}}", true)]
    public void Objects_StripeSync_does_not_keep_are_read_but_not_kept(string json, bool kept)
    {
        var envelope = StripeEvents.ReadEnvelope(Encoding.UTF8.GetBytes(json));

        Assert.NotNull(envelope);
        Assert.Equal(kept, envelope.Kept);
        Assert.Equal(kept, StripeEvents.Parse(json, livemode: false)!.Data is not null);
    }

    [Theory]
    [InlineData("{\"id\":\"evt_1\",\"type\":\"customer.created\",\"created\":\"yesterday\"}")]
    [InlineData("{\"id\":\"evt_1\",\"type\":\"customer.created\",\"created\":1,\"livemode\":\"no\"}")]
    [InlineData("{\"id\":\"evt_1\",\"type\":\"customer.created\",\"created\":1,\"data\":[]}")]
    [InlineData("{\"id\":\"evt_1\",\"type\":\"customer.created\",\"created\":1,\"data\":{\"object\":\"cus_1\"}}")]
    [InlineData("{\"id\":\"evt_1\",\"type\":\"customer.created\",\"created\":1,\"data\":{\"object\":{\"object\":\"customer\"}}}")]
    [InlineData("{\"id\":\"evt_1\",\"type\":\"customer.created\",\"created\":1,\"data\":{\"object\":{\"object\":\"customer\",\"id\":\"cus_1\",\"created\":\"x\"}}}")]
    [InlineData("{\"id\":\"evt_1\",\"type\":\"customer.created\",\"created\":1,\"data\":{\"object\":{\"object\":7}}}")]
    [InlineData("{\"id\":\"evt_1\",\"type\":\"customer.created\",\"created\":1} trailing")]
    [InlineData("{\"id\":\"\",\"type\":\"customer.created\",\"created\":1}")]
    public void Bodies_that_are_not_stripe_events_have_no_envelope(string json) =>
        Assert.Null(StripeEvents.ReadEnvelope(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void Ids_longer_than_the_inbox_holds_are_not_stripe_events()
    {
        var json = "{\"id\":\"evt_" + new string('a', 300) + "\",\"type\":\"customer.created\",\"created\":1}";

        Assert.Null(StripeEvents.ReadEnvelope(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void A_signature_made_by_stripe_net_is_valid_within_five_minutes_either_way()
    {
        var payload = "{\"id\":\"evt_sig\",\"type\":\"customer.created\",\"created\":1}";
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        bool At(long offset) =>
            StripeEvents.IsSignatureValid(Encoding.UTF8.GetBytes(payload), EventUtility.GenerateSignatureHeader(payload, Secret, now.ToUnixTimeSeconds() + offset), Secret, now);

        Assert.True(At(0));
        Assert.True(At(-300));
        Assert.True(At(300));
        Assert.False(At(-301));
        Assert.False(At(301));
    }

    [Fact]
    public void Any_of_several_v1_signatures_may_match_as_while_a_secret_is_rolled()
    {
        var payload = Encoding.UTF8.GetBytes("{\"id\":\"evt_roll\"}");
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var t = now.ToUnixTimeSeconds();
        var old = Sign("whsec_the_old_one", t, payload);
        var current = Sign(Secret, t, payload);

        Assert.True(StripeEvents.IsSignatureValid(payload, $"t={t},v1={old},v1={current}", Secret, now));
        Assert.True(StripeEvents.IsSignatureValid(payload, $"t={t}, v0=abc, v1={current}", Secret, now));
        Assert.False(StripeEvents.IsSignatureValid(payload, $"t={t},v1={old}", Secret, now));
        Assert.False(StripeEvents.IsSignatureValid(payload, $"t={t},v1={current.ToUpperInvariant()}", Secret, now));
        Assert.False(StripeEvents.IsSignatureValid(payload, $"v1={current}", Secret, now));
        Assert.False(StripeEvents.IsSignatureValid(payload, $"t={t},v0={current}", Secret, now));
    }

    [Fact]
    public void The_signature_covers_the_raw_bytes_not_their_decoding()
    {
        // Not valid UTF-8: a decoded string would replace the byte and sign something else.
        var payload = new byte[] { (byte)'{', 0xC3, (byte)'}' };
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var t = now.ToUnixTimeSeconds();

        Assert.True(StripeEvents.IsSignatureValid(payload, $"t={t},v1={Sign(Secret, t, payload)}", Secret, now));
        Assert.False(StripeEvents.IsSignatureValid([(byte)'{', 0xC4, (byte)'}'], $"t={t},v1={Sign(Secret, t, payload)}", Secret, now));
    }

    private static string Sign(string secret, long t, byte[] payload)
    {
        using var hmac = new System.Security.Cryptography.HMACSHA256(Encoding.UTF8.GetBytes(secret));
        return Convert.ToHexStringLower(hmac.ComputeHash([.. Encoding.ASCII.GetBytes($"{t}."), .. payload]));
    }
}
