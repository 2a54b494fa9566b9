using StripeSync.Core.Processing;

namespace StripeSync.Core.People;

// SCRATCH: replaced by the processing functions when they land.
internal static class Derivation
{
    public static IReadOnlyList<MetricEvent> Events(CustomerRecords records, AccountState state, DateTimeOffset now) { _ = (records, state, now); return []; }

    public static IReadOnlyDictionary<string, object?> Fields(CustomerRecords records, AccountState state, DateTimeOffset? lastActivity, DateTimeOffset now) { _ = (records, state, lastActivity, now); return new Dictionary<string, object?>(); }
}
