using Newtonsoft.Json.Linq;

namespace StripeSync.Simulator.Api;

/// <summary>Errors shaped exactly as Stripe sends them: <c>{"error":{type, code, message, param, doc_url}}</c>.</summary>
internal static class StripeErrors
{
    public static IResult Error(int status, string type, string message, string? code = null, string? param = null, bool? shouldRetry = null) =>
        new StripeErrorResult(status, type, message, code, param, shouldRetry);

    /// <summary>404 for an unknown id; <paramref name="param"/> names where it came from (<c>id</c>, or a list's cursor).</summary>
    public static IResult Missing(string resource, string id, string param = "id") =>
        Error(404, "invalid_request_error", $"No such {resource}: '{id}'", "resource_missing", param);

    private sealed class StripeErrorResult(int status, string type, string message, string? code, string? param, bool? shouldRetry) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            var error = new JObject { ["message"] = message, ["type"] = type };
            if (code is not null)
            {
                error["code"] = code;
                error["doc_url"] = $"https://stripe.com/docs/error-codes/{code.Replace('_', '-')}";
            }

            if (param is not null)
            {
                error["param"] = param;
            }

            error["request_log_url"] = $"https://dashboard.stripe.com/test/logs/{context.Response.Headers["Request-Id"]}";
            context.Response.StatusCode = status;
            if (shouldRetry is { } retry)
            {
                context.Response.Headers["Stripe-Should-Retry"] = retry ? "true" : "false";
            }

            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(new JObject { ["error"] = error }.ToString());
        }
    }
}
