using System.Text;
using System.Text.Json;
using StripeSync.Core.Connections;
using StripeSync.Core.People;
using StripeSync.Core.Segments;

namespace StripeSync.Web.Api;

/// <summary>A segment as the API shows it; <c>count</c> is its live member count in the requested mode.</summary>
public sealed record SegmentResponse(string Id, string Name, string Description, bool Predefined, int Count, SegmentDefinition Definition)
{
    public static SegmentResponse From(SegmentView s) => new(s.Id, s.Name, s.Description, s.Predefined, s.Count, s.Definition);
}

public static class SegmentsApi
{
    public static void MapSegmentsApi(this RouteGroupBuilder api)
    {
        var segments = api.MapGroup("/segments").WithTags("Segments");

        segments.MapGet("/", async Task<IResult> (string? mode, int? page, int? pageSize, SegmentQueries queries, Connections connections, CancellationToken ct) =>
        {
            if (!Paging.TryRead(page, pageSize, out var paging, out var error))
            {
                return Paging.Bad(error);
            }

            if (await ApiMode.ResolveAsync(mode, connections, ct) is not { } resolved)
            {
                return ApiMode.BadMode();
            }

            return TypedResults.Ok(paging.Apply([.. (await queries.ListAsync(resolved, ct)).Select(SegmentResponse.From)]));
        }).WithSummary("Predefined segments, then custom ones by name, each with its member count now.");

        segments.MapGet("/{id}", async Task<IResult> (string id, string? mode, SegmentQueries queries, Connections connections, CancellationToken ct) =>
        {
            if (await ApiMode.ResolveAsync(mode, connections, ct) is not { } resolved)
            {
                return ApiMode.BadMode();
            }

            return await queries.FindAsync(id, resolved, ct) is { } segment ? Results.Ok(SegmentResponse.From(segment)) : NotFound();
        }).WithSummary("One segment with its definition and member count.");

        segments.MapPost("/", async Task<IResult> (HttpRequest request, string? mode, SegmentStore store, SegmentQueries queries, Connections connections, CancellationToken ct) =>
        {
            var (body, unreadable) = await ReadAsync(request, ct);
            if (body is null)
            {
                return Invalid(unreadable!);
            }

            var (created, problem) = await store.CreateAsync(body.Name, body.Definition, ct);
            if (problem is not null)
            {
                return Problem(problem);
            }

            var resolved = await ApiMode.ResolveAsync(mode, connections, ct) ?? ConnectionMode.Live;
            var view = await queries.FindAsync(created!.Id.ToString(), resolved, ct);
            return TypedResults.Created($"/api/v1/segments/{created.Id}", SegmentResponse.From(view!));
        }).WithSummary("Creates a custom segment from { name, definition }; 201 with the segment.");

        segments.MapPut("/{id}", async Task<IResult> (string id, HttpRequest request, string? mode, SegmentStore store, SegmentQueries queries, Connections connections,
            CancellationToken ct) =>
        {
            var (body, unreadable) = await ReadAsync(request, ct);
            if (body is null)
            {
                return Invalid(unreadable!);
            }

            var (updated, problem) = await store.UpdateAsync(id, body.Name, body.Definition, ct);
            if (problem is not null)
            {
                return Problem(problem);
            }

            var resolved = await ApiMode.ResolveAsync(mode, connections, ct) ?? ConnectionMode.Live;
            return Results.Ok(SegmentResponse.From((await queries.FindAsync(updated!.Id.ToString(), resolved, ct))!));
        }).WithSummary("Renames or redefines a custom segment; predefined ones cannot be changed (409).");

        segments.MapDelete("/{id}", async Task<IResult> (string id, SegmentStore store, CancellationToken ct) =>
            await store.DeleteAsync(id, ct) is { } problem ? Problem(problem) : Results.NoContent())
            .WithSummary("Deletes a custom segment; predefined ones cannot be deleted (409).");

        segments.MapGet("/{id}/members", async Task<IResult> (string id, string? mode, int? page, int? pageSize, SegmentQueries queries, Connections connections,
            CancellationToken ct) =>
        {
            if (!Paging.TryRead(page, pageSize, out var paging, out var error))
            {
                return Paging.Bad(error);
            }

            if (await ApiMode.ResolveAsync(mode, connections, ct) is not { } resolved)
            {
                return ApiMode.BadMode();
            }

            if (await queries.DefinitionAsync(id, resolved, ct) is not { } segment)
            {
                return NotFound();
            }

            var (items, total) = await queries.MembersAsync(segment.Definition, resolved, paging.Page, paging.PageSize, ct);
            return TypedResults.Ok(new Paged<PersonView>(items, total));
        }).WithSummary("The segment's members, shaped like /api/v1/people, ordered by email.");

        segments.MapGet("/{id}/members.csv", CsvAsync)
            .WithSummary("The segment's members as CSV: a header row (id and every field token), one person a line.");
    }

    /// <summary>The CSV download for signed-in people (the pages' Export CSV), beside the API's key-authenticated one.</summary>
    public static void MapSegmentsExport(this IEndpointRouteBuilder app) =>
        app.MapGet("/segments/{id}/members.csv", CsvAsync).RequireAuthorization().ExcludeFromDescription();

    private static async Task<IResult> CsvAsync(string id, string? mode, SegmentQueries queries, Connections connections, FieldMappings mappings,
        CancellationToken ct)
    {
        if (await ApiMode.ResolveAsync(mode, connections, ct) is not { } resolved)
        {
            return ApiMode.BadMode();
        }

        if (await queries.DefinitionAsync(id, resolved, ct) is not { } segment)
        {
            return NotFound();
        }

        var file = $"{FileName(segment.Name)}-{resolved.ToString().ToLowerInvariant()}.csv";
        var map = await mappings.LoadAsync(ct);
        return Results.Stream(async stream =>
        {
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false), bufferSize: 64 * 1024);
            await MembersCsv.WriteAsync(writer, queries.StreamMembersAsync(segment.Definition, resolved, ct), map, ct);
        }, "text/csv; charset=utf-8", file);
    }

    private static string FileName(string name)
    {
        var slug = new string([.. name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-');
        return slug.Length == 0 ? "segment" : slug;
    }

    private sealed record SegmentRequest(string? Name, SegmentDefinition? Definition);

    private static async Task<(SegmentRequest? Body, string? Problem)> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            var body = await JsonSerializer.DeserializeAsync<SegmentRequest>(request.Body, SegmentDefinition.Json, ct);
            return body is null ? (null, "Send a JSON object { \"name\", \"definition\" }.") : (body, null);
        }
        catch (JsonException e)
        {
            return (null, $"The body is not a segment: {e.Message} Send {{ \"name\", \"definition\": {{ \"match\": \"all\"|\"any\", \"conditions\": [...] }} }}.");
        }
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Invalid(string message) =>
        TypedResults.Problem(message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid segment");

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotFound() =>
        TypedResults.Problem("No segment has this id. GET /api/v1/segments lists them.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Problem(SegmentProblem problem) => problem.Kind switch
    {
        SegmentProblemKind.NotFound => NotFound(),
        SegmentProblemKind.Predefined => TypedResults.Problem(problem.Message, statusCode: StatusCodes.Status409Conflict, title: "Predefined segment"),
        SegmentProblemKind.NameTaken => TypedResults.Problem(problem.Message, statusCode: StatusCodes.Status409Conflict, title: "Name taken"),
        _ => Invalid(problem.Message),
    };
}
