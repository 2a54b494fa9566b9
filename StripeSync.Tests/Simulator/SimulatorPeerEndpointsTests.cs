using System.Net;
using Stripe;
using Stripe.Checkout;
using StripeSync.Simulator.Api;

namespace StripeSync.Tests.Simulator;

/// <summary>
/// The endpoints a client that mirrors every type walks (benchmark scenario 5's peer) beyond what StripeSync imports:
/// payment intents made by the account's charges, checkout line items, and the lists of types the account has none of.
/// </summary>
[Collection(SimulatorTests.Name)]
public sealed class SimulatorPeerEndpointsTests(SimulatorFixture fixture)
{
    [Fact]
    public async Task Every_charges_payment_intent_is_listed_with_its_latest_attempt()
    {
        var charges = fixture.Server.Account.All<Charge>(true);
        var intents = new List<PaymentIntent>();
        await foreach (var intent in new PaymentIntentService(fixture.Client("rk_live_sim_full")).ListAutoPagingAsync(new PaymentIntentListOptions { Limit = 100 }))
        {
            intents.Add(intent);
        }

        // Computed from the charges alone: an intent's attempts are its charges, the last one decides its state.
        var expected = charges.GroupBy(c => c.PaymentIntentId).ToDictionary(g => g.Key, g => g.OrderBy(c => c.Created).ThenBy(c => c.Id, StringComparer.Ordinal).Last());
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), intents.Select(i => i.Id).Order(StringComparer.Ordinal));
        Assert.Equal(intents.Select(i => i.Created).OrderDescending(), intents.Select(i => i.Created));
        foreach (var intent in intents)
        {
            var last = expected[intent.Id];
            Assert.Equal(last.Id, intent.LatestChargeId);
            Assert.Equal(last.Status == "succeeded" ? "succeeded" : "requires_payment_method", intent.Status);
            Assert.Equal(last.Status == "succeeded" ? last.Amount : 0, intent.AmountReceived);
            Assert.Equal(last.CustomerId, intent.CustomerId);
            Assert.Equal(last.Status == "succeeded" ? null : last.FailureCode, intent.LastPaymentError?.Code);
        }

        var one = intents[0];
        Assert.Equal(one.Id, (await new PaymentIntentService(fixture.Client("sk_live_sim")).GetAsync(one.Id)).Id);
        var ofCustomer = await new PaymentIntentService(fixture.Client("sk_live_sim")).ListAsync(new PaymentIntentListOptions { Customer = one.CustomerId, Limit = 100 });
        Assert.Equal(intents.Where(i => i.CustomerId == one.CustomerId).Select(i => i.Id), ofCustomer.Data.Select(i => i.Id));
    }

    [Fact]
    public async Task Checkout_line_items_are_the_sessions_own_with_their_price()
    {
        var session = fixture.Server.Account.All<Session>(true)[^1];
        var items = await new SessionLineItemService(fixture.Client("rk_live_sim_full")).ListAsync(session.Id, new SessionLineItemListOptions { Limit = 100 });
        Assert.Equal(session.LineItems.Data.Select(l => l.Id), items.Data.Select(l => l.Id));
        Assert.Equal(session.LineItems.Data[0].Price.Id, items.Data[0].Price.Id);
        Assert.False(items.HasMore);

        using var missing = await fixture.GetAsync("/v1/checkout/sessions/cs_missing1/line_items", "sk_live_sim");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Theory]
    [InlineData("/v1/setup_intents")]
    [InlineData("/v1/disputes")]
    [InlineData("/v1/radar/early_fraud_warnings")]
    [InlineData("/v1/tax_ids")]
    [InlineData("/v1/credit_notes")]
    [InlineData("/v1/subscription_schedules")]
    public async Task Types_the_account_has_none_of_answer_stripes_empty_list(string path)
    {
        var list = await fixture.GetJsonAsync(path + "?limit=100", "rk_live_sim_full");
        Assert.Equal("list", list["object"]!.GetValue<string>());
        Assert.Empty(list["data"]!.AsArray());
        Assert.False(list["has_more"]!.GetValue<bool>());
        Assert.Equal(path, list["url"]!.GetValue<string>());

        // Behind the same gate as every list: the key first, then the limit's bounds.
        using var unauthorized = await fixture.GetAsync(path, "sk_live_unknown1234");
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        using var badLimit = await fixture.GetAsync(path + "?limit=101", "rk_live_sim_full");
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
    }

    [Theory]
    [InlineData("/v1/checkout/sessions/cs_HgNtUCAhXAAdQJ/line_items", "/v1/checkout/sessions/{id}/line_items")]
    [InlineData("/v1/invoices/in_1a2b/lines", "/v1/invoices/{id}/lines")]
    [InlineData("/v1/payment_methods", "/v1/payment_methods")]
    [InlineData("/v1/radar/early_fraud_warnings", "/v1/radar/early_fraud_warnings")]
    public void Ids_fold_into_one_endpoint_for_the_per_endpoint_limit_whatever_their_letters(string path, string endpoint) =>
        Assert.Equal(endpoint, Gate.Endpoint(path));
}
