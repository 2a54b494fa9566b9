using Stripe;

namespace StripeSync.Simulator.Data;

/// <summary>One stored object: the Stripe.net entity (its JSON is exactly what Stripe.net reads) and its sort key.</summary>
internal sealed class Entry(string id, long created, IHasObject entity)
{
    public string Id { get; } = id;
    public long Created { get; } = created;
    public IHasObject Entity { get; set; } = entity;

    /// <summary>Set for events: their JSON is fixed when they happen.</summary>
    public string? Json { get; init; }

    /// <summary>The object's JSON as last served (one shape, in one generation of the account).</summary>
    public ShapedJson? Shaped { get; set; }
}

/// <summary>JSON served for an entry: which shape (resource and expansions) and which account generation it shows.</summary>
internal sealed record ShapedJson(long Generation, string Shape, string Json);

/// <summary>
/// A resource's objects, oldest first in memory, served newest first as Stripe lists them; an index from id to
/// position makes <c>starting_after</c> and <c>ending_before</c> O(1) to find.
/// </summary>
internal sealed class ObjectList
{
    private readonly List<Entry> entries = [];
    private readonly Dictionary<string, int> positions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Entry> byId = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    public int Count
    {
        get
        {
            lock (gate)
            {
                return entries.Count;
            }
        }
    }

    public void Add(Entry entry)
    {
        lock (gate)
        {
            // Appending keeps the list sorted when objects arrive in time order; a generated history may not,
            // so an out-of-order entry is inserted at its place (and the index rebuilt).
            byId[entry.Id] = entry;
            if (entries.Count == 0 || Compare(entries[^1], entry) <= 0)
            {
                positions[entry.Id] = entries.Count;
                entries.Add(entry);
                return;
            }

            var at = entries.BinarySearch(entry, Comparer<Entry>.Create(Compare));
            entries.Insert(at < 0 ? ~at : at, entry);
            Reindex();
        }
    }

    /// <summary>Appends without keeping order; the generator calls <see cref="SortAndIndex"/> once at the end.</summary>
    public void AddUnsorted(Entry entry)
    {
        lock (gate)
        {
            entries.Add(entry);
            byId[entry.Id] = entry;
        }
    }

    public void SortAndIndex()
    {
        lock (gate)
        {
            entries.Sort(Compare);
            Reindex();
        }
    }

    /// <summary>Takes an object out of the list (a deleted customer): lists and retrieves no longer find it.</summary>
    public bool Remove(string id)
    {
        lock (gate)
        {
            if (!byId.Remove(id, out var entry))
            {
                return false;
            }

            entries.Remove(entry);
            positions.Remove(id);
            Reindex();
            return true;
        }
    }

    public Entry? Get(string id)
    {
        lock (gate)
        {
            return byId.GetValueOrDefault(id);
        }
    }

    public IReadOnlyList<Entry> All()
    {
        lock (gate)
        {
            return [.. entries];
        }
    }

    /// <summary>A page newest first: after <paramref name="startingAfter"/> (older) or before <paramref name="endingBefore"/> (newer).</summary>
    public (IReadOnlyList<Entry> Page, bool HasMore)? Page(int limit, string? startingAfter, string? endingBefore, Func<Entry, bool> filter)
    {
        lock (gate)
        {
            var page = new List<Entry>(limit);
            if (endingBefore is not null)
            {
                if (!positions.TryGetValue(endingBefore, out var from))
                {
                    return null;
                }

                // Newer objects are at higher positions; Stripe returns the ones just newer, still newest first.
                for (var i = from + 1; i < entries.Count; i++)
                {
                    if (filter(entries[i]))
                    {
                        page.Add(entries[i]);
                        if (page.Count == limit + 1)
                        {
                            break;
                        }
                    }
                }

                var more = page.Count > limit;
                var taken = page.Take(limit).Reverse().ToList();
                return (taken, more);
            }

            var start = entries.Count - 1;
            if (startingAfter is not null)
            {
                if (!positions.TryGetValue(startingAfter, out var after))
                {
                    return null;
                }

                start = after - 1;
            }

            for (var i = start; i >= 0; i--)
            {
                if (filter(entries[i]))
                {
                    page.Add(entries[i]);
                    if (page.Count == limit + 1)
                    {
                        break;
                    }
                }
            }

            return (page.Take(limit).ToList(), page.Count > limit);
        }
    }

    private void Reindex()
    {
        positions.Clear();
        for (var i = 0; i < entries.Count; i++)
        {
            positions[entries[i].Id] = i;
        }
    }

    private static int Compare(Entry a, Entry b)
    {
        var byTime = a.Created.CompareTo(b.Created);
        return byTime != 0 ? byTime : string.CompareOrdinal(a.Id, b.Id);
    }
}
