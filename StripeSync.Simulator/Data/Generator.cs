using Bogus;
using Stripe;

namespace StripeSync.Simulator.Data;

/// <summary>
/// Builds a plausible subscription business, deterministically from a seed: two years of customers,
/// subscriptions of every status with several items and quantities, coupons, invoices with subscription,
/// proration and one-off lines, charges that succeed and fail with Stripe's decline messages, refunds,
/// checkout sessions, cards, and the events of the last 30 days.
/// </summary>
internal sealed class Generator
{
    private static readonly (string Code, string Message)[] Declines =
    [
        ("card_declined", "Your card was declined."),
        ("insufficient_funds", "Your card has insufficient funds."),
        ("expired_card", "Your card has expired."),
        ("incorrect_cvc", "Your card's security code is incorrect."),
        ("processing_error", "An error occurred while processing your card. Try again in a little bit."),
    ];

    private static readonly string[] PinnedStatuses = ["active", "trialing", "past_due", "unpaid", "canceled", "incomplete_expired", "paused", "incomplete"];
    private static readonly string[] Brands = ["visa", "mastercard", "amex", "discover"];
    private static readonly string[] CancelReasons = ["too_expensive", "missing_features", "switched_service", "unused", "customer_service", "too_complex", "low_quality", "other"];

    private readonly SimulatorAccount account;
    private readonly ModeData mode;
    private readonly Random random;
    private readonly Faker faker;
    private readonly DateTimeOffset now;
    private readonly List<Price> recurring = [];
    private readonly List<Coupon> coupons = [];
    private Price seats = default!;
    private Price setupFee = default!;
    private int invoiceNumber = 1000;
    private int subscriptionsMade;

    public Generator(SimulatorAccount account, ModeData mode, int seed, DateTimeOffset now)
    {
        this.account = account;
        this.mode = mode;
        this.now = now;
        random = new Random(seed);
        faker = new Faker("en") { Random = new Randomizer(seed) };
    }

    public void Generate(int customers)
    {
        Catalog();
        for (var i = 0; i < customers; i++)
        {
            Customer(i, customers);
        }

        foreach (var list in mode.AllLists)
        {
            list.SortAndIndex();
        }
    }

    private DateTimeOffset Start => now.AddYears(-2);

    private void Catalog()
    {
        var created = Start.AddDays(-30);
        var starter = Product("Starter", created);
        var pro = Product("Pro", created);
        var business = Product("Business", created);
        var addOn = Product("Extra seats", created);
        var usage = Product("API usage", created);
        var onboarding = Product("Onboarding", created);

        recurring.Add(Price(starter, "usd", 1900, "month", 1, "Starter monthly", created));
        recurring.Add(Price(starter, "usd", 19000, "year", 1, "Starter yearly", created));
        recurring.Add(Price(pro, "usd", 4900, "month", 1, "Pro monthly", created));
        recurring.Add(Price(pro, "eur", 4500, "month", 1, "Pro monthly (EUR)", created));
        recurring.Add(Price(pro, "usd", 49000, "year", 1, "Pro yearly", created));
        recurring.Add(Price(business, "usd", 29900, "month", 3, "Business quarterly", created));
        recurring.Add(Price(business, "eur", 9900, "month", 1, "Business monthly (EUR)", created));
        recurring.Add(Price(starter, "usd", 900, "week", 1, "Starter weekly", created));
        recurring.Add(Price(starter, "usd", 150, "day", 1, "Starter daily", created));
        recurring.Add(Tiered(business, created));
        seats = Price(addOn, "usd", 1000, "month", 1, "Seat", created);
        Price(usage, "usd", 2, "month", 1, "API calls (metered)", created, metered: true);
        setupFee = Price(onboarding, "usd", 9900, null, 1, "Setup fee", created);

        coupons.Add(Coupon("WELCOME25", 25m, null, null, "once", null, created));
        coupons.Add(Coupon("LAUNCH20", 20m, null, null, "repeating", 3, created));
        coupons.Add(Coupon("LOYAL10", null, 1000, "usd", "forever", null, created));
        coupons.Add(Coupon("HALFYEAR50", 50m, null, null, "repeating", 6, created));
    }

    private Product Product(string name, DateTimeOffset created)
    {
        var product = new Product
        {
            Id = account.Ids.Next("prod"), Object = "product", Active = true, Created = created.UtcDateTime, Updated = created.UtcDateTime,
            Name = name, Livemode = mode.Livemode, Metadata = [], Images = [], MarketingFeatures = [], Type = "service",
            Description = $"The {name} plan", Shippable = null, TaxCodeId = null,
        };
        account.Store(mode.Products, new Entry(product.Id, created.ToUnixTimeSeconds(), product));
        return product;
    }

