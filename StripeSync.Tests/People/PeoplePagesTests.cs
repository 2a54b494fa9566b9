using Bunit;
using Microsoft.Extensions.DependencyInjection;
using StripeSync.Core.Connections;
using StripeSync.Core.People;
using StripeSync.Core.StripeApi;
using StripeSync.Tests.Support;
using Build = StripeSync.Tests.Processing.Build;
using PeoplePage = StripeSync.Web.Components.Pages.People.People;
using PersonPage = StripeSync.Web.Components.Pages.People.Person;

namespace StripeSync.Tests.People;

/// <summary>The People list and a person's page in each state of the sync, over people derived from stored Stripe records.</summary>
public sealed class PeoplePagesTests : PageContext
{
    [Fact]
    public void Not_connected_the_list_says_what_to_do_next()
    {
        var page = Render<PeoplePage>();

        page.WaitForAssertion(() => Assert.Contains("Not connected yet", page.Markup, StringComparison.Ordinal));
        Assert.Empty(page.FindAll(".people-list"));
        Assert.Empty(page.FindAll(".sync-notice"));
    }

    [Fact]
    public async Task Not_connected_a_lead_from_product_events_has_a_page_without_subscriptions()
    {
        var lead = await PersonAsync("lead@example.test");

        var page = Render<PersonPage>(p => p.Add(x => x.Id, lead.Id));

        page.WaitForAssertion(() => Assert.Contains("lead@example.test", page.Find("h4").TextContent, StringComparison.Ordinal));
        Assert.Contains("No subscriptions in Stripe.", page.Find(".person-subscriptions").TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll(".sync-notice"));
    }

    [Fact]
    public async Task Synced_the_list_shows_each_person_with_their_customer_status_and_mrr()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        await DeriveAsync(live, [.. AdaWithTwoSubscriptions(), Build.Customer("cus_bob", "bob@example.test", "Bob Byte", Now.AddDays(-3))]);

