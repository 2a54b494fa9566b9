using StripeSync.Core.Connections;
using StripeSync.Core.Health;

namespace StripeSync.Tests.Health;

/// <summary>The state Sync health shows for a connection: its stored state, or "Stripe unreachable" while its events poll fails.</summary>
public sealed class SyncStatusStateTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 15, 15, 0, 0, TimeSpan.Zero);

    private const string PollError = "Stripe could not be reached by the events poll (Stripe answered 500.). Changes made meanwhile are fetched from the Events API as soon as it answers; the poll retries every minute.";

    [Theory]
    [InlineData(ConnectionState.Synced)]
    [InlineData(ConnectionState.Lagging)]
    public void A_following_connection_whose_poll_fails_is_stripe_unreachable_since_the_failure(ConnectionState stored)
    {
        var since = Now.AddMinutes(-42);

        var (state, detail) = SyncStatus.StateOf(Connection(stored, PollError, since), Now.AddHours(-1), Now);

        Assert.Equal("stripe_unreachable", state);
        Assert.StartsWith("Stripe unreachable since 14:18 UTC; the newest Stripe change StripeSync has is from 14:00 UTC.", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void An_outage_that_began_on_an_earlier_day_gives_its_date()
    {
        var (_, detail) = SyncStatus.StateOf(Connection(ConnectionState.Synced, PollError, Now.AddDays(-2)), null, Now);

        Assert.StartsWith("Stripe unreachable since 2026-03-13 15:00 UTC.", detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ConnectionState.Importing, PollError, "importing")]
    [InlineData(ConnectionState.Error, PollError, "error")]
    [InlineData(ConnectionState.KeyRevoked, PollError, "key_revoked")]
    [InlineData(ConnectionState.Synced, "No webhook endpoint (registering it failed: Stripe answered 500); StripeSync polls Stripe's Events API every minute instead.", "synced")]
    [InlineData(ConnectionState.Synced, null, "synced")]
    public void Other_states_and_errors_show_the_stored_state(ConnectionState stored, string? error, string shown)
    {
        var (state, detail) = SyncStatus.StateOf(Connection(stored, error, error is null ? null : Now.AddMinutes(-5)), null, Now);

        Assert.Equal(shown, state);
        Assert.Null(detail);
    }

    private static Connection Connection(ConnectionState state, string? error, DateTimeOffset? at) =>
        new() { EncryptedKey = "x", KeyHint = "rk_live_…6789", State = state, Sync = SyncChoice.Import, LastError = error, LastErrorAt = at };
}
