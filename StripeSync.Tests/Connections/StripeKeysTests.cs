using StripeSync.Core.Connections;

namespace StripeSync.Tests.Connections;

public sealed class StripeKeysTests
{
    [Theory]
    [InlineData("", "Paste a Stripe API key")]
    [InlineData("   ", "Paste a Stripe API key")]
    [InlineData(null, "Paste a Stripe API key")]
    [InlineData("pk_live_51Habc123", "publishable key")]
    [InlineData("pk_test_51Habc123", "publishable key")]
    [InlineData("hello world", "does not look like a Stripe API key")]
    [InlineData("rk_prod_abc123", "does not look like a Stripe API key")]
    [InlineData("sk_test_", "does not look like a Stripe API key")]
    [InlineData("whsec_abc123", "does not look like a Stripe API key")]
    public void Unusable_keys_are_refused_with_a_reason_and_where_to_create_one(string? key, string reason)
    {
        var check = StripeKeys.Check(key);

        Assert.False(check.Valid);
        Assert.Contains(reason, check.Message, StringComparison.Ordinal);
        Assert.Contains("Create a restricted key", check.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_very_long_input_is_refused_before_anything_else()
    {
        var check = StripeKeys.Check("rk_live_" + new string('a', 5000));

        Assert.False(check.Valid);
        Assert.Contains("too long", check.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rk_test_51HabcDEF123", StripeKeyKind.Restricted, ConnectionMode.Test)]
    [InlineData("rk_live_51HabcDEF123", StripeKeyKind.Restricted, ConnectionMode.Live)]
    [InlineData("  rk_live_51HabcDEF123  ", StripeKeyKind.Restricted, ConnectionMode.Live)]
    [InlineData("sk_test_51HabcDEF123", StripeKeyKind.Secret, ConnectionMode.Test)]
    [InlineData("sk_live_51HabcDEF123", StripeKeyKind.Secret, ConnectionMode.Live)]
    public void Usable_keys_give_their_kind_and_mode_from_the_prefix(string key, StripeKeyKind kind, ConnectionMode mode)
    {
        var check = StripeKeys.Check(key);

        Assert.True(check.Valid);
        Assert.Equal(kind, check.Kind);
        Assert.Equal(mode, check.Mode);
        Assert.Equal(kind == StripeKeyKind.Secret, check.Warning is not null);
    }

    [Fact]
    public void A_secret_key_is_accepted_with_a_warning_that_a_restricted_key_is_safer()
    {
        Assert.Contains("restricted key with read permissions is safer", StripeKeys.Check("sk_live_abc123")!.Warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rk_live_51Habc9fQa", "rk_live_…9fQa")]
    [InlineData("sk_test_51Habcxyz1", "sk_test_…xyz1")]
    public void A_key_is_only_ever_shown_masked(string key, string masked) => Assert.Equal(masked, StripeKeys.Mask(key));
}