    private Price Price(Product product, string currency, long amount, string? interval, long count, string nickname, DateTimeOffset created, bool metered = false)
    {
        var price = new Price
        {
            Id = account.Ids.Next("price"), Object = "price", Active = true, BillingScheme = "per_unit", Created = created.UtcDateTime,
            Currency = currency, Livemode = mode.Livemode, Metadata = [], Nickname = nickname, ProductId = product.Id,
            TaxBehavior = "unspecified", Type = interval is null ? "one_time" : "recurring", UnitAmount = amount, UnitAmountDecimal = amount,
            Recurring = interval is null ? null : new PriceRecurring
            {
                Interval = interval, IntervalCount = count, UsageType = metered ? "metered" : "licensed",
                Meter = metered ? account.Ids.Next("mtr") : null,
            },
        };
        account.Store(mode.Prices, new Entry(price.Id, created.ToUnixTimeSeconds(), price));
        return price;
    }

    private Price Tiered(Product product, DateTimeOffset created)
    {
        var price = Price(product, "usd", 0, "month", 1, "Business per seat (graduated)", created);
        price.BillingScheme = "tiered";
        price.TiersMode = "graduated";
        price.UnitAmount = null;
        price.UnitAmountDecimal = null;
        price.Tiers = [new PriceTier { UpTo = 5, UnitAmount = 2000, FlatAmount = 5000 }, new PriceTier { UpTo = null, UnitAmount = 1500, FlatAmount = 0 }];
        return price;
    }

    private Coupon Coupon(string id, decimal? percent, long? amount, string? currency, string duration, long? months, DateTimeOffset created)
    {
        var coupon = new Coupon
        {
            Id = id, Object = "coupon", PercentOff = percent, AmountOff = amount, Currency = currency, Duration = duration,
            DurationInMonths = months, Name = id, Created = created.UtcDateTime, Livemode = mode.Livemode, Valid = true, Metadata = [],
        };
        account.Store(mode.Coupons, new Entry(coupon.Id, created.ToUnixTimeSeconds(), coupon));
        return coupon;
    }

    private void Customer(int index, int total)
    {
        // Customers join evenly over the two years, with some jitter.
        var joined = Start.AddSeconds((now - Start).TotalSeconds * (index + random.NextDouble()) / total);
        var person = new Bogus.Person("en", random.Next());
        var name = person.FullName;
        string? email = person.Email.ToLowerInvariant();
        var roll = random.NextDouble();
        if (roll < 0.07)
        {
            email = null; // A customer without email: kept as an unidentified profile.
        }
        else if (roll < 0.10 && mode.Customers.Count > 0)
        {
            // The same person again under another customer id, the email in other letter case.
            var earlier = (Customer)mode.Customers.All()[random.Next(mode.Customers.Count)].Entity;
            if (earlier.Email is { } known)
            {
                email = known.ToUpperInvariant();
                name = earlier.Name;
            }
        }

        var card = Card(joined);
        var customer = new Customer
        {
            Id = account.Ids.Next("cus"), Object = "customer", Created = joined.UtcDateTime, Email = email, Name = name,
            Phone = random.NextDouble() < 0.6 ? person.Phone : null, Livemode = mode.Livemode, Metadata = [],
            Description = random.NextDouble() < 0.2 ? faker.Company.CompanyName() : null, Delinquent = false, Balance = 0,
            Currency = null, InvoicePrefix = faker.Random.AlphaNumeric(8).ToUpperInvariant(), NextInvoiceSequence = 1,
            PreferredLocales = [], TaxExempt = "none",
            Address = random.NextDouble() < 0.7 ? new Address
            {
                Line1 = person.Address.Street, Line2 = null, City = person.Address.City, State = person.Address.State,
                PostalCode = person.Address.ZipCode, Country = random.NextDouble() < 0.7 ? "US" : faker.PickRandom("DE", "FR", "GB", "NL", "CA"),
            } : null,
            InvoiceSettings = new CustomerInvoiceSettings { DefaultPaymentMethodId = card.Id, CustomFields = null, Footer = null },
        };
        account.Store(mode.Customers, new Entry(customer.Id, joined.ToUnixTimeSeconds(), customer));
        account.EventAt(mode, "customer.created", customer, joined);

        card.CustomerId = customer.Id;
        account.Store(mode.PaymentMethods, new Entry(card.Id, joined.ToUnixTimeSeconds(), card));

        var subscriptions = email is null ? (random.NextDouble() < 0.5 ? 1 : 0) : random.NextDouble() switch { < 0.12 => 0, < 0.88 => 1, _ => 2 };
        for (var s = 0; s < subscriptions; s++)
        {
            Subscription(customer, card, joined.AddDays(s * random.Next(10, 120)));
        }

        if (random.NextDouble() < 0.12)
        {
            OneOffCharge(customer, card, joined.AddDays(random.Next(0, 300)));
        }

        if (random.NextDouble() < 0.3)
        {
            CheckoutSession(customer, joined.AddMinutes(-random.Next(5, 60)));
        }
    }

