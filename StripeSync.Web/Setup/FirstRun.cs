using StripeSync.Core.Access;

namespace StripeSync.Web.Setup;

/// <summary>Knows whether anyone can sign in yet; once a user exists that never changes back, so it is cached.</summary>
public sealed class FirstRun(IServiceScopeFactory scopes)
{
    private volatile bool hasUsers;

    public async Task<bool> IsPendingAsync(CancellationToken ct)
    {
        if (hasUsers)
        {
            return false;
        }

        await using var scope = scopes.CreateAsyncScope();
        hasUsers = await scope.ServiceProvider.GetRequiredService<Bootstrap>().AnyUserAsync(ct);
        return !hasUsers;
    }

    public void UserCreated() => hasUsers = true;
}

/// <summary>While no user exists, every page leads to the one-time "create the admin account" page.</summary>
public sealed class FirstRunRedirect(RequestDelegate next, FirstRun firstRun)
{
    public const string Path = "/setup";

    // Machine endpoints and assets answer as usual; only pages lead to set-up.
    private static readonly string[] NotPages = ["/api", "/openapi", "/healthz", "/hangfire", "/_framework", "/_content", "/_blazor", Path];

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        var isPage = HttpMethods.IsGet(context.Request.Method)
            && !NotPages.Any(p => path.StartsWithSegments(p))
            && !System.IO.Path.HasExtension(path.Value);
        if (isPage && await firstRun.IsPendingAsync(context.RequestAborted))
        {
            context.Response.Redirect(Path);
            return;
        }

        await next(context);
    }
}
