namespace StripeSync.Web.Setup;

public static class SecurityHeaders
{
    /// <summary>Headers every response carries: no framing, no MIME sniffing, no referrer leaks to other sites.</summary>
    public static void UseSecurityHeaders(this WebApplication app) =>
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            await next(context);
        });
}
