using System.Text.Json;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using StripeSync.Core.Connections;
using StripeSync.Core.People;
using StripeSync.Core.Persistence;
using StripeSync.Core.Segments;
using StripeSync.Core.StripeApi;
using StripeSync.Tests.Support;
using StripeSync.Web.Components.Layout;
using SegmentsPage = StripeSync.Web.Components.Pages.Segments.Segments;
using Build = StripeSync.Tests.Processing.Build;
using SegmentBuilderPage = StripeSync.Web.Components.Pages.Segments.SegmentBuilder;
using SegmentPage = StripeSync.Web.Components.Pages.Segments.Segment;

namespace StripeSync.Tests.Segments;

/// <summary>The Segments pages over a real (SQLite) database: not connected, the list with counts, and the builder's live count and save.</summary>
public sealed class SegmentsPageTests : BunitContext, IAsyncLifetime
{
    // The real clock: MudBlazor's input debouncing reads TimeProvider from the services too, so a fake one would stop it.
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private readonly TestDatabase database = TestDatabase.Create(DatabaseProvider.Sqlite);

    public SegmentsPageTests()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
        AddAuthorization().SetAuthorized("marketer@example.test");
        Services.AddStripeSyncDatabase(new DatabaseOptions { Provider = DatabaseProvider.Sqlite, ConnectionString = database.ConnectionString });
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<IDataProtectionProvider>(new EphemeralDataProtectionProvider());
        Services.AddSingleton(Options.Create(new StripeOptions()));
        Services.AddSingleton<StripeGateway>();
        Services.AddSingleton<ConnectionSecrets>();
        Services.AddSingleton<Core.Connections.Connections>();
        Services.AddSingleton<SegmentQueries>();
        Services.AddSingleton<SegmentStore>();
        Services.AddScoped<ViewMode>();
        Renderer.SetRendererInfo(new RendererInfo("Server", isInteractive: true)); // resolves services: after every registration
    }

    public async Task InitializeAsync() => await DatabaseSetup.MigrateAsync(Services.GetRequiredService<IDbContextFactory<AppDbContext>>(), CancellationToken.None);

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public void Before_a_stripe_account_is_connected_the_page_says_what_to_do_next()
    {
        var page = Render<SegmentsPage>();

        page.WaitForAssertion(() => Assert.Contains("Not connected yet", page.Markup, StringComparison.Ordinal));
        Assert.Contains("Settings → Connections", page.Markup, StringComparison.Ordinal);
        Assert.Empty(page.FindAll(".new-segment"));
    }

    [Fact]
    public async Task Connected_the_page_lists_every_predefined_segment_with_its_count_and_explains_custom_ones()
    {
        await SeedAsync();

        var page = Render<SegmentsPage>();

        page.WaitForAssertion(() => Assert.Equal(10, page.FindAll(".predefined-segments tbody tr").Count));
        var rows = page.FindAll(".predefined-segments tbody tr").ToDictionary(r => r.QuerySelector("a")!.TextContent.Trim(), r => r.QuerySelector(".segment-count")!.TextContent.Trim());
        Assert.Equal("2", rows["Syncing with Stripe"]);
        Assert.Equal("1", rows["Current Trials"]);
        Assert.Equal("1", rows["Customers"]);
        Assert.Equal("1", rows["Slipping Customers"]);
        Assert.Equal("0", rows["Slipping Trials"]);
        Assert.Contains("No segments of your own yet", page.Find(".custom-segments").TextContent, StringComparison.Ordinal);
        Assert.NotEmpty(page.FindAll(".new-segment"));

        await Services.GetRequiredService<SegmentStore>().CreateAsync("Trialing", new SegmentDefinition
        {
            Conditions = [SegmentCondition.OnField("stripe_subscription_status", FieldOperator.Equals, "trialing")],
        }, CancellationToken.None);
        var again = Render<SegmentsPage>();
        again.WaitForAssertion(() => Assert.Single(again.FindAll(".custom-segments tbody tr")));
        Assert.Contains("Subscription status is trialing", again.Find(".custom-segments tbody tr").TextContent, StringComparison.Ordinal);
        Assert.Equal("1", again.Find(".custom-segments .segment-count").TextContent.Trim());
    }

    [Fact]
    public async Task Builder_counts_as_conditions_are_edited_and_saves_the_segment()
    {
        await SeedAsync();
        var builder = Render<SegmentBuilderPage>();
        builder.WaitForAssertion(() => Assert.NotEmpty(builder.FindAll(".no-conditions")));
        Assert.True(builder.Find(".save-segment").HasAttribute("disabled"));

        builder.Find(".add-field-condition").Click();
        builder.WaitForAssertion(() => Assert.Contains("give a value for Subscription status", builder.Find(".definition-problems").TextContent, StringComparison.Ordinal));

        builder.Find(".field-value input").Input("active");
        builder.WaitForAssertion(() => Assert.Equal("1 person matches", builder.Find(".match-count").TextContent.Trim()), TimeSpan.FromSeconds(5));

        builder.Find(".add-metric-condition").Click();
        builder.WaitForAssertion(() => Assert.NotEmpty(builder.FindAll(".metric-condition")));
        var match = builder.FindComponent<MudBlazor.MudSelect<SegmentMatch>>();
        await builder.InvokeAsync(() => match.Instance.ValueChanged.InvokeAsync(SegmentMatch.Any));
        builder.Find(".metric-days input").Input("3650");
        builder.WaitForAssertion(() => Assert.Equal("2 people match", builder.Find(".match-count").TextContent.Trim()), TimeSpan.FromSeconds(5));

        builder.Find(".segment-name-input input").Input("Active or new");
        builder.WaitForAssertion(() => Assert.False(builder.Find(".save-segment").HasAttribute("disabled")));
        builder.Find(".save-segment").Click();

        var navigation = Services.GetRequiredService<NavigationManager>();
        builder.WaitForAssertion(() => Assert.Matches("/segments/[0-9a-f-]{36}$", navigation.Uri));
        var saved = await Services.GetRequiredService<SegmentQueries>().DefinitionAsync(navigation.Uri.Split('/')[^1], ConnectionMode.Test, CancellationToken.None);
        Assert.Equal("Active or new", saved!.Name);
        Assert.Equal(2, saved.Definition.Conditions.Count);
    }

    /// <summary>A test-mode connection with two people: an active customer quiet for 20 days, and a trial active today.</summary>
    private async Task SeedAsync()
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        db.Connections.Add(new Connection { Id = Guid.NewGuid(), Mode = ConnectionMode.Test, EncryptedKey = "x", KeyHint = "rk_test_…abcd", State = ConnectionState.Synced });
        Person Make(string email, string status, int active, int trial, int quietDays)
        {
            var person = new Person
            {
                Id = Guid.NewGuid(), Mode = ConnectionMode.Test, Key = email, Email = email, Identified = true,
                LastActivity = Now.AddDays(-quietDays).ToUnixTimeMilliseconds(),
            };
            person.SetFields(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["email"] = email, ["stripe_customer_id"] = "cus_" + email[..3], ["stripe_subscription_status"] = status,
                ["stripe_subscription_active"] = active, ["stripe_subscription_trial"] = trial, ["stripe_subscription_past_due"] = 0,
                ["last_activity"] = Now.AddDays(-quietDays),
            }));
            return person;
        }
        var trial = Make("tia@example.com", "trialing", 0, 1, 0);
        db.People.AddRange(Make("abe@example.com", "active", 1, 0, 20), trial);
        db.MetricEvents.Add(new StoredMetricEvent { Mode = ConnectionMode.Test, Metric = "Customer Created", NaturalKey = "cus_tia:created", Time = Now.AddDays(-1).ToUnixTimeMilliseconds(), PersonId = trial.Id });
        await db.SaveChangesAsync();
    }
}