    private PaymentMethod Card(DateTimeOffset created)
    {
        var expYear = now.Year + random.Next(-1, 5);
        return new PaymentMethod
        {
            Id = account.Ids.Next("pm"), Object = "payment_method", Type = "card", Created = created.UtcDateTime, Livemode = mode.Livemode,
            Metadata = [], AllowRedisplay = "unspecified",
            Card = new PaymentMethodCard
            {
                Brand = Brands[random.Next(Brands.Length)], Last4 = random.Next(0, 10000).ToString("D4", System.Globalization.CultureInfo.InvariantCulture),
                ExpMonth = random.Next(1, 13), ExpYear = expYear, Country = "US", Funding = "credit", DisplayBrand = null,
            },
            BillingDetails = new PaymentMethodBillingDetails(),
        };
    }

    private void Subscription(Customer customer, PaymentMethod card, DateTimeOffset started)
    {
        if (started >= now)
        {
            return;
        }

        var price = recurring[random.Next(recurring.Count)];
        var status = Pick(("active", 50), ("trialing", 8), ("past_due", 6), ("unpaid", 3), ("canceled", 20), ("incomplete_expired", 4), ("paused", 4), ("incomplete", 2));

        // The first subscriptions of a mode take each status once, so even a five-customer test mode has them all.
        if (subscriptionsMade < PinnedStatuses.Length)
        {
            status = PinnedStatuses[subscriptionsMade];
        }

        subscriptionsMade++;
        var trial = status == "trialing" || random.NextDouble() < 0.25;
        if (status == "trialing")
        {
            started = now.AddDays(-random.Next(1, 13));
        }

        var quantity = price.BillingScheme == "tiered" ? random.Next(1, 12) : 1;
        var subscription = account.NewSubscription(mode, customer, card, [(price, quantity)], started, trial ? 14 : 0);
        if (random.NextDouble() < 0.25)
        {
            account.AddItem(subscription, seats, random.Next(1, 8));
        }

        if (random.NextDouble() < 0.15)
        {
            account.AddDiscount(subscription, coupons[random.Next(coupons.Count)], started);
        }

        var ends = status switch
        {
            "canceled" => started.AddDays(random.Next(20, (int)Math.Max(21, (now - started).TotalDays))),
            "incomplete_expired" => started.AddDays(1),
            _ => (DateTimeOffset?)null,
        };
        if (ends > now)
        {
            ends = now.AddDays(-1);
        }

        account.BillHistory(subscription, started, ends ?? now, status, Declines[random.Next(Declines.Length)], random,
            setupFee: random.NextDouble() < 0.1 ? setupFee : null, ++invoiceNumber);
        invoiceNumber += 40;

        if (status == "canceled")
        {
            account.Cancel(subscription, ends!.Value, CancelReasons[random.Next(CancelReasons.Length)],
                random.NextDouble() < 0.5 ? "cancellation_requested" : "payment_failed");
        }
        else if (status == "paused")
        {
            subscription.Status = "paused";
            subscription.PauseCollection = null;
        }
        else if (status == "active" && random.NextDouble() < 0.1)
        {
            subscription.CancelAtPeriodEnd = true;
            subscription.CancelAt = subscription.Items.Data[0].CurrentPeriodEnd;
        }

        // Refund some paid charges, partially or in full.
        foreach (var charge in account.ChargesOf(customer.Id).Where(c => c.Status == "succeeded" && random.NextDouble() < 0.05))
        {
            var full = random.NextDouble() < 0.5;
            account.Refund(mode, charge, full ? charge.Amount : Math.Max(1, charge.Amount / (random.Next(2, 5))),
                faker.PickRandom("requested_by_customer", "duplicate", "fraudulent"),
                DateTimeOffset.FromUnixTimeSeconds(new DateTimeOffset(charge.Created).ToUnixTimeSeconds()).AddDays(random.Next(1, 20)) is var at && at < now ? at : now.AddHours(-1));
        }
    }

    private void OneOffCharge(Customer customer, PaymentMethod card, DateTimeOffset at)
    {
        if (at >= now)
        {
            return;
        }

        var failed = random.NextDouble() < 0.15;
        account.Charge(mode, customer.Id, card, random.Next(5, 200) * 100, "usd", at, "Consulting hour", failed ? Declines[random.Next(Declines.Length)] : null,
            paymentIntent: account.Ids.Next("pi"));
    }

    private void CheckoutSession(Customer customer, DateTimeOffset created)
    {
        var complete = random.NextDouble() < 0.6;
        var price = recurring[random.Next(recurring.Count)];
        account.CheckoutSession(mode, complete ? customer.Id : null, customer.Email, price, complete, created);
    }

    private string Pick(params (string Value, int Weight)[] choices)
    {
        var roll = random.Next(choices.Sum(c => c.Weight));
        foreach (var (value, weight) in choices)
        {
            if ((roll -= weight) < 0)
            {
                return value;
            }
        }

        return choices[^1].Value;
    }
}
