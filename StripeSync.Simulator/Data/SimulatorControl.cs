using Newtonsoft.Json.Linq;
using Stripe;

namespace StripeSync.Simulator.Data;

/// <summary>
/// Scripted changes to the account, each emitting the events Stripe would (and so webhooks): what tests and
/// the demo's live activity use to make things happen.
/// </summary>
public sealed class SimulatorControl(SimulatorAccount account)
{
    private readonly Lock gate = new();
    private readonly Random random = new(account.Options.Seed + 1);

    /// <summary>One change at a time; when it is complete, the JSON cached before it stops being served.</summary>
    private Mutation Change()
    {
        gate.Enter();
        return new Mutation(account, gate);
    }

    /// <summary>A new customer (with a card); with <paramref name="priceId"/> also a paid subscription to it.</summary>
    public string NewCustomer(bool livemode, string? email, string? name, string? priceId = null)
    {
        using (Change())
        {
            var mode = account.Mode(livemode);
            var at = account.ChangeTime();
            var card = new PaymentMethod
            {
                Id = account.Ids.Next("pm"), Object = "payment_method", Type = "card", Created = at.UtcDateTime, Livemode = livemode, Metadata = [],
                Card = new PaymentMethodCard { Brand = "visa", Last4 = "4242", ExpMonth = 12, ExpYear = at.Year + 3, Country = "US", Funding = "credit" },
                BillingDetails = new PaymentMethodBillingDetails(),
            };
            var customer = new Customer
            {
                Id = account.Ids.Next("cus"), Object = "customer", Created = at.UtcDateTime, Email = email, Name = name, Livemode = livemode,
                Metadata = [], Balance = 0, Delinquent = false, InvoicePrefix = account.Ids.Next("x")[2..10].ToUpperInvariant(), PreferredLocales = [],
                TaxExempt = "none", InvoiceSettings = new CustomerInvoiceSettings { DefaultPaymentMethodId = card.Id },
            };
            card.CustomerId = customer.Id;
            mode.Customers.Add(new Entry(customer.Id, at.ToUnixTimeSeconds(), customer));
            mode.PaymentMethods.Add(new Entry(card.Id, at.ToUnixTimeSeconds(), card));
            account.EventAt(mode, "customer.created", customer, at);
            if (priceId is not null)
            {
                var price = (Stripe.Price)(mode.Prices.Get(priceId) ?? throw new ArgumentException($"No such price: {priceId}")).Entity;
                Subscribe(mode, customer, card, price, at);
            }

            return customer.Id;
        }
    }

    /// <summary>Moves the subscription's first item to the next dearer price of the same currency (more MRR).</summary>
    public void Upgrade(string subscriptionId) => ChangePlan(subscriptionId, up: true);

    /// <summary>Moves the subscription's first item to the next cheaper price of the same currency (less MRR).</summary>
    public void Downgrade(string subscriptionId) => ChangePlan(subscriptionId, up: false);

    public void Cancel(string subscriptionId, string feedback = "too_expensive", string reason = "cancellation_requested")
    {
        using (Change())
        {
            var subscription = Subscription(subscriptionId, out _);
            account.Cancel(subscription, account.ChangeTime(), feedback, reason);
        }
    }

    /// <summary>Bills the next period: the first attempt fails with a decline, a retry succeeds. Returns the invoice id.</summary>
    public string FailThenPay(string subscriptionId)
    {
        using (Change())
        {
            var subscription = Subscription(subscriptionId, out var mode);
            var item = subscription.Items.Data[0];
            var start = new DateTimeOffset(item.CurrentPeriodEnd);
            var at = account.ChangeTime();
            var invoice = account.Invoice(subscription, at, SimulatorAccount.Advance(at, item.Price.Recurring!.Interval, item.Price.Recurring.IntervalCount),
                "subscription_cycle", 9000 + random.Next(1000), zero: false, setupFee: null, SimulatorAccount.Outcome.FailedThenPaid,
                ("card_declined", "Your card was declined."), new Random(0), proration: false);
            _ = (start, mode);
            return invoice.Id;
        }
    }

    /// <summary>Bills the next period with a failing payment (left open, subscription past due). Returns the invoice id.</summary>
    public string FailPayment(string subscriptionId)
    {
        using (Change())
        {
            var subscription = Subscription(subscriptionId, out _);
            var item = subscription.Items.Data[0];
            var at = account.ChangeTime();
            var invoice = account.Invoice(subscription, at, SimulatorAccount.Advance(at, item.Price.Recurring!.Interval, item.Price.Recurring.IntervalCount),
                "subscription_cycle", 9000 + random.Next(1000), zero: false, setupFee: null, SimulatorAccount.Outcome.Failing,
                ("insufficient_funds", "Your card has insufficient funds."), new Random(1), proration: false);
            var previous = subscription.Status;
            subscription.Status = "past_due";
            account.EventAt(account.Mode(subscription.Livemode), "customer.subscription.updated", subscription, at,
                previous: new JObject { ["status"] = previous });
            return invoice.Id;
        }
    }