/// <summary>The segment list and one segment's page while the sync imports, has failed, or is in sync.</summary>
public sealed class SegmentPagesSyncTests : PageContext
{
    [Fact]
    public async Task A_segment_page_lists_its_members_with_the_count_and_csv_link()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        await DerivePeopleAsync(live);

        var page = Render<SegmentPage>(p => p.Add(x => x.Id, PredefinedSegments.Customers));

        page.WaitForAssertion(() => Assert.Equal("1 person", page.Find(".segment-total").TextContent.Trim()));
        Assert.Equal("Customers", page.Find(".segment-name").TextContent.Trim());
        var member = Assert.Single(page.FindAll(".segment-members tbody tr"));
        Assert.Contains("Ada Lovelace", member.TextContent, StringComparison.Ordinal);
        Assert.Contains("active", member.TextContent, StringComparison.Ordinal);
        Assert.Contains("$49.00", member.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("Bob", page.Find(".segment-members").TextContent, StringComparison.Ordinal);
        Assert.Equal("segments/customers/members.csv?mode=live", page.Find("a.export-csv").GetAttribute("href"));
        Assert.Empty(page.FindAll(".edit-segment"));
        Assert.Empty(page.FindAll(".sync-notice"));
    }

    [Fact]
    public async Task Importing_the_list_and_a_segment_say_the_counts_still_grow()
    {
        var live = await ConnectAsync(ConnectionState.Synced);
        await DerivePeopleAsync(live);
        await Services.GetRequiredService<Core.Connections.Connections>().UpdateAsync(live.Id, c => c.State = ConnectionState.Importing, CancellationToken.None);

        var list = Render<SegmentsPage>();
        var segment = Render<SegmentPage>(p => p.Add(x => x.Id, PredefinedSegments.Customers));

        list.WaitForAssertion(() => Assert.Equal(10, list.FindAll(".predefined-segments tbody tr").Count));
        Assert.Single(list.FindAll(".sync-notice[data-state=importing]"));
        segment.WaitForAssertion(() => Assert.Equal("1 person", segment.Find(".segment-total").TextContent.Trim()));
        Assert.Single(segment.FindAll(".sync-notice[data-state=importing]"));
    }

