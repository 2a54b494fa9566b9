using Bunit;
using Microsoft.AspNetCore.Components;
using MudBlazor.Services;
using StripeSync.Core.Connections;
using StripeSync.Core.Processing;
using StripeSync.Web.Components.Pages.Connect;

namespace StripeSync.Tests.Connect;

/// <summary>Each step of the connect wizard on its own, with what the page would hand it.</summary>
public sealed class WizardStepTests : BunitContext, IAsyncLifetime
{
    public WizardStepTests()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
        Renderer.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    [Theory]
    [InlineData("", "Paste a Stripe API key")]
    [InlineData("pk_live_51Habc123", "publishable key")]
    [InlineData("hello world", "does not look like a Stripe API key")]
    public void Key_step_refuses_a_malformed_key_with_its_reason_without_asking_stripe(string key, string reason)
    {
        var submitted = new List<string>();
        var step = Render<KeyStep>(p => p.Add(s => s.OnSubmit, k => { submitted.Add(k); return Task.FromResult<string?>(null); }));

        step.Find(".key-input input").Input(key);
        step.Find("button.key-next").Click();

        Assert.Contains(reason, step.Find(".key-error").TextContent, StringComparison.Ordinal);
        Assert.Contains("Create restricted key", step.Find(".key-error").TextContent, StringComparison.Ordinal);
        Assert.Empty(submitted);
    }

    [Fact]
    public void Key_step_warns_about_a_secret_key_as_soon_as_it_is_pasted_and_still_accepts_it()
    {
        var submitted = new List<string>();
        var step = Render<KeyStep>(p => p.Add(s => s.OnSubmit, k => { submitted.Add(k); return Task.FromResult<string?>(null); }));

        step.Find(".key-input input").Input("sk_live_51Habc123");

        Assert.Contains("restricted key with read permissions is safer", step.Find(".key-warning").TextContent, StringComparison.Ordinal);
        step.Find("button.key-next").Click();
        Assert.Equal(["sk_live_51Habc123"], submitted);
    }