    public string Refund(string chargeId, long? amount = null, string reason = "requested_by_customer")
    {
        using (Change())
        {
            foreach (var mode in new[] { account.Live, account.Test })
            {
                if (mode.Charges.Get(chargeId)?.Entity is Charge charge)
                {
                    var refund = account.Refund(mode, charge, amount ?? charge.Amount - charge.AmountRefunded, reason, account.ChangeTime());
                    mode.Refunds.SortAndIndex();
                    return refund.Id;
                }
            }

            throw new ArgumentException($"No such charge: {chargeId}");
        }
    }

    public void EndTrial(string subscriptionId)
    {
        using (Change())
        {
            var subscription = Subscription(subscriptionId, out var mode);
            var at = account.ChangeTime();
            var previous = new JObject { ["status"] = subscription.Status, ["trial_end"] = subscription.TrialEnd is { } end ? new DateTimeOffset(end).ToUnixTimeSeconds() : null };
            subscription.TrialEnd = at.UtcDateTime;
            subscription.Status = "active";
            account.EventAt(mode, "customer.subscription.updated", subscription, at, previous);
        }
    }

    /// <summary>
    /// A succeeded one-off charge of the customer that no event announces (no webhook, nothing in the Events API):
    /// only a list of charges shows it. How tests withhold a payment from StripeSync on purpose. Returns the charge id.
    /// </summary>
    public string UnannouncedPayment(string customerId, long amount = 4200)
    {
        using (Change())
        {
            foreach (var mode in new[] { account.Live, account.Test })
            {
                if (mode.Customers.Get(customerId)?.Entity is Customer customer)
                {
                    var card = (PaymentMethod?)mode.PaymentMethods.Get(customer.InvoiceSettings?.DefaultPaymentMethodId ?? "")?.Entity;
                    var charge = account.Charge(mode, customer.Id, card, amount, "usd", account.ChangeTime(), "Unannounced payment", null,
                        account.Ids.Next("pi"), announce: false);
                    mode.Charges.SortAndIndex();
                    return charge.Id;
                }
            }

            throw new ArgumentException($"No such customer: {customerId}");
        }
    }

    /// <summary>An email appears on a customer that had none (or changes).</summary>
    public void SetEmail(string customerId, string email)
    {
        using (Change())
        {
            foreach (var mode in new[] { account.Live, account.Test })
            {
                if (mode.Customers.Get(customerId)?.Entity is Customer customer)
                {
                    var previous = new JObject { ["email"] = customer.Email };
                    customer.Email = email;
                    account.EventAt(mode, "customer.updated", customer, account.ChangeTime(), previous);
                    return;
                }
            }

            throw new ArgumentException($"No such customer: {customerId}");
        }
    }

    /// <summary>
    /// Deletes a customer as Stripe does: its subscriptions that have not ended are canceled at once
    /// (<c>customer.subscription.deleted</c>), <c>customer.deleted</c> carries its last state, it leaves the customers list
    /// and a retrieve answers <c>{id, object: customer, deleted: true}</c>. Its invoices, charges, refunds and canceled
    /// subscriptions stay, still naming it.
    /// </summary>
    public void DeleteCustomer(string customerId)
    {
        using (Change())
        {
            foreach (var mode in new[] { account.Live, account.Test })
            {
                if (mode.Customers.Get(customerId)?.Entity is Customer customer)
                {
                    var at = account.ChangeTime();
                    foreach (var subscription in mode.Subscriptions.All().Select(e => (Subscription)e.Entity)
                        .Where(s => s.CustomerId == customerId && s.Status is not ("canceled" or "incomplete_expired")))
                    {
                        account.Cancel(subscription, at, feedback: null, reason: "cancellation_requested");
                    }

                    mode.Customers.Remove(customerId);
                    mode.Deleted[customerId] = "customer";
                    account.EventAt(mode, "customer.deleted", customer, at);
                    return;
                }
            }

            throw new ArgumentException($"No such customer: {customerId}");
        }
    }

