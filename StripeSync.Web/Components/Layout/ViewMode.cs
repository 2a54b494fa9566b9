using StripeSync.Core.Connections;

namespace StripeSync.Web.Components.Layout;

/// <summary>
/// Which Stripe mode (live or test data) the pages of one browser session show. The app bar's
/// Live/Test switch sets it; until someone picks, it is live once a live connection exists, else test.
/// Scoped, so it lives as long as the circuit.
/// </summary>
public sealed class ViewMode(Connections connections)
{
    private ConnectionMode? selected;

    /// <summary>Raised after the switch changes; pages reload their data.</summary>
    public event Func<Task>? Changed;

    public async Task<ConnectionMode> CurrentAsync(CancellationToken ct = default) =>
        selected ??= await connections.DefaultModeAsync(ct);

    public async Task SetAsync(ConnectionMode mode)
    {
        if (selected == mode)
        {
            return;
        }

        selected = mode;
        if (Changed is { } handlers)
        {
            foreach (var handler in handlers.GetInvocationList().Cast<Func<Task>>())
            {
                await handler();
            }
        }
    }
}