    [Fact]
    public async Task Error_the_list_and_a_segment_show_the_error_above_the_counts()
    {
        await ConnectAsync(ConnectionState.Error, error: "Stripe answered 500 five times.");

        var list = Render<SegmentsPage>();
        var segment = Render<SegmentPage>(p => p.Add(x => x.Id, PredefinedSegments.Customers));

        list.WaitForAssertion(() => Assert.Equal(10, list.FindAll(".predefined-segments tbody tr").Count));
        Assert.Contains("Stripe answered 500 five times.", list.Find(".sync-notice[data-state=error]").TextContent, StringComparison.Ordinal);
        segment.WaitForAssertion(() => Assert.Equal("0 people", segment.Find(".segment-total").TextContent.Trim()));
        Assert.Contains("Stripe answered 500 five times.", segment.Find(".sync-notice[data-state=error]").TextContent, StringComparison.Ordinal);
        Assert.Contains("Nobody is in this segment right now", segment.Find(".no-members").TextContent, StringComparison.Ordinal);
    }

    /// <summary>Ada, an active customer at $49 a month, and Bob, a customer without a subscription.</summary>
    private Task DerivePeopleAsync(Connection live)
    {
        var price = Build.Price(4900, id: "price_team", product: "prod_team");
        return DeriveAsync(live,
            Build.Customer("cus_ada", "ada@example.test", "Ada Lovelace", Now.AddDays(-40)),
            Build.Customer("cus_bob", "bob@example.test", "Bob Byte", Now.AddDays(-3)),
            new ProductRecord("prod_team", false, Build.T0, "Team", true, false),
            price,
            Build.Subscription("sub_ada").For("cus_ada").Created(Now.AddDays(-40)).Item(price).Build());
    }
}