    [Fact]
    public void Key_step_shows_why_stripe_refused_the_key()
    {
        var step = Render<KeyStep>(p => p.Add(s => s.OnSubmit, _ => Task.FromResult<string?>("Stripe refused the key: Invalid API Key provided.")));

        step.Find(".key-input input").Input("rk_test_51Habc123");
        step.Find("button.key-next").Click();

        Assert.Contains("Invalid API Key provided", step.Find(".key-error").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_step_for_test_data_refuses_a_live_key()
    {
        var submitted = new List<string>();
        var step = Render<KeyStep>(p => p
            .Add(s => s.OnSubmit, k => { submitted.Add(k); return Task.FromResult<string?>(null); })
            .Add(s => s.ExpectedMode, ConnectionMode.Test));

        step.Find(".key-input input").Input("rk_live_51Habc123");
        step.Find("button.key-next").Click();

        Assert.Contains("live-mode key", step.Find(".key-error").TextContent, StringComparison.Ordinal);
        Assert.Empty(submitted);
        Assert.Empty(step.FindAll(".demo-button"));
    }

    [Fact]
    public void Permissions_step_with_a_missing_required_permission_blocks_next_and_says_what_to_tick()
    {
        var result = Probe(("Invoices", true, false, "The provided key does not have the required permissions. In Stripe's dashboard, edit the restricted key and tick Invoices → Read."));
        var next = 0;
        var step = Render<PermissionsStep>(p => p.Add(s => s.Result, result).Add(s => s.KeyHint, "rk_test_…read").Add(s => s.OnNext, () => next++));

        var line = step.Find(".permission[data-name=Invoices]");
        Assert.Equal("false", line.GetAttribute("data-granted"));
        Assert.Contains("tick Invoices → Read", line.TextContent, StringComparison.Ordinal);
        Assert.Contains("lacks 1 required permission", step.Find(".permissions-summary").TextContent, StringComparison.Ordinal);
        Assert.True(step.Find("button.permissions-next").HasAttribute("disabled"));
        Assert.Equal(8, step.FindAll(".permission[data-granted=true]").Count);
    }

    [Fact]
    public void Permissions_step_with_only_an_optional_permission_missing_lets_you_on_and_explains_the_cost()
    {
        var result = Probe(("Webhook Endpoints", false, false,
            "No permission. Without it StripeSync cannot register its webhook and polls Stripe's Events API every minute instead."));
        var next = 0;
        var step = Render<PermissionsStep>(p => p.Add(s => s.Result, result).Add(s => s.OnNext, () => next++));

        Assert.Contains("polls Stripe's Events API", step.Find(".permission[data-name='Webhook Endpoints']").TextContent, StringComparison.Ordinal);
        Assert.Contains("optional permission is missing", step.Find(".permissions-summary").TextContent, StringComparison.Ordinal);
        step.Find("button.permissions-next").Click();
        Assert.Equal(1, next);
    }

    [Fact]
    public void Permissions_step_for_a_revoked_key_says_so_and_blocks_next()
    {
        var step = Render<PermissionsStep>(p => p.Add(s => s.Result,
            new ProbeResult(true, "Stripe refused the key: Expired API Key provided. The key is invalid or has been revoked.", [])));

        Assert.Contains("invalid or has been revoked", step.Find(".key-invalid").TextContent, StringComparison.Ordinal);
        Assert.True(step.Find("button.permissions-next").HasAttribute("disabled"));
    }

    [Fact]
    public void Permissions_step_recheck_asks_again()
    {
        var rechecks = 0;
        var step = Render<PermissionsStep>(p => p.Add(s => s.Result, Probe()).Add(s => s.OnRecheck, () => rechecks++));

        step.Find("button.recheck").Click();

        Assert.Equal(1, rechecks);
    }

    [Fact]
    public void Field_mapping_lists_every_token_with_its_example_and_next_keeps_the_defaults()
    {
        IReadOnlyList<FieldMapping>? saved = null;
        var samples = PersonFields.Tokens.ToDictionary(t => t, t => (object?)null);
        samples["email"] = "ada@example.com";
        samples["stripe_mrr"] = new Dictionary<string, long> { ["usd"] = 4900 };
        var step = Render<FieldMappingStep>(p => p
            .Add(s => s.Samples, samples)
            .Add(s => s.OnSave, rows => { saved = rows; return Task.FromResult<string?>(null); }));

        Assert.Equal(PersonFields.Tokens, step.FindAll(".field").Select(r => r.GetAttribute("data-token")));
        Assert.Equal("ada@example.com", step.Find(".field[data-token=email] .field-sample").TextContent.Trim());
        Assert.Equal("$49.00", step.Find(".field[data-token=stripe_mrr] .field-sample").TextContent.Trim());

        step.Find("button.mapping-next").Click();

        Assert.NotNull(saved);
        Assert.Equal(PersonFields.Tokens.Select(t => (t, t)), new FieldMap(saved).Columns.Select(c => (c.Token, c.Property)));
    }

    [Fact]
    public void Field_mapping_renames_switches_off_and_sends_to_a_custom_property()
    {
        IReadOnlyList<FieldMapping>? saved = null;
        var step = Render<FieldMappingStep>(p => p.Add(s => s.OnSave, rows => { saved = rows; return Task.FromResult<string?>(null); }));

        step.Find(".field[data-token=first_name] .field-target input").Change("firstname");
        step.Find(".field[data-token=phone] .field-enabled input").Change(false);
        step.Find(".field[data-token=stripe_plan_nickname] .field-target input").Change("plan_tier");
        step.Find(".field[data-token=stripe_plan_nickname] .field-custom input").Change(true);
        step.Find("button.mapping-next").Click();

        var map = new FieldMap(saved!);
        Assert.Equal("firstname", map.PropertyOf("first_name"));
        Assert.Null(map.PropertyOf("phone"));
        Assert.Equal("custom.plan_tier", map.PropertyOf("stripe_plan_nickname"));
        Assert.Equal("email", map.PropertyOf("email"));
    }

    [Fact]
    public void Field_mapping_shows_why_it_cannot_be_saved()
    {
        var step = Render<FieldMappingStep>(p => p.Add(s => s.OnSave, rows => Task.FromResult(FieldMap.Problem(rows))));

        step.Find(".field[data-token=first_name] .field-target input").Change("email");
        step.Find("button.mapping-next").Click();

        Assert.Contains("first_name", step.Find(".mapping-error").TextContent, StringComparison.Ordinal);
        Assert.Contains("\"email\"", step.Find(".mapping-error").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Sync_choice_defaults_to_import_and_can_skip()
    {
        var chosen = new List<SyncChoice>();
        var step = Render<SyncChoiceStep>(p => p.Add(s => s.OnStart, (SyncChoice c) => chosen.Add(c)).Add(s => s.WhyNoWebhook, "App:PublicUrl is not set"));

        Assert.Contains("polling Stripe's Events API", step.Markup, StringComparison.Ordinal);
        step.Find("button.sync-start").Click();
        step.Find(".choice-skip input").Click();
        step.Find("button.sync-start").Click();

        Assert.Equal([SyncChoice.Import, SyncChoice.Skip], chosen);
    }

    private static ProbeResult Probe(params (string Name, bool Required, bool Granted, string Message)[] overrides) =>
        new(false, null, [.. PermissionProbe.All.Select(p => overrides.FirstOrDefault(o => o.Name == p.Name) is { Name: not null } o
            ? new PermissionResult(p.Name, p.Access, o.Granted, o.Required, o.Message)
            : new PermissionResult(p.Name, p.Access, true, p.Required, "Granted."))]);
}
