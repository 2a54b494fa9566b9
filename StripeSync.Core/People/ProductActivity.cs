using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Connections;
using StripeSync.Core.Persistence;
using StripeSync.Core.Processing;

namespace StripeSync.Core.People;

/// <summary>What a product posts to <c>POST /api/v1/events</c>.</summary>
public sealed record ProductEvent(string? Id, string? Email, string? StripeCustomerId, string? Metric, DateTimeOffset? Time, JsonElement? Properties);

public enum ProductEventOutcome
{
    Recorded,

    /// <summary>An event with the same client id was stored before; nothing changed.</summary>
    Duplicate,
    Invalid,
    UnknownCustomer,
}

public sealed record ProductEventResult(ProductEventOutcome Outcome, Guid? PersonId = null, bool LeadCreated = false, string? Problem = null);

/// <summary>
/// Product activity posted by the business's own product (SPEC §5 "last activity"): stored as a metric event of the
/// person (a fact, not derived from Stripe state, so re-deriving the person keeps it) and moved into the person's
/// last activity. An unknown email becomes a lead: an identified person without a Stripe customer, which the
/// customer joins when Stripe shows one with that email.
/// </summary>
public sealed class ProductActivity(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public const int MaxProperties = 50;
    public const int MaxPropertyName = 100;
    public const int MaxPropertyValue = 1000;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<ProductEventResult> RecordAsync(ConnectionMode mode, ProductEvent input, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(input);
        var now = clock.GetUtcNow();
        if (Validate(input, now, out var email, out var properties) is { } problem)
        {
            return new ProductEventResult(ProductEventOutcome.Invalid, Problem: problem);
        }

        var metric = input.Metric!.Trim();
        var naturalKey = "api:" + (string.IsNullOrWhiteSpace(input.Id) ? Guid.NewGuid().ToString("N") : input.Id.Trim());
        var time = (input.Time ?? now).ToUniversalTime();

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var existing = await db.MetricEvents.AsNoTracking().Where(m => m.Mode == mode && m.NaturalKey == naturalKey)
            .Select(m => new { m.PersonId }).SingleOrDefaultAsync(ct);
        if (existing is not null)
        {
            return new ProductEventResult(ProductEventOutcome.Duplicate, existing.PersonId);
        }

        Person? person = null;
        var customerId = string.IsNullOrWhiteSpace(input.StripeCustomerId) ? null : input.StripeCustomerId.Trim();
        if (customerId is not null)
        {
            person = await db.People.Where(p => p.Mode == mode && db.PersonCustomers.Any(l => l.PersonId == p.Id && l.CustomerId == customerId
                && db.Connections.Any(c => c.Id == l.ConnectionId && c.Mode == mode))).FirstOrDefaultAsync(ct);
        }

        if (person is null && email is not null)
        {
            person = await db.People.SingleOrDefaultAsync(p => p.Mode == mode && p.Key == email, ct);
        }

        var created = false;
        if (person is null)
        {
            if (email is null)
            {
                return new ProductEventResult(ProductEventOutcome.UnknownCustomer, Problem:
                    $"No person has the Stripe customer id {customerId} in {mode.ToString().ToLowerInvariant()} mode yet. "
                    + "Send the person's email as well (an unknown email creates a lead), or post again once the customer has synced.");
            }

            person = Lead(mode, email, now);
            db.People.Add(person);
            created = true;
        }

        var ms = time.ToUnixTimeMilliseconds();
        db.MetricEvents.Add(new StoredMetricEvent
        {
            Mode = mode,
            Metric = metric,
            NaturalKey = naturalKey,
            Time = ms,
            Day = (int)Math.Floor(ms / 86_400_000d),
            PersonId = person.Id,
            CustomerId = customerId,
            PropertiesJson = JsonSerializer.Serialize(properties, Json),
            SourceId = string.IsNullOrWhiteSpace(input.Id) ? null : input.Id.Trim(),
        });

        if (person.LastActivity is not { } last || ms > last)
        {
            person.LastActivity = ms;
            var fields = JsonNode.Parse(person.FieldsJson) as JsonObject ?? [];
            fields["last_activity"] = JsonSerializer.SerializeToNode(DateTimeOffset.FromUnixTimeMilliseconds(ms), Json);
            person.FieldsJson = fields.ToJsonString(Json);
            person.UpdatedAt = now.ToUnixTimeMilliseconds();
        }

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            if (!await DuplicateAsync(mode, naturalKey, ct))
            {
                throw;
            }

            // The same retried post raced this one and was stored first.
            return new ProductEventResult(ProductEventOutcome.Duplicate, person.Id);
        }

        return new ProductEventResult(ProductEventOutcome.Recorded, person.Id, created);
    }

    private async Task<bool> DuplicateAsync(ConnectionMode mode, string naturalKey, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.MetricEvents.AnyAsync(m => m.Mode == mode && m.NaturalKey == naturalKey, ct);
    }

    private static Person Lead(ConnectionMode mode, string email, DateTimeOffset now)
    {
        var fields = PersonFields.Compute(new PersonRecords([], [], [], [], [], []), Catalog.Empty, false, null, null, now)
            .ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        fields["email"] = email;
        var lead = new Person
        {
            Id = Guid.NewGuid(), Mode = mode, Key = email, Email = email, Identified = true, SearchText = email,
            CreatedAt = now.ToUnixTimeMilliseconds(), UpdatedAt = now.ToUnixTimeMilliseconds(),
        };
        lead.SetFields(JsonSerializer.Serialize(fields, Json));
        return lead;
    }

    private static string? Validate(ProductEvent input, DateTimeOffset now, out string? email, out Dictionary<string, string> properties)
    {
        properties = [];
        email = Identity.NormaliseEmail(input.Email);
        if (string.IsNullOrWhiteSpace(input.Email) && string.IsNullOrWhiteSpace(input.StripeCustomerId))
        {
            return "Say whose activity this is: give \"email\" or \"stripeCustomerId\".";
        }

        // NUL and other control characters are never meant, and PostgreSQL refuses NUL in a text column (a 500, not a 400).
        if (new[] { input.Email, input.StripeCustomerId, input.Metric, input.Id }.Any(t => t is not null && t.Any(char.IsControl)))
        {
            return "\"email\", \"stripeCustomerId\", \"metric\" and \"id\" are text without control characters.";
        }

        if (!string.IsNullOrWhiteSpace(input.Email) && email is null)
        {
            return $"\"{(input.Email.Length > 100 ? input.Email[..100] + "…" : input.Email)}\" is not an email address.";
        }

        if (email is { Length: > 320 } || input.StripeCustomerId is { Length: > 255 })
        {
            return "The email has at most 320 characters and the Stripe customer id at most 255.";
        }

        if (string.IsNullOrWhiteSpace(input.Metric) || input.Metric.Trim().Length > 64)
        {
            return "Name the activity in \"metric\" (at most 64 characters), e.g. \"Logged In\".";
        }

        if (Processing.Metrics.All.Contains(input.Metric.Trim(), StringComparer.OrdinalIgnoreCase))
        {
            return $"\"{input.Metric.Trim()}\" is a metric StripeSync derives from Stripe; name product activity differently, e.g. \"Logged In\".";
        }

        if (input.Id is { Length: > 200 })
        {
            return "\"id\" has at most 200 characters.";
        }

        if (input.Time is { } time && time > now.AddMinutes(5))
        {
            return $"\"time\" ({time.ToUniversalTime().ToString("u", CultureInfo.InvariantCulture)}) is in the future; send when the activity happened (ISO 8601, UTC).";
        }

        if (input.Properties is not { } props || props.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }

        if (props.ValueKind != JsonValueKind.Object)
        {
            return "\"properties\" is an object of names to text, number or true/false values.";
        }

        foreach (var property in props.EnumerateObject())
        {
            if (property.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
            {
                return $"Property \"{property.Name}\" is an object or list; properties are text, number or true/false values.";
            }

            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            // Stored as a flat object of strings, as Stripe-derived properties are (the feeds filter on them so).
            var value = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
            if (property.Name.Length is 0 or > MaxPropertyName || value.Length > MaxPropertyValue)
            {
                return $"A property has a name of 1 to {MaxPropertyName} characters and a value of at most {MaxPropertyValue}.";
            }

            properties[property.Name] = value;
        }

        return properties.Count > MaxProperties ? $"An event has at most {MaxProperties} properties." : null;
    }
}
