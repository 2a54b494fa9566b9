using System.Threading.RateLimiting;

namespace StripeSync.Web.Setup;

/// <summary>
/// Password guessing is slowed per client address before Identity's lockout (5 failures per account) even
/// sees it: a guesser spreading attempts over many accounts meets this limit instead. Only the two forms
/// that take a password are limited; everything else (the API, webhooks, pages) is not.
/// </summary>
public static class SignInLimits
{
    /// <summary>Posts of the sign-in and first-run forms allowed per client address per minute.</summary>
    public const string AttemptsPerMinuteSetting = "Security:SignInAttemptsPerMinute";

    public static void AddSignInLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var perMinute = configuration.GetValue(AttemptsPerMinuteSetting, 10);
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                IsPasswordForm(context.Request)
                    ? RateLimitPartition.GetFixedWindowLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                        _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 })
                    : RateLimitPartition.GetNoLimiter(""));
            o.OnRejected = async (rejected, ct) =>
            {
                rejected.HttpContext.Response.Headers.RetryAfter = "60";
                rejected.HttpContext.Response.ContentType = "text/plain; charset=utf-8";
                await rejected.HttpContext.Response.WriteAsync(
                    "Too many sign-in attempts from your address. Wait a minute, then try again.", ct);
            };
        });
    }

    private static bool IsPasswordForm(HttpRequest request) =>
        HttpMethods.IsPost(request.Method)
        && (request.Path.Equals("/Account/Login", StringComparison.OrdinalIgnoreCase) || request.Path.Equals("/setup", StringComparison.OrdinalIgnoreCase));
}
