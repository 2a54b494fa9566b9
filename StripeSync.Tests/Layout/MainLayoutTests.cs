using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Extensions;
using MudBlazor.Services;
using StripeSync.Web.Components.Layout;
using StripeSync.Web.Components.Shared;

namespace StripeSync.Tests.Layout;

// MudBlazor registers services that only dispose asynchronously; xunit 2 calls IAsyncLifetime first.
public sealed class MainLayoutTests : BunitContext, IAsyncLifetime
{
    private readonly Bunit.TestDoubles.BunitAuthorizationContext authorization;

    public MainLayoutTests()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
        authorization = AddAuthorization();
        authorization.SetAuthorized("marketer@example.test");
        Renderer.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        // The mode switch reads connections from the database; the browser test
        // ConnectWizardTests.Live_and_test_data_switch_in_the_app_bar_and_a_key_is_replaced_in_settings covers it.
        ComponentFactories.AddStub<ModeSwitch>();
    }

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    [Fact]
    public void Layout_renders_navigation_to_every_feature_and_the_page_body()
    {
        var layout = Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "page body"))));

        var links = layout.FindAll("nav a, .mud-nav-link").Select(a => a.TextContent.Trim()).Where(t => t.Length > 0).ToList();
        Assert.Equal(["Sync health", "Metrics", "People", "Segments", "Revenue", "Settings"], links.Distinct());
        Assert.Contains("page body", layout.Markup, StringComparison.Ordinal);
        Assert.Contains("marketer@example.test", layout.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void Theme_button_switches_between_dark_and_light()
    {
        var layout = Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "x"))));
        var toggle = layout.Find("button[aria-label='Toggle theme']");

        toggle.Click();

        Assert.True(layout.FindComponent<MudBlazor.MudThemeProvider>().Instance.GetState(x => x.IsDarkMode));
    }

    [Fact]
    public void Empty_feature_page_says_what_to_do_next()
    {
        var empty = Render<NotConnected>(p => p.Add(n => n.What, "Your customers"));

        Assert.Contains("Not connected yet", empty.Markup, StringComparison.Ordinal);
        Assert.Contains("Settings → Connections", empty.Markup, StringComparison.Ordinal);
        Assert.Contains("ask one to run the connect wizard", empty.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"connect\"", empty.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_feature_page_offers_an_admin_the_connect_wizard()
    {
        authorization.SetAuthorized("admin@example.test").SetRoles("Admin");

        var empty = Render<NotConnected>(p => p.Add(n => n.What, "Your customers"));

        Assert.Equal("connect", empty.Find("a.mud-button-root").GetAttribute("href"));
        Assert.Contains("Connect Stripe", empty.Markup, StringComparison.Ordinal);
    }
}
