using Microsoft.Extensions.Options;
using Stripe;
using StripeSync.Core.Health;
using StripeSync.Core.Ingestion.Backfill;
using StripeSync.Core.StripeApi;
using StripeSync.Tests.Simulator;

namespace StripeSync.Tests.Ingestion;

/// <summary>Progress and ETA of an import: Stripe gives no totals, so they rest on the time span each list covers.</summary>
public sealed class ImportSpanTests : IClassFixture<SimulatorFixture>
{
    private readonly SimulatorFixture fixture;

    public ImportSpanTests(SimulatorFixture fixture) => this.fixture = fixture;

    [Fact]
    public async Task Bisecting_with_created_lt_finds_each_types_oldest_object_to_the_day()
    {
        using var gateway = new StripeGateway(Options.Create(new StripeOptions { ApiBase = fixture.Server.BaseUrl }), TimeProvider.System);
        var client = gateway.ForProbe("rk_live_sim_full", livemode: true);
        var cases = new (StripeObjectType Type, IEnumerable<DateTime> Created)[]
        {
            (StripeObjectType.Customer, fixture.Server.Account.All<Customer>(true).Select(c => c.Created)),
            (StripeObjectType.Invoice, fixture.Server.Account.All<Invoice>(true).Select(i => i.Created)),
            (StripeObjectType.Charge, fixture.Server.Account.All<Charge>(true).Select(c => c.Created)),
            (StripeObjectType.Subscription, fixture.Server.Account.All<Subscription>(true).Select(s => s.Created)),
        };

        foreach (var (type, created) in cases)
        {
            var seconds = created.Select(c => new DateTimeOffset(c, TimeSpan.Zero).ToUnixTimeSeconds()).ToList();
            var oldest = await ImportSpan.OldestCreatedAsync(client, type, seconds.Max(), CancellationToken.None);

            Assert.InRange(oldest, seconds.Min() - 86_400, seconds.Min());
        }
    }

    [Fact]
    public async Task A_type_with_nothing_older_than_its_newest_object_ends_at_that_object()
    {
        using var gateway = new StripeGateway(Options.Create(new StripeOptions { ApiBase = fixture.Server.BaseUrl }), TimeProvider.System);
        var client = gateway.ForProbe("rk_live_sim_full", livemode: true);
        var newest = fixture.Server.Account.All<Customer>(true).Min(c => new DateTimeOffset(c.Created, TimeSpan.Zero).ToUnixTimeSeconds());

        var oldest = await ImportSpan.OldestCreatedAsync(client, StripeObjectType.Customer, newest, CancellationToken.None);

        Assert.InRange(oldest, newest - 86_400, newest);
    }

    [Theory]
    [InlineData(1_000, 0, 1_000, 0.0)]
    [InlineData(1_000, 0, 750, 0.25)]
    [InlineData(1_000, 0, 0, 1.0)]
    [InlineData(1_000, 0, -50, 1.0)]
    public void The_share_walked_is_the_time_covered_from_the_newest_object_back(long newest, long oldest, long reached, double expected) =>
        Assert.Equal(expected, ImportSpan.Fraction(newest, oldest, reached));

    [Fact]
    public void No_share_and_no_eta_before_the_span_is_known()
    {
        Assert.Null(ImportSpan.Fraction(null, 0, 10));
        Assert.Null(ImportSpan.Fraction(100, null, 10));
        Assert.Null(ImportSpan.SecondsLeft(null, 30));
        Assert.Null(ImportSpan.SecondsLeft(0, 30));
    }

    [Fact]
    public void A_quarter_walked_in_ten_seconds_leaves_thirty() =>
        Assert.Equal(30, ImportSpan.SecondsLeft(0.25, 10));

    [Fact]
    public void The_whole_import_weighs_each_type_by_its_estimated_size()
    {
        // 900 of ~1,000 invoices (90%), 10 of ~1,000 charges (1%), 50 finished customers: 960 / 2,050.
        var types = new[]
        {
            new TypeProgress("invoice", 900, null, false, 10, 90, 5),
            new TypeProgress("charge", 10, null, false, 10, 1, 500),
            new TypeProgress("customer", 50, 50, true, 10, 100, null),
        };

        Assert.Equal(46, ImportProgress.Percent(types));
    }

    [Fact]
    public void An_import_not_yet_measured_is_not_reported_as_done()
    {
        var types = new[] { new TypeProgress("customer", 0, null, false, 0, null, null), new TypeProgress("product", 6, 6, true, 1, 100, null) };

        Assert.InRange(ImportProgress.Percent(types), 0, 10);
    }
}