    /// <summary>One plausible change, for the demo's live activity.</summary>
    public void RandomActivity()
    {
        var live = account.Live;
        var subscriptions = live.Subscriptions.All().Select(e => (Subscription)e.Entity).Where(s => s.Status == "active").ToList();
        var prices = live.Prices.All().Select(e => (Stripe.Price)e.Entity).Where(p => p.Recurring?.UsageType == "licensed" && p.BillingScheme == "per_unit").ToList();
        var roll = random.NextDouble();
        if (roll < 0.4 || subscriptions.Count == 0)
        {
            var n = random.Next(100_000);
            NewCustomer(true, $"demo.{n}@example.com", $"Demo Customer {n}", prices[random.Next(prices.Count)].Id);
        }
        else if (roll < 0.6)
        {
            Upgrade(subscriptions[random.Next(subscriptions.Count)].Id);
        }
        else if (roll < 0.7)
        {
            Downgrade(subscriptions[random.Next(subscriptions.Count)].Id);
        }
        else if (roll < 0.85)
        {
            FailThenPay(subscriptions[random.Next(subscriptions.Count)].Id);
        }
        else
        {
            Cancel(subscriptions[random.Next(subscriptions.Count)].Id);
        }
    }

    private void Subscribe(ModeData mode, Customer customer, PaymentMethod card, Stripe.Price price, DateTimeOffset at)
    {
        var subscription = account.NewSubscription(mode, customer, card, [(price, 1)], at, trialDays: 0);
        mode.Subscriptions.SortAndIndex();
        var item = subscription.Items.Data[0];
        var end = SimulatorAccount.Advance(at, price.Recurring!.Interval, price.Recurring.IntervalCount);
        account.Invoice(subscription, at, end, "subscription_create", 1, zero: false, setupFee: null, SimulatorAccount.Outcome.Paid,
            ("card_declined", "Your card was declined."), new Random(0));
        item.CurrentPeriodStart = at.UtcDateTime;
        item.CurrentPeriodEnd = end.UtcDateTime;
        Resort(mode);
        // Creation happened before the first invoice existed: re-announce the subscription now that it is billed.
        account.EventAt(mode, "customer.subscription.updated", subscription, at, new JObject { ["latest_invoice"] = null });
    }

    private void ChangePlan(string subscriptionId, bool up)
    {
        using (Change())
        {
            var subscription = Subscription(subscriptionId, out var mode);
            var item = subscription.Items.Data[0];
            var candidates = mode.Prices.All().Select(e => (Stripe.Price)e.Entity)
                .Where(p => p.Currency == item.Price.Currency && p.Recurring?.UsageType == "licensed" && p.BillingScheme == "per_unit" && p.Id != item.Price.Id)
                .Select(p => (Price: p, Monthly: Monthly(p)))
                .Where(p => up ? p.Monthly > Monthly(item.Price) : p.Monthly < Monthly(item.Price))
                .OrderBy(p => up ? p.Monthly : -p.Monthly)
                .ToList();
            var previousItems = JObject.Parse(Data.StripeJson.Serialize(subscription.Items));
            if (candidates.Count > 0)
            {
                item.Price = candidates[0].Price;
                item.Plan = null;
            }
            else
            {
                // No other price that way: change the quantity instead.
                item.Quantity = up ? item.Quantity + 1 : Math.Max(1, item.Quantity - 1);
                if (!up && item.Quantity == 1 && previousItems["data"]![0]!["quantity"]!.Value<long>() == 1)
                {
                    return;
                }
            }

            account.EventAt(mode, "customer.subscription.updated", subscription, account.ChangeTime(),
                new JObject { ["items"] = previousItems });
        }
    }

    private static decimal Monthly(Stripe.Price price) => (price.UnitAmount ?? 0) * (price.Recurring?.Interval switch
    {
        "year" => 1m / 12,
        "week" => 52m / 12,
        "day" => 365m / 12,
        _ => 1m,
    }) / (price.Recurring?.IntervalCount ?? 1);

    private Subscription Subscription(string id, out ModeData mode)
    {
        foreach (var candidate in new[] { account.Live, account.Test })
        {
            if (candidate.Subscriptions.Get(id)?.Entity is Subscription subscription)
            {
                mode = candidate;
                return subscription;
            }
        }

        throw new ArgumentException($"No such subscription: {id}");
    }

    private static void Resort(ModeData mode)
    {
        mode.Invoices.SortAndIndex();
        mode.Charges.SortAndIndex();
        mode.InvoicePayments.SortAndIndex();
        mode.Subscriptions.SortAndIndex();
    }

    private readonly struct Mutation(SimulatorAccount account, Lock gate) : IDisposable
    {
        public void Dispose()
        {
            account.Changed();
            gate.Exit();
        }
    }
}
