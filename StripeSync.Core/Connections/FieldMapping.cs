using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Persistence;
using StripeSync.Core.Processing;

namespace StripeSync.Core.Connections;

/// <summary>
/// How one field token leaves the app (SPEC §1 step 3). A token with no row leaves under its own name, so the
/// defaults need no clicks and no rows; a row renames it, sends it to a custom property, or switches it off.
/// </summary>
public sealed class FieldMapping
{
    public required string Token { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>The property name it leaves under; null keeps the token's own name.</summary>
    public string? Target { get; set; }

    /// <summary>The target is a custom property: it leaves as <c>custom.{Target}</c>, apart from the standard names.</summary>
    public bool Custom { get; set; }
}

/// <summary>
/// The field mapping in force: the one place that decides under which name (if any) a person's field leaves the app,
/// for the API's <c>fields</c>, CSV exports and anything else that hands person fields to another tool.
/// </summary>
public sealed partial class FieldMap
{
    public const string CustomPrefix = "custom.";

    private readonly Dictionary<string, FieldMapping> rows;

    public FieldMap(IEnumerable<FieldMapping> mappings)
    {
        rows = mappings.Where(m => PersonFields.Tokens.Contains(m.Token)).ToDictionary(m => m.Token, StringComparer.Ordinal);
        Columns = [.. PersonFields.Tokens.Select(t => (Token: t, Property: PropertyOf(t)))
            .Where(c => c.Property is not null).Select(c => (c.Token, c.Property!))];
    }

    public static FieldMap Default { get; } = new([]);

    /// <summary>The enabled fields in SPEC §6 order, each with the property name it leaves under (CSV headers, API keys).</summary>
    public IReadOnlyList<(string Token, string Property)> Columns { get; }

    /// <summary>The mapping of a token: its stored row, or the default (enabled, own name).</summary>
    public FieldMapping For(string token) => rows.TryGetValue(token, out var row)
        ? new FieldMapping { Token = token, Enabled = row.Enabled, Target = row.Target, Custom = row.Custom }
        : new FieldMapping { Token = token };

    /// <summary>The name a token leaves under, or null when it is switched off.</summary>
    public string? PropertyOf(string token)
    {
        var row = For(token);
        return !row.Enabled ? null
            : string.IsNullOrWhiteSpace(row.Target) ? token
            : row.Custom ? CustomPrefix + row.Target : row.Target;
    }

    /// <summary>
    /// A person's stored fields (token → value) as they leave the app: enabled fields only, under their mapped names,
    /// in SPEC §6 order; a token the person has no value for leaves as null.
    /// </summary>
    public JsonElement Apply(JsonElement fields)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (token, property) in Columns)
            {
                writer.WritePropertyName(property);
                if (fields.ValueKind == JsonValueKind.Object && fields.TryGetProperty(token, out var value))
                {
                    value.WriteTo(writer);
                }
                else
                {
                    writer.WriteNullValue();
                }
            }

            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.ToArray());
        return document.RootElement.Clone();
    }

    /// <summary>Why a set of mappings cannot be saved (bad or clashing names), or null when it can.</summary>
    public static string? Problem(IEnumerable<FieldMapping> mappings)
    {
        var map = new FieldMap(mappings);
        foreach (var token in PersonFields.Tokens)
        {
            var row = map.For(token);
            if (row.Enabled && !string.IsNullOrWhiteSpace(row.Target) && !PropertyName().IsMatch(row.Target))
            {
                return $"\"{row.Target}\" (for {token}) is not a usable property name: use lower-case letters, digits and underscores, starting with a letter, at most 64 characters.";
            }
        }

        var clash = map.Columns.GroupBy(c => c.Property, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        return clash is null ? null
            : $"{string.Join(" and ", clash.Select(c => c.Token))} would both leave as \"{clash.Key}\"; give each its own name.";
    }

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex PropertyName();
}

/// <summary>Loads and stores the field mapping (one for the whole app: people of every connection share their fields).</summary>
public sealed class FieldMappings(IDbContextFactory<AppDbContext> dbFactory)
{
    public async Task<FieldMap> LoadAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return new FieldMap(await db.FieldMappings.AsNoTracking().ToListAsync(ct));
    }

    /// <summary>Replaces the mapping; rows equal to the default are not stored. Throws with the reason when names are unusable.</summary>
    public async Task SaveAsync(IEnumerable<FieldMapping> mappings, CancellationToken ct)
    {
        var list = mappings.Select(m => new FieldMapping
        {
            Token = m.Token,
            Enabled = m.Enabled,
            Target = string.IsNullOrWhiteSpace(m.Target) || (!m.Custom && m.Target.Trim() == m.Token) ? null : m.Target.Trim(),
            Custom = m.Custom && !string.IsNullOrWhiteSpace(m.Target),
        }).ToList();
        if (FieldMap.Problem(list) is { } problem)
        {
            throw new ArgumentException(problem, nameof(mappings));
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.FieldMappings.ExecuteDeleteAsync(ct);
        db.FieldMappings.AddRange(list.Where(m => !m.Enabled || m.Target is not null));
        await db.SaveChangesAsync(ct);
    }
}
