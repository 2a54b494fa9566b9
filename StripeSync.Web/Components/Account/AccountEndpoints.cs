using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using StripeSync.Core.Access;

namespace StripeSync.Web.Components.Account;

public static class AccountEndpoints
{
    /// <summary>Sign-out is a POST (antiforgery-checked), so a link on another site can't sign a person out.</summary>
    public static void MapAccountEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/Account/Logout", async ([FromServices] SignInManager<AppUser> signIn, [FromForm] string? returnUrl) =>
        {
            await signIn.SignOutAsync();
            return TypedResults.LocalRedirect("~/Account/Login");
        });
}
