using System.Text.Json;
using StripeSync.Core.Connections;
using StripeSync.Core.Processing;

namespace StripeSync.Tests.Connections;

public sealed class FieldMapTests
{
    private static readonly JsonElement Fields = JsonDocument.Parse("""{"email":"ada@example.com","first_name":"Ada","phone":"+44 20","stripe_mrr":{"usd":4900}}""").RootElement;

    [Fact]
    public void The_default_map_sends_every_token_under_its_own_name_in_spec_order_with_nulls_for_missing_values()
    {
        var output = FieldMap.Default.Apply(Fields);

        Assert.Equal(PersonFields.Tokens, output.EnumerateObject().Select(p => p.Name));
        Assert.Equal("ada@example.com", output.GetProperty("email").GetString());
        Assert.Equal(4900, output.GetProperty("stripe_mrr").GetProperty("usd").GetInt64());
        Assert.Equal(JsonValueKind.Null, output.GetProperty("stripe_customer_id").ValueKind);
    }

    [Fact]
    public void Renamed_fields_leave_under_their_new_name_switched_off_ones_not_at_all_custom_ones_apart()
    {
        var map = new FieldMap([
            new FieldMapping { Token = "first_name", Target = "firstname" },
            new FieldMapping { Token = "phone", Enabled = false },
            new FieldMapping { Token = "stripe_mrr", Target = "mrr", Custom = true },
        ]);

        var output = map.Apply(Fields);

        Assert.Equal("Ada", output.GetProperty("firstname").GetString());
        Assert.False(output.TryGetProperty("first_name", out _));
        Assert.False(output.TryGetProperty("phone", out _));
        Assert.Equal(4900, output.GetProperty("custom.mrr").GetProperty("usd").GetInt64());
        Assert.Equal(PersonFields.Tokens.Count - 1, output.EnumerateObject().Count());
        Assert.Equal(map.Columns.Select(c => c.Property), output.EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData("first_name", "email", "would both leave as \"email\"")]
    [InlineData("first_name", "First Name", "not a usable property name")]
    [InlineData("first_name", "1st", "not a usable property name")]
    public void Unusable_or_clashing_names_are_refused_with_the_reason(string token, string target, string reason) =>
        Assert.Contains(reason, FieldMap.Problem([new FieldMapping { Token = token, Target = target }]), StringComparison.Ordinal);

    [Fact]
    public void A_custom_property_may_share_a_standard_name_because_it_leaves_apart() =>
        Assert.Null(FieldMap.Problem([new FieldMapping { Token = "first_name", Target = "email", Custom = true }]));
}
