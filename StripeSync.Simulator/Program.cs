var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/", () => "StripeSync simulator");
await app.RunAsync();
