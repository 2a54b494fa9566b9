using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;

namespace StripeSync.Web.Api;

/// <summary>
/// A request the API cannot even bind (malformed or wrong-typed JSON, no body, <c>?page=abc</c>) answers an RFC 7807
/// problem that says what is wrong, like every other API error. Left alone, minimal APIs answer such requests with an
/// empty 400 that the pages' status-code handler then fills with HTML. Binding failures are thrown for this
/// (RouteHandlerOptions.ThrowOnBadRequest) and caught here, for /api only; pages keep their own error pages.
/// </summary>
public sealed partial class BadRequestProblems(IProblemDetailsService problems) : IExceptionHandler
{
    private const string Shape = "The OpenAPI document at /openapi/v1.json describes every endpoint's input.";

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        // The middleware has already pointed Request.Path at the error page; the feature keeps the path that failed.
        var path = new PathString(httpContext.Features.Get<IExceptionHandlerPathFeature>()?.Path ?? httpContext.Request.Path);
        if (exception is not BadHttpRequestException bad || !path.StartsWithSegments("/api"))
        {
            return false;
        }

        httpContext.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = bad.StatusCode, Title = "Bad request", Detail = Explain(bad) },
        });
    }

    /// <summary>The framework's message in the caller's terms: no .NET type names, and never the (possibly huge) value echoed in full.</summary>
    private static string Explain(BadHttpRequestException bad)
    {
        if (bad.InnerException is JsonException json)
        {
            return $"The body is not the JSON object this endpoint expects (at {json.Path ?? "the start"}). {Shape}";
        }

        if (bad.StatusCode == StatusCodes.Status415UnsupportedMediaType)
        {
            return $"Send the body as JSON with Content-Type: application/json. {Shape}";
        }

        if (BindFailure().Match(bad.Message) is { Success: true } m)
        {
            var value = m.Groups["value"].Value;
            value = value.Length > 40 ? value[..40] + "…" : value;
            var kind = m.Groups["type"].Value.TrimEnd('?') switch
            {
                "int" or "long" => "a whole number",
                "Guid" => "an id (a GUID)",
                "bool" => "true or false",
                var other => other,
            };
            return $"{m.Groups["name"].Value} must be {kind}; \"{value}\" is not.";
        }

        return bad.Message.Contains("no body was provided", StringComparison.Ordinal) || bad.Message.Contains("from the request body", StringComparison.Ordinal)
            ? $"Send a JSON object in the body. {Shape}"
            : bad.Message;
    }

    [GeneratedRegex("^Failed to bind parameter \"(?<type>[^ \"]+) (?<name>[^\"]+)\" from \"(?<value>.*)\"\\.$", RegexOptions.Singleline)]
    private static partial Regex BindFailure();
}
