using System.Net;
using System.Text.Json.Nodes;
using Stripe;

namespace StripeSync.Tests.Simulator;

/// <summary>Errors look like Stripe's, on the wire (status, body, headers) and as Stripe.net surfaces them.</summary>
[Collection(SimulatorTests.Name)]
public sealed class SimulatorErrorTests(SimulatorFixture fixture)
{
    [Fact]
    public async Task Unknown_key_answers_401_with_stripes_masked_key_message()
    {
        using var response = await fixture.GetAsync("/v1/customers", "sk_test_unknownkey1234");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("req_", response.Headers.GetValues("Request-Id").Single(), StringComparison.Ordinal);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = await ErrorAsync(response);
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal("Invalid API Key provided: sk_test_**********1234", error["message"]!.GetValue<string>());

        var exception = await Assert.ThrowsAsync<StripeException>(() => new CustomerService(fixture.Client("sk_test_unknownkey1234", 0)).ListAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, exception.HttpStatusCode);
        Assert.Equal("invalid_request_error", exception.StripeError.Type);
    }

    [Fact]
    public async Task Missing_key_answers_401()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(fixture.Server.BaseUrl, "/v1/customers"));
        using var response = await fixture.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("You did not provide an API key.", (await ErrorAsync(response))["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoked_key_answers_401_until_restored()
    {
        fixture.Server.Faults.Revoke("sk_live_sim");
        try
        {
            var exception = await Assert.ThrowsAsync<StripeException>(() => new CustomerService(fixture.Client("sk_live_sim", 0)).ListAsync());
            Assert.Equal(HttpStatusCode.Unauthorized, exception.HttpStatusCode);
            Assert.Equal("api_key_expired", exception.StripeError.Code);
        }
        finally
        {
            fixture.Server.Faults.Restore("sk_live_sim");
        }

        Assert.NotEmpty((await new CustomerService(fixture.Client("sk_live_sim")).ListAsync()).Data);
    }

    [Fact]
    public async Task Publishable_key_is_refused()
    {
        using var response = await fixture.GetAsync("/v1/customers", "pk_test_sim");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("publishable API key", (await ErrorAsync(response))["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("customers_read", "/v1/customers", "rak_customer_read")]
    [InlineData("customers_read", "/v1/payment_methods", "rak_customer_read")]
    [InlineData("invoices_read", "/v1/invoice_payments", "rak_invoice_read")]
    [InlineData("charges_read", "/v1/refunds", "rak_charge_read")]
    [InlineData("subscriptions_read", "/v1/subscriptions", "rak_subscription_read")]
    [InlineData("prices_read", "/v1/coupons", "rak_plan_read")]
    [InlineData("products_read", "/v1/products", "rak_product_read")]
    [InlineData("events_read", "/v1/events", "rak_event_read")]
    [InlineData("checkout_sessions_read", "/v1/checkout/sessions", "rak_checkout_session_read")]
    [InlineData("webhook_endpoints_write", "/v1/webhook_endpoints", "rak_webhook_write")]
    [InlineData("payment_intents_read", "/v1/payment_intents", "rak_payment_intent_read")]
    [InlineData("disputes_read", "/v1/disputes", "rak_dispute_read")]
    [InlineData("radar_read", "/v1/radar/early_fraud_warnings", "rak_radar_read")]
    public async Task Restricted_key_without_a_permission_answers_403_with_stripes_message(string permission, string path, string rak)
    {
        using var response = await fixture.GetAsync(path, $"rk_test_sim_without_{permission}");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = await ErrorAsync(response);
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        var message = error["message"]!.GetValue<string>();
        Assert.StartsWith("The provided key 'rk_test_", message, StringComparison.Ordinal);
        Assert.EndsWith($"' does not have the required permissions for this endpoint on account '{fixture.Server.Account.AccountId}'. "
            + $"Having the '{rak}' permission would allow this request to continue.", message, StringComparison.Ordinal);

        using var allowed = await fixture.GetAsync(path, "rk_test_sim_full");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task Restricted_key_surfaces_as_stripe_exception_403()
    {
        var exception = await Assert.ThrowsAsync<StripeException>(() => new InvoiceService(fixture.Client("rk_test_sim_without_invoices_read", 0)).ListAsync());
        Assert.Equal(HttpStatusCode.Forbidden, exception.HttpStatusCode);
        Assert.Equal("invalid_request_error", exception.StripeError.Type);
    }

    [Fact]
    public async Task Account_is_readable_with_secret_keys_and_refused_to_restricted_keys()
    {
        var account = await new AccountService(fixture.Client("sk_live_sim")).GetSelfAsync();
        Assert.Equal(fixture.Server.Account.AccountId, account.Id);

        // None of SPEC §1's permissions covers the account; Stripe refuses it to restricted keys.
        using var response = await fixture.GetAsync("/v1/account", "rk_live_sim_full");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.StartsWith("The provided key 'rk_live_", (await ErrorAsync(response))["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Past_the_rate_limit_requests_answer_429_rate_limit()
    {
        var faults = fixture.Server.Faults;
        faults.TestRequestsPerSecond = 2;
        try
        {
            HttpResponseMessage? limited = null;
            for (var i = 0; i < 10 && limited is null; i++)
            {
                var response = await fixture.GetAsync("/v1/products");
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    limited = response;
                }
                else
                {
                    response.Dispose();
                }
            }

            Assert.NotNull(limited);
            var error = await ErrorAsync(limited);
            Assert.Equal("rate_limit", error["code"]!.GetValue<string>());
            Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
            Assert.StartsWith("Request rate limit exceeded.", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
            limited.Dispose();

            var exception = await Assert.ThrowsAsync<StripeException>(async () =>
            {
                for (var i = 0; i < 10; i++)
                {
                    await new ProductService(fixture.Client("sk_test_sim", 0)).ListAsync();
                }
            });
            Assert.Equal(HttpStatusCode.TooManyRequests, exception.HttpStatusCode);
            Assert.Equal("rate_limit", exception.StripeError.Code);

            // Live mode has its own bucket.
            Assert.NotEmpty((await new ProductService(fixture.Client("sk_live_sim", 0)).ListAsync()).Data);
        }
        finally
        {
            faults.TestRequestsPerSecond = 0;
        }
    }

    [Fact]
    public async Task Injected_failure_answers_500_with_should_retry()
    {
        var faults = fixture.Server.Faults;
        faults.FailNext(1);
        using var response = await fixture.GetAsync("/v1/customers");
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("Stripe-Should-Retry").Single());
        Assert.Equal("api_error", (await ErrorAsync(response))["type"]!.GetValue<string>());

        faults.FailNext(1);
        var exception = await Assert.ThrowsAsync<StripeException>(() => new CustomerService(fixture.Client("sk_test_sim", 0)).ListAsync());
        Assert.Equal(HttpStatusCode.InternalServerError, exception.HttpStatusCode);
        Assert.Equal("api_error", exception.StripeError.Type);

        // Stripe.net honours Stripe-Should-Retry and retries twice by default: one failure is invisible to it.
        faults.FailNext(1);
        Assert.NotEmpty((await new CustomerService(fixture.Client("sk_test_sim")).ListAsync()).Data);
        Assert.Equal(0, faults.PendingFailures);
    }

    [Fact]
    public async Task Unknown_ids_answer_404_resource_missing()
    {
        var exception = await Assert.ThrowsAsync<StripeException>(() => new CustomerService(fixture.Client("sk_test_sim", 0)).GetAsync("cus_missing"));
        Assert.Equal(HttpStatusCode.NotFound, exception.HttpStatusCode);
        Assert.Equal("resource_missing", exception.StripeError.Code);
        Assert.Equal("No such customer: 'cus_missing'", exception.StripeError.Message);
        Assert.Equal("id", exception.StripeError.Param);
    }

    [Theory]
    [InlineData("starting_after")]
    [InlineData("ending_before")]
    public async Task Unknown_cursor_answers_404_naming_the_cursor(string cursor)
    {
        using var response = await fixture.GetAsync($"/v1/invoices?{cursor}=in_missing");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = await ErrorAsync(response);
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal("resource_missing", error["code"]!.GetValue<string>());
        Assert.Equal("No such invoice: 'in_missing'", error["message"]!.GetValue<string>());
        Assert.Equal(cursor, error["param"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("101")]
    [InlineData("ten")]
    public async Task Limit_outside_1_to_100_answers_400(string limit)
    {
        using var response = await fixture.GetAsync($"/v1/customers?limit={limit}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorAsync(response);
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal("limit", error["param"]!.GetValue<string>());

        var exception = await Assert.ThrowsAsync<StripeException>(() => new CustomerService(fixture.Client("sk_test_sim", 0))
            .ListAsync(new CustomerListOptions { Limit = limit == "0" ? 0 : 101 }));
        Assert.Equal(HttpStatusCode.BadRequest, exception.HttpStatusCode);
    }

    private static async Task<JsonNode> ErrorAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
}
