using Microsoft.AspNetCore.Http.HttpResults;
using StripeSync.Core.Access;
using StripeSync.Web.Setup;

namespace StripeSync.Web.Api;

/// <summary>Headless user administration, for set-up scripts; the same rules as Settings → Users.</summary>
public static class UsersApi
{
    public sealed record NewUser(string? Email, string? Password, string? Role);

    public static void MapUsersApi(this RouteGroupBuilder api)
    {
        var users = api.MapGroup("/users").RequireAuthorization(AuthSetup.ApiAdminPolicy).WithTags("Users");

        users.MapGet("/", async Task<Results<Ok<Paged<UserSummary>>, ProblemHttpResult>> (
            int? page, int? pageSize, Users all, CancellationToken ct) =>
        {
            if (!Paging.TryRead(page, pageSize, out var paging, out var error))
            {
                return TypedResults.Problem(error, statusCode: StatusCodes.Status400BadRequest, title: "Bad paging");
            }

            return TypedResults.Ok(paging.Apply(await all.ListAsync(ct)));
        }).WithSummary("Users of StripeSync and their roles (Admin only).");

        users.MapPost("/", async Task<Results<Created<UserSummary>, ProblemHttpResult>> (NewUser input, Users all, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(input.Email) || string.IsNullOrEmpty(input.Password))
            {
                return TypedResults.Problem("Give an email and a password.", statusCode: StatusCodes.Status400BadRequest, title: "Missing fields");
            }

            try
            {
                var user = await all.CreateAsync(input.Email, input.Password, input.Role ?? Roles.Marketer);
                var created = (await all.ListAsync(ct)).Single(u => u.Id == user.Id);
                return TypedResults.Created($"/api/v1/users/{user.Id}", created);
            }
            catch (InvalidOperationException e)
            {
                return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest, title: "User not created");
            }
        }).WithSummary("Creates a user with a role (Admin only).");
    }
}
