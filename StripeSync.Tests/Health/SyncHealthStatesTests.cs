using Bunit;
using StripeSync.Core.Access;
using StripeSync.Core.Connections;
using StripeSync.Core.Health;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Metrics;
using StripeSync.Tests.Support;
using StripeSync.Web.Components.Pages.Health;

namespace StripeSync.Tests.Health;

public sealed class SyncHealthStatesTests : PageContext
{
    [Fact]
    public void Not_connected_says_what_to_do_next()
    {
        var page = Render<SyncHealth>();

        page.WaitForAssertion(() => Assert.Contains("Not connected yet", page.Markup, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Importing_shows_progress_and_waits_for_the_import_before_reconciling()
    {
        await ConnectAsync(ConnectionState.Importing);

        var page = Render<SyncHealth>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll(".health-frame[data-state=importing]")));
        Assert.StartsWith("Importing", page.Find(".health-state").TextContent.Trim(), StringComparison.Ordinal);
        Assert.Contains("Checked once the import has finished.", page.Find(".reconciliation-checked").TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll(".reconciliation-day"));
    }

    [Fact]
    public async Task Synced_shows_30_days_green_where_equal_and_red_with_the_difference()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        await ReconciledAsync(live, Today.AddDays(-3), stripe: 7, ours: 5);

        var page = Render<SyncHealth>();

        page.WaitForAssertion(() => Assert.Equal(30, page.FindAll(".reconciliation-day").Count));
        Assert.Equal(29, page.FindAll(".reconciliation-day.equal").Count);
        var red = page.Find(".reconciliation-day.different");
        Assert.Equal(Today.AddDays(-3).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), red.GetAttribute("data-date"));
        Assert.Equal("2", red.GetAttribute("data-difference"));
        Assert.Contains("7 vs 5", red.TextContent, StringComparison.Ordinal);
        Assert.Contains("2 missing", red.TextContent, StringComparison.Ordinal);
        Assert.Equal("1 of 30 days differ", page.Find(".reconciliation-summary").TextContent.Trim());
        Assert.Contains("Checked 10 min ago", page.Find(".reconciliation-checked").TextContent, StringComparison.Ordinal);
        // Check now is an admin's.
        Assert.Empty(page.FindAll(".reconciliation-check"));
    }

    [Fact]
    public async Task Error_shows_the_reason_in_the_red_frame()
    {
        await ConnectAsync(ConnectionState.Error, error: "Stripe answered 500 five times.");

        var page = Render<SyncHealth>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll(".health-frame[data-state=error]")));
        Assert.Contains("Stripe answered 500 five times.", page.Markup, StringComparison.Ordinal);
        Assert.Contains("Not checked yet", page.Find(".reconciliation-checked").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_synced_connection_whose_poll_fails_shows_stripe_unreachable_since_then_as_a_warning()
    {
        await ConnectAsync(ConnectionState.Synced,
            error: "Stripe could not be reached by the events poll (An error occurred while sending the request.). Changes made meanwhile are fetched from the Events API as soon as it answers; the poll retries every minute.");

        var page = Render<SyncHealth>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll(".health-frame[data-state=stripe_unreachable]")));
        Assert.Equal("Stripe unreachable", page.Find(".health-state").TextContent.Trim());
        var detail = page.Find(".health-detail");
        // ConnectAsync stamps the error five minutes before the page's "now".
        Assert.Contains($"Stripe unreachable since {Now.AddMinutes(-5).UtcDateTime:HH:mm} UTC", detail.TextContent, StringComparison.Ordinal);
        Assert.Contains("mud-alert-text-warning", detail.ClassName, StringComparison.Ordinal);
        Assert.Contains("could not be reached by the events poll", page.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_synced_connection_that_only_lacks_a_webhook_stays_synced()
    {
        await ConnectAsync(ConnectionState.Synced,
            error: "No webhook endpoint (registering it failed: Stripe answered 500); StripeSync polls Stripe's Events API every minute instead.");

        var page = Render<SyncHealth>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll(".health-frame[data-state=synced]")));
        Assert.Empty(page.FindAll(".health-detail"));
    }

    [Fact]
    public async Task Failed_events_are_listed_with_their_reasons_under_the_count()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        await InboxAsync(live, "evt_gaveup", "invoice.paid", Now.AddHours(-2), attempts: 5, error: "No such price: 'price_gone'", processed: false);
        await InboxAsync(live, "evt_retrying", "customer.updated", Now.AddHours(-1), attempts: 2, error: "database is locked", processed: false);
        await InboxAsync(live, "evt_recovered", "charge.succeeded", Now.AddMinutes(-30), attempts: 1, error: null, processed: true);

        var page = Render<SyncHealth>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(".health-failures tbody tr").Count));
        var rows = page.FindAll(".health-failures tbody tr");
        // Newest first; only the one given up on is counted as failed, the retrying one is listed with its reason too.
        Assert.Contains("evt_retrying", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("database is locked", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("2 of 5, retrying", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("evt_gaveup", rows[1].TextContent, StringComparison.Ordinal);
        Assert.Contains("invoice.paid", rows[1].TextContent, StringComparison.Ordinal);
        Assert.Contains("No such price: 'price_gone'", rows[1].QuerySelector(".failure-reason")!.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("evt_recovered", page.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("reasons in the log", page.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_failures_there_is_no_failure_table()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        await InboxAsync(live, "evt_ok", "charge.succeeded", Now.AddMinutes(-30), attempts: 1, error: null, processed: true);

        var page = Render<SyncHealth>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll(".health-frame[data-state=synced]")));
        Assert.Empty(page.FindAll(".health-failures"));
    }

    private async Task InboxAsync(Connection connection, string eventId, string type, DateTimeOffset created, int attempts, string? error, bool processed)
    {
        await using var db = await Db.CreateDbContextAsync();
        db.Inbox.Add(new InboxEvent
        {
            ConnectionId = connection.Id,
            EventId = eventId,
            Type = type,
            Created = created.ToUnixTimeSeconds(),
            ReceivedAt = created.ToUnixTimeMilliseconds(),
            Json = "{}",
            Attempts = attempts,
            Error = error,
            ProcessedAt = processed ? created.ToUnixTimeMilliseconds() : null,
        });
        await db.SaveChangesAsync();
    }

    /// <summary>Every day of the last 30 equal (3 payments) except <paramref name="day"/>, checked ten minutes ago.</summary>
    private async Task ReconciledAsync(Connection connection, DateOnly day, int stripe, int ours)
    {
        await using var db = await Db.CreateDbContextAsync();
        for (var d = Today.AddDays(-29); d <= Today; d = d.AddDays(1))
        {
            db.ReconciliationDays.Add(new ReconciliationDay
            {
                ConnectionId = connection.Id,
                Day = MetricQueries.DayNumber(d),
                InStripe = d == day ? stripe : 3,
                InStripeSync = d == day ? ours : 3,
                CheckedAt = Now.AddMinutes(-10),
            });
        }

        await db.SaveChangesAsync();
    }
}

public sealed class SyncHealthAdminTests() : PageContext(Roles.Admin)
{
    [Fact]
    public async Task Check_now_during_an_import_says_why_it_waits()
    {
        await ConnectAsync(ConnectionState.Importing);

        var page = Render<SyncHealth>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll(".reconciliation-check")));

        page.Find(".reconciliation-check").Click();

        page.WaitForAssertion(() => Assert.Contains("Not checked: Checked once the import has finished.",
            page.Find(".reconciliation-message").TextContent, StringComparison.Ordinal));
    }
}
