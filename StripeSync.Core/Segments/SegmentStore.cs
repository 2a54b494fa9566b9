using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Persistence;

namespace StripeSync.Core.Segments;

public enum SegmentProblemKind
{
    Invalid,
    NotFound,
    Predefined,
    NameTaken,
}

/// <summary>Why a change to a segment was refused, in a sentence for the person who asked.</summary>
public sealed record SegmentProblem(SegmentProblemKind Kind, string Message);

/// <summary>Creates, changes and deletes custom segments; predefined ones are fixed.</summary>
public sealed class SegmentStore(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public const int MaxNameLength = 100;

    public async Task<(Segment? Segment, SegmentProblem? Problem)> CreateAsync(string? name, SegmentDefinition? definition, CancellationToken ct)
    {
        if (Invalid(name, definition) is { } invalid)
        {
            return (null, invalid);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var trimmed = name!.Trim();
        if (await NameTakenAsync(db, trimmed, null, ct))
        {
            return (null, Taken(trimmed));
        }

        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var segment = new Segment { Id = Guid.NewGuid(), Name = trimmed, DefinitionJson = definition!.ToJson(), CreatedAt = now, UpdatedAt = now };
        db.Segments.Add(segment);
        await db.SaveChangesAsync(ct);
        return (segment, null);
    }

    public async Task<(Segment? Segment, SegmentProblem? Problem)> UpdateAsync(string id, string? name, SegmentDefinition? definition, CancellationToken ct)
    {
        if (PredefinedSegments.IsPredefined(id))
        {
            return (null, PredefinedProblem("changed"));
        }

        if (Invalid(name, definition) is { } invalid)
        {
            return (null, invalid);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var segment = Guid.TryParse(id, out var guid) ? await db.Segments.SingleOrDefaultAsync(s => s.Id == guid, ct) : null;
        if (segment is null)
        {
            return (null, NotFound());
        }

        var trimmed = name!.Trim();
        if (await NameTakenAsync(db, trimmed, segment.Id, ct))
        {
            return (null, Taken(trimmed));
        }

        segment.Name = trimmed;
        segment.DefinitionJson = definition!.ToJson();
        segment.UpdatedAt = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await db.SaveChangesAsync(ct);
        return (segment, null);
    }

    public async Task<SegmentProblem?> DeleteAsync(string id, CancellationToken ct)
    {
        if (PredefinedSegments.IsPredefined(id))
        {
            return PredefinedProblem("deleted");
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var deleted = Guid.TryParse(id, out var guid) ? await db.Segments.Where(s => s.Id == guid).ExecuteDeleteAsync(ct) : 0;
        return deleted == 0 ? NotFound() : null;
    }

    private static SegmentProblem? Invalid(string? name, SegmentDefinition? definition)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(name))
        {
            problems.Add("Give the segment a name.");
        }
        else if (name.Trim().Length > MaxNameLength)
        {
            problems.Add($"A segment name has at most {MaxNameLength} characters.");
        }

        if (definition is null)
        {
            problems.Add("Give the segment a definition: which people belong to it.");
        }
        else
        {
            problems.AddRange(definition.Validate());
        }

        return problems.Count == 0 ? null : new SegmentProblem(SegmentProblemKind.Invalid, string.Join(" ", problems));
    }

    private static async Task<bool> NameTakenAsync(AppDbContext db, string name, Guid? except, CancellationToken ct)
    {
        // Custom segments are few (people make them by hand): their names are compared here, the same way on every provider.
        var names = await db.Segments.Where(s => s.Id != except).Select(s => s.Name).ToListAsync(ct);
        return names.Concat(PredefinedSegments.All("usd").Select(p => p.Name)).Any(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
    }

    private static SegmentProblem Taken(string name) =>
        new(SegmentProblemKind.NameTaken, $"A segment named \"{name}\" already exists; choose another name.");

    private static SegmentProblem NotFound() => new(SegmentProblemKind.NotFound, "No segment has this id.");

    private static SegmentProblem PredefinedProblem(string what) => new(SegmentProblemKind.Predefined,
        $"Predefined segments cannot be {what}; build a custom segment with the conditions you want instead.");
}