        var page = Render<PeoplePage>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(".people-list tbody tr").Count));
        var ada = page.FindAll(".people-list tbody tr").Single(r => r.TextContent.Contains("Ada Lovelace", StringComparison.Ordinal));
        Assert.Contains("cus_ada", ada.TextContent, StringComparison.Ordinal);
        Assert.Contains("active", ada.TextContent, StringComparison.Ordinal);
        Assert.Contains("$147.00", ada.TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll(".sync-notice"));
    }

    [Fact]
    public async Task Synced_a_person_page_lists_every_subscription_with_price_quantity_mrr_and_cancellation()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        await DeriveAsync(live, AdaWithTwoSubscriptions());
        var ada = await AdaAsync();

        var page = Render<PersonPage>(p => p.Add(x => x.Id, ada.Id));

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(".person-subscriptions tbody tr").Count));
        var rows = page.FindAll(".person-subscriptions tbody tr");
        // The active one first: it is the one the single-subscription fields describe.
        var team = rows[0];
        Assert.Equal("active", team.QuerySelector(".subscription-status")!.TextContent.Trim());
        Assert.Contains("Team", team.QuerySelector(".subscription-plan")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("sub_team", team.QuerySelector(".subscription-plan")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("$49.00 / month", team.QuerySelector(".subscription-price")!.TextContent.Trim());
        Assert.Equal("3", team.QuerySelector(".subscription-quantity")!.TextContent.Trim());
        // 3 seats at $49.00 a month.
        Assert.Equal("$147.00", team.QuerySelector(".subscription-mrr")!.TextContent.Trim());
        Assert.Equal("renews 2026-04-05", team.QuerySelector(".subscription-dates")!.TextContent.Trim());
        Assert.Equal("—", team.QuerySelector(".subscription-cancellation")!.TextContent.Trim());

        var pro = rows[1];
        Assert.Equal("canceled", pro.QuerySelector(".subscription-status")!.TextContent.Trim());
        Assert.Contains("Pro yearly", pro.QuerySelector(".subscription-plan")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("$1,200.00 / year", pro.QuerySelector(".subscription-price")!.TextContent.Trim());
        Assert.Equal("—", pro.QuerySelector(".subscription-mrr")!.TextContent.Trim());
        Assert.Equal("ended 2026-02-20", pro.QuerySelector(".subscription-dates")!.TextContent.Trim());
        Assert.Equal("too expensive · cancellation requested · \u201cWe downsized\u201d", pro.QuerySelector(".subscription-cancellation")!.TextContent.Trim());

        // The person's own MRR field is the sum over their subscriptions.
        Assert.Contains("$147.00", page.Find(".person-fields").TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll(".sync-notice"));
    }

    [Fact]
    public async Task Importing_both_pages_say_the_people_still_grow()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        await DeriveAsync(live, AdaWithTwoSubscriptions());
        await SetStateAsync(live, ConnectionState.Importing);
        var ada = await AdaAsync();

        var list = Render<PeoplePage>();
        var person = Render<PersonPage>(p => p.Add(x => x.Id, ada.Id));

        list.WaitForAssertion(() => Assert.Single(list.FindAll(".sync-notice[data-state=importing]")));
        list.WaitForAssertion(() => Assert.Single(list.FindAll(".people-list tbody tr")));
        person.WaitForAssertion(() => Assert.Single(person.FindAll(".sync-notice[data-state=importing]")));
        Assert.Equal(2, person.FindAll(".person-subscriptions tbody tr").Count);
    }

    [Fact]
    public async Task Error_both_pages_show_the_error_above_the_people()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        await DeriveAsync(live, AdaWithTwoSubscriptions());
        await SetStateAsync(live, ConnectionState.Error, "Stripe answered 500 five times.");
        var ada = await AdaAsync();

        var list = Render<PeoplePage>();
        var person = Render<PersonPage>(p => p.Add(x => x.Id, ada.Id));

        list.WaitForAssertion(() => Assert.Single(list.FindAll(".sync-notice[data-state=error]")));
        Assert.Contains("Stripe answered 500 five times.", list.Find(".sync-notice").TextContent, StringComparison.Ordinal);
        list.WaitForAssertion(() => Assert.Single(list.FindAll(".people-list tbody tr")));
        person.WaitForAssertion(() => Assert.Single(person.FindAll(".sync-notice[data-state=error]")));
        Assert.Contains("Stripe answered 500 five times.", person.Find(".sync-notice").TextContent, StringComparison.Ordinal);
        Assert.Equal(2, person.FindAll(".person-subscriptions tbody tr").Count);
    }

    /// <summary>
    /// Ada: a Team subscription of 3 seats at $49 a month, active, and a yearly Pro subscription she canceled because
    /// it was too expensive.
    /// </summary>
    private static StripeRecord[] AdaWithTwoSubscriptions()
    {
        var team = Build.Price(4900, id: "price_team", product: "prod_team");
        var pro = Build.Price(120000, interval: "year", id: "price_pro_yearly", product: "prod_pro", nickname: "Pro yearly");
        return
        [
            Build.Customer("cus_ada", "ada@example.test", "Ada Lovelace", Now.AddDays(-200)),
            new ProductRecord("prod_team", false, Build.T0, "Team", true, false),
            new ProductRecord("prod_pro", false, Build.T0, "Pro", true, false),
            team,
            pro,
            Build.Subscription("sub_team").For("cus_ada").Created(new DateTimeOffset(2026, 3, 5, 9, 0, 0, TimeSpan.Zero)).Item(team, 3).Build(),
            Build.Subscription("sub_pro").For("cus_ada").Created(new DateTimeOffset(2025, 6, 1, 9, 0, 0, TimeSpan.Zero)).Item(pro)
                .Canceled(new DateTimeOffset(2026, 2, 20, 9, 0, 0, TimeSpan.Zero), "cancellation_requested", "too_expensive", "We downsized").Build(),
        ];
    }

    private async Task<PersonView> AdaAsync()
    {
        var (items, _) = await Services.GetRequiredService<PeopleQueries>().SearchAsync(ConnectionMode.Live, "ada@example.test", null, null, 1, 1, CancellationToken.None);
        return Assert.Single(items);
    }

    [Fact]
    public async Task Stripe_unreachable_both_pages_say_since_when_changes_are_missing()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        await DeriveAsync(live, AdaWithTwoSubscriptions());
        // The error a failed events poll leaves, as the poll writes it.
        await SetStateAsync(live, ConnectionState.Synced, "Stripe could not be reached by the events poll (Stripe answered 500.). Changes made meanwhile are fetched from the Events API as soon as it answers; the poll retries every minute.");
        var ada = await AdaAsync();

        var list = Render<PeoplePage>();
        var person = Render<PersonPage>(p => p.Add(x => x.Id, ada.Id));

        var since = Now.AddMinutes(-5).UtcDateTime.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        list.WaitForAssertion(() => Assert.Single(list.FindAll(".sync-notice[data-state=stripe_unreachable]")));
        Assert.Contains($"Stripe has not answered since {since} UTC", list.Find(".sync-notice").TextContent, StringComparison.Ordinal);
        person.WaitForAssertion(() => Assert.Single(person.FindAll(".sync-notice[data-state=stripe_unreachable]")));
        Assert.Single(person.FindAll(".sync-notice"));
    }

    private async Task SetStateAsync(Connection connection, ConnectionState state, string? error = null) =>
        await Services.GetRequiredService<Core.Connections.Connections>().UpdateAsync(connection.Id, c =>
        {
            c.State = state;
            c.LastError = error;
            c.LastErrorAt = error is null ? null : Now.AddMinutes(-5);
        }, CancellationToken.None);
}
