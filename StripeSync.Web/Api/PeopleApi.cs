using StripeSync.Core.Connections;
using StripeSync.Core.People;

namespace StripeSync.Web.Api;

public static class PeopleApi
{
    /// <summary>The longest email there can be; no search needs more.</summary>
    private const int MaxSearch = 320;

    public static void MapPeopleApi(this RouteGroupBuilder api)
    {
        var people = api.MapGroup("/people").WithTags("People");

        people.MapGet("/", async (string? email, string? stripeCustomerId, string? q, string? mode, int? page, int? pageSize,
            PeopleQueries queries, Connections connections, FieldMappings mappings, CancellationToken ct) =>
        {
            if (!Paging.TryRead(page, pageSize, out var paging, out var error))
            {
                return Paging.Bad(error);
            }

            if (new[] { email, stripeCustomerId, q }.Any(t => t?.Length > MaxSearch))
            {
                return TypedResults.Problem($"email, stripeCustomerId and q have at most {MaxSearch} characters.",
                    statusCode: StatusCodes.Status400BadRequest, title: "Search too long");
            }

            if (await ApiMode.ResolveAsync(mode, connections, ct) is not { } resolved)
            {
                return ApiMode.BadMode();
            }

            var (items, total) = await queries.SearchAsync(resolved, email, stripeCustomerId, q, paging.Page, paging.PageSize, ct);
            var map = await mappings.LoadAsync(ct);
            return TypedResults.Ok(new Paged<PersonView>([.. items.Select(p => Mapped(p, map))], total));
        }).WithSummary("People, searchable by email, Stripe customer id or free text (email, name, customer id).");

        people.MapGet("/{id:guid}", async (Guid id, PeopleQueries queries, FieldMappings mappings, CancellationToken ct) =>
            await queries.FindAsync(id, ct) is { } person
                ? Results.Ok(Mapped(person, await mappings.LoadAsync(ct)))
                : TypedResults.Problem("No person has this id.", statusCode: StatusCodes.Status404NotFound))
            .WithSummary("One person with every mapped field.");

        people.MapGet("/{id:guid}/events", async (Guid id, int? page, int? pageSize, PeopleQueries queries, CancellationToken ct) =>
        {
            if (!Paging.TryRead(page, pageSize, out var paging, out var error))
            {
                return Paging.Bad(error);
            }

            var (items, total) = await queries.EventsAsync(id, paging.Page, paging.PageSize, ct);
            return TypedResults.Ok(new Paged<PersonEventView>(items, total));
        }).WithSummary("A person's metric events across metrics, newest first.");
    }

    /// <summary>Person fields leave the app under the field mapping chosen in the connect wizard.</summary>
    private static PersonView Mapped(PersonView person, FieldMap map) => person with { Fields = map.Apply(person.Fields) };
}
