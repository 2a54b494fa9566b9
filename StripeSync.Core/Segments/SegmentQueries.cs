using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Connections;
using StripeSync.Core.People;
using StripeSync.Core.Persistence;

namespace StripeSync.Core.Segments;

public sealed record SegmentView(string Id, string Name, string Description, bool Predefined, int Count, SegmentDefinition Definition);

/// <summary>
/// Evaluates segments in the database: counts and members are SQL over <c>people</c> (see <see cref="SegmentSql"/>),
/// never people loaded into memory to be filtered.
/// </summary>
public sealed class SegmentQueries(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    private const int StreamBatch = 500;

    /// <summary>Predefined segments, then custom ones by name, each with its member count in <paramref name="mode"/>.</summary>
    public async Task<IReadOnlyList<SegmentView>> ListAsync(ConnectionMode mode, CancellationToken ct)
    {
        var segments = new List<SegmentView>();
        foreach (var segment in await DefinitionsAsync(mode, ct))
        {
            segments.Add(segment with { Count = await CountAsync(segment.Definition, mode, ct) });
        }

        return segments;
    }

    public async Task<SegmentView?> FindAsync(string id, ConnectionMode mode, CancellationToken ct)
    {
        var segment = await DefinitionAsync(id, mode, ct);
        return segment is null ? null : segment with { Count = await CountAsync(segment.Definition, mode, ct) };
    }

    /// <summary>A segment without its count (cheap): predefined by its id, custom by its GUID.</summary>
    public async Task<SegmentView?> DefinitionAsync(string id, ConnectionMode mode, CancellationToken ct)
    {
        if (PredefinedSegments.IsPredefined(id))
        {
            var currency = await MainCurrencyAsync(mode, ct);
            var predefined = PredefinedSegments.All(currency).Single(s => s.Id == id);
            return new SegmentView(predefined.Id, predefined.Name, predefined.Description, true, 0, predefined.Definition);
        }

        if (!Guid.TryParse(id, out var guid))
        {
            return null;
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var custom = await db.Segments.AsNoTracking().SingleOrDefaultAsync(s => s.Id == guid, ct);
        return custom is null ? null : Custom(custom);
    }

    public async Task<int> CountAsync(SegmentDefinition definition, ConnectionMode mode, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await Members(db, definition, mode).CountAsync(ct);
    }

    /// <summary>One page of members, ordered by email (unidentified people by their Stripe id), and the total.</summary>
    public async Task<(IReadOnlyList<PersonView> Items, int Total)> MembersAsync(
        SegmentDefinition definition, ConnectionMode mode, int page, int pageSize, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var members = Members(db, definition, mode);
        var total = await members.CountAsync(ct);
        var rows = await members.OrderBy(p => p.Key).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return (await PeopleQueries.ViewsAsync(db, rows, ct), total);
    }

    /// <summary>Every member, read in batches by key (a CSV export of any size holds one batch in memory).</summary>
    public async IAsyncEnumerable<PersonView> StreamMembersAsync(
        SegmentDefinition definition, ConnectionMode mode, [EnumeratorCancellation] CancellationToken ct)
    {
        string? after = null;
        while (true)
        {
            IReadOnlyList<PersonView> batch;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
            {
                var members = Members(db, definition, mode);
                if (after is not null)
                {
                    members = members.Where(p => string.Compare(p.Key, after) > 0);
                }

                var rows = await members.OrderBy(p => p.Key).Take(StreamBatch).ToListAsync(ct);
                if (rows.Count == 0)
                {
                    yield break;
                }

                after = rows[^1].Key;
                batch = await PeopleQueries.ViewsAsync(db, rows, ct);
            }

            foreach (var person in batch)
            {
                yield return person;
            }
        }
    }

    /// <summary>Predefined segments first, then custom ones by name; counts are left at 0.</summary>
    public async Task<IReadOnlyList<SegmentView>> DefinitionsAsync(ConnectionMode mode, CancellationToken ct)
    {
        var currency = await MainCurrencyAsync(mode, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var custom = await db.Segments.AsNoTracking().ToListAsync(ct);
        return
        [
            .. PredefinedSegments.All(currency).Select(p => new SegmentView(p.Id, p.Name, p.Description, true, 0, p.Definition)),
            .. custom.OrderBy(s => s.Name, StringComparer.OrdinalIgnoreCase).Select(Custom),
        ];
    }

    /// <summary>
    /// The currency most of the mode's latest 1,000 successful payments use (USD when there are none): High value's
    /// threshold is in it.
    /// </summary>
    public async Task<string> MainCurrencyAsync(ConnectionMode mode, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var recent = await db.MetricEvents.AsNoTracking()
            .Where(m => m.Mode == mode && m.Metric == Processing.Metrics.SuccessfullyPaid && m.Currency != null)
            .OrderByDescending(m => m.Time).Take(1000).Select(m => m.Currency!).ToListAsync(ct);
        return recent.GroupBy(c => c).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Key).FirstOrDefault() ?? "usd";
    }

    /// <summary>The metrics a metric condition can name: Stripe's, then the product's own (from POST /api/v1/events) by name.</summary>
    public async Task<IReadOnlyList<string>> MetricNamesAsync(ConnectionMode mode, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var stored = await db.MetricEvents.AsNoTracking().Where(m => m.Mode == mode).Select(m => m.Metric).Distinct().ToListAsync(ct);
        return [.. Processing.Metrics.All, .. stored.Except(Processing.Metrics.All).Order(StringComparer.OrdinalIgnoreCase)];
    }

    private IQueryable<Person> Members(AppDbContext db, SegmentDefinition definition, ConnectionMode mode)
    {
        if (definition.Validate() is { Count: > 0 } problems)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(definition));
        }

        var (sql, parameters) = SegmentSql.Members(definition, mode, db.Database.IsNpgsql(), clock.GetUtcNow());
        return db.People.FromSqlRaw(sql, parameters).AsNoTracking();
    }

    internal static SegmentView Custom(Segment segment) =>
        new(segment.Id.ToString(), segment.Name, "", false, 0, SegmentDefinition.FromJson(segment.DefinitionJson));
}
